"""`curate clean --dedup exact` throughput and peak memory on generated JSONL.

Generates ShareGPT- and OpenAI-shaped JSONL (about 1 KB per record, 5% exact duplicates, a few broken
lines) at each size, runs `curate clean` on it as a separate process `--repeat` times and reports the
median MB/s and peak RSS of the whole process tree. Usage:

    .venv/bin/python bench/clean_bench.py --sizes 250,1000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from measure import median_of, run_measured  # noqa: E402

WORDS = ("data model train token answer question python table river mountain music light system value "
         "energy market window garden letter number street kitchen doctor engine planet summer winter "
         "history science village picture animal reason moment office teacher student").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def record(rng: random.Random, i: int, shape: str) -> dict:
    q = f"Question {i}: " + sentence(rng, 25)
    a = " ".join(sentence(rng, 20) for _ in range(6))
    if shape == "sharegpt":
        return {"conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}]}
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def generate(folder: Path, megabytes: int, files: int = 8, seed: int = 0) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    target = megabytes * 2**20 // files
    total = 0
    i = 0
    for f in range(files):
        shape = "sharegpt" if f % 2 == 0 else "openai"
        written = 0
        recent: list[bytes] = []
        with open(folder / f"part-{f:02d}.jsonl", "wb") as out:
            while written < target:
                if recent and rng.random() < 0.05:
                    line = rng.choice(recent)
                elif rng.random() < 0.0005:
                    line = b'{"broken": '
                else:
                    line = orjson.dumps(record(rng, i, shape))
                    recent = (recent + [line])[-1000:]
                i += 1
                out.write(line + b"\n")
                written += len(line) + 1
        total += written
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="250,1000", help="input sizes in MB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", default="bench/data/clean")
    args = parser.parse_args()
    curate = str(Path(sys.executable).parent / "curate")
    rows = []
    for size in map(int, args.sizes.split(",")):
        raw = Path(args.work) / f"raw-{size}mb"
        if not raw.exists():
            generate(raw, size)
        nbytes = sum(p.stat().st_size for p in raw.iterdir())
        runs = []
        for _ in range(args.repeat):
            out = Path(args.work) / f"out-{size}mb"
            shutil.rmtree(out, ignore_errors=True)
            runs.append(run_measured([curate, "clean", str(raw), "--out", str(out), "--dedup", "exact",
                                      "--pii", "off", "--quality", "off", "--workers", str(args.workers)],
                                     env={**os.environ}))
        wall = median_of(runs, "wall_s")
        rows.append((size, nbytes / 2**20, wall, nbytes / 2**20 / wall, median_of(runs, "peak_rss_mb")))
        print(runs[-1]["stdout"].splitlines()[0])
    lines = ["| input | wall (median) | throughput | peak RSS (median, process tree) |", "|---|---|---|---|"]
    for size, mb, wall, rate, rss in rows:
        lines.append(f"| {mb:.0f} MB JSONL | {wall:.1f} s | {rate:.1f} MB/s | {rss:.0f} MB |")
    report = "\n".join(lines)
    print(report)
    Path("bench/results").mkdir(parents=True, exist_ok=True)
    Path("bench/results/clean.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
