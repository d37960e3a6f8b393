"""Decontamination: flag rows that share a long word n-gram (13 by default) with an evaluation set.

The evaluation files' records are read once per process (`texts.file_texts`), lower-cased, split into
words, and every n-gram is hashed into one table; records shorter than n words but with at least
``MIN_WORDS`` count as one n-gram of their own length. A batch is split the same way and joined with
that table in polars.

Reads the row's plain text (every turn, or ``text``). Writes ``quality_contaminated``: the name of the
first evaluation file the row overlaps, else null.
"""

from __future__ import annotations

import os
import threading

import polars as pl
import pyarrow as pa

from curate.stages.base import Annotator
from curate.stages.quality.texts import file_texts, plain_text

MIN_WORDS = 8
WORD = r"[\p{L}\p{N}]+"
_lock = threading.Lock()
_tables: dict[tuple, pl.DataFrame] = {}


def _grams(frame: pl.DataFrame, sizes: list[int]) -> pl.DataFrame:
    """(row, size, hash) of every word n-gram of ``frame["t"]`` for each size in ``sizes``."""
    words = frame.select("row", pl.col("t").str.to_lowercase().str.extract_all(WORD).alias("w")).explode("w")
    words = words.drop_nulls("w")
    out = []
    for size in sizes:
        parts = [pl.col("w")] + [pl.col("w").shift(-k).over("row") for k in range(1, size)]
        grams = words.select("row", pl.concat_str(parts, separator=" ").alias("g")).drop_nulls("g")
        out.append(grams.select("row", pl.lit(size).alias("size"), pl.col("g").hash(seed=13).alias("h")))
    return pl.concat(out) if out else pl.DataFrame(schema={"row": pl.UInt32, "size": pl.Int32, "h": pl.UInt64})


def benchmark_table(files: tuple[str, ...], ngram: int) -> pl.DataFrame:
    """(size, h, benchmark) for every n-gram of every evaluation record; cached per process."""
    key = (files, ngram)
    with _lock:
        if key not in _tables:
            parts = []
            for path in files:
                texts = file_texts(path)
                frame = pl.DataFrame({"t": texts}, schema={"t": pl.String}).with_row_index("row")
                lengths = frame.select(pl.col("t").str.to_lowercase().str.count_matches(WORD)).to_series()
                short = sorted(set(lengths.filter((lengths >= MIN_WORDS) & (lengths < ngram)).to_list()))
                grams = _grams(frame, [ngram])
                for size in short:  # a short record is one n-gram of its own length
                    rows = frame.filter(lengths == size)
                    grams = pl.concat([grams, _grams(rows, [size])])
                parts.append(grams.select("size", "h").unique().with_columns(benchmark=pl.lit(os.path.basename(path))))
            table = pl.concat(parts) if parts else pl.DataFrame()
            _tables[key] = table.unique(["size", "h"], keep="first", maintain_order=True)
        return _tables[key]


class Decontaminator(Annotator):
    name = "decontaminate"

    def __init__(self, files: tuple[str, ...] | list[str], ngram: int = 13):
        self.files = tuple(os.path.abspath(f) for f in files)
        self.ngram = ngram

    def annotate(self, batch: pa.Table) -> pa.Table:
        table = benchmark_table(self.files, self.ngram)
        sizes = sorted(set(table["size"].to_list())) if table.height else []
        frame = pl.DataFrame({"t": pl.Series(values=plain_text(batch, "all"), dtype=pl.String)}).with_row_index("row")
        hits = _grams(frame, sizes).join(table, on=["size", "h"]).group_by("row").agg(
            pl.col("benchmark").sort().first())
        column = frame.select("row").join(hits, on="row", how="left").sort("row")["benchmark"]
        column = column.cast(pl.String).to_arrow()
        if "quality_contaminated" in batch.column_names:
            return batch.set_column(batch.column_names.index("quality_contaminated"), "quality_contaminated", column)
        return batch.append_column("quality_contaminated", column)

    def manifest_info(self) -> dict:
        return {"benchmarks": [os.path.basename(f) for f in self.files], "ngram": self.ngram,
                "min_words": MIN_WORDS}
