"""The local executor: the map phase's work units over a process pool (in-process for one worker or
one unit)."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable

from curate.config import CleanConfig
from curate.units import UnitResult
from curate.workunits import merge_results, plan, run_unit

Progress = Callable[..., None]  # (stage, done bytes, total bytes, rows=)


def map_units(files: list, config: CleanConfig, staging: Path, *, progress: Progress | None = None) -> list[UnitResult]:
    """One result per file in input order, whatever order the units finish in. Progress counts input bytes."""
    units = plan(files, config)
    total = sum(u.bytes for u in units) or 1
    done = rows = 0
    results: dict[int, list[UnitResult]] = {}
    if config.workers == 1 or len(units) <= 1:
        for unit in units:
            results[unit.index] = run_unit(unit, config, staging)
            done += unit.bytes
            rows += sum(r.rows for r in results[unit.index])
            if progress:
                progress("map", done, total, rows=rows)
    else:
        ctx = mp.get_context("spawn")  # workers start clean of the parent's threads and locks
        with ProcessPoolExecutor(max_workers=min(config.workers, len(units)), mp_context=ctx) as pool:
            futures = {pool.submit(run_unit, unit, config, staging): unit for unit in units}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    unit = futures[future]
                    results[unit.index] = future.result()  # a worker's error surfaces here
                    done += unit.bytes
                    rows += sum(r.rows for r in results[unit.index])
                    if progress:
                        progress("map", done, total, rows=rows)
    return merge_results([r for unit in units for r in results[unit.index]])
