"""Build small OUT folders (data/ + rejects/ Parquet shards + manifest.json) the way `curate clean` writes them.

Shared by tests/sql and tests/report (loaded by path from their conftest files).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.records import MESSAGE, REJECT_SCHEMA, SCHEMAS


def msg(role: str, content: str | None, **fields) -> dict:
    """A MESSAGE dict with every field present."""
    full = {name: None for name in MESSAGE.names}
    full.update(role=role, content=content, **fields)
    return full


def conv(row_id: str, *turns, file: str = "raw/a.jsonl", index: int = 0) -> dict:
    """A conversation row: ``turns`` are (role, content) pairs or full message dicts."""
    messages = [t if isinstance(t, dict) else msg(*t) for t in turns]
    return {"id": row_id, "messages": messages, "tools": None, "extra": "{}",
            "source": {"file": file, "index": index, "format": "sharegpt"}}


def reject(row_id: str, stage: str, reason: str, duplicate_of: str | None = None, index: int = 0) -> dict:
    return {"id": row_id, "raw": json.dumps({"id": row_id}), "source_file": "raw/a.jsonl", "source_index": index,
            "stage": stage, "reason": reason, "duplicate_of": duplicate_of}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_dataset(
    out: Path,
    data: list[dict],
    rejects: list[dict],
    *,
    kind: str = "conversation",
    annotations: dict[str, tuple[pa.DataType, list]] | None = None,
    data_shards: int = 1,
    by_stage: dict | None = None,
    templates: dict | None = None,
    config: dict | None = None,
    read: int | None = None,
) -> Path:
    """Write ``out`` with ``data`` split over ``data_shards`` shards, one rejects shard (none when empty),
    and a manifest whose counts and hashes match what was written (``read`` overrides the read count)."""
    schema = SCHEMAS[kind]
    table = pa.Table.from_pylist(data, schema=schema)
    for name, (dtype, values) in (annotations or {}).items():
        table = table.append_column(pa.field(name, dtype), pa.array(values, type=dtype))
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "rejects").mkdir(parents=True, exist_ok=True)
    shards: dict[str, list] = {"data": [], "rejects": []}
    step = -(-len(table) // data_shards) if len(table) else 0
    for i in range(data_shards):
        part = table.slice(i * step, step) if step else table
        rel = f"data/part-{i:05d}.parquet"
        pq.write_table(part, out / rel)
        shards["data"].append({"path": rel, "rows": len(part), "bytes": (out / rel).stat().st_size, "sha256": _sha(out / rel)})
    if rejects:
        rel = "rejects/part-00000.parquet"
        pq.write_table(pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA), out / rel)
        shards["rejects"].append({"path": rel, "rows": len(rejects), "bytes": (out / rel).stat().st_size, "sha256": _sha(out / rel)})
    reasons: dict[str, int] = {}
    for r in rejects:
        key = f"{r['stage']}/{r['reason'].split(': ')[0] if not r['reason'].startswith('pii') else r['reason']}"
        reasons[key] = reasons.get(key, 0) + 1
    manifest = {
        "schema_version": 1, "kind": kind, "format": "openai",
        "created_by": {"curate": "0.1.0"},
        "config": config or {},
        "inputs": [{"file": "raw/a.jsonl", "format": "sharegpt", "kind": kind, "rows": len(data) + len(rejects)}],
        "skipped": [],
        "counts": {"read": len(data) + len(rejects) if read is None else read, "kept": len(data),
                   "rejected": len(rejects), "by_stage": by_stage or {}, "rejects_by_reason": reasons},
        "shards": shards,
        "stages": {},
        "templates": templates,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


def rewrite_manifest(out: Path, **changes) -> None:
    """Patch top-level manifest keys (to build inconsistent datasets)."""
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))
