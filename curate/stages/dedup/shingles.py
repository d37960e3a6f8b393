"""MinHash signatures, vectorised: normalise → words → word n-gram shingles → signatures → band hashes.

Everything here works on whole string arrays with polars, pyarrow and numpy; there is no Python loop
over rows, words or shingles (the loops below run over the n-gram size, the permutations and the rows
of a band, all small constants).

The hashes are our own (a splitmix64-style mixer over 8-byte little-endian blocks), not polars' or
Python's ``hash``: they must stay identical across processes, machines and library versions, because an
index written by one run is read back by a later ``--against`` run. ``HASH_VERSION`` names the
algorithm; change it whenever anything below changes the values.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

HASH_VERSION = "curate-minhash-1"  # normalisation + word hash + shingle hash + permutations + band hash

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SHINGLE_MUL = np.uint64(0x100000001B3)  # odd: keeps the n-gram fold a bijection per step
_S30, _S27, _S31, _S32 = (np.uint64(s) for s in (30, 27, 31, 32))


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (a bijection on uint64 with full avalanche); returns a new array."""
    x = x ^ (x >> _S30)
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def normalise(texts: pa.Array) -> pl.Series:
    """Lower case, NFKD without combining marks (café = cafe), and every run of punctuation, symbols
    and whitespace → one space. Returns a polars string Series aligned with ``texts``."""
    s = pl.Series("t", texts, dtype=pl.String).fill_null("")
    ascii_rows = pc.string_is_ascii(pc.fill_null(texts, "")).to_numpy(zero_copy_only=False)
    if not ascii_rows.all():  # Unicode normalisation is the slow part: only rows that need it
        rows = np.flatnonzero(~ascii_rows)
        s = s.scatter(rows, s.gather(rows).str.normalize("NFKD").str.replace_all(r"\p{Mn}+", ""))
    return s.str.to_lowercase().str.replace_all(r"[\p{P}\p{S}\s]+", " ")


def words(texts: pa.Array) -> tuple[pa.LargeStringArray, np.ndarray]:
    """All words of all rows, flattened, and the number of words per row."""
    flat = pl.DataFrame({"w": normalise(texts).str.split(" ")}).with_row_index("r").explode("w")
    flat = flat.filter(pl.col("w") != "")
    counts = np.bincount(flat["r"].to_numpy(), minlength=len(texts)).astype(np.int64)
    return pc.cast(flat["w"].to_arrow(), pa.large_string()), counts


