"""Shard writers: rows in, numbered shards out, written atomically (temp name, then rename).

A `ShardWriter` buffers tables and cuts a shard every ``shard_rows`` rows, so shard boundaries depend only
on the data and the options: the same input and config give byte-identical shards. Finished shards are
encoded on a background thread (Parquet encoding releases the GIL), overlapping the caller's next reads.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class ShardInfo:
    path: str  # relative to the dataset folder
    rows: int
    bytes: int
    sha256: str

    def to_json(self) -> dict:
        return {"path": self.path, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_jsonl(table: pa.Table, path: Path) -> None:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame.write_ndjson(path)


class ShardWriter:
    """Writes ``<dataset>/<folder>/part-NNNNN.<ext>`` shards of a fixed schema."""

    def __init__(self, dataset_dir: Path, folder: str, schema: pa.Schema, *, to: str = "parquet",
                 shard_rows: int = 100_000, row_group_rows: int = 10_000):
        self.root = dataset_dir
        self.folder = folder
        self.schema = schema
        self.to = to
        self.shard_rows = shard_rows
        self.row_group_rows = row_group_rows
        self.shards: list[ShardInfo] = []
        self._flushing: list[Future] = []
        self._encoder = ThreadPoolExecutor(max_workers=1)  # one at a time: bounded memory, same bytes
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        (dataset_dir / folder).mkdir(parents=True, exist_ok=True)

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if table.schema != self.schema:
            table = table.select(self.schema.names).cast(self.schema)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self.shard_rows:
            combined = pa.concat_tables(self._pending)
            self._flush(combined.slice(0, self.shard_rows))
            rest = combined.slice(self.shard_rows)
            self._pending, self._pending_rows = ([rest] if rest.num_rows else []), rest.num_rows

    def close(self) -> list[ShardInfo]:
        if self._pending_rows:
            self._flush(pa.concat_tables(self._pending))
        if not self._flushing:  # an empty shard keeps the folder queryable (SQL views, HF datasets)
            self._flush(self.schema.empty_table())
        self.shards = [future.result() for future in self._flushing]
        self._encoder.shutdown()
        self._pending, self._pending_rows = [], 0
        return self.shards

    def _flush(self, table: pa.Table) -> None:
        if len(self._flushing) >= 2:  # keep at most one shard queued behind the one being encoded
            self._flushing[-2].result()
        self._flushing.append(self._encoder.submit(self._encode, table, len(self._flushing)))

    def _encode(self, table: pa.Table, number: int) -> ShardInfo:
        ext = "parquet" if self.to == "parquet" else "jsonl"
        rel = f"{self.folder}/part-{number:05d}.{ext}"
        final = self.root / rel
        temp = final.with_name(f".{final.name}.tmp")
        if self.to == "parquet":
            pq.write_table(table, temp, compression="zstd", row_group_size=self.row_group_rows,
                           write_statistics=True, use_dictionary=True)
        else:
            write_jsonl(table, temp)
        os.replace(temp, final)
        return ShardInfo(rel, table.num_rows, final.stat().st_size, sha256_of(final))
