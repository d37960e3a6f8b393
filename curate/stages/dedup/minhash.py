"""Near-duplicate removal with MinHash LSH: signatures (map) → buckets → verified pairs → clusters (global).

Map phase, per batch (`MinHashDedup.keys`): the text of the configured scope is normalised, cut into
word n-gram shingles and turned into a MinHash signature; signatures (and shingle hashes, for exact
verification) are spilled to ``<spill_dir>/near-dedup/sig-*.parquet``, and a compact keys table goes
back to the pipeline.

Global phase (`MinHashDedup.decide`): rows that share a band hash become candidate pairs; each pair is
verified against the threshold (estimated Jaccard of the full signatures, or the true Jaccard of the
shingle sets when the estimate is too close to call); verified pairs are joined into clusters, and in
each cluster one row is kept (``keep`` policy) and the others are dropped with ``duplicate_of`` = the
kept id. With ``against``, rows of a previous dataset's index join the clusters and always win.

Reads: the batch's text (`curate.records.text_view` of ``scope``), ``id`` and, with ``keep="quality"``,
the quality column. Writes: nothing to the batch; rejects get stage ``near-dedup``, reason
``near-duplicate: similarity 0.87 to <kept id>`` and ``duplicate_of``.
"""

from __future__ import annotations

import math
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import ConfigError
from curate.records import Scope, text_view
from curate.stages.base import GlobalStage
from curate.stages.dedup import lsh, minhash_index as store
from curate.stages.dedup.shingles import HASH_VERSION, band_hashes, permutations, signatures, text_shingles

DEFAULT_SPILL = "curate-minhash-spill"  # under the system's temporary folder when spill_dir is unset
Keep = Literal["first", "longest", "quality"]
Verify = Literal["exact", "signature"]