def hash_strings(arr: pa.Array, seed: int) -> np.ndarray:
    """A seeded 64-bit hash of every (non-empty) string, computed on the Arrow buffers at once."""
    arr = pc.cast(arr, pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    if n == 0:
        return np.empty(0, np.uint64)
    offsets = np.frombuffer(arr.buffers()[1], np.int64, n + 1, arr.offset * 8)
    data = np.frombuffer(arr.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    lengths = np.diff(offsets)
    blocks_per = np.maximum((lengths + 7) // 8, 1)
    block_start = np.zeros(n, np.int64)
    np.cumsum(blocks_per[:-1], out=block_start[1:])
    # scatter each string's bytes into zero-padded 8-byte blocks, then read them as little-endian words
    padded = np.zeros(int(blocks_per.sum()) * 8, np.uint8)
    shift = np.repeat(block_start * 8 - (offsets[:-1] - offsets[0]), lengths)
    padded[np.arange(len(data)) + shift] = data
    blocks = padded.view("<u8").astype(np.uint64)
    position = np.arange(len(blocks), dtype=np.uint64) - np.repeat(block_start, blocks_per).astype(np.uint64)
    mixed = mix64(blocks ^ (position * _GOLDEN + np.uint64(seed)))
    folded = np.add.reduceat(mixed, block_start)  # order-aware: the block position is mixed in above
    return mix64(folded ^ (lengths.astype(np.uint64) * _M2))


def shingle_hashes(word_hashes: np.ndarray, counts: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the word n-grams of every row (a row shorter than ``ngram`` words gives one shingle
    of all its words; an empty row gives none) and the number of shingles per row."""
    total = len(word_hashes)
    starts = np.zeros(len(counts), np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    short = (counts > 0) & (counts < ngram)
    per_row = np.where(counts >= ngram, counts - ngram + 1, short.astype(np.int64))
    short_value = np.zeros(len(counts), np.uint64)
    acc = word_hashes.copy()
    short_value[short & (counts == 1)] = acc[starts[short & (counts == 1)]]
    for k in range(1, ngram):  # acc[g] = fold of words g .. g+k
        acc = acc[: total - k] * _SHINGLE_MUL + word_hashes[k:]
        done = short & (counts == k + 1)
        short_value[done] = acc[starts[done]]
    n_out = int(per_row.sum())
    row_of = np.repeat(np.arange(len(counts)), per_row)
    out_start = np.zeros(len(counts), np.int64)
    np.cumsum(per_row[:-1], out=out_start[1:])
    local = np.arange(n_out) - out_start[row_of]
    is_short = short[row_of]
    values = np.empty(n_out, np.uint64)
    long_pos = starts[row_of[~is_short]] + local[~is_short]
    values[~is_short] = acc[long_pos] if len(long_pos) else acc[:0]
    values[is_short] = short_value[row_of[is_short]]
    return mix64(values ^ np.uint64(ngram)), per_row


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``num_perm`` affine maps x → a·x + b (mod 2^64, a odd: a bijection) drawn from ``seed``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def signatures(shingles: np.ndarray, per_row: np.ndarray, perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """MinHash signatures, uint32 of shape (rows, num_perm): the top 32 bits of each permutation's
    minimum. Rows without shingles get all-ones (they never reach the LSH step; see `band_hashes`)."""
    a, b = perms
    out = np.full((len(per_row), len(a)), np.uint32(0xFFFFFFFF), np.uint32)
    starts = np.zeros(len(per_row) + 1, np.int64)
    np.cumsum(per_row, out=starts[1:])
    rows = np.flatnonzero(per_row > 0)
    if not len(rows):
        return out
    # blocks of whole rows of about _BLOCK shingles: every permutation of a block runs in cache
    cuts = np.searchsorted(starts[rows], np.arange(0, starts[-1], _BLOCK))
    cuts = np.unique(np.append(cuts, len(rows)))
    tmp = np.empty(len(shingles), np.uint64)
    for lo_row, hi_row in zip(cuts[:-1], cuts[1:]):
        block_rows = rows[lo_row:hi_row]
        lo, hi = starts[block_rows[0]], starts[block_rows[-1] + 1]
        values, scratch, offsets = shingles[lo:hi], tmp[: hi - lo], starts[block_rows] - lo
        mins = np.empty((len(block_rows), len(a)), np.uint64)
        for p in range(len(a)):
            np.multiply(values, a[p], out=scratch)
            scratch += b[p]
            mins[:, p] = np.minimum.reduceat(scratch, offsets)
        out[block_rows] = (mins >> _S32).astype(np.uint32)
    return out


_BLOCK = 1 << 15


def band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 per (row, band): a hash of the band's ``rows`` signature values and its index."""
    grid = sigs[:, : bands * rows].reshape(len(sigs), bands, rows).astype(np.uint64)
    acc = np.zeros((len(sigs), bands), np.uint64) + np.arange(bands, dtype=np.uint64) * _GOLDEN
    for j in range(rows):
        acc = mix64(acc ^ grid[:, :, j])
    return acc


def estimated_jaccard(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Share of equal signature values, row by row (the MinHash estimate of Jaccard similarity)."""
    return (left == right).mean(axis=1)


def text_shingles(texts: pa.Array, ngram: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of every row's normalised text, and the number of shingles per row.

    Rows are taken in slices of about ``_SLICE_BYTES`` of text, which bounds the intermediate string
    arrays whatever the batch size; within a slice each distinct word is hashed once (dictionary
    encoding), then gathered.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    sizes = pc.fill_null(pc.binary_length(texts), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    cuts = np.searchsorted(np.cumsum(sizes), np.arange(_SLICE_BYTES, sizes.sum(), _SLICE_BYTES), side="right")
    bounds = [0, *sorted(set(cuts.tolist()) - {0, len(texts)}), len(texts)]
    parts = [_slice_shingles(texts.slice(lo, hi - lo), ngram, seed) for lo, hi in zip(bounds[:-1], bounds[1:])]
    if not parts:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


_SLICE_BYTES = 4 << 20


def _slice_shingles(texts: pa.Array, ngram: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    flat, counts = words(texts)
    encoded = pc.dictionary_encode(flat)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    word_hashes = hash_strings(encoded.dictionary, seed)[encoded.indices.to_numpy(zero_copy_only=False)]
    return shingle_hashes(word_hashes, counts, ngram)
