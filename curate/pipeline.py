"""`curate clean`: annotate → decide → write over work units.

1. Map (per work unit — a span of a big file or a group of small ones — in worker processes or Ray
   tasks, see `curate.workunits`): read → detect + normalise → map stages (validate, PII, quality,
   template gate) → keys for the global stages → export to the output format. Each batch is staged as
   Arrow IPC under ``OUT/.staging`` with its ``order`` (file number << 40 | row index), ``raw`` and
   source columns; rows dropped so far are staged as rejects.
2. Decide (global, over compact key tables only): exact / near duplicates → rows to drop by ``order``.
3. Write: staged batches in input order → ``data/`` or ``rejects/`` shards, then ``manifest.json``.

Every record read ends in exactly one of data/ or rejects/; the manifest's counts prove it
(read = kept + rejected).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.config import CleanConfig
from curate.errors import UsageError
from curate.io import manifest as manifest_io
from curate.io import staging as staging_io
from curate.io.conform import conform, dataset_schema
from curate.io.writers import ShardWriter
from curate.records import REJECT_SCHEMA
from curate.stages.base import StageCounts
from curate.stages.assemble import map_stages
from curate.units import UnitResult, reason_label, redact_raw

STAGING = ".staging"
Progress = Callable[..., None]  # (stage, done, total, rows=): bytes in the map phase, batches in the write


@dataclass
class CleanResult:
    out: Path
    manifest: dict
    read: int
    kept: int
    rejected: int
    by_reason: Counter = field(default_factory=Counter)


def run_clean(inputs: list[Path], out: Path, config: CleanConfig, *, progress: Progress | None = None) -> CleanResult:
    from curate.io.discover import discover
    from curate.stages.assemble import global_stages

    started = time.perf_counter()
    files, skipped = discover(inputs)
    if not files:
        raise UsageError(f"no data files found in {', '.join(map(str, inputs))}",
                         hint="give .json, .jsonl(.gz/.zst), .csv, .tsv or .parquet files or folders of them")
    staging = _prepare_out(out, inputs, config)
    results = _executor(config)(files, config, staging, progress=progress)
    kind = _dataset_kind(results, config)
    included = [r for r in results if r.kind == kind]

    stages = global_stages(config, staging)
    decided, decide_counts, stage_info = _decide(stages, included, config, progress)
    final = staging / "final"
    shutil.rmtree(final, ignore_errors=True)
    manifest = _write(final, results, kind, decided, config, progress)
    _save_indexes(stages, final, config)

    counts = manifest["counts"]
    counts["by_stage"] = _stage_counts(results, kind, decide_counts)
    manifest["stages"].update(stage_info)
    manifest["templates"] = _template_verdict(included)
    pii_reports = [rep for r in results for rep in r.reports.get("pii", [])]
    if pii_reports:
        from curate.stages.pii import PiiRedactor

        manifest["stages"]["pii"] = PiiRedactor.merge_manifest_info(pii_reports)
    manifest["seconds"] = round(time.perf_counter() - started, 3)
    manifest["resumed_units"] = sum(r.resumed for r in results)
    manifest["skipped"] = skipped
    _publish(final, out, manifest)
    shutil.rmtree(staging, ignore_errors=True)
    return CleanResult(out, manifest, counts["read"], counts["kept"], counts["rejected"],
                       Counter(counts["rejects_by_reason"]))


def _template_verdict(results: list[UnitResult]) -> dict | None:
    """The template gate's per-batch reports merged into the dataset's verdict (None without a gate)."""
    from functools import reduce

    reports = [rep for r in results for rep in r.reports.get("template", [])]
    if not reports:
        return None
    return reduce(lambda a, b: a.merge(b), reports).to_json()


def _save_indexes(stages, final: Path, config: CleanConfig) -> None:
    """Stages that keep an index of the kept rows (MinHash signatures for a later --against) write it
    under OUT/index/, then drop their spill files."""
    for stage in stages:
        if hasattr(stage, "save_index"):
            shards = str(final / "data" / f"part-*.{'parquet' if config.to == 'parquet' else 'jsonl'}")
            ids = (pl.scan_parquet(shards) if config.to == "parquet" else pl.scan_ndjson(shards)).select("id")
            stage.save_index(final, ids)
        if hasattr(stage, "close"):
            stage.close()


def _executor(config: CleanConfig):
    if config.executor == "ray":
        from curate.executors.ray import map_units
    else:
        from curate.executors.local import map_units
    return map_units


def _prepare_out(out: Path, inputs: list[Path], config: CleanConfig) -> Path:
    """Check OUT, and return the staging folder: kept from an interrupted run of the same command
    (so its finished units are reused), emptied otherwise."""
    from curate.units import config_hash

    resolved = out.resolve()
    for path in inputs:
        p = path.resolve()
        if resolved == p or p in resolved.parents or resolved in p.parents:
            raise UsageError(f"--out {out} overlaps the input {path}",
                             hint="write the dataset to a folder outside the inputs")
    staging = out / STAGING
    if out.exists() and any(out.iterdir()):
        if not (out / manifest_io.MANIFEST).is_file() and not staging.is_dir():
            raise UsageError(f"--out {out} exists and is not a curate dataset",
                             hint="choose an empty or new folder (curate only replaces its own datasets)")
    run = {"config": config_hash(config), "inputs": sorted(str(p.resolve()) for p in inputs)}
    marker = staging / "run.json"
    if marker.is_file() and json.loads(marker.read_text()) == run:
        return staging
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    marker.write_text(json.dumps(run))
    return staging


def _publish(final: Path, out: Path, manifest: dict) -> None:
    """Swap the finished shards into OUT, then write the manifest last: a reader that finds a manifest
    finds the shards it lists, and a killed run never leaves a half-written shard in data/ or rejects/."""
    (out / manifest_io.MANIFEST).unlink(missing_ok=True)
    for folder in ("data", "rejects", "index"):
        shutil.rmtree(out / folder, ignore_errors=True)
        if (final / folder).exists():
            os.replace(final / folder, out / folder)
    manifest_io.write(out, manifest)


def _stage_counts(results: list[UnitResult], kind: str, decided: dict[str, StageCounts]) -> dict:
    """Rows in/out per stage in the order rows meet them: the map stages, then the choice of the
    dataset's kind (files of another kind leave here), then the global stages."""
    by_stage: dict[str, StageCounts] = {}
    for r in results:
        for name, stage_counts in r.counts.items():
            if name not in decided:  # global stages time their keys in the map phase: merged below
                by_stage.setdefault(name, StageCounts()).merge(stage_counts)
    mapped = sum(r.counts["export"].rows_out for r in results if "export" in r.counts)
    other = sum(r.counts["export"].rows_out for r in results if "export" in r.counts and r.kind != kind)
    by_stage["kind"] = StageCounts(rows_in=mapped, rows_out=mapped - other)
    if other:
        by_stage["kind"].dropped["kind mismatch"] = other
    for name, stage_counts in decided.items():
        by_stage[name] = stage_counts
        for r in results:
            if name in r.counts:
                by_stage[name].seconds += r.counts[name].seconds
    return {name: c.to_json() for name, c in by_stage.items()}


