"""Plan the map phase's work units, run each one at most once, and join their results per input file.

Shared by the executors: `plan` (driver side, before any task), `run_unit` (one task; completion
records make a rerun of an interrupted run redo only the unfinished units) and `merge_results`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable

from curate.config import CleanConfig
from curate.errors import UsageError
from curate.io.units import UNIT_BYTES, WorkUnit, plan_units
from curate.units import ORDER_BITS, UnitResult, config_hash, piece_sha256, process_unit, unit_dir

MAX_FILES = 1 << (63 - ORDER_BITS)
# input bytes per read batch: measured at 250 MB and 1 GB, 32 MiB batches were no faster and needed 1.5x
# the peak memory of 8 MiB batches (bench/scale_bench.py)
READ_BATCH_BYTES = 8 << 20


def unit_bytes(config: CleanConfig) -> int:
    """Input bytes per work unit: the config's `unit_mb` when it has one, else $CURATE_UNIT_BYTES (tests,
    benchmarks), else 64 MiB. It changes how work is cut, never what is written."""
    mb = getattr(config, "unit_mb", None)
    if mb:
        return int(mb * 2**20)
    return int(os.environ.get("CURATE_UNIT_BYTES") or UNIT_BYTES)


def batch_bytes() -> int:
    """Input bytes per read batch: $CURATE_BATCH_BYTES (tests, benchmarks), else 8 MiB."""
    return int(os.environ.get("CURATE_BATCH_BYTES") or READ_BATCH_BYTES)


def plan(files: list, config: CleanConfig) -> list[WorkUnit]:
    """Work units over the files, with the format of every split file detected once, here."""
    if len(files) >= MAX_FILES:
        raise UsageError(f"{len(files)} input files: at most {MAX_FILES - 1} can be cleaned in one run",
                         hint="concatenate small files, or clean the inputs in several runs")
    size = batch_bytes()
    units = plan_units(files, unit_bytes=unit_bytes(config), batch_bytes=size)
    split = {p.number: p.file for u in units for p in u.pieces if p.span is not None}
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        found = pool.map(lambda file: detect_file(file, size), split.values())
        detected = dict(zip(split.keys(), found))
    for unit in units:
        unit.detected = {p.number: detected[p.number] for p in unit.pieces if p.number in detected}
    return units


def detect_file(file, size: int) -> tuple:
    """(Detection | None, error | None) from the file's first batch with records, as a whole-file read
    would find it."""
    from curate import formats
    from curate.errors import CurateError
    from curate.io.readers import read_file

    for read in read_file(file, batch_bytes=size):
        if read.table.num_rows:
            try:
                return formats.detect(read.table, file.rel), None
            except CurateError as error:
                return None, str(error)
    return None, None


def merge_results(results: list[UnitResult]) -> list[UnitResult]:
    """One result per file, in input order: the pieces of a split file joined in span order."""
    merged: list[UnitResult] = []
    for r in results:
        if not merged or merged[-1].index != r.index:
            merged.append(r)
            continue
        into = merged[-1]
        into.rows += r.rows
        for name, counts in r.counts.items():
            into.count(name).merge(counts)
        into.batches += r.batches
        into.rejects += r.rejects
        for name, paths in r.keys.items():
            into.keys.setdefault(name, []).extend(paths)
        into.schemas += r.schemas
        into.used |= r.used
        for name, reports in r.reports.items():
            into.reports.setdefault(name, []).extend(reports)
        into.resumed += r.resumed
    return merged


def record_path(staging: Path, index: int) -> Path:
    """The completion record of a unit: written last, atomically, once all its staged files exist."""
    return staging / f"unit-{index:05d}.done"


def unit_key(unit: WorkUnit, config: CleanConfig) -> str:
    """What a unit's staged output depends on: its pieces (file, bytes, span), the read batch size and
    the options that shape the output."""
    digest = hashlib.sha256()
    digest.update(f"{config_hash(config)} {unit.batch_bytes}".encode())
    for piece in unit.pieces:
        span = piece.span and (piece.span.start, piece.span.stop, piece.span.first)
        digest.update(f"\n{piece.number} {piece.file.rel} {piece_sha256(piece)} {span}".encode())
    return digest.hexdigest()


def run_unit(unit: WorkUnit, config: CleanConfig, staging: Path) -> list[UnitResult]:
    """`process_unit`, unless a completion record with the same key says it is already done.

    The record is written (atomically) only after every staged file of the unit is complete, so a unit
    killed half-way is simply redone, and a changed input or config never reuses stale output."""
    key = unit_key(unit, config)
    record = record_path(staging, unit.index)
    if record.is_file():
        try:
            done = pickle.loads(record.read_bytes())
            results = [_rebase(r, lambda p: str(staging / p)) for r in done["results"]]
            if done["key"] == key and all(Path(p).is_file() for r in results for p in r.batches + r.rejects):
                results[0].resumed = 1
                return results
        except Exception:  # an unreadable record is a unit to redo, not an error
            pass
    record.unlink(missing_ok=True)
    shutil.rmtree(unit_dir(staging, unit.index), ignore_errors=True)
    results = process_unit(unit, config, staging)
    # paths relative to the staging folder: a record stays valid wherever OUT is mounted
    relative = [_rebase(r, lambda p: os.path.relpath(p, staging)) for r in results]
    temp = record.with_name(f".{record.name}.tmp")
    with open(temp, "wb") as fh:
        pickle.dump({"key": key, "results": relative}, fh)
        fh.flush()
        os.fsync(fh.fileno())  # the record must not outlive a crash that loses the files it vouches for
    os.replace(temp, record)
    return results


def _rebase(result: UnitResult, move: Callable[[str], str]) -> UnitResult:
    return replace(result, batches=[move(p) for p in result.batches], rejects=[move(p) for p in result.rejects],
                   keys={name: [move(p) for p in paths] for name, paths in result.keys.items()})
