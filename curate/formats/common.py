"""Shared pieces of the format readers/writers: row errors, JSON helpers, carried hints.

A *hint* records how a record was spelled in its source format when the canonical form cannot show it
(Alpaca's instruction/input split, ShareGPT's ``system`` field versus a system turn, content given as
parts, ...). Hints live under the reserved key ``_curate`` as ``{"<namespace>": {...}}``: at record level
inside ``extra`` and at message level inside ``MESSAGE.extra``. A format's reader writes hints only in its
own namespace and only where its writer would not reproduce the source by itself; its writer consumes and
removes its own namespace and carries every other namespace through unchanged. So A -> B -> A gives A back
exactly and B's own output carries no noise from B. See schemas/README.md for the vocabulary.
"""

from __future__ import annotations

import json
from typing import Any

HINT_KEY = "_curate"
ROLES = ("system", "user", "assistant", "tool")
MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id", "reasoning", "extra")


class RowError(Exception):
    """A record that does not fit its format; becomes a reject ``<label>: <detail>``."""

    def __init__(self, label: str, detail: str | None = None):
        self.reason = f"{label}: {detail}" if detail else label
        super().__init__(self.reason)


class Unexpressible(RowError):
    """A canonical record the target format has no place for (export refuses it)."""

    def __init__(self, detail: str):
        super().__init__("cannot express", detail)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def expect_str(value: Any, field: str, *, where: str = "", optional: bool = False) -> str | None:
    """``value`` when it is a string (or None when optional), else a 'wrong type' row error."""
    if value is None and optional:
        return None
    if isinstance(value, str):
        return value
    raise RowError("wrong type", f"field {field!r}{where} is {type_name(value)}, expected string")


def require(record: dict, field: str, *, where: str = "") -> Any:
    if field not in record or (record[field] is None):
        raise RowError("missing field", f"{field!r}{where}")
    return record[field]


def dumps(value: Any) -> str:
    """JSON text the way Python tools (and LLaMA-Factory's files) write it."""
    return json.dumps(value, ensure_ascii=False)


def is_stable(text: str) -> bool:
    """True when ``text`` is JSON that `dumps` writes back byte for byte."""
    try:
        return dumps(json.loads(text)) == text
    except (ValueError, TypeError, RecursionError):
        return False


def parse_json_field(value: Any, prefer: str) -> tuple[str, str | None]:
    """(canonical JSON text, hint) for a field holding JSON that a format writes as ``prefer``
    ('text' = a JSON string, 'json' = the structure itself)."""
    if isinstance(value, str):
        return value, ("text" if prefer == "json" and is_stable(value) else None)
    return dumps(value), ("json" if prefer == "text" else None)


def parse_tools(rec: dict, prefer: str, hints: dict, *, keep_hint: bool = True) -> str | None:
    """The record's tool definitions as canonical JSON text (None when absent), noting in ``hints`` how
    they were spelled when the format writes them the other way (``prefer``: 'text' or 'json')."""
    if rec.get("tools") is None:
        return None
    tools, hint = parse_json_field(rec["tools"], prefer)
    if hint and keep_hint:
        hints["tools"] = hint
    return tools


def build_json_field(text: str, prefer: str, hint: str | None) -> Any:
    if (hint or prefer) == "json" and is_stable(text):
        return json.loads(text)
    return text


# ---------------------------------------------------------------------------------------------------
# hints


def split_extra(extra: dict | None, namespace: str) -> tuple[dict, dict]:
    """(extra without the ``namespace`` hints, those hints). Never mutates ``extra``."""
    if not extra:
        return {}, {}
    rest = dict(extra)
    carried = rest.get(HINT_KEY)
    if not isinstance(carried, dict) or namespace not in carried:
        return rest, {}
    carried = dict(carried)
    own = carried.pop(namespace)
    if carried:
        rest[HINT_KEY] = carried
    else:
        rest.pop(HINT_KEY)
    return rest, own if isinstance(own, dict) else {}


def with_hints(extra: dict, namespace: str, hints: dict) -> dict:
    """``extra`` with ``hints`` added to its ``namespace`` hints."""
    extra, old = split_extra(extra, namespace)
    hints = {**old, **hints}  # carried hints of this namespace stay (another writer may feed this reader)
    if hints and isinstance(extra.get(HINT_KEY, {}), dict):  # a foreign non-object `_curate` stays as is
        carried = dict(extra.get(HINT_KEY) or {})
        carried[namespace] = hints
        extra[HINT_KEY] = carried
    return extra


def new_message(role: str, content: str | None = None) -> dict:
    return {"role": role, "content": content, "name": None, "tool_calls": None, "tool_call_id": None,
            "reasoning": None, "extra": None}


