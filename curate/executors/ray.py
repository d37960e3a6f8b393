"""The Ray executor: each work unit's map phase is one Ray task; decide and write stay on the driver.

Units write their staged files under OUT/.staging, so on a multi-node cluster OUT must be on storage
that every node sees (NFS, a mounted bucket). The results are merged in input order, exactly like the
local executor's, so both give byte-identical shards.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from curate.config import CleanConfig
from curate.errors import MissingDependency
from curate.units import UnitResult, run_unit

Progress = Callable[[str, int, int], None]


def map_units(files: list, config: CleanConfig, staging: Path, *, progress: Progress | None = None) -> list[UnitResult]:
    try:
        import ray
    except ImportError:
        raise MissingDependency("ray", "ray") from None
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # else Ray writes an auth token under ~/.ray
    started_here = not ray.is_initialized()
    if started_here:
        options = {"address": config.ray_address} if config.ray_address else {"num_cpus": config.workers}
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **options)
    try:
        task = ray.remote(run_unit)
        refs = {task.remote(i, f, config, staging): i for i, f in enumerate(files)}
        total = sum(f.size for f in files) or 1
        done = 0
        results: dict[int, UnitResult] = {}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            index = refs[ready[0]]
            results[index] = ray.get(ready[0])
            done += files[index].size
            if progress:
                progress("map", done, total)
        return [results[i] for i in range(len(files))]
    finally:
        if started_here:
            ray.shutdown()