def _dataset_kind(results: list[UnitResult], config: CleanConfig) -> str:
    if config.kind != "auto":
        return config.kind
    rows = Counter()
    for r in results:
        if r.kind:
            rows[r.kind] += r.rows
    if not rows:
        return "conversation"
    # most rows wins; ties go to the richer kind, deterministically
    order = {"conversation": 0, "preference": 1, "text": 2}
    return sorted(rows.items(), key=lambda kv: (-kv[1], order[kv[0]]))[0][0]


def _decide(stages, included: list[UnitResult], config: CleanConfig, progress: Progress | None):
    decided = pl.DataFrame(schema={"order": pl.Int64, "id": pl.String, "reason": pl.String,
                                   "duplicate_of": pl.String, "stage": pl.String})
    counts: dict[str, StageCounts] = {}
    info: dict[str, dict] = {}
    for stage in stages:
        t0 = time.perf_counter()
        if progress:
            progress(stage.name, 0, 0)
        paths = [p for r in included for p in r.keys.get(stage.name, [])]
        keys = staging_io.scan(paths) if paths else None
        if keys is not None and decided.height:
            keys = keys.join(decided.lazy().select("order"), on="order", how="anti")
        drops = stage.decide(keys) if keys is not None else decided.clear().select("order", "id", "reason", "duplicate_of")
        drops = drops.select(pl.col("order").cast(pl.Int64), "id", "reason",
                             pl.col("duplicate_of").cast(pl.String)).with_columns(stage=pl.lit(stage.name))
        decided = pl.concat([decided, drops])
        rows_in = keys.select(pl.len()).collect().item() if keys is not None else 0
        c = StageCounts(rows_in=rows_in, rows_out=rows_in - drops.height, seconds=time.perf_counter() - t0)
        c.dropped.update(Counter(reason_label(r) for r in drops["reason"].to_list()))
        counts[stage.name] = c
        info[stage.name] = stage.manifest_info()
    return decided, counts, info