def _opt(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class MinHashConfig:
    """Parameters of near-duplicate removal; each field's ``help`` is also the CLI's help text."""

    threshold: float = _opt(0.8, "Jaccard similarity of word n-gram sets at which two rows are near-duplicates.")
    ngram: int = _opt(5, "Words per shingle (rows shorter than this are one shingle).")
    num_perm: int = _opt(128, "MinHash permutations (signature length).")
    bands: int | None = _opt(None, "LSH bands; derived from threshold and num_perm when unset.")
    rows: int | None = _opt(None, "Signature values per band; derived with `bands` when unset.")
    seed: int = _opt(1, "Seed of the hash functions; signatures are comparable only under the same seed.")
    scope: Scope = _opt("all", "Text compared: all (whole record), prompt, or response.")
    keep: Keep = _opt("first", "Row kept per cluster: first (input order), longest, or quality (highest score).")
    quality_column: str = _opt("quality_score", "Column read by keep=quality; without it keep=quality keeps the first.")
    verify: Verify = _opt(
        "exact", "exact: true Jaccard for pairs whose estimate is within the noise band; signature: estimate only."
    )
    lsh_weights: tuple[float, float] = _opt(
        (0.01, 0.99), "(false positive, false negative) weights of the band/row choice; recall first."
    )
    against: Path | None = _opt(None, "A dataset curated before: rows near-duplicating its rows are removed.")
    spill_dir: Path | None = _opt(
        None, "Folder for signature spill files, shared by all workers (default: <system temp>/curate-minhash-spill)."
    )

    def __post_init__(self) -> None:
        checks = [
            (0.0 < self.threshold < 1.0, "threshold", "a number between 0 and 1, e.g. 0.8"),
            (self.ngram >= 1, "ngram", "a positive number of words, e.g. 5"),
            (self.num_perm >= 2, "num_perm", "at least 2, e.g. 128"),
            (self.scope in ("all", "prompt", "response"), "scope", "one of all, prompt, response"),
            (self.keep in ("first", "longest", "quality"), "keep", "one of first, longest, quality"),
            (self.verify in ("exact", "signature"), "verify", "exact or signature"),
            ((self.bands is None) == (self.rows is None), "bands/rows", "give both or neither"),
        ]
        for ok, name, hint in checks:
            if not ok:
                raise ConfigError(f"minhash: invalid {name}: {getattr(self, name.split('/')[0])!r}", hint=hint)
        if self.bands is not None and (self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm):
            raise ConfigError(
                f"minhash: bands × rows = {self.bands} × {self.rows} does not fit num_perm={self.num_perm}",
                hint="choose bands × rows <= num_perm, or leave both unset",
            )

    def band_layout(self) -> tuple[int, int]:
        if self.bands is not None:
            return self.bands, self.rows
        return lsh.lsh_params(self.threshold, self.num_perm, *self.lsh_weights)


class MinHashDedup(GlobalStage):
    """MinHash near-duplicate removal (see the module docstring for the passes and columns)."""

    name = "near-dedup"

    def __init__(self, config: MinHashConfig | None = None):
        self.config = config or MinHashConfig()
        self.bands, self.rows = self.config.band_layout()
        self.band_columns = [f"minhash_b{i:02d}" for i in range(self.bands)]
        self._perms = permutations(self.config.num_perm, self.config.seed)
        # Worker processes may build their own stage object: the default folder is therefore one fixed
        # place per machine (files have random names), not a temporary folder per object.
        root = Path(self.config.spill_dir) if self.config.spill_dir else Path(tempfile.gettempdir()) / DEFAULT_SPILL
        self.spill = root / "near-dedup"
        self.spill.mkdir(parents=True, exist_ok=True)
        self._results: dict = {}
        self._nodes_path = self.spill / f"nodes-{secrets.token_hex(8)}.parquet"

    # -- parameters that make two signature sets comparable (checked by --against)
    def signature_params(self) -> dict:
        c = self.config
        return {"hash": HASH_VERSION, "ngram": c.ngram, "num_perm": c.num_perm, "seed": c.seed,
                "bands": self.bands, "rows": self.rows, "scope": c.scope}  # fmt: skip

    # -- map phase ----------------------------------------------------------------------------------
    def keys(self, batch: pa.Table) -> pa.Table:
        """Signatures of one batch → spill file; returns ``id``, ``minhash_shard`` (uint64: the spill
        file), ``minhash_row`` (int32: row in it), ``minhash_len`` (characters of the compared text),
        ``minhash_quality`` (float64 or null) and one uint64 band hash per band (null: no words)."""
        texts = text_view(batch, self.config.scope)
        shingles, per_row = text_shingles(texts, self.config.ngram, self.config.seed)
        sigs = signatures(shingles, per_row, self._perms)
        shard = secrets.randbits(63)
        exact = shingles if self.config.verify == "exact" else None
        store.write_spill(store.spill_file(self.spill, shard), sigs, exact, per_row)
        bands = band_hashes(sigs, self.bands, self.rows)
        empty = per_row == 0
        n = batch.num_rows
        quality = pa.nulls(n, pa.float64())
        if self.config.keep == "quality" and self.config.quality_column in batch.column_names:
            quality = pc.cast(batch[self.config.quality_column], pa.float64())
        columns = {
            "id": batch["id"],
            "minhash_shard": pa.array(np.full(n, shard, np.uint64)),
            "minhash_row": pa.array(np.arange(n, dtype=np.int32)),
            "minhash_len": pc.cast(pc.utf8_length(texts), pa.int64()),
            "minhash_quality": quality,
        }
        for i, column in enumerate(self.band_columns):
            columns[column] = pa.array(bands[:, i], mask=empty)
        return pa.table(columns)

    # -- global phase -------------------------------------------------------------------------------
    def decide(self, keys: pl.LazyFrame) -> pl.DataFrame:
        """Rows to drop: ``order``, ``id``, ``reason``, ``duplicate_of`` (in input order). ``keys`` is
        the concatenation of `keys` tables plus ``order`` (a row number is added when it is missing)."""
        return self.decide_full(keys).select("order", "id", "reason", "duplicate_of")

    def decide_full(self, keys: pl.LazyFrame) -> pl.DataFrame:
        """`decide` plus ``similarity`` (estimated Jaccard to the kept row) and ``cluster``."""
        from curate.stages.dedup.minhash_decide import Decision

        if "order" not in keys.collect_schema().names():
            keys = keys.with_row_index("order")
        keys = keys.with_columns(pl.col("order").cast(pl.Int64))
        keys.sink_parquet(self._nodes_path)  # kept for save_index after the pipeline's keys are gone
        decision = Decision(self, pl.scan_parquet(self._nodes_path))
        removed = decision.run()
        self._results = decision.results
        return removed

    def manifest_info(self) -> dict:
        params = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.config).items()}
        params.pop("spill_dir")
        params["lsh_weights"] = list(self.config.lsh_weights)
        return {"parameters": {**params, "bands": self.bands, "rows": self.rows, "hash": HASH_VERSION},
                **self._results}  # fmt: skip

    # -- incremental index --------------------------------------------------------------------------
    def save_index(self, out_dir: Path, kept_ids: pl.LazyFrame | pl.Series | pa.Array | list[str]) -> Path:
        """Store the kept rows' signatures and band hashes under ``OUT/index/minhash/`` (call after
        `decide`). ``kept_ids``: the ids of the rows the dataset finally kept (or a LazyFrame with an
        ``id`` column, e.g. ``pl.scan_parquet("OUT/data/*.parquet")``)."""
        if isinstance(kept_ids, pl.LazyFrame):
            kept = kept_ids.select(pl.col("id").cast(pl.String))
        else:
            kept = pl.DataFrame({"id": pl.Series("id", kept_ids, dtype=pl.String)}).lazy()
        nodes = (
            pl.scan_parquet(self._nodes_path)
            .join(kept, on="id", how="semi")
            .drop_nulls(self.band_columns[0])
            .select("minhash_shard", "minhash_row", "id", *self.band_columns)
            .sort("minhash_shard", "minhash_row")
            .collect()
        )
        parts = []
        for (shard,), part in nodes.group_by("minhash_shard", maintain_order=True):  # one part per shard
            file = store.spill_file(self.spill, int(shard))
            locations = pl.DataFrame({"node": part["minhash_row"].cast(pl.Int64), "file": str(file),
                                      "row": part["minhash_row"]})  # fmt: skip
            _, sigs = store.load_signatures(locations, self.config.num_perm)
            sig = pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel()), self.config.num_perm)
            table = part.select("id", *self.band_columns).to_arrow()
            parts.append(table.add_column(1, "sig", sig))
        return store.write_index(Path(out_dir), self.signature_params(), parts)

    def close(self) -> None:
        """Remove the spill files of the rows `decide` saw (call after `save_index`)."""
        if self._nodes_path.exists():
            shards = pl.scan_parquet(self._nodes_path).select(pl.col("minhash_shard").unique()).collect()
            for shard in shards["minhash_shard"].to_list():
                store.spill_file(self.spill, int(shard)).unlink(missing_ok=True)
            self._nodes_path.unlink()


