"""Where MinHash signatures live on disk: per-shard spill files during a run, and the index that a
finished dataset keeps for later ``--against`` runs.

Spill file (one per batch the map phase saw): ``<spill>/sig-<shard as 16 hex digits>.parquet`` with
``sig`` (fixed-size list of uint32, one value per permutation) and, when exact verification is on,
``shingles`` (list of uint64: the row's shingle hashes). Row i of the file is row i of the batch.

Index (``OUT/index/minhash/``): ``params.json`` (the parameters that make signatures comparable) and
``part-NNNNN.parquet`` with ``id``, ``sig`` and the band hashes ``minhash_b00`` ... of the kept rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import ConfigError, InputError

INDEX_DIR = Path("index") / "minhash"
PARAMS_FILE = "params.json"


def spill_file(folder: Path, shard: int) -> Path:
    return folder / f"sig-{shard:016x}.parquet"


def write_spill(path: Path, sigs: np.ndarray, shingles: np.ndarray | None, per_row: np.ndarray) -> None:
    """Write one batch's signatures (and shingle hashes) to ``path``, atomically."""
    columns = {"sig": pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel()), sigs.shape[1])}
    if shingles is not None:
        offsets = np.zeros(len(per_row) + 1, np.int64)
        np.cumsum(per_row, out=offsets[1:])
        columns["shingles"] = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(shingles))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    # hashes are random bits: dictionary encoding and compression only cost time here
    pq.write_table(pa.table(columns), tmp, compression="none", use_dictionary=False)
    tmp.replace(path)


def _by_file(locations: pl.DataFrame):
    """(file, nodes, rows) per file of a (node, file, row) table, files in a stable order."""
    for (file,), part in locations.sort("file", "row").group_by("file", maintain_order=True):
        yield file, part["node"].to_numpy(), part["row"].to_numpy()


def load_signatures(locations: pl.DataFrame, num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """Signatures of the nodes in ``locations`` (node, file, row): (sorted nodes, uint32 matrix)."""
    nodes, blocks = [], []
    for file, part_nodes, rows in _by_file(locations):
        column = pq.read_table(file, columns=["sig"])["sig"].combine_chunks()
        matrix = column.flatten().to_numpy().reshape(-1, num_perm)
        nodes.append(part_nodes)
        blocks.append(matrix[rows])
    if not nodes:
        return np.empty(0, np.int64), np.empty((0, num_perm), np.uint32)
    all_nodes = np.concatenate(nodes)
    order = np.argsort(all_nodes, kind="stable")
    return all_nodes[order], np.concatenate(blocks)[order]


def load_shingles(locations: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(node, shingle hash) of every shingle of the nodes in ``locations``, read from the spill files."""
    nodes, values = [np.empty(0, np.int64)], [np.empty(0, np.uint64)]
    for file, part_nodes, rows in _by_file(locations):
        lists = pq.read_table(file, columns=["shingles"])["shingles"].combine_chunks().take(pa.array(rows))
        nodes.append(part_nodes[pc.list_parent_indices(lists).to_numpy()])
        values.append(lists.flatten().to_numpy())
    return np.concatenate(nodes), np.concatenate(values)


# ---------------------------------------------------------------------------------------------------
# The index of a finished dataset.


def write_index(out_dir: Path, params: dict, parts: list[pa.Table]) -> Path:
    """Write ``OUT/index/minhash/`` (params.json + one Parquet part per non-empty table)."""
    folder = out_dir / INDEX_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    rows = 0
    for i, table in enumerate(t for t in parts if t.num_rows):
        pq.write_table(table, folder / f"part-{i:05d}.parquet", compression="zstd")
        rows += table.num_rows
    (folder / PARAMS_FILE).write_text(json.dumps({**params, "indexed_rows": rows}, indent=2, sort_keys=True) + "\n")
    return folder


class Index:
    """A previous dataset's MinHash index, opened for an ``--against`` run (nothing loaded eagerly)."""

    def __init__(self, dataset: Path, expected: dict):
        self.folder = Path(dataset) / INDEX_DIR
        params_path = self.folder / PARAMS_FILE
        if not params_path.is_file():
            raise InputError(
                f"{dataset}: no MinHash index ({INDEX_DIR / PARAMS_FILE} is missing)",
                hint="--against needs a dataset written by `curate clean --dedup minhash`",
            )
        self.params = json.loads(params_path.read_text())
        changed = sorted(k for k, v in expected.items() if self.params.get(k) != v)
        if changed:
            detail = ", ".join(f"{k}={self.params.get(k)!r} (this run: {expected[k]!r})" for k in changed)
            raise ConfigError(
                f"{params_path}: signatures are not comparable: {detail}",
                hint="run with the same --dedup minhash parameters as the dataset given to --against",
            )
        self.files = sorted(str(p) for p in self.folder.glob("part-*.parquet"))
        self.counts = np.array([pq.ParquetFile(f).metadata.num_rows for f in self.files], np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)])
        self.rows = int(self.starts[-1])

    def bands(self, band_columns: list[str], first_node: int) -> pl.LazyFrame:
        """(node, band hashes...) of every index row; nodes are ``first_node`` + position."""
        if not self.files:
            schema = {"node": pl.Int64, **{c: pl.UInt64 for c in band_columns}}
            return pl.LazyFrame(schema=schema)
        return (
            pl.scan_parquet(self.files)
            .select(band_columns)
            .with_row_index("node", offset=0)
            .with_columns(pl.col("node").cast(pl.Int64) + first_node)
        )

    def locations(self, nodes: np.ndarray, first_node: int) -> pl.DataFrame:
        """(node, file, row) of index nodes."""
        position = nodes - first_node
        part = np.searchsorted(self.starts, position, side="right") - 1
        files = np.array(self.files, dtype=object)[part] if len(part) else np.array([], dtype=object)
        return pl.DataFrame(
            {"node": nodes, "file": pl.Series(files.tolist(), dtype=pl.String), "row": position - self.starts[part]}
        )

    def ids(self, nodes: np.ndarray, first_node: int) -> pl.DataFrame:
        """(node, id) of index nodes."""
        frames = []
        for file, part_nodes, rows in _by_file(self.locations(nodes, first_node)):
            ids = pq.read_table(file, columns=["id"])["id"].combine_chunks().take(pa.array(rows))
            frames.append(pl.DataFrame({"node": part_nodes, "id": pl.Series(ids, dtype=pl.String)}))
        if not frames:
            return pl.DataFrame(schema={"node": pl.Int64, "id": pl.String})
        return pl.concat(frames)
