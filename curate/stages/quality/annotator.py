"""`QualityAnnotator`: the heuristic quality signals of a batch, as ``quality_*`` columns.

Reads ``text`` (text kind: Gopher, C4 and FineWeb signals, see `heuristics.TEXT_COLUMNS`) or the message
columns (conversation/preference: instruction-data signals, see `instruction.INSTRUCTION_COLUMNS`).
Writes those columns; drops nothing (`QualityFilter` decides).
"""

from __future__ import annotations

import pyarrow as pa

from curate.records import kind_of
from curate.stages.base import Annotator


class QualityAnnotator(Annotator):
    name = "quality_signals"

    def __init__(self, min_c4_sentences: int = 5):
        self.min_c4_sentences = min_c4_sentences

    def annotate(self, batch: pa.Table) -> pa.Table:
        if kind_of(batch.schema) == "text":
            from curate.stages.quality.heuristics import text_signals

            texts = batch.column("text").to_pylist()  # spaCy's tokenizer takes Python strings
            signals = text_signals([t or "" for t in texts], min_c4_sentences=self.min_c4_sentences)
        else:
            from curate.stages.quality.instruction import instruction_signals

            signals = instruction_signals(batch)
        for name, column in zip(signals.columns, signals.to_arrow().columns):
            batch = _set(batch, name, column)
        return batch

    def manifest_info(self) -> dict:
        return {"min_c4_sentences": self.min_c4_sentences}


def _set(batch: pa.Table, name: str, column) -> pa.Table:
    """Append a column, or replace it when the batch already has one of that name (a re-run)."""
    if name in batch.column_names:
        return batch.set_column(batch.column_names.index(name), name, column)
    return batch.append_column(name, column)
