"""DATA for the template commands: a curated OUT folder, or any input curate reads, as one Arrow table.

An OUT folder (it has ``manifest.json``) is read from ``OUT/data/*.parquet`` (openai messages, or the
trl preference columns, or text). Anything else goes through the readers + formats API
(`curate.io.readers`, `curate.formats`) into the canonical kinds; this module is the thin adapter, with
a small fallback for JSON/JSONL/Parquet files of messages, preference pairs or text while those are
not installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import InputError


def load_rows(path: str | Path) -> pa.Table:
    """The rows to check, with ``id`` and the message columns of their kind."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"input not found: {root}", hint="give a folder written by `curate clean` or a data file")
    if root.is_dir() and (root / "manifest.json").is_file():
        return _load_out(root)
    try:
        return _load_with_readers(root)
    except ImportError:
        return _load_fallback(root)


def _load_out(root: Path) -> pa.Table:
    shards = sorted((root / "data").glob("*.parquet"))
    if not shards:
        raise InputError(f"{root}: no data/*.parquet shards", hint="re-run `curate clean` with --to parquet")
    tables = [pq.read_table(shard) for shard in shards]
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    names = set(table.column_names)
    if not ({"messages"} <= names or {"chosen", "rejected"} <= names or "text" in names):
        raise InputError(
            f"{root}: data has no messages, chosen/rejected or text column (columns: {sorted(names)})",
            hint="check it as written with --format openai (or trl for preference data)",
        )
    return table


def _load_with_readers(root: Path) -> pa.Table:
    from curate.formats import detect, normalise  # type: ignore[attr-defined]
    from curate.io.readers import discover, read_file  # type: ignore[attr-defined]

    files = discover([root])
    files = files[0] if isinstance(files, tuple) else files
    tables = []
    for entry in files:
        for batch in _batches(read_file(entry)):
            fmt = detect(batch)
            tables.append(_table(normalise(batch, fmt)))
    if not tables:
        raise InputError(f"{root}: no data files", hint="give JSON/JSONL/CSV/Parquet files")
    return pa.concat_tables(tables, promote_options="permissive")


def _batches(result):  # type: ignore[no-untyped-def]
    """A reader may return a table, batches, or (batches, rejects); yield tables."""
    if isinstance(result, tuple):
        result = result[0]
    if isinstance(result, (pa.Table, pa.RecordBatch)):
        yield pa.Table.from_batches([result]) if isinstance(result, pa.RecordBatch) else result
        return
    for item in result:
        yield from _batches(item)


def _table(result):  # type: ignore[no-untyped-def]
    if isinstance(result, tuple):
        result = result[0]
    return pa.Table.from_batches([result]) if isinstance(result, pa.RecordBatch) else result


_SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "observation": "tool", "tool": "tool", "function_call": "assistant"}


def _load_fallback(root: Path) -> pa.Table:
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    records: list[dict] = []
    for file in files:
        records.extend(_records(file))
    if not records:
        raise InputError(f"{root}: no records found", hint="give JSON/JSONL/Parquet files of messages or text")
    return _canonical(records, root)


def _records(file: Path) -> list[dict]:
    suffix = file.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(file).to_pylist()
        if suffix in (".jsonl", ".ndjson"):
            return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        if suffix == ".json":
            data = json.loads(file.read_text(encoding="utf-8"))
            return data if isinstance(data, list) else []
    except ValueError as error:
        raise InputError(f"{file}: not valid JSON ({error})", hint="run `curate clean` first to reject bad records") from error
    return []


def _canonical(records: list[dict], root: Path) -> pa.Table:
    key = root.name
    ids = [str(r.get("id", f"{key}:{i}")) for i, r in enumerate(records)]
    first = records[0]
    if "chosen" in first and "rejected" in first:
        cols = {name: [_messages(r.get(name)) for r in records] for name in ("prompt", "chosen", "rejected")}
        return pa.table({"id": ids, **cols})
    if "text" in first and "messages" not in first and "conversations" not in first:
        return pa.table({"id": ids, "text": [r.get("text") for r in records]})
    messages = [_messages(r.get("messages", r.get("conversations"))) for r in records]
    tools = [r.get("tools") if isinstance(r.get("tools"), str) or r.get("tools") is None else json.dumps(r["tools"])
             for r in records]
    return pa.table({"id": ids, "messages": messages, "tools": tools})


def _messages(value) -> list[dict]:  # type: ignore[no-untyped-def]
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    out = []
    for m in value or []:
        if "from" in m and "role" not in m:  # ShareGPT: keep unknown roles as they are, the check reports them
            out.append({"role": _SHAREGPT_ROLES.get(m["from"], m["from"]), "content": m.get("value")})
        else:
            out.append({"role": m.get("role"), "content": m.get("content"), "reasoning": m.get("reasoning")})
    return out
