"""Plan the map phase's work units and join their results back into one result per input file.

Shared by the executors: `plan` (driver side, before any task) and `merge_results` (after the last).
"""

from __future__ import annotations

import os

from curate.config import CleanConfig
from curate.errors import UsageError
from curate.io.units import UNIT_BYTES, WorkUnit, plan_units
from curate.units import ORDER_BITS, UnitResult

MAX_FILES = 1 << (63 - ORDER_BITS)
READ_BATCH_BYTES = 8 << 20  # input bytes per read batch: 8 MiB keeps peak memory flat, 32 MiB does not


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
    detected = {number: detect_file(file, size) for number, file in split.items()}
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
        into.resumed += r.resumed
    return merged
