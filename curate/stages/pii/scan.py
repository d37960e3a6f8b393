"""Detection in two steps: a vectorised pre-filter over a whole string column, then Presidio on hits.

1. `prefilter`: one polars ``str.contains`` with the union of every enabled entity's pre-filter (Rust
   regex, all cores) over the whole column; then, on the few texts that matched, one column per
   entity saying which recognizers could fire there.
2. `detect`: Presidio's analysis on those texts only, restricted to the flagged entities
   (`recognizers.analyze`: the steps of `AnalyzerEngine.analyze`). Its patterns, validators (Luhn,
   IBAN and bech32/base58 checksums, TLD check), phone-number library and context words decide; the
   result equals Presidio's own on the full column because each pre-filter matches a superset of what
   its recognizer can report (tests/stages/pii/test_pii_scan.py, bench/pii_bench.py check it).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

from curate.stages.pii.actions import Span, resolve
from curate.stages.pii.entities import BY_NAME, SECRETS
from curate.stages.pii.imports import load_recognizers

_SECRETS = frozenset(SECRETS)


def prefilter(texts: pa.Array, patterns: Sequence[str], always: Sequence[str] = ()) -> tuple[np.ndarray, list[list[str]]]:
    """(indices of candidate texts, the entities flagged in each).

    ``always``: entities with no pre-filter (NER) that make every non-empty text a candidate.
    """
    series = pl.Series("t", texts, dtype=pl.String)
    if always:
        mask = series.fill_null("").str.len_bytes() > 0
    elif patterns:
        union = "|".join(f"(?:{BY_NAME[name].prefilter})" for name in patterns)
        mask = series.str.contains(union).fill_null(False)
    else:
        return np.zeros(0, np.int64), []
    index = np.flatnonzero(mask.to_numpy())
    if not len(index):
        return index, []
    candidates = pl.DataFrame({"t": series.gather(index)})
    if patterns:
        flags = candidates.select(
            [pl.col("t").str.contains(BY_NAME[name].prefilter).fill_null(False).alias(name) for name in patterns]
        ).to_numpy()
    else:
        flags = np.zeros((len(index), 0), dtype=bool)
    names = list(patterns)
    hits = [[names[j] for j in np.flatnonzero(row)] + list(always) for row in flags]
    return index, hits


def detect(engine, texts: list[str], hits: list[list[str]], threshold: float, resolved: bool = True) -> list[list[Span]]:
    """Presidio's spans for each candidate text (an empty list where nothing was confirmed): resolved
    into non-overlapping spans, or (``resolved=False``) exactly as Presidio returned them."""
    analyze = load_recognizers(None).analyze  # already imported by whoever built ``engine``

    out = []
    for text, entities in zip(texts, hits):
        if not entities:
            out.append([])
            continue
        results = analyze(engine, text, entities, threshold)
        spans = [Span(r.start, r.end, r.entity_type, r.score) for r in results]
        out.append(resolve(spans, _SECRETS) if resolved else sorted(spans))
    return out