def is_plain(message: dict) -> bool:
    """A message that is only a role and a string content (what Alpaca/ShareGPT fields can hold)."""
    return (
        isinstance(message["content"], str)
        and message["name"] is None
        and message["tool_calls"] is None
        and message["tool_call_id"] is None
        and message["reasoning"] is None
        and not message["extra"]
    )


# ---------------------------------------------------------------------------------------------------
# tool calls as {"name", "arguments"} objects (ShareGPT function_call values, LLaMA-Factory v1 parts)


def parse_call_object(obj: Any, where: str) -> dict:
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        raise RowError("invalid tool call", f"{where}: expected an object with 'name' and 'arguments'")
    unknown = sorted(set(obj) - {"id", "type", "name", "arguments"})
    if unknown:
        raise RowError("invalid tool call", f"{where}: unexpected keys {unknown}")
    args = obj.get("arguments")
    return {
        "id": expect_str(obj.get("id"), "id", where=f" of {where}", optional=True),
        "type": expect_str(obj.get("type"), "type", where=f" of {where}", optional=True),
        "name": obj["name"],
        "arguments": None if args is None else args if isinstance(args, str) else dumps(args),
    }


def call_object(call: dict) -> dict:
    obj: dict = {}
    if call["id"] is not None:
        obj["id"] = call["id"]
    if call["type"] is not None:
        obj["type"] = call["type"]
    obj["name"] = call["name"]
    args = call["arguments"]
    if args is not None:
        obj["arguments"] = json.loads(args) if is_stable(args) else args
    return obj


def parse_call_text(text: str, where: str) -> list[dict]:
    """Tool calls from JSON text: one object or a list of objects."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise RowError("invalid tool call", f"{where}: {error}") from None
    items = value if isinstance(value, list) else [value]
    return [parse_call_object(item, where) for item in items]


def calls_text(calls: list[dict], hinted: str | None) -> str:
    """The JSON text of ``calls``: the hinted original when it still says the same, else rebuilt."""
    if hinted is not None:
        try:
            if parse_call_text(hinted, "hint") == calls:
                return hinted
        except RowError:
            pass
    objs = [call_object(c) for c in calls]
    return dumps(objs[0] if len(objs) == 1 else objs)


# ---------------------------------------------------------------------------------------------------
# message-level hints in formats without message objects (Alpaca): kept at record level by position

TURNS = "turns"


def stash_turn_hints(messages: list[dict], extra: dict) -> dict:
    """``extra`` plus ``_curate.turns`` holding each message's hints; other message fields are refused."""
    stash = {}
    for i, m in enumerate(messages):
        if not m["extra"]:
            continue
        if set(m["extra"]) != {HINT_KEY}:
            raise Unexpressible(f"message fields {sorted(set(m['extra']) - {HINT_KEY})} in alpaca")
        stash[str(i)] = m["extra"][HINT_KEY]
    if not stash:
        return extra
    if not isinstance(extra.get(HINT_KEY, {}), dict):
        raise Unexpressible(f"message hints beside a non-object {HINT_KEY!r} field in alpaca")
    carried = dict(extra.get(HINT_KEY) or {})
    carried[TURNS] = stash
    return {**extra, HINT_KEY: carried}


def restore_turn_hints(messages: list[dict], extra: dict) -> dict:
    """Put stashed message hints back on their messages; returns ``extra`` without the stash."""
    extra, stash = split_extra(extra, TURNS)
    for key, hints in stash.items():
        if key.isdigit() and int(key) < len(messages) and isinstance(hints, dict):
            messages[int(key)]["extra"] = {HINT_KEY: hints}
    return extra


def drop_stale_texts(message: dict) -> dict:
    """Drop text-carrying hints (``sharegpt.value``, ``openai.values``) that no longer match the message's
    tool calls, so an edited (e.g. redacted) call never travels on in its original wording."""
    carried = (message["extra"] or {}).get(HINT_KEY)
    if not isinstance(carried, dict):
        return message
    carried = dict(carried)
    calls = message["tool_calls"] or []
    sg = carried.get("sharegpt")
    if isinstance(sg, dict) and "value" in sg and calls_text(calls, sg["value"]) != sg["value"]:
        carried["sharegpt"] = {k: v for k, v in sg.items() if k != "value"}
    oa = carried.get("openai")
    if isinstance(oa, dict) and "values" in oa:
        values = oa["values"] if isinstance(oa["values"], list) else []
        kept = [v if i < len(calls) and v is not None and calls_text([calls[i]], v) == v else None
                for i, v in enumerate(values)]
        carried["openai"] = {**oa, "values": kept} if any(v is not None for v in kept) else {
            k: v for k, v in oa.items() if k != "values"}
    return {**message, "extra": {**message["extra"], HINT_KEY: carried}}
