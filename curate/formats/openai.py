"""OpenAI messages to and from canonical rows.

Record: ``{messages: [...], tools?}`` (tools a list of objects or JSON text); messages as in
`curate.formats.messages`. A preference row is written as TRL's conversational shape
``{prompt, chosen, rejected, tools?}`` (read back by the ``trl`` format).

Hints (namespace ``openai``, record level): ``tools`` ('text' when tools were JSON text that the writer
would otherwise write as a list).
"""

from __future__ import annotations

from curate.formats.common import RowError, build_json_field, parse_tools, split_extra, with_hints
from curate.formats.messages import build_messages, parse_messages

NS = "openai"


def parse(rec: dict, kind: str, nulls_absent: bool = False) -> dict:
    if rec.get("messages") is None:
        raise RowError("missing field", "'messages'")
    hints: dict = {}
    row = {"messages": parse_messages(rec["messages"], "messages", nulls_absent), "tools": None}
    # Parquet files always hold tools as JSON text: no spelling hint there
    row["tools"] = parse_tools(rec, "json", hints, keep_hint=not nulls_absent)
    row["extra"] = with_hints({k: v for k, v in rec.items() if k not in ("messages", "tools")}, NS, hints)
    return row


def build(row: dict, kind: str) -> tuple[dict, dict]:
    extra, hints = split_extra(row["extra"], NS)
    if kind == "preference":
        out = {side: build_messages(row[side]) for side in ("prompt", "chosen", "rejected")}
    else:
        out = {"messages": build_messages(row["messages"])}
    if row["tools"] is not None:
        out["tools"] = build_json_field(row["tools"], "json", hints.get("tools"))
    return out, extra