def near_duplicates(
    texts: Sequence[str] | pa.Array,
    ids: Sequence[str] | pa.Array | None = None,
    config: MinHashConfig | None = None,
    *,
    batch_rows: int = 50_000,
) -> pl.DataFrame:
    """Near-duplicates among ``texts`` (a text-kind convenience for tests and benchmarks): one row per
    removed text with ``order`` (its position), ``id``, ``reason``, ``duplicate_of``, ``similarity``
    (estimated Jaccard to the kept row) and ``cluster``. Ids default to the positions as strings."""
    arrow = (pa.Array, pa.ChunkedArray)
    texts = pc.cast(texts if isinstance(texts, arrow) else pa.array(list(texts), pa.string()), pa.string())
    if ids is None:
        ids = pa.array([str(i) for i in range(len(texts))])
    ids = pc.cast(ids if isinstance(ids, arrow) else pa.array(list(ids)), pa.string())
    table = pa.table({"id": ids, "text": texts})
    stage = MinHashDedup(config)
    try:
        parts = [stage.keys(table.slice(i, batch_rows)) for i in range(0, max(table.num_rows, 1), batch_rows)]
        keys = pl.from_arrow(pa.concat_tables(parts)).lazy()
        return stage.decide_full(keys)
    finally:
        stage.close()


def margin(threshold: float, num_perm: int) -> float:
    """Half-width of the band where a signature estimate is too close to call: 4 standard errors."""
    return 4.0 * math.sqrt(threshold * (1.0 - threshold) / num_perm)
