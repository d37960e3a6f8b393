"""Helpers for the reader tests: read a whole file and check the alignment invariants of each batch.

A module with a unique name (not conftest) so that `from reader_helpers import ...` cannot pick up
another folder's conftest when the whole suite runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa

from curate.io import REJECT_SCHEMA, discover, read_file


@dataclass
class Result:
    rows: list[dict]  # table rows, in file order
    raw: list[str]
    index: list[int]
    rejects: list[dict]
    batches: int
    loose: list[tuple[int, str]]  # (index, raw) of records in loose batches (types Arrow could not fit)


def collect(path: Path, *, batch_bytes: int = 32 << 20) -> Result:
    """Read one data file through discover + read_file, asserting every batch is well formed."""
    files, skipped = discover([path])
    assert skipped == [] and len(files) == 1
    rows, raw, index, rejects, loose, n = [], [], [], [], [], 0
    for batch in read_file(files[0], batch_bytes=batch_bytes):
        n += 1
        assert batch.file == files[0]
        assert batch.raw.type == pa.large_string() and batch.index.type == pa.int64()
        assert len(batch.raw) == len(batch.index) == batch.table.num_rows
        assert batch.rejects.schema == REJECT_SCHEMA
        batch.raw.validate(full=True)
        rejects += batch.rejects.to_pylist()
        if batch.loose:
            loose += zip(batch.index.to_pylist(), batch.raw.to_pylist())
            continue
        rows += batch.table.to_pylist()
        raw += batch.raw.to_pylist()
        index += batch.index.to_pylist()
    return Result(rows, raw, index, rejects, n, loose)


def assert_aligned(res: Result) -> None:
    """Each row's raw text parses to the row itself (true for the fixtures here: no type promotion)."""
    for row, text in zip(res.rows, res.raw):
        parsed = orjson.loads(text)
        assert {k: v for k, v in row.items() if v is not None} == \
            {k: v for k, v in parsed.items() if v is not None}


def assert_all_accounted(res: Result, n_records: int) -> None:
    """Every record appears exactly once: in the table or in rejects, never both, never twice."""
    seen = res.index + [i for i, _ in res.loose] + [r["source_index"] for r in res.rejects if r["source_index"] >= 0]
    assert sorted(seen) == list(range(n_records))
    assert res.index == sorted(res.index)
