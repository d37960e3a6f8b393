"""Alpaca (LLaMA-Factory's default formatting) to and from canonical rows.

Record: ``{instruction, input?, output, system?, history?: [[user, assistant], ...], tools?}``; the
preference variant has ``chosen``/``rejected`` (strings) instead of ``output``. The user turn is
``instruction + "\\n" + input`` (either alone when the other is empty), as LLaMA-Factory builds it; history
pairs become the turns before it and ``system`` a leading system message.

Hints (namespace ``alpaca``, record level): ``input_chars`` (length of ``input`` when it was not empty, so
the user turn can be split again), ``no_input`` (the record had no ``input`` key), ``history`` ('empty' for
``"history": []``), ``tools`` ('json' when tools were a structure).
"""

from __future__ import annotations

from curate.formats.common import (
    RowError, Unexpressible, build_json_field, expect_str, new_message, parse_tools,
    require, restore_turn_hints, split_extra, stash_turn_hints, type_name, with_hints,
)

NS = "alpaca"


def parse(rec: dict, kind: str, nulls_absent: bool = False) -> dict:
    hints: dict = {}
    instruction = expect_str(require(rec, "instruction"), "instruction")
    query = expect_str(rec.get("input"), "input", optional=True)
    if query is None:
        hints["no_input"] = True
    elif query:
        hints["input_chars"] = len(query)
    messages = []
    system = expect_str(rec.get("system"), "system", optional=True)
    if system is not None:
        messages.append(new_message("system", system))
    history = rec.get("history")
    if history is not None:
        messages += _parse_history(history)
        if not history:
            hints["history"] = "empty"
    messages.append(new_message("user", "\n".join(p for p in (instruction, query) if p)))
    known = {"instruction", "input", "system", "history", "tools"}
    row: dict = {}
    if kind == "preference":
        known |= {"chosen", "rejected"}
        row["prompt"] = messages
        for side in ("chosen", "rejected"):
            row[side] = [new_message("assistant", expect_str(require(rec, side), side))]
    else:
        known.add("output")
        messages.append(new_message("assistant", expect_str(require(rec, "output"), "output")))
        row["messages"] = messages
    row["tools"] = parse_tools(rec, "text", hints)
    extra = {k: v for k, v in rec.items() if k not in known}
    everything = row.get("messages") or row["prompt"] + row["chosen"] + row["rejected"]
    row["extra"] = with_hints(restore_turn_hints(everything, extra), NS, hints)
    return row


def _parse_history(history) -> list[dict]:
    if not isinstance(history, list):
        raise RowError("wrong type", f"field 'history' is {type_name(history)}, expected list")
    out = []
    for i, pair in enumerate(history):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise RowError("wrong type", f"history item {i + 1} is not a [user, assistant] pair")
        out.append(new_message("user", expect_str(pair[0], "history", where=f" item {i + 1}")))
        out.append(new_message("assistant", expect_str(pair[1], "history", where=f" item {i + 1}")))
    return out


def build(row: dict, kind: str) -> tuple[dict, dict]:
    extra, hints = split_extra(row["extra"], NS)
    messages = list(row["prompt"] if kind == "preference" else row["messages"])
    everything = messages + (row["chosen"] + row["rejected"] if kind == "preference" else [])
    extra = stash_turn_hints(everything, extra)
    out: dict = {}
    for m in everything:
        _check_plain(m)
    system = messages.pop(0)["content"] if messages and messages[0]["role"] == "system" else None
    if kind == "conversation":
        if len(messages) < 2 or messages[-1]["role"] != "assistant":
            raise Unexpressible("a conversation that does not end with a user/assistant pair in alpaca")
        output = messages.pop()["content"]
    user = messages.pop() if messages and messages[-1]["role"] == "user" else None
    if user is None:
        raise Unexpressible("a prompt that does not end with a user turn in alpaca")
    roles = [m["role"] for m in messages]
    if roles != ["user", "assistant"] * (len(roles) // 2):
        raise Unexpressible(f"turns {roles + ['user']} are not user/assistant pairs in alpaca")
    out["instruction"], query = _split(user["content"], hints)
    if not (hints.get("no_input") and query == ""):
        out["input"] = query
    if kind == "preference":
        for side in ("chosen", "rejected"):
            if len(row[side]) != 1 or row[side][0]["role"] != "assistant":
                raise Unexpressible(f"{side} that is not one assistant message in alpaca")
            out[side] = row[side][0]["content"]
    else:
        out["output"] = output
    if system is not None:
        out["system"] = system
    if messages or hints.get("history") == "empty":
        out["history"] = [[messages[i]["content"], messages[i + 1]["content"]] for i in range(0, len(messages), 2)]
    if row["tools"] is not None:
        out["tools"] = build_json_field(row["tools"], "text", hints.get("tools"))
    return out, extra


def _check_plain(m: dict) -> None:
    if m["tool_calls"] is not None or m["role"] == "tool":
        raise Unexpressible("tool calls in alpaca")
    if m["reasoning"] is not None:
        raise Unexpressible("reasoning in alpaca")
    if m["name"] is not None or m["tool_call_id"] is not None:
        raise Unexpressible("message names or tool_call ids in alpaca")
    if not isinstance(m["content"], str):
        raise Unexpressible("a message without string content in alpaca")


def _split(content: str, hints: dict) -> tuple[str, str]:
    """(instruction, input) of a user turn, using the recorded input length when it still fits."""
    n = hints.get("input_chars")
    if isinstance(n, int) and 0 < n <= len(content):
        if n == len(content):
            return "", content
        if content[-n - 1] == "\n":
            return content[: -n - 1], content[-n:]
    return content, ""
