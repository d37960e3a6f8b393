"""Intermediate files of a run (under OUT/.staging): Arrow IPC with lz4, which writes and reads several
times faster than Parquet and can be scanned lazily by polars. Never part of the output contract."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.feather as feather

SUFFIX = ".arrow"


def write(table: pa.Table, path: Path) -> Path:
    feather.write_feather(table, path, compression="lz4")
    return path


def read(path: str | Path) -> pa.Table:
    return feather.read_table(path, memory_map=False)


def scan(paths: list[str]) -> pl.LazyFrame:
    return pl.scan_ipc(paths)
