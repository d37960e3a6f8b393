"""Whole-process measurement for benchmarks: wall time and peak RSS of a command's process tree.

Peak RSS is sampled every 50 ms over the process and all its descendants (summed), since curate and
its peers run worker processes; the figure is what the machine had to hold at the worst moment.
"""

from __future__ import annotations

import statistics
import subprocess
import time

import psutil


def run_measured(cmd: list[str], *, env: dict | None = None, cwd: str | None = None) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            rss = sum(p.memory_info().rss for p in tree if p.is_running())
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {"wall_s": wall, "peak_rss_mb": peak / 2**20, "stdout": out.decode(), "stderr": err.decode()}


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)
