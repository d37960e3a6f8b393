"""Normalise one batch of a detected file to its canonical kind (+ the ``raw`` column) and schema rejects.

Common shapes go through vectorised fast paths (`curate.formats.fast`); every other row (tool calls,
content parts, unknown nested fields, CSV cells holding JSON) is parsed from its ``raw`` JSON by the
format's reader, one row at a time, so nothing the Arrow types flattened (absent versus null keys) is lost.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.formats import alpaca, openai, sharegpt, text, trl
from curate.formats.common import RowError, dumps
from curate.formats.detect import Detection
from curate.records import MESSAGE_COLUMNS, MESSAGES, RAW, REJECT_SCHEMA, SCHEMAS, SOURCE, Kind, derived_ids, file_key

READERS = {"alpaca": alpaca, "sharegpt": sharegpt, "openai": openai, "trl": trl, "text": text}
# fields that CSV (and some Parquet) cells give as JSON text; for trl a cell that is not a JSON list stays a
# (standard) string
JSON_CELLS = {
    "sharegpt": ("conversations", "messages", "chosen", "rejected"),
    "alpaca": ("history",),
    "openai": ("messages",),
    "trl": ("prompt", "completion", "chosen", "rejected", "chosen_messages", "rejected_messages"),
    "text": (),
}
_OPTIONAL_CELLS = ("system", "tools", "history", "id")


def file_type(file_rel: str) -> str:
    name = file_rel.lower()
    for suffix in (".gz", ".gzip", ".zst", ".zstd"):
        name = name.removesuffix(suffix)
    return name.rsplit(".", 1)[-1] if "." in name else ""


def normalise(table: pa.Table, detection: Detection, *, file_rel: str, raw: pa.Array,
              index: pa.Array, exact: bool = False) -> tuple[pa.Table, pa.Table]:
    """(canonical table in SCHEMAS[kind] order plus ``raw``, rejects in REJECT_SCHEMA order).

    ``exact`` parses every row from ``raw`` (for a reader's loose batch, whose table lost the types)."""
    from curate.formats.fast import FAST  # imported here: fast imports the readers of this package

    raw = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
    index = (index.combine_chunks() if isinstance(index, pa.ChunkedArray) else index).cast(pa.int64())
    kind, ftype = detection.kind, file_type(file_rel)
    handled = np.zeros(len(table), dtype=bool)
    parts, positions = [], []
    fast = FAST.get(detection.format)
    if fast is not None and ftype != "csv" and not exact:
        found = fast(table, kind)
        if found is not None:
            handled, fast_table = found
            parts.append(fast_table)
            positions.append(np.flatnonzero(handled))
    slow = np.flatnonzero(~handled)
    ok_pos, rows, bad_pos, reasons = _parse_slow(raw, slow, detection, ftype)
    if rows:
        parts.append(rows_to_table(rows, kind))
        positions.append(ok_pos)
    canonical = _assemble(parts, positions, kind, file_rel, raw, index, detection.format)
    rejects = _rejects(raw, index, bad_pos, reasons, file_rel)
    return canonical, rejects


def _parse_slow(raw: pa.Array, slow: np.ndarray, detection: Detection, ftype: str):
    reader = READERS[detection.format]
    ok_pos, rows, bad_pos, reasons = [], [], [], []
    texts = raw.take(pa.array(slow, type=pa.int64())).to_pylist() if len(slow) else []
    for pos, text_ in zip(slow.tolist(), texts):
        try:
            rec = json.loads(text_)
            if not isinstance(rec, dict):
                raise RowError("wrong type", f"record is {type(rec).__name__}, expected object")
            if ftype == "parquet":  # Parquet cannot tell an absent key from a null
                rec = _strip_nulls(rec)
            if ftype == "csv":  # an empty optional cell means "not given", not an empty system prompt
                rec = {k: v for k, v in rec.items() if not (v == "" and k in _OPTIONAL_CELLS)}
            if ftype in ("csv", "parquet"):
                rec = _decode_cells(rec, detection.format)
            stored = ftype == "parquet"
            if _is_curate_output(rec):  # written from Arrow like Parquet: nulls are absent keys, tools text
                rec, stored = _unwrap_curate_output(_strip_nulls(rec)), True
            own_id, rec = _own_id(rec)
            row = reader.parse(rec, detection.kind, stored)
            row["id"] = own_id
            rows.append(row)
            ok_pos.append(pos)
        except RowError as error:
            bad_pos.append(pos)
            reasons.append(error.reason)
        except (ValueError, RecursionError) as error:
            bad_pos.append(pos)
            reasons.append(f"invalid JSON: {error}")
    return np.array(ok_pos, dtype=np.int64), rows, np.array(bad_pos, dtype=np.int64), reasons


def _is_curate_output(rec: dict) -> bool:
    """A record of curate's own output: ``source`` provenance and ``extra`` holding a JSON object text."""
    source, extra = rec.get("source"), rec.get("extra")
    if not (isinstance(source, dict) and set(source) == {"file", "index", "format"}):
        return False
    if extra is None:
        return True
    try:
        return isinstance(extra, str) and isinstance(json.loads(extra), dict)
    except ValueError:
        return False


def _unwrap_curate_output(rec: dict) -> dict:
    """Put the unknown fields and hints of curate's output back at the top level and drop the provenance,
    so re-reading it restores the source record."""
    fields = json.loads(rec["extra"]) if rec.get("extra") else {}
    rest = {k: v for k, v in rec.items() if k not in ("source", "extra")}
    return {**rest, **{k: v for k, v in fields.items() if k not in rest}}


def _own_id(rec: dict) -> tuple[str | None, dict]:
    """The record's own id as a string; a string id leaves the record, any other stays in ``extra``."""
    own = rec.get("id")
    if isinstance(own, str):
        return own, {k: v for k, v in rec.items() if k != "id"}
    if isinstance(own, (int, float)) and not isinstance(own, bool):
        return dumps(own), rec
    return None, rec


def _strip_nulls(value: Any) -> Any:
    """Drop null object members at any depth, except ``content`` (null there means a tool-call turn)."""
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None or k == "content"}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _decode_cells(rec: dict, fmt: str) -> dict:
    rec = dict(rec)
    for field in JSON_CELLS[fmt]:
        value = rec.get(field)
        if not isinstance(value, str):
            continue
        try:
            decoded = json.loads(value)
        except ValueError as error:
            if fmt == "trl":
                continue
            raise RowError(f"invalid JSON in field {field!r}", str(error)) from None
        if fmt != "trl" or isinstance(decoded, list):
            rec[field] = decoded
    return rec


