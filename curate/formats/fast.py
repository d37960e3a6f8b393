"""Vectorised normalisation of the common shapes (no Python per row).

Each fast path takes a batch and returns ``(handled, table)``: a boolean mask of the rows it normalised and
their canonical columns (``id`` = own id or null, message columns, ``tools``, ``extra``). Rows it does not
take (tool calls, content parts, nulls that may be absent keys, unknown nested fields...) go to the
per-row readers, which produce the same canonical values (tests compare both paths).

Alpaca: instruction/input/output strings without history. ShareGPT: turns ``{from, value}`` with string
values and non-call tags. OpenAI: turns ``{role, content}`` with string content, no tools. Text: ``text``.
Unknown top-level columns of scalar types are kept in ``extra``.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.formats import sharegpt as sg
from curate.formats.common import HINT_KEY, ROLES
from curate.records import MESSAGE, MESSAGES, TOOL_CALL

_SCALAR = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_floating,
           pa.types.is_boolean)


def const(value: str, n: int) -> pa.Array:
    """A string array of ``n`` copies of ``value``, built without a Python list."""
    return pc.fill_null(pa.nulls(n, pa.string()), value)


def _col(table: pa.Table, name: str) -> pa.Array:
    return table[name].combine_chunks()


def _is_str(table: pa.Table, name: str) -> bool:
    kind = table.schema.field(name).type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _optional_ok(table: pa.Table, name: str) -> bool:
    """An optional string column: absent, all-null, or string (rows keep their values)."""
    if name not in table.column_names:
        return True
    kind = table.schema.field(name).type
    return pa.types.is_null(kind) or _is_str(table, name)


def _unknown(table: pa.Table, known: set[str]) -> list[str] | None:
    """Unknown top-level columns, or None when one of them is not a scalar (then no fast path)."""
    names = [n for n in table.column_names if n not in known]
    if HINT_KEY in names or any(not any(t(table.schema.field(n).type) for t in _SCALAR) for n in names):
        return None
    return names


def _not_null(table: pa.Table, names: list[str], ok: np.ndarray) -> np.ndarray:
    for name in names:
        ok &= _col(table, name).is_valid().to_numpy(zero_copy_only=False)
    return ok


def _extra(table: pa.Table, unknown: list[str], hints: pa.Array | None) -> pa.Array:
    """``extra`` JSON per row from the unknown scalar columns and a (nullable) record-hint JSON column."""
    n = table.num_rows
    if unknown:
        frame = pl.from_arrow(table.select(unknown))
        assert isinstance(frame, pl.DataFrame)
        fields = frame.select(pl.struct(unknown).struct.json_encode()).to_series().to_arrow().cast(pa.string())
    else:
        fields = pa.nulls(n, pa.string())
    if hints is None:
        return fields
    inner = pc.utf8_slice_codeunits(fields, 1)  # '{"a":1}' -> '"a":1}'
    both = pc.binary_join_element_wise(pc.utf8_slice_codeunits(hints, 0, -1), inner, ",")
    return pc.coalesce(pc.if_else(pc.and_(pc.is_valid(hints), pc.is_valid(fields)), both, pa.nulls(n, pa.string())),
                       hints, fields)


def _hint_json(namespace: str, hint: dict) -> str:
    return json.dumps({HINT_KEY: {namespace: hint}}, ensure_ascii=False)


def _struct(role: pa.Array, content: pa.Array, extra: pa.Array | None = None) -> pa.StructArray:
    n = len(role)
    s = pa.nulls(n, pa.string())
    return pa.StructArray.from_arrays(
        [role, content, s, pa.nulls(n, pa.list_(TOOL_CALL)), s, s, extra if extra is not None else s],
        fields=list(MESSAGE))


def _interleave(parts: list[tuple[str, pa.Array, np.ndarray]]) -> pa.ListArray:
    """Row r gets, in order, a message (role, content[r]) for each part whose mask is true at r."""
    n = len(parts[0][1])
    present = np.stack([m for _, _, m in parts], axis=1)  # (rows, parts)
    rows, which = np.nonzero(present)
    content = pa.concat_arrays([c for _, c, _ in parts]).take(pa.array(which * n + rows, pa.int64()))
    roles = pa.array([r for r, _, _ in parts], pa.string()).take(pa.array(which, pa.int64()))
    offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), _struct(roles, content), type=MESSAGES)


def _prepend(first: pa.StructArray, has_first: np.ndarray, lists: pa.ListArray, flat: pa.StructArray) -> pa.ListArray:
    """Each row's list with ``first[r]`` put in front where ``has_first[r]``."""
    n = len(lists)
    offs = lists.offsets.to_numpy() - lists.offsets[0].as_py()
    lengths = np.diff(offs) + has_first
    new_offs = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = np.repeat(np.arange(n), lengths)
    j = np.arange(new_offs[-1]) - new_offs[rows]
    lead = has_first[rows].astype(np.int64)
    idx = np.where((lead == 1) & (j == 0), len(flat) + rows, offs[rows] + j - lead)
    values = pa.concat_arrays([flat, first]).take(pa.array(idx, pa.int64()))
    return pa.ListArray.from_arrays(pa.array(new_offs.astype(np.int32)), values, type=MESSAGES)


