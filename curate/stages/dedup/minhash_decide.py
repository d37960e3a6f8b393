"""The global step of `MinHashDedup`: buckets → candidate pairs → verified pairs → clusters → rows to drop.

Global memory (see the README's scaling notes): per band, the (hash, node) pairs of one band (polars'
streaming group-by); then only the rows that reached a candidate pair: their signatures
(4 bytes × num_perm), their verification shingles when a pair is too close to call, and the cluster
table. Rows that share no band with anyone never leave the spill files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from curate.stages.dedup import lsh, minhash_index as store
from curate.stages.dedup.shingles import estimated_jaccard

ROWS_PER_GROUP_BY = 100_000_000  # rows of one band's group-by (≈ 2-3 GB); bigger inputs split by hash range

if TYPE_CHECKING:
    from curate.stages.dedup.minhash import MinHashDedup


class Decision:
    """One run of the global step over the keys table ``nodes`` (``order`` + `MinHashDedup.keys` columns)."""

    def __init__(self, stage: "MinHashDedup", nodes: pl.LazyFrame):
        self.stage = stage
        self.config = stage.config
        self.nodes = nodes
        self.results: dict = {}
        self.index: store.Index | None = None
        self.first_old: int | None = None  # nodes >= this are rows of the --against index

    def run(self) -> pl.DataFrame:
        from curate.stages.dedup.minhash import margin

        stage, config = self.stage, self.config
        band_cols = stage.band_columns
        stats = self.nodes.select(
            rows=pl.len(), last=pl.col("order").max(), no_text=pl.col(band_cols[0]).null_count()
        ).collect()
        rows, no_text = int(stats["rows"][0]), int(stats["no_text"][0])
        bands = self.nodes.select(pl.col("order").cast(pl.Int64).alias("node"), *band_cols)
        if config.against is not None:
            self.index = store.Index(config.against, stage.signature_params())
            self.first_old = int(stats["last"][0] or 0) + 1
            bands = pl.concat([bands, self.index.bands(band_cols, self.first_old)])
        partitions = max(1, -(-(rows + (self.index.rows if self.index else 0)) // ROWS_PER_GROUP_BY))
        pairs = lsh.candidate_pairs(bands, band_cols, old_from=self.first_old, partitions=partitions)
        needed = lsh.sorted_unique(np.concatenate([pairs["a"].to_numpy(), pairs["b"].to_numpy()]))
        locations = self._locations(needed)
        nodes, sigs = store.load_signatures(locations, config.num_perm)
        shingles = None
        if config.verify == "exact":
            def shingles(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                return store.load_shingles(locations.join(pl.DataFrame({"node": wanted}), on="node", how="semi"))
        verified, exact_checks = lsh.verify(
            pairs, sigs, nodes, threshold=config.threshold, margin=margin(config.threshold, config.num_perm),
            shingles=shingles, exact_below=self.first_old,
        )  # fmt: skip
        clusters = lsh.components(verified)
        removed = self._choose(clusters, nodes, sigs)
        self.results = {
            "rows": rows,
            "rows_without_text": no_text,
            "candidate_pairs": pairs.height,
            "verified_pairs": verified.height,
            "exact_checks": exact_checks,
            **self._cluster_report(clusters, removed),
        }
        return removed.drop("kept_old")

    def _cluster_report(self, clusters: pl.DataFrame, removed: pl.DataFrame) -> dict:
        report = {
            "clusters": int(clusters["cluster"].n_unique()) if clusters.height else 0,
            "clustered_rows": clusters.height,
            "removed": removed.height,
            "cluster_sizes": lsh.size_histogram(clusters),
        }
        if self.index is not None:
            report["against"] = {
                "dataset": str(self.config.against),
                "index_rows": self.index.rows,
                "removed_as_duplicates_of_it": int(removed["kept_old"].sum()),
            }
        return report

    def _new(self, wanted: np.ndarray, columns: list[str]) -> pl.DataFrame:
        """Columns of this run's rows among ``wanted`` nodes (read out of core from the keys file)."""
        frame = pl.DataFrame({"node": wanted[wanted < self.first_old] if self.first_old else wanted})
        return (
            self.nodes.join(frame.lazy(), left_on="order", right_on="node", how="semi")
            .select(pl.col("order").cast(pl.Int64).alias("node"), *columns)
            .collect()
        )

    def _locations(self, needed: np.ndarray) -> pl.DataFrame:
        """(node, file, row) of every needed node: spill files for this run, index parts for --against."""
        new = self._new(needed, ["minhash_shard", "minhash_row"])
        shards = new.select(pl.col("minhash_shard").unique())["minhash_shard"].to_list()
        files = pl.DataFrame(
            {"minhash_shard": pl.Series(shards, dtype=pl.UInt64),
             "file": pl.Series([str(store.spill_file(self.stage.spill, int(s))) for s in shards], dtype=pl.String)}
        )  # fmt: skip
        new = new.join(files, on="minhash_shard").select(
            "node", "file", pl.col("minhash_row").cast(pl.Int64).alias("row")
        )
        if self.index is None:
            return new
        old = self.index.locations(needed[needed >= self.first_old], self.first_old)
        return pl.concat([new, old.with_columns(pl.col("row").cast(pl.Int64))])

    def _attributes(self, wanted: np.ndarray) -> pl.DataFrame:
        """(node, id, length, quality, old) of the clustered nodes."""
        new = self._new(wanted, ["id", "minhash_len", "minhash_quality"]).rename(
            {"minhash_len": "length", "minhash_quality": "quality"}
        )
        new = new.with_columns(pl.col("id").cast(pl.String), old=pl.lit(False))
        if self.index is None:
            return new
        old = self.index.ids(wanted[wanted >= self.first_old], self.first_old).with_columns(
            length=pl.lit(None, pl.Int64), quality=pl.lit(None, pl.Float64), old=pl.lit(True)
        )
        return pl.concat([new, old.select(new.columns)])

    def _choose(self, clusters: pl.DataFrame, nodes: np.ndarray, sigs: np.ndarray) -> pl.DataFrame:
        """Keep one row per cluster (index rows first, then the keep policy, then input order)."""
        schema = {"order": pl.Int64, "id": pl.String, "reason": pl.String, "duplicate_of": pl.String,
                  "similarity": pl.Float64, "cluster": pl.Int64, "kept_old": pl.Boolean}  # fmt: skip
        if clusters.is_empty():
            return pl.DataFrame(schema=schema)
        table = clusters.join(self._attributes(clusters["node"].to_numpy()), on="node")
        by, descending = ["cluster", "old"], [False, True]
        if self.config.keep == "quality":
            by, descending = by + ["quality"], descending + [True]
        elif self.config.keep == "longest":
            by, descending = by + ["length"], descending + [True]
        table = table.sort([*by, "node"], descending=[*descending, False], nulls_last=True)
        table = table.with_columns(
            kept=pl.col("node").first().over("cluster"),
            duplicate_of=pl.col("id").first().over("cluster"),
            kept_old=pl.col("old").first().over("cluster"),
        )
        removed = table.filter((pl.col("node") != pl.col("kept")) & ~pl.col("old")).sort("node")
        rows = np.searchsorted(nodes, removed["node"].to_numpy())
        kept_rows = np.searchsorted(nodes, removed["kept"].to_numpy())
        similarity = estimated_jaccard(sigs[rows], sigs[kept_rows])
        cents = pl.DataFrame({"c": np.rint(similarity * 100).astype(np.int64)})
        shown = cents.select(pl.format("{}.{}", pl.col("c") // 100, (pl.col("c") % 100).cast(pl.String).str.zfill(2)))
        removed = removed.with_columns(similarity=pl.Series(similarity), shown=shown.to_series())
        return removed.select(
            pl.col("node").alias("order"),
            "id",
            pl.format("near-duplicate: similarity {} to {}", "shown", "duplicate_of").alias("reason"),
            "duplicate_of",
            "similarity",
            "cluster",
            "kept_old",
        ).cast(schema)
