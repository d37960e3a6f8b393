"""Canonical Arrow schemas of the three kinds, row ids, and vectorised views over record text.

Every dataset has one kind:
- ``conversation``: ``messages`` (list of MESSAGE), ``tools`` (JSON text of the tool definitions)
- ``preference``: ``prompt``, ``chosen``, ``rejected`` (each a list of MESSAGE), ``tools``
- ``text``: ``text``

and every kind carries ``id``, ``extra`` (JSON text of the input's unknown top-level fields, kept so that
nothing is silently dropped) and ``source`` (file, row index, detected format). While a batch moves
through the pipeline it also carries ``raw``: the original record as JSON text, which is what a reject
shows. Stages append annotation columns after these.
"""

from __future__ import annotations

from typing import Callable, Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

Kind = Literal["conversation", "preference", "text"]
KINDS: tuple[Kind, ...] = ("conversation", "preference", "text")
Scope = Literal["all", "prompt", "response"]

TOOL_CALL = pa.struct(
    [
        ("id", pa.string()),
        ("type", pa.string()),
        ("name", pa.string()),
        ("arguments", pa.string()),  # JSON text, as OpenAI sends it
    ]
)
MESSAGE = pa.struct(
    [
        ("role", pa.string()),  # system | user | assistant | tool
        ("content", pa.string()),
        ("name", pa.string()),
        ("tool_calls", pa.list_(TOOL_CALL)),
        ("tool_call_id", pa.string()),
        ("reasoning", pa.string()),
        ("extra", pa.string()),  # JSON text of the message's unknown keys
    ]
)
MESSAGES = pa.list_(MESSAGE)
SOURCE = pa.struct([("file", pa.string()), ("index", pa.int64()), ("format", pa.string())])

_COMMON_HEAD = [pa.field("id", pa.string(), nullable=False)]
_COMMON_TAIL = [pa.field("extra", pa.string()), pa.field("source", SOURCE)]

SCHEMAS: dict[Kind, pa.Schema] = {
    "conversation": pa.schema(
        _COMMON_HEAD + [pa.field("messages", MESSAGES), pa.field("tools", pa.string())] + _COMMON_TAIL
    ),
    "preference": pa.schema(
        _COMMON_HEAD
        + [
            pa.field("prompt", MESSAGES),
            pa.field("chosen", MESSAGES),
            pa.field("rejected", MESSAGES),
            pa.field("tools", pa.string()),
        ]
        + _COMMON_TAIL
    ),
    "text": pa.schema(_COMMON_HEAD + [pa.field("text", pa.string())] + _COMMON_TAIL),
}
MESSAGE_COLUMNS: dict[Kind, tuple[str, ...]] = {
    "conversation": ("messages",),
    "preference": ("prompt", "chosen", "rejected"),
    "text": (),
}
RAW = "raw"  # the original record as JSON text, carried until the write

REJECT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("raw", pa.large_string()),
        pa.field("source_file", pa.string()),
        pa.field("source_index", pa.int64()),
        pa.field("stage", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("duplicate_of", pa.string()),
    ]
)


def kind_of(schema: pa.Schema) -> Kind:
    """The kind of a canonical table, from its columns."""
    if "messages" in schema.names:
        return "conversation"
    if "chosen" in schema.names:
        return "preference"
    if "text" in schema.names:
        return "text"
    raise ValueError(f"not a canonical table: columns {schema.names}")


def derived_ids(file_key: str, indices: pa.Array) -> pa.Array:
    """Ids for rows without their own: ``<file key>:<row index>``, stable across runs."""
    return pc.binary_join_element_wise(file_key, pc.cast(indices, pa.string()), ":")


# ---------------------------------------------------------------------------------------------------
# Text views: one string per row, built with polars list expressions (no per-row Python).


def _turns(column: str, role_prefix: bool) -> pl.Expr:
    content = pl.element().struct.field("content").fill_null("")
    if role_prefix:
        content = pl.element().struct.field("role") + pl.lit(": ") + content
    return pl.col(column).list.eval(content).list.join("\n")


def _last_assistant(column: str) -> pl.Expr:
    return (
        pl.col(column)
        .list.eval(
            pl.element().filter(pl.element().struct.field("role") == "assistant").struct.field("content")
        )
        .list.last()
        .fill_null("")
    )


