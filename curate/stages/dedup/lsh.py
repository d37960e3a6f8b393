"""The global passes of MinHash deduplication: buckets → candidate pairs → verified pairs → clusters.

Rows are *nodes*: int64 numbers (the pipeline's input ``order`` for this run's rows, and numbers past
the last order for the rows of an ``--against`` index). Nothing here knows where signatures live: the
caller passes lookups that load them for a given set of nodes, so that only rows that reached a
candidate pair are ever loaded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import polars as pl

from curate.stages.dedup.shingles import estimated_jaccard

SignatureLookup = Callable[[np.ndarray], np.ndarray]  # sorted unique nodes -> uint32 (len, num_perm)
ShingleLookup = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # nodes -> (node, shingle) arrays


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, fp_weight: float, fn_weight: float) -> tuple[int, int]:
    """(bands, rows) minimising fp_weight · FP area + fn_weight · FN area, where a pair at similarity s
    becomes a candidate with probability 1 - (1 - s^rows)^bands: FP area is that probability
    integrated over [0, threshold], FN area its complement over [threshold, 1] (the objective of
    datasketch's ``_optimal_param``; the tests check that both choose the same layout).

    Vectorised over every (bands, rows) with bands · rows <= num_perm; Gauss-Legendre quadrature with
    num_perm/2 + 1 nodes is exact for these polynomials (degree <= num_perm), and importing datasketch
    (and scipy.integrate) costs each worker process more than a second. Verification drops banding's
    false positives afterwards, so the default weights favour recall."""
    from numpy.polynomial.legendre import leggauss

    x, w = leggauss(num_perm // 2 + 1)
    below = threshold / 2 * (x + 1)  # nodes mapped onto [0, threshold] and [threshold, 1]
    above = threshold + (1 - threshold) / 2 * (x + 1)
    bands, rows = zip(*[(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)])
    b = np.array(bands, np.float64)[:, None]
    r = np.array(rows, np.float64)[:, None]
    fp = (1 - (1 - below**r) ** b) @ w * (threshold / 2)
    fn = ((1 - above**r) ** b) @ w * ((1 - threshold) / 2)
    best = int(np.argmin(fp * fp_weight + fn * fn_weight))  # first minimum: bands, then rows ascending
    return bands[best], rows[best]


def candidate_pairs(
    bands: pl.LazyFrame, band_columns: list[str], *, old_from: int | None, partitions: int = 1
) -> pl.DataFrame:
    """Pairs of nodes that share at least one band hash, as (a, b) with a < b, unique.

    ``bands`` has ``node`` and one uint64 column per band (null: the row has no text). Within a bucket
    every member is paired with the bucket's first node and with its predecessor (2 edges per member,
    not k² for a bucket of k), which keeps the pass linear in rows × bands; every pair that verification
    keeps then joins the same cluster. Pairs between two index rows (nodes >= ``old_from``) are skipped:
    the previous run has settled those. ``partitions`` > 1 splits each band by hash range so that one
    group-by holds only rows / partitions entries (each split re-reads that band's column).
    """
    parts = []
    splits = [(c, p) for c in band_columns for p in range(partitions)]
    for column, part in splits:  # one band (or one hash range of it) at a time
        buckets = (
            bands.select("node", pl.col(column).alias("h"))
            .drop_nulls("h")
            .filter((pl.col("h") % partitions) == part if partitions > 1 else pl.lit(True))
            .group_by("h")
            .agg(pl.col("node").sort())
            .filter(pl.col("node").list.len() > 1)
            .select(
                first=pl.col("node").list.first(),
                member=pl.col("node").list.slice(1),
                prev=pl.col("node").list.slice(0, pl.col("node").list.len() - 1),
            )
            .explode(["member", "prev"])
        )
        edges = pl.concat(
            [buckets.select(a="first", b="member"), buckets.select(a="prev", b="member")]
        ).select(a=pl.min_horizontal("a", "b").cast(pl.Int64), b=pl.max_horizontal("a", "b").cast(pl.Int64))
        if old_from is not None:
            edges = edges.filter(pl.col("a") < old_from)
        parts.append(edges.filter(pl.col("a") != pl.col("b")).unique().collect(engine="streaming"))
    if not parts:
        return pl.DataFrame(schema={"a": pl.Int64, "b": pl.Int64})
    return pl.concat(parts).unique().sort("a", "b")


def verify(
    pairs: pl.DataFrame,
    sigs: np.ndarray,
    nodes: np.ndarray,
    *,
    threshold: float,
    margin: float,
    shingles: ShingleLookup | None,
    exact_below: int | None,
) -> tuple[pl.DataFrame, int]:
    """Keep the candidate pairs whose similarity reaches ``threshold``.

    The similarity is the estimated Jaccard of the full signatures (``sigs`` rows align with the sorted
    ``nodes``). When ``shingles`` is given, pairs whose estimate lies within ``margin`` of the threshold
    (the estimate's noise band) get the true Jaccard of their shingle sets instead; only pairs whose
    nodes are both below ``exact_below`` (this run's rows) have shingles. Returns (a, b, similarity)
    and the number of exact checks.
    """
    a = pairs["a"].to_numpy()
    b = pairs["b"].to_numpy()
    est = estimated_jaccard(sigs[np.searchsorted(nodes, a)], sigs[np.searchsorted(nodes, b)])
    similarity = est.copy()
    exact_checks = 0
    if shingles is not None and len(pairs):
        unsure = np.abs(est - threshold) < margin
        if exact_below is not None:
            unsure &= b < exact_below
        if unsure.any():
            exact_checks = int(unsure.sum())
            rows = np.flatnonzero(unsure)
            for lo in range(0, len(rows), _MAX_PAIRS):  # bounded memory, and ids fit the sort keys
                chunk = rows[lo : lo + _MAX_PAIRS]
                similarity[chunk] = exact_jaccard(a[chunk], b[chunk], shingles)
    keep = similarity >= threshold
    verified = pl.DataFrame({"a": a[keep], "b": b[keep], "similarity": similarity[keep]})
    return verified, exact_checks


def exact_jaccard(a: np.ndarray, b: np.ndarray, shingles: ShingleLookup) -> np.ndarray:
    """True Jaccard similarity of the shingle sets of each pair (a[i], b[i]), with sorts, no loops.

    Sets are compared on 40 bits of each shingle hash (a false match inside one pair of ~10^3 shingles
    has probability ~10^-6), which leaves 24 bits for the row or pair number in one sortable uint64
    key: at most ``_MAX_PAIRS`` pairs per call."""
    needed = sorted_unique(np.concatenate([a, b]))
    node, value = shingles(needed)
    local = np.searchsorted(needed, node).astype(np.uint64)
    keys = sorted_unique((local << _PAIR_SHIFT) | (value >> _DROP_BITS))  # unique shingles per node
    counts = np.bincount((keys >> _PAIR_SHIFT).astype(np.int64), minlength=len(needed))
    starts = np.zeros(len(needed), np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    values = keys & _VALUE_MASK
    ia, ib = np.searchsorted(needed, a), np.searchsorted(needed, b)
    both = np.concatenate([_tagged(values, starts[ia], counts[ia]), _tagged(values, starts[ib], counts[ib])])
    both.sort()
    same = both[1:][both[1:] == both[:-1]]  # a (pair, shingle) present on both sides
    inter = np.bincount((same >> _PAIR_SHIFT).astype(np.int64), minlength=len(a))
    union = counts[ia] + counts[ib] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort and a mask: numpy 2's hash-based ``unique`` is slower here)."""
    x = np.sort(x)
    keep = np.ones(len(x), bool)
    keep[1:] = x[1:] != x[:-1]
    return x[keep]


_PAIR_SHIFT, _DROP_BITS = np.uint64(40), np.uint64(24)
_VALUE_MASK = np.uint64((1 << 40) - 1)
_MAX_PAIRS = 1 << 22  # 2 rows per pair: row numbers stay below 2^23


def _tagged(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The value ranges [starts[i], starts[i] + lengths[i]) concatenated, each tagged with i in the top bits."""
    total = int(lengths.sum())
    offsets = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    positions = np.arange(total) + np.repeat(starts - offsets, lengths)
    pair = np.repeat(np.arange(len(lengths), dtype=np.uint64), lengths)
    return (pair << _PAIR_SHIFT) | values[positions]


def components(verified: pl.DataFrame) -> pl.DataFrame:
    """Connected components of the verified pairs: (node, cluster), cluster = smallest node in it."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if verified.is_empty():
        return pl.DataFrame(schema={"node": pl.Int64, "cluster": pl.Int64})
    a = verified["a"].to_numpy()
    b = verified["b"].to_numpy()
    nodes = sorted_unique(np.concatenate([a, b]))
    ia, ib = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    graph = coo_matrix((np.ones(len(a), np.int8), (ia, ib)), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(graph, directed=False)
    # name each component by its smallest node so that labels do not depend on scipy's numbering
    first = np.full(labels.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, labels, nodes)
    return pl.DataFrame({"node": nodes, "cluster": first[labels]})


def size_histogram(clusters: pl.DataFrame) -> dict[str, int]:
    """Clusters per size bin: "2", "3", "4-7", "8-15", ... (power-of-two bins past 3)."""
    sizes = clusters.group_by("cluster").len()["len"].to_numpy()
    low = np.where(sizes <= 3, sizes, 1 << (np.log2(np.maximum(sizes, 1)).astype(np.int64)))
    bins, counts = np.unique(low, return_counts=True)
    return {(str(b) if b <= 3 else f"{b}-{2 * b - 1}"): int(c) for b, c in zip(bins, counts)}
