"""TRL dataset shapes to and from canonical rows.

Preference: ``{prompt, chosen, rejected}`` as strings (standard) or message lists (conversational), or
without ``prompt`` (implicit prompt: chosen/rejected hold whole conversations; LLaMA-Factory v1 names them
``chosen_messages``/``rejected_messages``). Conversation: ``{prompt, completion}``, both shapes.

Hints (namespace ``trl``, record level): ``standard`` (strings instead of message lists), ``implicit``
(the prompt was inside chosen/rejected), ``keys`` ('messages' for chosen_messages/rejected_messages),
``completion`` (number of completion messages when not 1), ``tools`` ('text' for JSON-text tools).
"""

from __future__ import annotations

from curate.formats.common import (
    RowError, Unexpressible, build_json_field, is_plain, new_message, parse_tools, require, split_extra,
    type_name, with_hints,
)
from curate.formats.messages import build_messages, parse_messages

NS = "trl"


def _side(rec: dict, field: str, role: str, standard: bool, nulls_absent: bool) -> list[dict]:
    value = require(rec, field)
    if standard:
        if not isinstance(value, str):
            raise RowError("wrong type", f"field {field!r} is {type_name(value)}, expected string like 'prompt'")
        return [new_message(role, value)]
    if not isinstance(value, list):
        raise RowError("wrong type", f"field {field!r} is {type_name(value)}, expected list like 'prompt'")
    return parse_messages(value, field, nulls_absent)


def parse(rec: dict, kind: str, nulls_absent: bool = False) -> dict:
    hints: dict = {}
    if kind == "preference":
        row, known = _parse_preference(rec, hints, nulls_absent)
    else:
        known = {"prompt", "completion"}
        standard = isinstance(rec.get("prompt"), str)
        prompt = _side(rec, "prompt", "user", standard, nulls_absent)
        completion = _side(rec, "completion", "assistant", standard, nulls_absent)
        if standard:
            hints["standard"] = True
        elif len(completion) != 1:
            hints["completion"] = len(completion)
        row = {"messages": prompt + completion}
    row["tools"] = None
    # Parquet files always hold tools as JSON text: no spelling hint there
    row["tools"] = parse_tools(rec, "json", hints, keep_hint=not nulls_absent)
    row["extra"] = with_hints({k: v for k, v in rec.items() if k not in known | {"tools"}}, NS, hints)
    return row


def _parse_preference(rec: dict, hints: dict, nulls_absent: bool) -> tuple[dict, set]:
    if "chosen_messages" in rec:
        names = ("chosen_messages", "rejected_messages")
        hints["keys"] = "messages"
    else:
        names = ("chosen", "rejected")
    if "prompt" not in rec or names[0] == "chosen_messages":
        chosen = _side(rec, names[0], "assistant", False, nulls_absent)
        rejected = _side(rec, names[1], "assistant", False, nulls_absent)
        n = 0
        while n < min(len(chosen), len(rejected)) - 1 and chosen[n] == rejected[n]:
            n += 1
        hints["implicit"] = True
        return {"prompt": chosen[:n], "chosen": chosen[n:], "rejected": rejected[n:]}, set(names)
    standard = isinstance(rec.get("prompt"), str)
    if standard:
        hints["standard"] = True
    row = {"prompt": _side(rec, "prompt", "user", standard, nulls_absent),
           "chosen": _side(rec, "chosen", "assistant", standard, nulls_absent),
           "rejected": _side(rec, "rejected", "assistant", standard, nulls_absent)}
    return row, {"prompt", "chosen", "rejected"}


def _single(messages: list[dict], role: str) -> bool:
    return len(messages) == 1 and messages[0]["role"] == role and is_plain(messages[0])


def build(row: dict, kind: str) -> tuple[dict, dict]:
    extra, hints = split_extra(row["extra"], NS)
    if kind == "preference":
        out = _build_preference(row, hints)
    else:
        messages = row["messages"]
        n = hints.get("completion", 1)
        plain = len(messages) == 2 and _single(messages[:1], "user") and _single(messages[1:], "assistant")
        if hints.get("standard") and plain:
            out = {"prompt": messages[0]["content"], "completion": messages[1]["content"]}
        elif not isinstance(n, int) or n > len(messages) or not messages:
            raise Unexpressible("a conversation without a completion in trl")
        else:
            cut = len(messages) - n
            out = {"prompt": build_messages(messages[:cut]), "completion": build_messages(messages[cut:])}
    if row["tools"] is not None:
        out["tools"] = build_json_field(row["tools"], "json", hints.get("tools"))
    return out, extra


def _build_preference(row: dict, hints: dict) -> dict:
    prompt, chosen, rejected = row["prompt"], row["chosen"], row["rejected"]
    if hints.get("implicit"):
        names = ("chosen_messages", "rejected_messages") if hints.get("keys") == "messages" else ("chosen", "rejected")
        return {names[0]: build_messages(prompt + chosen), names[1]: build_messages(prompt + rejected)}
    plain = _single(prompt, "user") and _single(chosen, "assistant") and _single(rejected, "assistant")
    if hints.get("standard") and plain:
        return {"prompt": prompt[0]["content"], "chosen": chosen[0]["content"], "rejected": rejected[0]["content"]}
    return {"prompt": build_messages(prompt), "chosen": build_messages(chosen), "rejected": build_messages(rejected)}
