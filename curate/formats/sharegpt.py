"""ShareGPT (LLaMA-Factory's ``sharegpt`` formatting) to and from canonical rows.

Record: ``{conversations | messages: [{from, value}], system?, tools? (JSON text)}``; preference adds
``chosen``/``rejected`` as single ``{from, value}`` turns. Tags: human/user -> user, gpt/assistant ->
assistant, system, observation/tool -> tool, function_call -> an assistant message whose tool calls are
the value's JSON (``{"name", "arguments"}`` or a list of them). Turn keys ``name``, ``tool_call_id``,
``reasoning`` (and ``content`` on function_call turns) carry the MESSAGE fields ShareGPT has no slot for;
other turn keys go to MESSAGE.extra.

Hints (namespace ``sharegpt``) - record: ``key`` ('messages' when the turns were under ``messages``),
``system`` ('turn' when the system prompt was the first turn, not the ``system`` field), ``tools``
('json' when tools were a structure, not JSON text); message: ``from`` (the tag, when not the default
one), ``value`` (a function_call's original text when rebuilding it would differ).
"""

from __future__ import annotations

from typing import Any

from curate.formats.common import (
    HINT_KEY, RowError, Unexpressible, build_json_field, calls_text, expect_str, new_message,
    parse_call_text, parse_tools, split_extra, type_name, with_hints,
)

NS = "sharegpt"
TAGS = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system",
        "observation": "tool", "tool": "tool", "function_call": "assistant"}
DEFAULT_TAG = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}
CALL_TAG = "function_call"
_TURN_FIELDS = ("name", "tool_call_id", "reasoning")
_TURN_KNOWN = {"from", "value", *_TURN_FIELDS, HINT_KEY}


def parse_turn(t: Any, turn: int, field: str, nulls_absent: bool = False) -> dict:
    where = f" in turn {turn}" if field in ("conversations", "messages") else f" in {field!r}"
    if not isinstance(t, dict):
        raise RowError("wrong type", f"turn {turn} of {field!r} is {type_name(t)}, expected object")
    if nulls_absent:
        t = {k: v for k, v in t.items() if v is not None}
    tag = t.get("from")
    if tag is None:
        raise RowError("missing field", f"'from'{where}")
    if tag not in TAGS:
        raise RowError("unknown role", f"{tag!r}{where}") if isinstance(tag, str) else RowError(
            "wrong type", f"field 'from'{where} is {type_name(tag)}, expected string")
    if "value" not in t or t["value"] is None:
        raise RowError("missing field", f"'value'{where}")
    value = expect_str(t["value"], "value", where=where)
    hints: dict = {}
    msg = new_message(TAGS[tag])
    known = set(_TURN_KNOWN)
    if tag == CALL_TAG:
        msg["tool_calls"] = parse_call_text(value, f"function_call{where}")
        if calls_text(msg["tool_calls"], None) != value:
            hints["value"] = value
        msg["content"] = expect_str(t.get("content"), "content", where=where, optional=True)
        known.add("content")
    else:
        msg["content"] = value
        if tag != DEFAULT_TAG[msg["role"]]:
            hints["from"] = tag
    for key in _TURN_FIELDS:
        msg[key] = expect_str(t.get(key), key, where=where, optional=True)
    extra = {k: v for k, v in t.items() if k not in known}
    if HINT_KEY in t:
        extra[HINT_KEY] = t[HINT_KEY]
    msg["extra"] = with_hints(extra, NS, hints) or None
    return msg


def build_turn(msg: dict, field: str = "conversations") -> dict:
    extra, hints = split_extra(msg["extra"], NS)
    role = msg["role"]
    out: dict = {}
    if msg["tool_calls"] is not None:
        if role != "assistant":
            raise Unexpressible(f"tool calls on a {role} message in sharegpt")
        out["from"] = CALL_TAG
        out["value"] = calls_text(msg["tool_calls"], hints.get("value"))
        if msg["content"] is not None:
            out["content"] = msg["content"]
    else:
        if msg["content"] is None:
            raise Unexpressible(f"a {role} message without content in sharegpt")
        tag = hints.get("from")
        out["from"] = tag if tag in TAGS and TAGS[tag] == role and tag != CALL_TAG else DEFAULT_TAG[role]
        out["value"] = msg["content"]
    for key in _TURN_FIELDS:
        if msg[key] is not None:
            out[key] = msg[key]
    out.update(extra)
    return out


def _system_field_ok(msg: dict) -> bool:
    """Whether a leading system message fits the ``system`` field (the writer's default)."""
    return isinstance(msg["content"], str) and all(msg[k] is None for k in ("name", "tool_calls", "tool_call_id",
                                                                             "reasoning", "extra"))


def parse(rec: dict, kind: str, nulls_absent: bool = False) -> dict:
    hints: dict = {}
    key = "conversations" if "conversations" in rec else "messages"
    if key == "messages":
        hints["key"] = "messages"
    turns = rec.get(key)
    if turns is None:
        raise RowError("missing field", "'conversations'")
    if not isinstance(turns, list):
        raise RowError("wrong type", f"field {key!r} is {type_name(turns)}, expected list")
    messages = [parse_turn(t, i + 1, key, nulls_absent) for i, t in enumerate(turns)]
    system = expect_str(rec.get("system"), "system", optional=True)
    if system is not None:
        messages.insert(0, new_message("system", system))
    elif messages and messages[0]["role"] == "system" and _system_field_ok(messages[0]):
        hints["system"] = "turn"
    known = {key, "system", "tools"}
    row: dict = {}
    if kind == "preference":
        known |= {"chosen", "rejected"}
        row["prompt"] = messages
        for side in ("chosen", "rejected"):
            row[side] = [parse_turn(require_turn(rec, side), 1, side, nulls_absent)]
    else:
        row["messages"] = messages
    row["tools"] = parse_tools(rec, "text", hints)
    extra = {k: v for k, v in rec.items() if k not in known}
    row["extra"] = with_hints(extra, NS, hints)
    return row


def require_turn(rec: dict, side: str) -> Any:
    if rec.get(side) is None:
        raise RowError("missing field", repr(side))
    return rec[side]


def build(row: dict, kind: str) -> tuple[dict, dict]:
    """(format fields, remaining extra) for a canonical row."""
    extra, hints = split_extra(row["extra"], NS)
    messages = list(row["prompt"] if kind == "preference" else row["messages"])
    key = "messages" if hints.get("key") == "messages" else "conversations"
    out: dict = {}
    if messages and messages[0]["role"] == "system" and hints.get("system") != "turn" and _system_field_ok(messages[0]):
        out["system"] = messages.pop(0)["content"]
    out[key] = [build_turn(m, key) for m in messages]
    if kind == "preference":
        for side in ("chosen", "rejected"):
            if len(row[side]) != 1:
                raise Unexpressible(f"{side} with {len(row[side])} messages in sharegpt (one turn expected)")
            out[side] = build_turn(row[side][0], side)
    if row["tools"] is not None:
        out["tools"] = build_json_field(row["tools"], "text", hints.get("tools"))
    return out, extra
