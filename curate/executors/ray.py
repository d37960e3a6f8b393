"""The Ray executor: each work unit's map phase is one Ray task; planning, decide and write stay on the
driver.

Units write their staged files under OUT/.staging, so on a multi-node cluster OUT must be on storage
that every node sees at the same path (NFS, a mounted bucket) and the inputs must be readable at the
same paths on every node. The results are merged in input order, exactly like the local executor's, so
both give byte-identical shards.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from curate.config import CleanConfig
from curate.errors import CurateError, MissingDependency
from curate.units import UnitResult
from curate.workunits import merge_results, plan, run_unit

Progress = Callable[..., None]  # (stage, done bytes, total bytes, rows=)


def map_units(files: list, config: CleanConfig, staging: Path, *, progress: Progress | None = None) -> list[UnitResult]:
    try:
        import ray
    except ImportError:
        raise MissingDependency("ray", "ray") from None
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # else Ray writes an auth token under ~/.ray
    units = plan(files, config)
    started_here = not ray.is_initialized()
    if started_here:
        options = {"address": config.ray_address} if config.ray_address else {"num_cpus": config.workers}
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **options)
    try:
        task = ray.remote(run_unit)
        refs = {task.remote(unit, config, staging.resolve()): unit for unit in units}
        total = sum(u.bytes for u in units) or 1
        done = rows = 0
        results: dict[int, list[UnitResult]] = {}
        pending = list(refs)
        while pending:
            # several at a time: one ray.wait per task would cost O(units²) over tens of thousands of units
            ready, pending = ray.wait(pending, num_returns=min(len(pending), 64), timeout=0.5)
            for ref in ready:
                unit = refs[ref]
                results[unit.index] = _get(ray, ref)
                done += unit.bytes
                rows += sum(r.rows for r in results[unit.index])
                if progress:
                    progress("map", done, total, rows=rows)
        return merge_results([r for unit in units for r in results[unit.index]])
    finally:
        if started_here:
            ray.shutdown()


def _get(ray, ref):
    """A task's result; a `CurateError` raised in a task surfaces as itself (its one-line message and exit
    code), not wrapped in Ray's task error. Ray retries tasks lost with their node; `run_unit` redoes the
    unit from scratch, so a retry is safe."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        if isinstance(error.cause, CurateError):
            raise error.cause from None
        raise
