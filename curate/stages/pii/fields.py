"""Every text field of a canonical table as one flat string array, with the row each piece came from.

`curate.records.map_texts` rewrites text fields but does not say which row a string belongs to, and
the PII stage needs that for its per-row columns. `TextFields.of(table)` flattens message content,
reasoning and tool-call arguments of every message column (or ``text``) into ``texts`` plus ``rows``;
`TextFields.rebuild(new_texts)` writes a same-length array back, keeping every list and struct shape.
Sliced inputs are handled by re-basing list offsets (a batch is often a slice of a larger table).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.records import MESSAGE, MESSAGE_COLUMNS, TOOL_CALL, kind_of


@dataclass
class _Piece:
    column: str
    part: str  # "text" | "content" | "reasoning" | "arguments"
    start: int
    stop: int


@dataclass
class TextFields:
    """Flat view of a table's text: ``texts[i]`` belongs to row ``rows[i]``."""

    table: pa.Table
    texts: pa.Array
    rows: np.ndarray
    pieces: list[_Piece] = field(default_factory=list)

    @classmethod
    def of(cls, table: pa.Table) -> "TextFields":
        kind = kind_of(table.schema)
        arrays: list[pa.Array] = []
        rows: list[np.ndarray] = []
        pieces: list[_Piece] = []

        def add(column: str, part: str, values: pa.Array, owner: np.ndarray) -> None:
            start = sum(len(a) for a in arrays)
            arrays.append(pc.cast(values, pa.string()))
            rows.append(owner)
            pieces.append(_Piece(column, part, start, start + len(values)))

        if kind == "text":
            add("text", "text", table["text"].combine_chunks(), np.arange(table.num_rows, dtype=np.int64))
        for column in MESSAGE_COLUMNS[kind]:
            lists = _list_array(table[column])
            owner = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
            messages = lists.flatten()
            add(column, "content", messages.field("content"), owner)
            add(column, "reasoning", messages.field("reasoning"), owner)
            calls = messages.field("tool_calls")
            call_owner = owner[np.asarray(pc.list_parent_indices(calls), dtype=np.int64)]
            add(column, "arguments", calls.flatten().field("arguments"), call_owner)
        texts = pa.concat_arrays(arrays) if arrays else pa.array([], pa.string())
        all_rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        return cls(table, texts, all_rows, pieces)

    def rebuild(self, new_texts: pa.Array) -> pa.Table:
        """The table with its text fields replaced by ``new_texts`` (aligned with ``self.texts``)."""
        table = self.table
        by_column: dict[str, dict[str, pa.Array]] = {}
        for piece in self.pieces:
            by_column.setdefault(piece.column, {})[piece.part] = new_texts.slice(piece.start, piece.stop - piece.start)
        for column, parts in by_column.items():
            index = table.schema.get_field_index(column)
            if column == "text":
                table = table.set_column(index, table.schema.field(index), pc.cast(parts["text"], table.schema.field(index).type))
            else:
                table = table.set_column(index, table.schema.field(index), _rebuild_messages(_list_array(table[column]), parts))
        return table


def _list_array(column: pa.ChunkedArray | pa.Array) -> pa.ListArray:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return array


def _rebased(offsets: pa.Array) -> pa.Array:
    return pc.subtract(offsets, offsets[0])


def _rebuild_messages(lists: pa.ListArray, parts: dict[str, pa.Array]) -> pa.ListArray:
    messages = lists.flatten()
    children = {name: messages.field(name) for name in MESSAGE.names}
    children["content"] = parts["content"]
    children["reasoning"] = parts["reasoning"]
    calls = children["tool_calls"]
    call_structs = calls.flatten()
    call_children = {name: call_structs.field(name) for name in TOOL_CALL.names}
    call_children["arguments"] = parts["arguments"]
    rebuilt_calls = pa.StructArray.from_arrays(
        list(call_children.values()), fields=list(TOOL_CALL), mask=call_structs.is_null()
    )
    children["tool_calls"] = pa.ListArray.from_arrays(
        _rebased(calls.offsets), rebuilt_calls, type=calls.type, mask=calls.is_null()
    )
    rebuilt = pa.StructArray.from_arrays(list(children.values()), fields=list(MESSAGE), mask=messages.is_null())
    return pa.ListArray.from_arrays(_rebased(lists.offsets), rebuilt, type=lists.type, mask=lists.is_null())
