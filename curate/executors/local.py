"""The local executor: the map phase over a process pool (or in-process for one worker or one file)."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable

from curate.config import CleanConfig
from curate.units import UnitResult, run_unit

Progress = Callable[[str, int, int], None]


def map_units(files: list, config: CleanConfig, staging: Path, *, progress: Progress | None = None) -> list[UnitResult]:
    """Results in input order, whatever order the workers finish in. Progress counts input bytes."""
    total = sum(f.size for f in files) or 1
    done = 0
    if config.workers == 1 or len(files) == 1:
        results = []
        for index, file in enumerate(files):
            results.append(run_unit(index, file, config, staging))
            done += file.size
            if progress:
                progress("map", done, total)
        return results
    ctx = mp.get_context("spawn")  # workers start clean of the parent's threads and locks
    with ProcessPoolExecutor(max_workers=config.workers, mp_context=ctx) as pool:
        futures = {pool.submit(run_unit, i, f, config, staging): i for i, f in enumerate(files)}
        results: dict[int, UnitResult] = {}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = futures[future]
                results[index] = future.result()  # a worker's error surfaces here
                done += files[index].size
                if progress:
                    progress("map", done, total)
        return [results[i] for i in range(len(files))]
