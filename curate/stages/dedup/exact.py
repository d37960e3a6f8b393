"""Exact deduplication over a normalised content hash, across all input files and formats.

Map (``keys``): reads the record text through `records.text_view` for the configured scope, normalises
it (Unicode NFKC, case folded, whitespace runs collapsed, trimmed) and writes ``id``, ``h1``, ``h2``
(two independently seeded 64-bit hashes: 128 bits, so unrelated rows never collide in practice).
Decide: among rows with the same hash the first in input order is kept; the others are dropped with
``duplicate_of`` = the kept id.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.records import Scope, text_view
from curate.stages.base import GlobalStage


# Unicode White_Space that NFKC leaves alone (it maps the other spaces, e.g. U+00A0 and U+3000, to " ").
_BREAKS = ["\n", "\t", "\r", "\x0b", "\x0c", "\x85", "\u1680", "\u2028", "\u2029"]


def normalised(view: pa.Array) -> pl.Series:
    """NFKC, case folded, whitespace runs collapsed to one space, trimmed.

    NFKC runs only on rows that are not ASCII (ASCII text is already in NFKC form). Whitespace runs are
    collapsed with literal replacements (a few passes of "  " -> " "): three times faster than a regex,
    with the same result as ``\\s+`` after NFKC (a test checks it)."""
    series = pl.Series("view", view)
    non_ascii = np.flatnonzero(~pc.string_is_ascii(view).to_numpy(zero_copy_only=False))
    if len(non_ascii):
        series = series.scatter(non_ascii, series.gather(non_ascii).str.normalize("NFKC"))
    series = series.str.to_lowercase().str.replace_many(_BREAKS, [" "] * len(_BREAKS))
    while series.str.contains("  ", literal=True).any():
        series = series.str.replace_all("  ", " ", literal=True)
    return series.str.strip_chars()


class ExactDedup(GlobalStage):
    name = "dedup"

    def __init__(self, scope: Scope = "all"):
        self.scope = scope

    def keys(self, batch: pa.Table) -> pa.Table:
        text = normalised(text_view(batch, self.scope))
        return pa.table({
            "id": batch["id"],
            "h1": text.hash(seed=0x5EED).to_arrow(),
            "h2": text.hash(seed=0xC0FFEE).to_arrow(),
        })

    def decide(self, keys: pl.LazyFrame) -> pl.DataFrame:
        """``keys`` has ``id``, ``order`` (input position), ``h1``, ``h2``."""
        return (
            keys.with_columns(
                first=pl.col("order").min().over(["h1", "h2"]),
                duplicate_of=pl.col("id").sort_by("order").first().over(["h1", "h2"]),
            )
            .filter(pl.col("order") != pl.col("first"))
            .sort("order")
            .select("order", "id", pl.lit(f"duplicate: same normalised content (scope {self.scope})").alias("reason"), "duplicate_of")
            .collect()
        )

    def manifest_info(self) -> dict:
        return {"method": "exact", "scope": self.scope, "normalisation": "NFKC, casefold, whitespace"}
