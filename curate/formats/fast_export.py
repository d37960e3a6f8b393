"""Vectorised ``export(table, "openai")`` for batches of plain chat rows (the default output of `clean`).

Applies when no message has tool calls or message-level extras and no record carries ``openai`` hints:
then each message is ``{role, content[, name][, tool_call_id][, reasoning_content]}`` and the record's
``extra`` passes through unchanged, which Arrow can build column-wise. Other batches take the per-row
writers (tests check both give the same rows).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from curate.formats.messages import REASONING_KEY
from curate.records import MESSAGE_COLUMNS, kind_of


def _plain(messages: pa.ListArray) -> bool:
    flat = messages.flatten()
    return flat.field("tool_calls").null_count == len(flat) and flat.field("extra").null_count == len(flat)


def openai_columns(table: pa.Table) -> dict[str, pa.Array] | None:
    """The openai message columns (+ tools) of ``table``, or None when the batch needs the per-row path."""
    kind = kind_of(table.schema)
    if kind == "text":
        return None
    extra = table["extra"].combine_chunks()
    if pc.any(pc.fill_null(pc.match_substring(extra, '"openai"'), False)).as_py():
        return None
    columns = {name: table[name].combine_chunks() for name in MESSAGE_COLUMNS[kind]}
    if not all(_plain(c) for c in columns.values()):
        return None
    out = {name: _messages(c) for name, c in columns.items()}
    if table["tools"].null_count < table.num_rows:
        out["tools"] = table["tools"].combine_chunks()
    return out


def _messages(messages: pa.ListArray) -> pa.ListArray:
    flat = messages.flatten()
    fields = [("role", flat.field("role")), ("content", flat.field("content"))]
    for source, target in (("name", "name"), ("tool_call_id", "tool_call_id"), ("reasoning", REASONING_KEY)):
        array = flat.field(source)
        if array.null_count < len(array):
            fields.append((target, array))
    struct = pa.StructArray.from_arrays([a for _, a in fields], names=[n for n, _ in fields])
    offsets = pc.subtract(messages.offsets, messages.offsets[0])
    return pa.ListArray.from_arrays(offsets, struct, mask=messages.is_null())
