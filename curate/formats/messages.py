"""OpenAI-style messages (used by the ``openai`` and ``trl`` formats) to and from canonical MESSAGE dicts.

Reads ``{role, content, name?, tool_calls?, tool_call_id?, reasoning? | reasoning_content?}`` where content
is a string, null, or a list of parts (OpenAI's ``{"type": "text", "text"}`` and LLaMA-Factory v1's
``{"type": "text"|"reasoning"|"tool_call", "value"}``). Other keys go to MESSAGE.extra. Hints (namespace
``openai``): ``parts`` (the part layout), ``part_key``, ``values`` (original tool_call part texts),
``reasoning_key``, ``object_arguments`` (indices of calls whose arguments were objects), ``content``
('absent' when the key was missing).
"""

from __future__ import annotations

import json
from typing import Any

from curate.formats.common import (
    HINT_KEY, ROLES, RowError, calls_text, dumps, expect_str, is_stable, new_message, parse_call_text,
    split_extra, type_name, with_hints,
)

NS = "openai"
REASONING_KEY = "reasoning_content"  # what HF chat templates (Qwen3, DeepSeek-R1) read
_KNOWN = {"role", "content", "name", "tool_calls", "tool_call_id", "reasoning", "reasoning_content", HINT_KEY}
_PART_TYPES = ("text", "reasoning", "tool_call")


def parse_messages(value: Any, field: str, nulls_absent: bool = False) -> list[dict]:
    if not isinstance(value, list):
        raise RowError("wrong type", f"field {field!r} is {type_name(value)}, expected list")
    return [parse_message(m, i + 1, field, nulls_absent) for i, m in enumerate(value)]


def parse_message(m: Any, turn: int, field: str = "messages", nulls_absent: bool = False) -> dict:
    where = f" in turn {turn}" if field == "messages" else f" in turn {turn} of {field!r}"
    if not isinstance(m, dict):
        raise RowError("wrong type", f"turn {turn} of {field!r} is {type_name(m)}, expected object")
    if nulls_absent:
        m = {k: v for k, v in m.items() if v is not None or k == "content"}
    role = m.get("role")
    if role is None:
        raise RowError("missing field", f"'role'{where}")
    if role not in ROLES:
        raise RowError("unknown role", f"{role!r}{where}") if isinstance(role, str) else RowError(
            "wrong type", f"field 'role'{where} is {type_name(role)}, expected string")
    msg = new_message(role)
    hints: dict = {}
    if "content" not in m:
        hints["content"] = "absent"
    elif isinstance(m["content"], list):
        _parse_parts(m["content"], msg, hints, where)
    else:
        msg["content"] = expect_str(m["content"], "content", where=where, optional=True)
    _parse_reasoning(m, msg, hints, where)
    msg["name"] = expect_str(m.get("name"), "name", where=where, optional=True)
    msg["tool_call_id"] = expect_str(m.get("tool_call_id"), "tool_call_id", where=where, optional=True)
    if m.get("tool_calls") is not None:
        if msg["tool_calls"] is not None:
            raise RowError("unsupported content", f"tool_call parts and 'tool_calls'{where}")
        msg["tool_calls"] = _parse_tool_calls(m["tool_calls"], hints, where)
    extra = {k: v for k, v in m.items() if k not in _KNOWN}
    carried = m.get(HINT_KEY)
    if isinstance(carried, dict):
        extra[HINT_KEY] = carried
    elif carried is not None:
        extra[HINT_KEY] = carried  # not ours: keep as an ordinary unknown key
    extra = with_hints(extra, NS, hints)
    msg["extra"] = extra or None
    return msg


def _parse_reasoning(m: dict, msg: dict, hints: dict, where: str) -> None:
    plain, alt = m.get("reasoning"), m.get("reasoning_content")
    if (alt is not None or plain is not None) and msg["reasoning"] is not None:
        raise RowError("unsupported content", f"reasoning parts and a reasoning key{where}")
    if alt is not None:
        msg["reasoning"] = expect_str(alt, "reasoning_content", where=where)
        if plain is not None:
            raise RowError("unsupported content", f"both 'reasoning' and 'reasoning_content'{where}")
    elif plain is not None:
        msg["reasoning"] = expect_str(plain, "reasoning", where=where)
        hints["reasoning_key"] = "reasoning"


def _parse_parts(parts: list, msg: dict, hints: dict, where: str) -> None:
    layout: list = []
    texts: dict[str, list[str]] = {"text": [], "reasoning": []}
    values: list[str] = []
    key = None
    for part in parts:
        if not isinstance(part, dict):
            raise RowError("wrong type", f"content part{where} is {type_name(part)}, expected object")
        kind = part.get("type")
        if kind not in _PART_TYPES:
            raise RowError("unsupported content", f"part type {kind!r}{where}")
        own = "value" if "value" in part else "text"
        if set(part) != {"type", own}:
            raise RowError("unsupported content", f"part keys {sorted(part)}{where}")
        if key is not None and own != key:
            raise RowError("unsupported content", f"mixed part keys{where}")
        key = own
        value = expect_str(part[own], own, where=f" of a {kind} part{where}")
        if kind == "tool_call":
            values.append(value)
        else:
            texts[kind].append(value)
        layout.append(kind)
    for kind in ("text", "reasoning"):
        pieces = texts[kind]
        if len(pieces) > 1:
            layout = _annotate(layout, kind, [len(p) for p in pieces[:-1]])
        if pieces:
            msg["content" if kind == "text" else "reasoning"] = "".join(pieces)
    if values:
        calls = [parse_call_text(v, f"tool_call part{where}")[0] for v in values]
        msg["tool_calls"] = calls
        originals = [v if calls_text([c], None) != v else None for c, v in zip(calls, values)]
        if any(o is not None for o in originals):
            hints["values"] = originals
    hints["parts"] = layout
    if key == "value":
        hints["part_key"] = "value"


