"""The global passes of MinHash dedup on hand-made band hashes: buckets, pairs, clusters, histogram."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curate.stages.dedup import lsh


def _bands() -> pl.LazyFrame:
    # band 0: {0, 3, 5} share 11; band 1: {3, 7} share 22, {1, 2} share 33; node 4 has no text (null)
    return pl.LazyFrame(
        {
            "node": [0, 1, 2, 3, 4, 5, 6, 7],
            "b0": [11, 90, 91, 11, None, 11, 92, 93],
            "b1": [80, 33, 33, 22, None, 81, 82, 22],
        },
        schema={"node": pl.Int64, "b0": pl.UInt64, "b1": pl.UInt64},
    )


def test_candidate_pairs_link_each_member_to_the_first_and_the_previous():
    pairs = lsh.candidate_pairs(_bands(), ["b0", "b1"], old_from=None)
    assert pairs.rows() == [(0, 3), (0, 5), (1, 2), (3, 5), (3, 7)]


def test_candidate_pairs_split_by_hash_range_give_the_same_pairs():
    one = lsh.candidate_pairs(_bands(), ["b0", "b1"], old_from=None)
    assert lsh.candidate_pairs(_bands(), ["b0", "b1"], old_from=None, partitions=3).equals(one)


def test_candidate_pairs_skip_pairs_inside_the_previous_index():
    assert lsh.candidate_pairs(_bands(), ["b0", "b1"], old_from=3).rows() == [(0, 3), (0, 5), (1, 2)]


def test_components_are_named_by_their_smallest_node_and_histogram_bins():
    verified = pl.DataFrame({"a": [5, 1, 9, 20, 20, 20], "b": [7, 5, 12, 21, 22, 23], "similarity": [0.9] * 6})
    clusters = lsh.components(verified)
    assert dict(zip(clusters["node"].to_list(), clusters["cluster"].to_list())) == {
        1: 1, 5: 1, 7: 1, 9: 9, 12: 9, 20: 20, 21: 20, 22: 20, 23: 20,
    }  # fmt: skip
    assert lsh.size_histogram(clusters) == {"2": 1, "3": 1, "4-7": 1}


def test_verify_uses_exact_jaccard_only_near_the_threshold():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 3, 9], [1, 2, 8, 9], [7, 7, 7, 7]], np.uint32)
    nodes = np.array([0, 1, 2, 3])
    pairs = pl.DataFrame({"a": [0, 0, 0], "b": [1, 2, 3]})
    asked = []

    def shingles(wanted):
        asked.append(wanted.tolist())
        shift = np.uint64(1 << 30)  # values differ in their top bits: the comparison keeps those
        node = np.array([0, 0, 0, 0, 0, 2, 2, 2, 2])
        return node, np.array([1, 2, 3, 4, 4, 1, 2, 3, 4], np.uint64) * shift

    verified, checks = lsh.verify(pairs, sigs, nodes, threshold=0.6, margin=0.15, shingles=shingles, exact_below=None)
    # estimates: 0.75 (clear), 0.5 (within 0.15 of 0.6: exact → 1.0), 0.0 (clear)
    assert verified.rows() == [(0, 1, 0.75), (0, 2, 1.0)]
    assert checks == 1 and asked == [[0, 2]]


def test_exact_jaccard_counts_sets_not_repeats():
    values = {1: [5, 6, 7, 8, 8, 8], 2: [5, 6, 7, 9], 3: [], 4: [10, 11]}
    node = np.array([n for n, v in values.items() for _ in v])
    shingle = np.array([x for v in values.values() for x in v], np.uint64) << np.uint64(40)
    got = lsh.exact_jaccard(np.array([1, 1, 3, 2]), np.array([2, 4, 3, 4]), lambda wanted: (node, shingle))
    assert got.tolist() == [3 / 5, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("num_perm", [16, 64, 112, 128])
@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.01, 0.99), (0.2, 0.8)])
def test_band_layout_matches_datasketchs_optimal_parameters(num_perm, weights):
    from datasketch.lsh import _optimal_param

    for threshold in (0.5, 0.7, 0.8, 0.85, 0.9, 0.95):
        lsh.lsh_params.cache_clear()
        assert lsh.lsh_params(threshold, num_perm, *weights) == _optimal_param(threshold, num_perm, *weights)
