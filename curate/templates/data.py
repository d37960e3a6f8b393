"""DATA for the template commands: a curated OUT folder, or any input curate reads, as one Arrow table.

An OUT folder (it has ``manifest.json``) is read from ``OUT/data/*.parquet`` (openai messages, or the
trl preference columns, or text). Anything else goes through the readers + formats API
(`curate.io.readers`, `curate.formats`) into the canonical kinds; records those cannot parse are left
out (``curate clean`` rejects them). This module is only the adapter.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import InputError
from curate.records import kind_of


def load_rows(path: str | Path) -> pa.Table:
    """The rows to check, with ``id`` and the message columns of their kind."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"input not found: {root}", hint="give a folder written by `curate clean` or a data file")
    if root.is_dir() and (root / "manifest.json").is_file():
        return _load_out(root)
    return _load_with_readers(root)


def _load_out(root: Path) -> pa.Table:
    shards = sorted((root / "data").glob("*.parquet"))
    if shards:
        tables = [pq.read_table(shard) for shard in shards]
        table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
        if _canonical_columns(table.schema):
            return table
    # written with --to jsonl or another --format (sharegpt, alpaca, ...): read it back like any input
    return _load_with_readers(root / "data")


def _canonical_columns(schema: pa.Schema) -> bool:
    names = set(schema.names)
    if "messages" in names:
        kind = schema.field("messages").type
        return pa.types.is_list(kind) and pa.types.is_struct(kind.value_type) and kind.value_type.get_field_index("role") >= 0
    if {"prompt", "chosen", "rejected"} <= names:
        return all(pa.types.is_list(schema.field(c).type) for c in ("prompt", "chosen", "rejected"))
    return "text" in names


def _load_with_readers(root: Path) -> pa.Table:
    from curate.formats import detect, normalise
    from curate.io.discover import discover
    from curate.io.readers import read_file

    files, _skipped = discover([root])
    tables = []
    for entry in files:
        detection = None
        for batch in read_file(entry):
            if batch.table.num_rows == 0:
                continue
            detection = detection or detect(batch.table, entry.rel)
            canonical, _rejects = normalise(batch.table, detection, file_rel=entry.rel, raw=batch.raw, index=batch.index)
            tables.append(canonical.drop_columns([c for c in ("raw",) if c in canonical.column_names]))
    if not tables:
        raise InputError(f"{root}: no records found", hint="give JSON/JSONL/CSV/Parquet files")
    kinds = {kind_of(t.schema) for t in tables}
    if len(kinds) > 1:
        raise InputError(f"{root}: mixes kinds {sorted(kinds)}", hint="check one kind at a time")
    return pa.concat_tables(tables, promote_options="permissive")