def _write(out: Path, results: list[UnitResult], kind: str, decided: pl.DataFrame, config: CleanConfig,
           progress: Progress | None) -> dict:
    included = [r for r in results if r.kind == kind]
    schemas = [s for r in included for s in r.schemas]
    used = set().union(*(r.used for r in included)) if included else set()
    data_schema = dataset_schema(schemas, used) if schemas else pa.schema([pa.field("id", pa.string())])
    data = ShardWriter(out, "data", data_schema, to=config.to, shard_rows=config.shard_rows,
                       row_group_rows=config.row_group_rows)
    rejects = ShardWriter(out, "rejects", REJECT_SCHEMA, to=config.to, shard_rows=config.shard_rows,
                          row_group_rows=config.row_group_rows)
    drops = decided.to_arrow()
    reasons: Counter = Counter()
    read = kept = 0
    total = sum(len(r.batches) for r in results) or 1
    done = 0
    for r in results:
        read += r.rows
        for path in r.rejects:
            table = staging_io.read(path)
            reasons.update(_labels(table))
            rejects.write(table)
        for path in r.batches:
            batch = staging_io.read(path)
            if r.kind != kind:
                rejected = _as_rejects(batch, "kind", pa.array(
                    [f"kind mismatch: file holds {r.kind} records, the dataset is {kind} "
                     f"(use --kind {r.kind} or clean the files separately)"] * batch.num_rows, pa.string()))
                reasons.update(_labels(rejected))
                rejects.write(rejected)
                continue
            dropped_mask = pc.is_in(batch["order"], value_set=drops["order"]) if len(drops) else \
                pa.array([False] * batch.num_rows)
            gone = batch.filter(dropped_mask)
            if gone.num_rows:
                joined = pa.table({"order": gone["order"]}).join(drops, "order", join_type="left outer")
                joined = joined.sort_by("order")
                gone = gone.sort_by("order")
                rejected = redact_raw(_as_rejects(gone, None, joined["reason"], joined["duplicate_of"],
                                                  joined["stage"]), map_stages(config))
                reasons.update(_labels(rejected))
                rejects.write(rejected)
            keep = batch.filter(pc.invert(dropped_mask))
            kept += keep.num_rows
            data.write(conform(keep.drop_columns(["order", "raw"]), data_schema))
            done += 1
            if progress:
                progress("write", done, total)
    data_shards, reject_shards = data.close(), rejects.close()
    rejected = sum(s.rows for s in reject_shards)
    return {
        "schema_version": manifest_io.SCHEMA_VERSION,
        "kind": kind,
        "format": "text" if kind == "text" else config.format,
        "created_by": manifest_io.tool_versions(),
        "config": config.to_json(),
        "inputs": [r.input_info() for r in results],
        "skipped": [],
        "counts": {"read": read, "kept": kept, "rejected": rejected, "by_stage": {},
                   "rejects_by_reason": dict(sorted(reasons.items()))},
        "shards": {"data": [s.to_json() for s in data_shards], "rejects": [s.to_json() for s in reject_shards]},
        "stages": {},
        "templates": None,
    }


def _labels(rejects: pa.Table) -> Counter:
    stages = rejects["stage"].to_pylist()
    return Counter(f"{s}/{reason_label(r)}" for s, r in zip(stages, rejects["reason"].to_pylist()))


def _as_rejects(batch: pa.Table, stage: str | None, reasons: pa.Array, duplicate_of: pa.Array | None = None,
                stages: pa.Array | None = None) -> pa.Table:
    n = batch.num_rows
    source = batch["source"].combine_chunks()
    return pa.table(
        {
            "id": batch["id"],
            "raw": batch["raw"].cast(pa.large_string()),
            "source_file": source.field("file"),
            "source_index": source.field("index"),
            "stage": stages if stages is not None else pa.array([stage] * n, pa.string()),
            "reason": reasons,
            "duplicate_of": duplicate_of if duplicate_of is not None else pa.nulls(n, pa.string()),
        },
        schema=REJECT_SCHEMA,
    )


