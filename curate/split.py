"""A deterministic train/eval split of a curated folder, near-duplicates kept on one side.

Passes: read the verified ``data/`` shards → group near-duplicates (MinHash, `near_duplicates`, at a lower
threshold than cleaning uses, so paraphrases and light edits land together) → rank each group by a
seeded hash of its smallest id → take whole groups for eval, in rank order, until ``eval`` of the rows
are there → write both sides as curated folders (shards via `ShardWriter`, `manifest.json` via
`curate.io.manifest.write`) and verify both. The same input, fraction and seed give the same split on
any machine: nothing depends on row order or on the number of workers.

Reads the data shards' columns unchanged (every column is copied, annotations included); groups on
`curate.records.text_view` of the message columns (``text`` for text data).
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CheckFailed, InputError, UsageError
from curate.io import manifest as manifest_io
from curate.io.writers import ShardWriter
from curate.records import REJECT_SCHEMA, text_view


HELP = {
    "eval": "Fraction of rows for the eval side (whole near-duplicate groups).",
    "seed": "Seed of the group ranking: the same seed gives the same split.",
    "threshold": "Jaccard similarity (word 3-grams, MinHash) at which rows are near-copies kept on one side.",
    "ngram": "Words per shingle for the grouping.",
}


@dataclass
class SplitConfig:
    """Options of `split`; each field is documented once, in ``HELP`` (the CLI's help too)."""

    eval: float = 0.05
    seed: int = 0
    threshold: float = 0.5  # lower than cleaning's 0.8: paraphrases and light edits group too
    ngram: int = 3

    def __post_init__(self) -> None:
        if not 0.0 < self.eval < 1.0:
            raise UsageError(f"--eval {self.eval}: not a fraction between 0 and 1", hint="e.g. --eval 0.05")
        if not 0.0 < self.threshold < 1.0:
            raise UsageError(f"--threshold {self.threshold}: not between 0 and 1", hint="e.g. --threshold 0.5")


@dataclass
class SplitResult:
    train_dir: Path
    eval_dir: Path
    train_rows: int
    eval_rows: int
    groups: int  # near-duplicate groups of more than one row
    grouped_rows: int  # rows in those groups


def read_data(root: Path) -> tuple[dict, pa.Table]:
    """The manifest and every data row of a verified curated folder (refused when verification fails)."""
    if not root.is_dir():
        raise InputError(f"{root}: not a folder", hint="pass the OUT folder written by `curate clean`")
    manifest = manifest_io.load(root)
    problems = manifest_io.verify(root)
    if problems:
        raise CheckFailed(f"{root} failed verification against its manifest: {'; '.join(problems[:3])}",
                          hint=f"run `curate verify {root}`, or rebuild it with `curate clean`")
    paths = [root / s["path"] for s in manifest["shards"].get("data", [])]
    if any(p.suffix != ".parquet" for p in paths):
        raise InputError(f"{root}: the data shards are not Parquet", hint="re-run `curate clean` with --to parquet")
    if not paths:
        raise InputError(f"{root}: the manifest lists no data shards", hint="re-run `curate clean`")
    tables = [pq.read_table(p) for p in paths]
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    return manifest, table


def _texts(table: pa.Table) -> pa.Array:
    """The grouping text of each row; a non-canonical format (sharegpt, alpaca) falls back to its string
    columns joined (the same text for the same record, which is all grouping needs)."""
    if table.column_names == ["id", "text"]:  # already a text view (see `leaks`)
        return table.column("text").combine_chunks()
    try:
        return text_view(table)
    except ValueError:
        skip = {"id", "extra", "source"}
        columns = [pc.cast(table.column(n), pa.string()) for n, t in zip(table.column_names, table.schema.types)
                   if n not in skip and (pa.types.is_string(t) or pa.types.is_large_string(t))]
        if not columns:
            raise InputError("split: no text columns to group on", hint="clean the data with --format openai")
        return pc.binary_join_element_wise(*[pc.fill_null(c, "") for c in columns], "\n")


def group_ids(table: pa.Table, config: SplitConfig) -> np.ndarray:
    """For each row, the smallest id of its near-duplicate group (its own id when it has no near-copy)."""
    from curate.stages.dedup.minhash import MinHashConfig, near_duplicates

    ids = table.column("id").to_pylist()
    found = near_duplicates(_texts(table), pa.array(ids, pa.string()),
                            MinHashConfig(threshold=config.threshold, ngram=config.ngram, seed=1))
    parent = {i: i for i in ids}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    # The edges are the (rare) removed rows only: a union-find over them is small and exact.
    for a, b in zip(found.get_column("id").to_list(), found.get_column("duplicate_of").to_list()):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in ids], dtype=object)