def _annotate(layout: list, kind: str, lengths: list[int]) -> list:
    """Mark all but the last ``kind`` part with its length, so joined pieces can be split again."""
    out, todo = [], iter(lengths)
    for item in layout:
        n = next(todo, None) if item == kind else None
        out.append([kind, n] if n is not None else item)
    return out


def _parse_tool_calls(value: Any, hints: dict, where: str) -> list[dict]:
    if not isinstance(value, list):
        raise RowError("wrong type", f"field 'tool_calls'{where} is {type_name(value)}, expected list")
    calls, objects = [], []
    for i, tc in enumerate(value):
        fn = tc.get("function") if isinstance(tc, dict) else None
        if not isinstance(fn, dict) or set(tc) - {"id", "type", "function"} or set(fn) - {"name", "arguments"}:
            shape = "{id, type, function: {name, arguments}}"
            raise RowError("invalid tool call", f"call {i + 1}{where}: expected {shape}")
        name = expect_str(fn.get("name"), "function.name", where=f" of call {i + 1}{where}")
        args = fn.get("arguments")
        if args is not None and not isinstance(args, str):
            objects.append(i)
            args = dumps(args)
        calls.append({"id": expect_str(tc.get("id"), "id", where=where, optional=True),
                      "type": expect_str(tc.get("type"), "type", where=where, optional=True),
                      "name": name, "arguments": args})
    if objects:
        hints["object_arguments"] = objects
    return calls


# ---------------------------------------------------------------------------------------------------
# writing


def build_messages(messages: list[dict]) -> list[dict]:
    return [build_message(m) for m in messages]


def build_message(msg: dict) -> dict:
    extra, hints = split_extra(json.loads(msg["extra"]) if isinstance(msg["extra"], str) else msg["extra"], NS)
    out: dict = {"role": msg["role"]}
    parts = _build_parts(msg, hints) if "parts" in hints else None
    if parts is not None:
        out["content"] = parts
    elif not (hints.get("content") == "absent" and msg["content"] is None):
        out["content"] = msg["content"]
    if msg["name"] is not None:
        out["name"] = msg["name"]
    if msg["tool_calls"] is not None and (parts is None or "tool_call" not in hints["parts"]):
        objects = set(hints.get("object_arguments") or [])
        out["tool_calls"] = [_tool_call(c, i in objects) for i, c in enumerate(msg["tool_calls"])]
    if msg["tool_call_id"] is not None:
        out["tool_call_id"] = msg["tool_call_id"]
    if msg["reasoning"] is not None and (parts is None or not _has(hints["parts"], "reasoning")):
        out[hints.get("reasoning_key", REASONING_KEY)] = msg["reasoning"]
    out.update(extra)
    return out


def _tool_call(call: dict, as_object: bool) -> dict:
    out: dict = {}
    if call["id"] is not None:
        out["id"] = call["id"]
    if call["type"] is not None:
        out["type"] = call["type"]
    fn: dict = {"name": call["name"]}
    if call["arguments"] is not None:
        args = call["arguments"]
        fn["arguments"] = json.loads(args) if as_object and is_stable(args) else args
    out["function"] = fn
    return out


def _has(layout: list, kind: str) -> bool:
    return any(k == kind or (isinstance(k, list) and k[0] == kind) for k in layout)


def _build_parts(msg: dict, hints: dict) -> list[dict] | None:
    """The content parts the source had, or None when the message no longer fits that layout."""
    layout, key = hints["parts"], hints.get("part_key", "text")
    pieces = {"text": _pieces(msg["content"], layout, "text"),
              "reasoning": _pieces(msg["reasoning"], layout, "reasoning")}
    n_calls = sum(1 for k in layout if k == "tool_call")
    calls = (msg["tool_calls"] or []) if n_calls else []  # without tool_call parts they stay in tool_calls
    if pieces["text"] is None or pieces["reasoning"] is None or (n_calls and n_calls != len(calls)):
        return None
    if any(c["id"] is not None or c["type"] is not None for c in calls):
        return None
    originals = hints.get("values") or [None] * n_calls
    parts, c = [], 0
    for item in layout:
        kind = item[0] if isinstance(item, list) else item
        if kind == "tool_call":
            value = calls_text([calls[c]], originals[c] if c < len(originals) else None)
            c += 1
        else:
            value = pieces[kind].pop(0)
        parts.append({"type": kind, key: value})
    return parts


def _pieces(text: str | None, layout: list, kind: str) -> list[str] | None:
    """Split ``text`` into the pieces the layout names for ``kind``; None if it does not fit."""
    items = [k for k in layout if k == kind or (isinstance(k, list) and k[0] == kind)]
    if not items:
        return [] if text is None else None
    if text is None:
        return None
    out, pos = [], 0
    for item in items[:-1]:
        n = item[1] if isinstance(item, list) else -1
        if n < 0 or pos + n > len(text):
            return None
        out.append(text[pos:pos + n])
        pos += n
    out.append(text[pos:])
    return out