def _bad_rows(lists: pa.ListArray, bad_flat: np.ndarray) -> np.ndarray:
    ok = lists.is_valid().to_numpy(zero_copy_only=False).copy()
    if bad_flat.any():
        parents = pc.list_parent_indices(lists).to_numpy()
        ok[np.unique(parents[bad_flat])] = False
    return ok


def _own_id(table: pa.Table, ok: np.ndarray) -> pa.Array | None | bool:
    if "id" not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    if not _is_str(table, "id"):
        return False
    ok &= _col(table, "id").is_valid().to_numpy(zero_copy_only=False)
    return _col(table, "id")


def _finish(table: pa.Table, ok: np.ndarray, columns: dict) -> tuple[np.ndarray, pa.Table]:
    sel = pa.array(np.flatnonzero(ok), pa.int64())
    return ok, pa.table({k: v.take(sel) for k, v in columns.items()})


def _struct_fields(table: pa.Table, name: str) -> dict[str, pa.DataType] | None:
    kind = table.schema.field(name).type
    if not pa.types.is_list(kind) or not pa.types.is_struct(kind.value_type):
        return None
    return {f.name: f.type for f in kind.value_type}


def _all_str(fields: dict | None, names: set[str]) -> bool:
    return fields is not None and set(fields) == names and all(pa.types.is_string(t) for t in fields.values())


def _setup(table: pa.Table, known: set[str], optional: tuple[str, ...]):
    """(ok mask, own ids, unknown columns) or None when the batch has no fast path."""
    ok = np.ones(table.num_rows, dtype=bool)
    if not all(_optional_ok(table, name) for name in optional):
        return None
    unknown = _unknown(table, known | set(optional) | {"id"})
    own = _own_id(table, ok)
    if unknown is None or own is False:
        return None
    return _not_null(table, unknown, ok), own, unknown


