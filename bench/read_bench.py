"""Read-throughput benchmark of curate.io.read_file on generated ShareGPT-like JSONL (a script, not a test).

    python tests/io/bench_read_jsonl.py --mb 200 [--runs 3] [--out bench/results/read_jsonl.md]

Each reader runs in its own process (so peak RSS is its own): curate's read_file, pyarrow.json.read_json
over the whole file (the vectorised upper bound, no rejects, no raw text), and orjson line by line (the
naive per-row baseline, which keeps no records). Prints a markdown table of medians: whole-process
wall seconds, CPU seconds (user+sys, all threads), MB/s and peak RSS. On a shared machine the CPU
column is the steadier one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

WORDS = ("the model data train token answer question python arrow parquet shard clean value "
         "user assistant system explain write code list table number example").split()


def generate(path: str, mb: int) -> int:
    rng = random.Random(7)
    target, size, n = mb << 20, 0, 0
    with open(path, "w", encoding="utf-8") as fh:
        while size < target:
            turns = []
            for t in range(rng.randint(2, 6)):
                words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 120)))
                turns.append({"from": "human" if t % 2 == 0 else "gpt", "value": words})
            row = {"id": f"row-{n}", "conversations": turns, "system": "You are helpful.",
                   "tools": ""}
            line = json.dumps(row, ensure_ascii=False) + "\n"
            fh.write(line)
            size += len(line.encode())
            n += 1
    return n


CHILD = {
    "curate": "from curate.io import discover, read_file\nfrom pathlib import Path\n"
              "f = discover([Path(P)])[0][0]\nn = sum(b.table.num_rows for b in read_file(f))",
    "pyarrow.read_json": "import pyarrow.json as pj\nn = pj.read_json(P).num_rows",
    "orjson per line": "import orjson\nn = 0\nfor line in open(P, 'rb'):\n    orjson.loads(line); n += 1",
}


def run_child(name: str, path: str) -> tuple[float, float, int, float]:
    code = (f"import time, resource\nP = {path!r}\nt = time.perf_counter()\n{CHILD[name]}\n"
            "w = time.perf_counter() - t\n"
            "u = resource.getrusage(resource.RUSAGE_SELF)\n"
            "print(w, u.ru_maxrss, n, u.ru_utime + u.ru_stime)")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    whole = time.perf_counter() - t0
    _, rss_kb, n, cpu = out.stdout.split()
    return whole, int(rss_kb) / 1024, int(n), float(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", help="also write the table to this markdown file")
    args = ap.parse_args()
    lines: list[str] = []
    say = lambda line="": (print(line), lines.append(line))  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sharegpt.jsonl")
        rows = generate(path, args.mb)
        mb = os.path.getsize(path) / 1e6
        say(f"{mb:.0f} MB, {rows} rows, {os.cpu_count()} CPUs, "
            f"load average before: {os.getloadavg()[0]:.1f}")
        say()
        say("| reader | wall s (median, whole process) | MB/s (wall) | CPU s | MB per CPU s "
            "| peak RSS MiB | rows |")
        say("|---|---|---|---|---|---|---|")
        for name in CHILD:
            res = [run_child(name, path) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in res)
            rss = statistics.median(r[1] for r in res)
            cpu = statistics.median(r[3] for r in res)
            say(f"| {name} | {wall:.2f} | {mb / wall:.0f} | {cpu:.2f} | {mb / cpu:.0f} | {rss:.0f} "
                f"| {res[0][2]} |")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