def _json_or_none(value: Any) -> str | None:
    return dumps(value) if value else None


def _message_rows(messages: list[dict]) -> list[dict]:
    return [{**m, "extra": _json_or_none(m["extra"]) if not isinstance(m["extra"], str) else m["extra"]}
            for m in messages]


def rows_to_table(rows: list[dict], kind: Kind) -> pa.Table:
    """Canonical Python rows (extra as dicts) -> Arrow (columns of SCHEMAS[kind] minus source, plus id)."""
    columns: dict[str, pa.Array] = {"id": pa.array([r.get("id") for r in rows], pa.string())}
    for name in MESSAGE_COLUMNS[kind]:
        columns[name] = pa.array([_message_rows(r[name]) for r in rows], MESSAGES)
    if kind == "text":
        columns["text"] = pa.array([r["text"] for r in rows], pa.string())
    else:
        columns["tools"] = pa.array([r["tools"] for r in rows], pa.string())
    columns["extra"] = pa.array([_json_or_none(r["extra"]) for r in rows], pa.string())
    return pa.table(columns)


def const(value: str, n: int) -> pa.Array:
    return pc.fill_null(pa.nulls(n, pa.string()), value)


def _assemble(parts, positions, kind, file_rel, raw, index, fmt) -> pa.Table:
    schema = SCHEMAS[kind]
    if not parts:
        return schema.append(pa.field(RAW, pa.large_string())).empty_table()
    names = [n for n in schema.names if n != "source"]
    target = pa.schema([pa.field("id", pa.string()) if n == "id" else schema.field(n) for n in names])
    table = pa.concat_tables([p.select(names).cast(target) for p in parts])
    pos = np.concatenate(positions)
    order = np.argsort(pos, kind="stable")
    table = table.take(pa.array(order))
    pos = pa.array(pos[order], type=pa.int64())
    idx = index.take(pos)
    ids = pc.coalesce(table["id"], derived_ids(file_key(file_rel), idx))
    source = pa.StructArray.from_arrays(
        [const(file_rel, len(idx)), idx, const(fmt, len(idx))],
        fields=list(SOURCE))
    table = table.set_column(0, pa.field("id", pa.string(), nullable=False), ids)
    table = table.append_column(pa.field("source", SOURCE), source)
    table = table.append_column(pa.field(RAW, pa.large_string()), raw.take(pos).cast(pa.large_string()))
    return table.select(schema.names + [RAW]).cast(schema.append(pa.field(RAW, pa.large_string())))


def _rejects(raw, index, bad_pos, reasons, file_rel) -> pa.Table:
    pos = pa.array(bad_pos, type=pa.int64())
    idx = index.take(pos)
    return pa.table(
        {
            "id": derived_ids(file_key(file_rel), idx) if len(idx) else pa.array([], pa.string()),
            "raw": raw.take(pos).cast(pa.large_string()),
            "source_file": const(file_rel, len(idx)),
            "source_index": idx,
            "stage": const("schema", len(idx)),
            "reason": pa.array(reasons, pa.string()),
            "duplicate_of": pa.nulls(len(idx), pa.string()),
        },
        schema=REJECT_SCHEMA,
    )
