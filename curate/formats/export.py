"""Canonical rows -> a target format: an Arrow table (``export``) or JSON records (``to_records``).

The target's writer consumes its own hints and carries every other namespace (see common.py); a record
the target cannot express is refused with a reason ("cannot express: ..."), never changed.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from curate.formats import alpaca, openai, sharegpt, text, trl
from curate.formats.common import HINT_KEY, RowError, Unexpressible, drop_stale_texts, dumps
from curate.formats.normalise import file_key
from curate.records import MESSAGE_COLUMNS, RAW, SCHEMAS, kind_of

WRITERS = {"alpaca": alpaca, "sharegpt": sharegpt, "openai": openai, "trl": trl, "text": text}
EXPORT_REJECT_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("reason", pa.string())])
# column order of each target (a row may use a subset; sharegpt/trl key variants are separate columns)
COLUMN_ORDER = {
    "openai": ("messages", "prompt", "chosen", "rejected", "tools"),
    "sharegpt": ("conversations", "messages", "chosen", "rejected", "system", "tools"),
    "alpaca": ("instruction", "input", "output", "chosen", "rejected", "system", "history", "tools"),
    "trl": ("prompt", "completion", "chosen", "rejected", "chosen_messages", "rejected_messages", "tools"),
    "text": ("text", "content"),
}


def _decode(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or {})


def _row(record: dict, kind: str) -> dict:
    """A canonical row from ``to_pylist`` with extras decoded to dicts (what the writers take)."""
    row = dict(record)
    row["extra"] = _decode(row.get("extra"))
    for name in MESSAGE_COLUMNS[kind]:
        row[name] = [drop_stale_texts({**m, "extra": _decode(m["extra"]) or None}) for m in row[name] or []]
    return row


def _without_hints(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_hints(v) for k, v in value.items() if k != HINT_KEY}
    if isinstance(value, list):
        return [_without_hints(v) for v in value]
    return value


Built = list[tuple[int, dict, dict]]
Refusals = list[tuple[int, str, str]]


def build_rows(table: pa.Table, fmt: str, *, hints: bool = True) -> tuple[Built, Refusals]:
    """([(row position, format fields, remaining extra)], [(row position, id, reason)]).

    ``hints=False`` ignores and drops the carried ``_curate`` hints, so every row takes the target's
    default spelling (uniform training output); the default keeps them so that a later conversion can
    restore the source spelling."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}")
    kind = kind_of(table.schema)
    names = [n for n in SCHEMAS[kind].names if n in table.column_names]
    built, refused = [], []
    for pos, record in enumerate(table.select(names).to_pylist()):
        try:
            if (kind == "text") != (fmt == "text"):
                raise Unexpressible(f"{kind} records in {fmt}")
            row = _row(record, kind)
            if not hints:
                row = _without_hints(row)
            fields, extra = WRITERS[fmt].build(row, kind)
            built.append((pos, fields, extra))
        except RowError as error:
            refused.append((pos, record["id"], error.reason))
    return built, refused


def _refused_table(refused: list[tuple[int, str, str]]) -> pa.Table:
    return pa.table({"id": [r[1] for r in refused], "reason": [r[2] for r in refused]}, schema=EXPORT_REJECT_SCHEMA)


def export(table: pa.Table, fmt: str, *, hints: bool = True) -> tuple[pa.Table, pa.Table]:
    """Canonical table (+ annotation columns, carried unchanged) -> (target table, refused (id, reason)).

    Columns: ``id``, the target's columns (nested values as Arrow infers them; ``tools`` and any column
    whose rows disagree on a type as JSON text), ``extra`` (JSON text of the remaining unknown fields and hints),
    ``source`` and every other column of the input except ``raw``."""
    if fmt == "openai":
        from curate.formats.fast_export import openai_columns

        vectorised = openai_columns(table)
        if vectorised is not None:
            extra = table["extra"] if hints else _strip_extra_hints(table["extra"].combine_chunks())
            return _assemble({"id": table["id"], **vectorised}, table, extra)
    built, refused = build_rows(table, fmt, hints=hints)
    keep = pa.array([b[0] for b in built], pa.int64())
    used = [c for c in COLUMN_ORDER[fmt] if any(c in b[1] for b in built)]
    rest = table.take(keep)
    columns: dict[str, pa.Array] = {"id": rest["id"]}
    for name in used:
        values = [b[1].get(name) for b in built]
        if name == "tools":  # free-form JSON schemas: one Arrow type cannot hold them
            values = [v if v is None or isinstance(v, str) else dumps(v) for v in values]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else dumps(v) for v in values], pa.string())
    extra = pa.array([dumps(b[2]) if b[2] else None for b in built], pa.string())
    table, _ = _assemble(columns, rest, extra)
    return table, _refused_table(refused)


def _strip_extra_hints(extra: pa.Array) -> pa.Array:
    """``extra`` without ``_curate`` (parsed only for the rows that mention it)."""
    values = extra.to_pylist()
    for i, value in enumerate(values):
        if value and HINT_KEY in value:
            rest = _without_hints(json.loads(value))
            values[i] = dumps(rest) if rest else None
    return pa.array(values, pa.string())


def _assemble(columns: dict, rest: pa.Table, extra) -> tuple[pa.Table, pa.Table]:
    """Target columns + ``extra`` + ``source`` and annotation columns of ``rest`` (not ``raw``)."""
    columns["extra"] = extra
    skip = (set(SCHEMAS[kind_of(rest.schema)].names) - {"source"}) | {RAW}
    for name in rest.column_names:
        if name not in skip and name not in columns:
            columns[name] = rest[name]
    return pa.table(columns), _refused_table([])


def is_derived(own: str, source: dict | None) -> bool:
    return bool(source) and own == f"{file_key(source['file'])}:{source['index']}"


def to_records(table: pa.Table, fmt: str) -> tuple[list[dict], pa.Table]:
    """Canonical table -> (JSON-ready records of the target format, refused (id, reason)).

    A record is the format's fields, the row's own ``id`` (derived ids are not written) and its unknown
    fields merged back at the top level, so a converted file has exactly the keys its source had."""
    records, refused = records_and_refusals(table, fmt)
    return records, _refused_table(refused)


def records_and_refusals(table: pa.Table, fmt: str) -> tuple[list[dict], list[tuple[int, str, str]]]:
    """Like `to_records`, with refusals as (row position, id, reason)."""
    built, refused = build_rows(table, fmt)
    ids = table["id"].to_pylist()
    sources = table["source"].to_pylist() if "source" in table.column_names else [None] * len(ids)
    records = []
    for pos, fields, extra in built:
        record: dict = {}
        if not is_derived(ids[pos], sources[pos]):
            record["id"] = ids[pos]
        record.update(fields)
        record.update(extra)
        records.append(record)
    return records, refused
