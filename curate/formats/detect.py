"""Which format a file is in, from its first batch's columns and types (plus a few values when a column
holds JSON text, as CSV cells do).

Order of the checks (first match wins): ``conversations`` -> sharegpt; ``messages`` whose turns have
``from`` -> sharegpt, ``role`` -> openai; ``chosen_messages``/``rejected_messages`` -> trl preference;
``instruction`` -> alpaca (with ``chosen``/``rejected``: preference, else needs ``output``);
``prompt`` + ``chosen``/``rejected`` (or chosen/rejected message lists alone) -> trl preference;
``prompt`` + ``completion`` -> trl conversation; ``text`` or ``content`` -> text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa

from curate.errors import SchemaError
from curate.records import Kind

FORMATS = ("openai", "sharegpt", "alpaca", "trl", "text")
_EXPECTED = (
    "alpaca: instruction, input, output (or chosen/rejected); sharegpt: conversations [{from, value}]; "
    "openai: messages [{role, content}]; trl: prompt + chosen/rejected or prompt + completion; text: text"
)


@dataclass(frozen=True)
class Detection:
    format: str
    kind: Kind
    note: str  # how it was recognised (shown by `curate inspect`)


def detect(table: pa.Table, file_rel: str) -> Detection:
    """The format and kind of a file, from its first batch. Raises SchemaError for an unknown shape."""
    cols = set(table.column_names)
    pair = {"chosen", "rejected"} <= cols
    if "conversations" in cols:
        kind: Kind = "preference" if pair else "conversation"
        return Detection("sharegpt", kind, "column 'conversations'" + (" with 'chosen'/'rejected'" if pair else ""))
    if "messages" in cols:
        keys = _turn_keys(table, "messages")
        if "from" in keys:
            kind = "preference" if pair else "conversation"
            return Detection("sharegpt", kind, "column 'messages' with turns {from, value}")
        if "role" in keys or not keys:
            return Detection("openai", "conversation", "column 'messages' with turns {role, content}")
    if {"chosen_messages", "rejected_messages"} <= cols:
        return Detection("trl", "preference", "columns 'chosen_messages'/'rejected_messages' (implicit prompt)")
    if "instruction" in cols and (pair or "output" in cols):
        if pair:
            return Detection("alpaca", "preference", "columns 'instruction', 'chosen', 'rejected'")
        return Detection("alpaca", "conversation", "columns 'instruction', 'output'")
    if pair and ("prompt" in cols or _turn_keys(table, "chosen")):
        shape = "implicit prompt" if "prompt" not in cols else "prompt/chosen/rejected"
        return Detection("trl", "preference", f"columns {shape}")
    if {"prompt", "completion"} <= cols:
        return Detection("trl", "conversation", "columns 'prompt', 'completion'")
    for name in ("text", "content"):
        if name in cols and _is_string(table.schema.field(name).type):
            return Detection("text", "text", f"column {name!r}")
    raise SchemaError(
        f"{file_rel}: unknown record shape with columns {sorted(cols)}",
        hint=f"expected one of: {_EXPECTED}",
    )


def _is_string(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _turn_keys(table: pa.Table, column: str) -> set[str]:
    """Keys of the turns in a list-of-objects column (from the type, or from sample values if text)."""
    kind = table.schema.field(column).type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        value = kind.value_type
        return {f.name for f in value} if pa.types.is_struct(value) else set()
    if _is_string(kind):
        for text in table[column].drop_null().slice(0, 20).to_pylist():
            try:
                turns = json.loads(text)
            except ValueError:
                continue
            if isinstance(turns, list) and turns and isinstance(turns[0], dict):
                return set(turns[0])
    return set()
