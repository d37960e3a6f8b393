"""Scale of `curate clean`: throughput vs number of workers, and peak memory vs input size.

Inputs are generated JSONL (bench/clean_bench.py's generator: ShareGPT/OpenAI records of about 1 KB,
5% exact duplicates, a few broken lines) in `--files` files, so each file is larger than a work unit
(64 MiB) and gets split into spans. Each configuration runs `curate clean --dedup exact` as a separate
process; we record wall time, CPU time (user + system of the whole process tree, which is steadier than
wall time on a shared machine) and peak RSS of the process tree (sampled every 50 ms). Usage:

    .venv/bin/python bench/scale_bench.py --sizes 250,1000 --workers 1,2 --batch-mb 8,32 --repeat 1

Rows: one per (size, workers, batch MiB). The memory table reports the growth of peak RSS from the
smallest to the largest input for each batch size (target: <= 1.5 GB peak, <= 1.6x growth).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from clean_bench import generate  # noqa: E402
from measure import run_measured  # noqa: E402


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(curate: str, raw: Path, out: Path, workers: int, batch_mb: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "CURATE_BATCH_BYTES": str(batch_mb << 20)}
    cpu0 = children_cpu()
    run = run_measured([curate, "clean", str(raw), "--out", str(out), "--dedup", "exact", "--no-report",
                        "--workers", str(workers)], env=env)
    run["cpu_s"] = children_cpu() - cpu0  # the tree's CPU: workers are reaped by curate, curate by us
    run["summary"] = run["stdout"].splitlines()[0]
    shutil.rmtree(out, ignore_errors=True)
    return run


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="250,1000", help="input sizes in MB, comma-separated")
    parser.add_argument("--workers", default="1,2", help="worker counts (throughput, at the smallest size)")
    parser.add_argument("--batch-mb", default="8", help="read batch sizes in MiB (memory, at every size)")
    parser.add_argument("--files", type=int, default=2, help="input files per size (large: they get split)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", default="bench/data/scale")
    args = parser.parse_args()
    curate = str(Path(sys.executable).parent / "curate")
    sizes = sorted(map(int, args.sizes.split(",")))
    workers = sorted(map(int, args.workers.split(",")))
    batches = sorted(map(int, args.batch_mb.split(",")))
    plan = [(sizes[0], w, batches[0]) for w in workers]  # throughput vs workers
    plan += [(s, workers[-1], b) for b in batches for s in sizes if (s, workers[-1], b) not in plan]
    rows = {}
    for size, w, batch in plan:
        raw = Path(args.work) / f"raw-{size}mb-{args.files}f"
        if not raw.exists():
            generate(raw, size, files=args.files)
        mb = sum(p.stat().st_size for p in raw.iterdir()) / 2**20
        runs = [run_once(curate, raw, Path(args.work) / "out", w, batch) for _ in range(args.repeat)]
        rows[size, w, batch] = (mb, runs)
        print(f"{mb:.0f} MB, {w} workers, {batch} MiB batches: {median(runs, 'wall_s'):.1f} s wall, "
              f"{median(runs, 'cpu_s'):.1f} s CPU, {median(runs, 'peak_rss_mb'):.0f} MB peak | "
              f"{runs[-1]['summary']}", flush=True)
    lines = [f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of "
             f"{args.repeat} run(s)", "",
             "| input | workers | batch | wall | CPU (tree) | MB/s (wall) | MB per CPU-s | peak RSS (tree) |",
             "|---|---|---|---|---|---|---|---|"]
    for (size, w, batch), (mb, runs) in rows.items():
        wall, cpu, rss = median(runs, "wall_s"), median(runs, "cpu_s"), median(runs, "peak_rss_mb")
        lines.append(f"| {mb:.0f} MB | {w} | {batch} MiB | {wall:.1f} s | {cpu:.1f} s | {mb / wall:.2f} | "
                     f"{mb / cpu:.2f} | {rss:.0f} MB |")
    lines += ["", "| batch | peak RSS growth, smallest → largest input |", "|---|---|"]
    for batch in batches:
        small, large = rows.get((sizes[0], workers[-1], batch)), rows.get((sizes[-1], workers[-1], batch))
        if small and large and len(sizes) > 1:
            growth = median(large[1], "peak_rss_mb") / median(small[1], "peak_rss_mb")
            lines.append(f"| {batch} MiB | {growth:.2f}x ({sizes[0]} MB → {sizes[-1]} MB input) |")
    report = "\n".join(lines)
    print(report)
    Path("bench/results").mkdir(parents=True, exist_ok=True)
    Path("bench/results/scale.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