def _rank(group: str, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}\x00{group}".encode()).digest()[:8], "big")


def assign(groups: np.ndarray, config: SplitConfig) -> np.ndarray:
    """A boolean mask of eval rows: whole groups in seeded-hash order until ``eval`` of the rows."""
    names, inverse, sizes = np.unique(groups.astype(str), return_inverse=True, return_counts=True)
    target = max(1, math.floor(config.eval * len(groups) + 0.5)) if len(groups) > 1 else 0
    order = sorted(range(len(names)), key=lambda g: (_rank(names[g], config.seed), names[g]))
    chosen = np.zeros(len(names), dtype=bool)
    taken = 0
    for g in order:  # a group larger than what is left is skipped: eval never overshoots
        if taken >= target:
            break
        if taken + sizes[g] <= target or taken == 0 and sizes[g] < len(groups):
            chosen[g] = True
            taken += int(sizes[g])
    return chosen[inverse]


def _write_side(out: Path, table: pa.Table, manifest: dict, info: dict) -> None:
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out}: exists and is not empty", hint="pass an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    writer = ShardWriter(out, "data", table.schema)
    writer.write(table)
    data = writer.close()
    rejects = ShardWriter(out, "rejects", REJECT_SCHEMA).close()
    side = copy.deepcopy(manifest)
    side["created_by"] = manifest_io.tool_versions()
    # The side's own balance (read = kept, no rejects) so `curate check` holds; the source's counts stay
    # in its manifest, named by `split.source_manifest_sha256`.
    side["counts"] = {"read": table.num_rows, "kept": table.num_rows, "rejected": 0, "by_stage": {},
                      "rejects_by_reason": {}}
    side["shards"] = {"data": [s.to_json() for s in data], "rejects": [s.to_json() for s in rejects]}
    side["split"] = info
    manifest_io.write(out, side)
    problems = manifest_io.verify(out)
    if problems:  # a write that does not verify is a bug, never a dataset to hand on
        raise CheckFailed(f"{out}: the written split fails verification: {'; '.join(problems[:3])}",
                          hint="check the disk and run the split again")


def split(source: Path, train_dir: Path, eval_dir: Path, config: SplitConfig) -> SplitResult:
    """Split ``source`` into ``train_dir`` and ``eval_dir`` (both curated, verified folders)."""
    manifest, table = read_data(source)
    if table.num_rows < 2:
        raise UsageError(f"{source}: {table.num_rows} row(s), too few to split", hint="split a larger dataset")
    groups = group_ids(table, config)
    is_eval = assign(groups, config)
    _, sizes = np.unique(groups.astype(str), return_counts=True)
    digest = hashlib.sha256((source / manifest_io.MANIFEST).read_bytes()).hexdigest()
    info = {"from": str(source), "source_manifest_sha256": digest, "eval_fraction": config.eval,
            "seed": config.seed, "threshold": config.threshold, "ngram": config.ngram,
            "rows": {"train": int((~is_eval).sum()), "eval": int(is_eval.sum())},
            "near_duplicate_groups": int((sizes > 1).sum()), "grouped_rows": int(sizes[sizes > 1].sum())}
    mask = pa.array(is_eval)
    _write_side(train_dir, table.filter(pc.invert(mask)), manifest, {**info, "side": "train"})
    _write_side(eval_dir, table.filter(mask), manifest, {**info, "side": "eval"})
    return SplitResult(train_dir, eval_dir, info["rows"]["train"], info["rows"]["eval"],
                       info["near_duplicate_groups"], info["grouped_rows"])


def leaks(train: pa.Table, held_out: pa.Table, *, threshold: float = 0.5, ngram: int = 3) -> list[str]:
    """Ids of ``held_out`` rows with an exact or near copy (Jaccard ≥ ``threshold``) among ``train``'s rows.

    Both tables are grouped together (as `split` groups); a held-out row leaks when its group holds a
    train row. Ids are prefixed per side first, so an id present on both sides is not a false match."""
    texts = pa.concat_arrays([_texts(train), _texts(held_out)])
    ids = [f"t\x00{i}" for i in train.column("id").to_pylist()] + [f"e\x00{i}" for i in held_out.column("id").to_pylist()]
    both = pa.table({"id": pa.array(ids, pa.string()), "text": texts})
    groups = group_ids(both, SplitConfig(threshold=threshold, ngram=ngram))
    with_train = {g for g, i in zip(groups, ids) if i.startswith("t\x00")}
    return [i[2:] for g, i in zip(groups, ids) if i.startswith("e\x00") and g in with_train]
