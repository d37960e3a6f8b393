"""The two shapes of a stage, and the bookkeeping they share.

A *map stage* works on one batch at a time (any order, any process) and overrides one method:
- `Annotator.annotate(batch) -> batch`: adds annotation columns or rewrites text (PII redaction);
- `Filter.reasons(batch) -> string array`: one reject reason per row, null to keep.

A *global stage* (deduplication) decides across the whole dataset in two passes:
- `GlobalStage.keys(batch) -> table`: a compact per-row table (``id`` + whatever it needs), computed
  per batch in the map phase and spilled to disk;
- `GlobalStage.decide(keys) -> table`: given all keys (a polars LazyFrame; the pipeline adds ``order``,
  a unique int64 input position), the rows to drop as ``order``, ``id``, ``reason``, ``duplicate_of``.

Batches are canonical Arrow tables (see `curate.records`) plus the ``raw`` column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class StageCounts:
    """What one stage saw: rows in, rows out, dropped rows per reason, and time spent."""

    rows_in: int = 0
    rows_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def merge(self, other: "StageCounts") -> None:
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        self.dropped.update(other.dropped)
        self.seconds += other.seconds

    def to_json(self) -> dict:
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "dropped": dict(sorted(self.dropped.items())),
            "seconds": round(self.seconds, 3),
        }


class Stage:
    """Base of map stages. ``name`` is what rejects show in their ``stage`` column."""

    name: ClassVar[str] = "stage"

    def manifest_info(self) -> dict:
        """Parameters and results worth recording in the manifest (override to add)."""
        return {}


class Annotator(Stage):
    def annotate(self, batch: pa.Table) -> pa.Table:
        raise NotImplementedError


class Filter(Stage):
    def reasons(self, batch: pa.Table) -> pa.Array:
        """One reason per row (a string array aligned with ``batch``); null keeps the row."""
        raise NotImplementedError

    def split(self, batch: pa.Table) -> tuple[pa.Table, pa.Table]:
        """(kept rows, dropped rows with a ``reason`` column)."""
        reasons = self.reasons(batch)
        dropped_mask = pc.is_valid(reasons)
        dropped = batch.filter(dropped_mask).append_column("reason", pc.filter(reasons, dropped_mask))
        return batch.filter(pc.invert(dropped_mask)), dropped


class GlobalStage(Stage):
    def keys(self, batch: pa.Table) -> pa.Table:
        raise NotImplementedError

    def decide(self, keys: pl.LazyFrame) -> pl.DataFrame:
        """Rows to drop: ``order`` (int64, from the keys), ``id``, ``reason``, ``duplicate_of``."""
        raise NotImplementedError