def text_view(table: pa.Table, scope: Scope = "all") -> pa.Array:
    """The text of each row for hashing and scoring, as a string array aligned with ``table``.

    ``all``: every turn as ``role: content`` lines (preference: prompt, then chosen, then rejected);
    ``prompt``: the turns before the answer (conversation: before the last assistant turn);
    ``response``: the answer (conversation: the last assistant turn; preference: chosen and rejected).
    """
    kind = kind_of(table.schema)
    frame = pl.from_arrow(table.select([c for c in table.column_names if c in ("text", *MESSAGE_COLUMNS[kind])]))
    assert isinstance(frame, pl.DataFrame)
    if kind == "text":
        expr = pl.col("text").fill_null("")
    elif kind == "preference":
        parts = {
            "all": [_turns("prompt", True), _turns("chosen", True), _turns("rejected", True)],
            "prompt": [_turns("prompt", True)],
            "response": [_turns("chosen", False), _turns("rejected", False)],
        }[scope]
        expr = pl.concat_str(parts, separator="\n\n")
    elif scope == "all":
        expr = _turns("messages", True)
    elif scope == "response":
        expr = _last_assistant("messages")
    else:
        expr = _prompt_of_conversation()
    return frame.select(expr.alias("view")).to_series().to_arrow()


def _prompt_of_conversation() -> pl.Expr:
    shown = pl.element().struct.field("role") + pl.lit(": ") + pl.element().struct.field("content").fill_null("")
    is_assistant = (pl.element().struct.field("role") == "assistant").cast(pl.Int32)
    # index of the last assistant turn = len - 1 - (position of first assistant turn in the reversed list)
    n_after = pl.col("messages").list.eval(is_assistant.reverse().cum_sum()).list.eval((pl.element() == 0).cast(pl.Int32)).list.sum()
    n = pl.col("messages").list.len()
    head_len = (n - n_after - 1).clip(lower_bound=0)
    turns = pl.col("messages").list.eval(shown)
    return turns.list.head(head_len).list.join("\n")


# ---------------------------------------------------------------------------------------------------
# Rewriting every text field (used by PII redaction): flatten, map one string array, rebuild.


def _list_parts(lists: pa.ListArray) -> tuple[pa.Array, pa.Array]:
    """(offsets starting at 0, the values they index): correct for sliced arrays too."""
    offsets = lists.offsets
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    return pc.subtract(offsets, start), lists.values.slice(start, end - start)


def map_message_texts(messages: pa.ListArray, fn: Callable[[pa.Array], pa.Array]) -> pa.ListArray:
    """Apply ``fn`` (string array -> string array of the same length) to every message's content,
    reasoning and tool-call arguments, keeping the list structure."""
    if isinstance(messages, pa.ChunkedArray):
        return pa.chunked_array([map_message_texts(c, fn) for c in messages.chunks], type=messages.type)
    offsets, flat = _list_parts(messages)  # StructArray of MESSAGE
    fields = {name: flat.field(name) for name in MESSAGE.names}
    fields["content"] = fn(fields["content"])
    fields["reasoning"] = fn(fields["reasoning"])
    calls = fields["tool_calls"]
    call_offsets, call_flat = _list_parts(calls)
    if len(call_flat):
        call_fields = {n: call_flat.field(n) for n in TOOL_CALL.names}
        call_fields["arguments"] = fn(call_fields["arguments"])
        call_struct = pa.StructArray.from_arrays(list(call_fields.values()), fields=list(TOOL_CALL))
        fields["tool_calls"] = pa.ListArray.from_arrays(call_offsets, call_struct, mask=calls.is_null())
    rebuilt = pa.StructArray.from_arrays(list(fields.values()), fields=list(MESSAGE), mask=flat.is_null())
    return pa.ListArray.from_arrays(offsets, rebuilt, mask=messages.is_null())


def map_texts(table: pa.Table, fn: Callable[[pa.Array], pa.Array]) -> pa.Table:
    """Apply ``fn`` to every text field of a canonical table (messages of every column, or ``text``)."""
    kind = kind_of(table.schema)
    if kind == "text":
        return table.set_column(table.schema.get_field_index("text"), "text", fn(table["text"].combine_chunks()))
    for column in MESSAGE_COLUMNS[kind]:
        idx = table.schema.get_field_index(column)
        table = table.set_column(idx, column, map_message_texts(table[column].combine_chunks(), fn))
    return table


def file_key(file_rel: str) -> str:
    """A short stable key of an input file's relative path: the prefix of its derived row ids."""
    import hashlib

    return hashlib.sha256(file_rel.encode("utf-8")).hexdigest()[:8]