def _strings(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names or pa.types.is_null(table.schema.field(name).type):
        return pa.nulls(table.num_rows, pa.string())
    return _col(table, name).cast(pa.string())


def alpaca(table: pa.Table, kind: str):
    needed = ("instruction", "output")
    if kind != "conversation" or not all(n in table.column_names and _is_str(table, n) for n in needed):
        return None
    setup = _setup(table, {"instruction", "output", "history"}, ("input", "system", "tools"))
    if setup is None:
        return None
    ok, own, unknown = setup
    ok = _not_null(table, ["instruction", "output"], ok)
    if "history" in table.column_names:
        ok &= _col(table, "history").is_null().to_numpy(zero_copy_only=False)
    n = table.num_rows
    instr = _col(table, "instruction").cast(pa.string())
    query, system = _strings(table, "input"), _strings(table, "system")
    q_len = pc.utf8_length(query)
    has_q = pc.fill_null(pc.greater(q_len, 0), False)
    joined = pc.binary_join_element_wise(instr, query, "\n")
    content = pc.if_else(has_q, pc.if_else(pc.greater(pc.utf8_length(instr), 0), joined, query), instr)
    chars = pc.binary_join_element_wise('{"_curate":{"alpaca":{"input_chars":', pc.cast(q_len, pa.string()), "}}}", "")
    hints = pc.if_else(has_q, chars, pc.if_else(pc.is_null(query), _hint_json("alpaca", {"no_input": True}),
                                                  pa.nulls(n, pa.string())))
    has_sys = system.is_valid().to_numpy(zero_copy_only=False)
    everyone = np.ones(n, bool)
    messages = _interleave([("system", system, has_sys), ("user", content, everyone),
                            ("assistant", _col(table, "output").cast(pa.string()), everyone)])
    return _finish(table, ok, {"id": own, "messages": messages, "tools": _strings(table, "tools"),
                               "extra": _extra(table, unknown, hints)})


_TAGS = ["human", "gpt", "system", "observation", "user", "assistant", "tool"]
_TAG_EXTRA = [None if sg.DEFAULT_TAG[sg.TAGS[t]] == t else _hint_json("sharegpt", {"from": t}) for t in _TAGS]


def sharegpt(table: pa.Table, kind: str):
    key = "conversations" if "conversations" in table.column_names else "messages"
    if kind != "conversation" or not _all_str(_struct_fields(table, key), {"from", "value"}):
        return None
    setup = _setup(table, {key}, ("system", "tools"))
    if setup is None:
        return None
    ok, own, unknown = setup
    lists = _col(table, key)
    flat = lists.flatten()
    which = pc.index_in(flat.field("from"), value_set=pa.array(_TAGS))
    bad = pc.or_(pc.is_null(which), pc.is_null(flat.field("value"))).to_numpy(zero_copy_only=False)
    ok &= _bad_rows(lists, bad)
    which = pc.fill_null(which, 0)
    roles = pa.array([sg.TAGS[t] for t in _TAGS]).take(which)
    extras = pa.array(_TAG_EXTRA, pa.string()).take(which)
    flat_struct = _struct(roles, flat.field("value"), extras)
    system = _strings(table, "system")
    has_sys = system.is_valid().to_numpy(zero_copy_only=False)
    n = table.num_rows
    messages = _prepend(_struct(const("system", n), system), has_sys, lists, flat_struct)
    offs = lists.offsets.to_numpy() - lists.offsets[0].as_py()
    nonempty = np.diff(offs) > 0
    first = np.zeros(n, int)
    if len(flat):  # tag index of each row's first turn (rows without turns read a neighbour, masked below)
        first = which.to_numpy(zero_copy_only=False)[np.minimum(offs[:-1], len(flat) - 1)]
    sys_turn = ~has_sys & nonempty & (first == _TAGS.index("system"))
    hint = {"key": "messages"} if key == "messages" else {}
    otherwise = const(_hint_json("sharegpt", hint), n) if hint else pa.nulls(n, pa.string())
    hints = pc.if_else(pa.array(sys_turn), _hint_json("sharegpt", {**hint, "system": "turn"}), otherwise)
    return _finish(table, ok, {"id": own, "messages": messages, "tools": _strings(table, "tools"),
                               "extra": _extra(table, unknown, hints)})


def openai(table: pa.Table, kind: str):
    if kind != "conversation" or not _all_str(_struct_fields(table, "messages"), {"role", "content"}):
        return None
    setup = _setup(table, {"messages", "tools"}, ())
    if setup is None:
        return None
    ok, own, unknown = setup
    if "tools" in table.column_names:
        ok &= _col(table, "tools").is_null().to_numpy(zero_copy_only=False)
    lists = _col(table, "messages")
    flat = lists.flatten()
    bad = pc.or_(pc.invert(pc.fill_null(pc.is_in(flat.field("role"), value_set=pa.array(ROLES)), False)),
                 pc.is_null(flat.field("content"))).to_numpy(zero_copy_only=False)
    ok &= _bad_rows(lists, bad)
    offsets = pc.subtract(lists.offsets, lists.offsets[0])
    messages = pa.ListArray.from_arrays(offsets, _struct(flat.field("role"), flat.field("content")), type=MESSAGES)
    return _finish(table, ok, {"id": own, "messages": messages, "tools": pa.nulls(table.num_rows, pa.string()),
                               "extra": _extra(table, unknown, None)})


def text(table: pa.Table, kind: str):
    key = "text" if "text" in table.column_names else "content"
    if key not in table.column_names or not _is_str(table, key):
        return None
    setup = _setup(table, {key}, ())
    if setup is None:
        return None
    ok, own, unknown = setup
    ok = _not_null(table, [key], ok)
    hints = const(_hint_json("text", {"key": "content"}), table.num_rows) if key == "content" else None
    return _finish(table, ok, {"id": own, "text": _col(table, key).cast(pa.string()),
                               "extra": _extra(table, unknown, hints)})


FAST = {"alpaca": alpaca, "sharegpt": sharegpt, "openai": openai, "text": text}
