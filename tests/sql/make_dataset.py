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


# The standard fixture: 5 kept rows over 2 shards (tool call, system turn, PII, two exchanges), 3 rejects.
TOOL_CALL = {"id": "call_1", "type": "function", "name": "weather", "arguments": '{"city": "Paris"}'}
ROWS = [
    conv("a:0", ("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!")),
    conv("a:1", ("user", "Weather in Paris?"), msg("assistant", None, tool_calls=[TOOL_CALL]),
         msg("tool", "sunny", tool_call_id="call_1"), ("assistant", "It is sunny."), index=1),
    conv("a:2", ("user", "Mail bob@example.com or call +1 415 555 0199"), ("assistant", "Done."), index=2),
    conv("b:0", ("user", "1+1?"), ("assistant", "2"), ("user", "2+2?"), ("assistant", "4"), file="raw/b.json"),
    conv("b:1", ("user", "Translate 'cat'"), ("assistant", "chat"), file="raw/b.json", index=1),
]
REJECTS = [
    reject("a:3", "validate", "empty turn", index=3),
    reject("a:4", "dedup", "duplicate", duplicate_of="a:0", index=4),
    reject("b:2", "pii", "pii: EMAIL", index=2),
]
BY_STAGE = {
    "validate": {"rows_in": 8, "rows_out": 7, "dropped": {"empty turn": 1}, "seconds": 0.5},
    "dedup": {"rows_in": 7, "rows_out": 6, "dropped": {"duplicate": 1}, "seconds": 0.25},
    "pii": {"rows_in": 6, "rows_out": 5, "dropped": {"pii: EMAIL": 1}, "seconds": 1.0},
}
ANNOTATIONS = {
    "lang": (pa.string(), ["en", "en", "de", "zh", "en"]),
    "quality_score": (pa.float64(), [0.9, 0.75, 0.5, 0.25, 0.05]),
    "pii_types": (pa.list_(pa.string()), [[], [], ["EMAIL", "PHONE"], None, ["EMAIL"]]),
}


def write_standard(out: Path, **overrides) -> Path:
    options = dict(annotations=ANNOTATIONS, data_shards=2, by_stage=BY_STAGE)
    options.update(overrides)
    return write_dataset(out, ROWS, REJECTS, **options)


def write_large(out: Path, rows: int, *, seed: int = 0, max_words: int = 120) -> Path:
    """A ``rows``-row dataset built with vectorised Arrow (for size checks): 2-6 turns per row, contents of
    varied length, lang/quality/pii annotations, 5% of rows as duplicate rejects."""
    import numpy as np

    rng = np.random.default_rng(seed)
    turns = rng.integers(1, 4, rows) * 2
    offsets = np.concatenate([[0], np.cumsum(turns)]).astype(np.int32)
    total = int(offsets[-1])
    words = np.array(["alpha", "beta", "gamma", "delta", "data", "model", "train", "token", "value", "shard"])
    lengths = rng.integers(1, max_words, total)
    pool = pa.array([" ".join(words[np.arange(n) % 10]) for n in range(max_words)])
    content = pool.take(pa.array(lengths))
    roles = np.where(np.arange(total) - np.repeat(offsets[:-1], turns) & 1, "assistant", "user")
    nulls = pa.nulls(total, pa.string())
    fields = {name: nulls for name in MESSAGE.names}
    fields.update(role=pa.array(roles), content=content, tool_calls=pa.nulls(total, MESSAGE.field("tool_calls").type))
    arrays = [pa.concat_arrays(a.chunks) if isinstance(a, pa.ChunkedArray) else a for a in fields.values()]
    messages = pa.ListArray.from_arrays(pa.array(offsets), pa.StructArray.from_arrays(arrays, fields=list(MESSAGE)))
    ids = pa.array([f"big:{i}" for i in range(rows)])
    source = pa.StructArray.from_arrays([pa.array(["raw/big.jsonl"] * rows), pa.array(np.arange(rows)), pa.array(["openai"] * rows)],
                                        fields=list(SCHEMAS["conversation"].field("source").type))
    table = pa.table({"id": ids, "messages": messages, "tools": pa.nulls(rows, pa.string()), "extra": pa.array(["{}"] * rows),
                      "source": source})
    table = table.append_column("lang", pa.array(rng.choice(["en", "de", "fr", "zh", "es"], rows)))
    table = table.append_column("quality_score", pa.array(rng.random(rows)))
    table = table.append_column("pii_types", pa.ListArray.from_arrays(
        pa.array(np.cumsum(np.concatenate([[0], np.arange(rows) % 50 == 0])).astype(np.int32)), pa.array(["EMAIL"] * -(-rows // 50))))
    dups = rows // 20
    rejects = [reject(f"dup:{i}", "dedup", "duplicate", duplicate_of=f"big:{i % (rows // 3)}", index=i) for i in range(dups)]
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "rejects").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / "data" / "part-00000.parquet")
    pq.write_table(pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA), out / "rejects" / "part-00000.parquet")
    shards = {part: [{"path": f"{part}/part-00000.parquet", "rows": n, "bytes": (out / part / "part-00000.parquet").stat().st_size,
                      "sha256": _sha(out / part / "part-00000.parquet")}] for part, n in (("data", rows), ("rejects", dups))}
    manifest = {"schema_version": 1, "kind": "conversation", "format": "openai", "created_by": {"curate": "0.1.0"},
                "config": {}, "inputs": [], "skipped": [],
                "counts": {"read": rows + dups, "kept": rows, "rejected": dups,
                           "by_stage": {"dedup": {"rows_in": rows + dups, "rows_out": rows, "dropped": {"duplicate": dups}}},
                           "rejects_by_reason": {"dedup/duplicate": dups}},
                "shards": shards, "stages": {}, "templates": None}
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out
