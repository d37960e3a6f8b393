"""Throughput of `curate.formats.normalise` (and `export` to openai) on typical rows: vectorised paths
versus the per-row readers/writers.

Builds in-memory batches (as the readers produce them) by repeating the LLaMA-Factory demo shapes, then
times normalise on one core. Times are CPU seconds of this process (time.process_time), so a busy shared
machine does not distort them; wall time of the whole run is what /usr/bin/time reports. Usage: python bench/formats_normalise.py [MB per shape, default 64]
Writes bench/results/formats_normalise.md.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import pyarrow as pa

from curate.formats import detect, export, fast, fast_export, normalise

SHAPES = {
    "alpaca": [{"instruction": "Describe a process of making crepes, step by step " * 3, "input": "",
                "output": "Making crepes is an easy and delicious process! " * 20},
               {"instruction": "Translate to French", "input": "The weather is nice today. " * 4,
                "output": "Il fait beau aujourd'hui. " * 4, "system": "You are a translator."}],
    "sharegpt": [{"conversations": [{"from": "human", "value": "Hi! Can you help me plan a trip? " * 5},
                                    {"from": "gpt", "value": "Of course, here is a plan: " * 30},
                                    {"from": "human", "value": "Thanks, and the budget?"},
                                    {"from": "gpt", "value": "A budget of about 2000 EUR. " * 10}],
                  "system": "You are helpful."}],
    "openai": [{"messages": [{"role": "system", "content": "You are helpful."},
                             {"role": "user", "content": "Explain recursion to a child. " * 5},
                             {"role": "assistant", "content": "Recursion is when something repeats itself. " * 25}],
                "label": True}],
}


def batch(records: list[dict], target_bytes: int) -> tuple[pa.Table, pa.Array, int]:
    one = sum(len(json.dumps(r, ensure_ascii=False).encode()) for r in records)
    rows = records * max(1, target_bytes // one)
    raw = pa.array([json.dumps(r, ensure_ascii=False) for r in rows], pa.large_string())
    return pa.Table.from_pylist(rows), raw, sum(len(s.encode()) for s in raw.to_pylist())


def timed(table, raw, rel, repeats=3) -> float:
    det = detect(table, rel)
    index = pa.array(range(len(table)), pa.int64())
    runs = []
    for _ in range(repeats):
        t0 = time.process_time()
        normalise(table, det, file_rel=rel, raw=raw, index=index)
        runs.append(time.process_time() - t0)
    return statistics.median(runs)


def main() -> None:
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    lines = ["| shape | MB | vectorised MB/s | per-row MB/s | speed-up |", "|---|---|---|---|---|"]
    for name, records in SHAPES.items():
        table, raw, nbytes = batch(records, mb << 20)
        vec = timed(table, raw, f"{name}.jsonl")
        saved = dict(fast.FAST)
        fast.FAST.clear()
        try:
            row = timed(table, raw, f"{name}.jsonl", repeats=1)
        finally:
            fast.FAST.update(saved)
        lines.append(f"| {name} | {nbytes / 1e6:.0f} | {nbytes / vec / 1e6:.0f} | {nbytes / row / 1e6:.0f} | {row / vec:.1f}x |")
        print(lines[-1], flush=True)
    lines += ["", "| export to openai | MB | vectorised MB/s | per-row MB/s |", "|---|---|---|---|"]
    for name, records in SHAPES.items():
        table, raw, nbytes = batch(records, mb << 20)
        canonical, _ = normalise(table, detect(table, "x.jsonl"), file_rel="x.jsonl", raw=raw,
                                 index=pa.array(range(len(table)), pa.int64()))
        speeds = []
        for vectorised in (True, False):
            saved = fast_export.openai_columns
            if not vectorised:
                fast_export.openai_columns = lambda table: None
            t0 = time.process_time()
            export(canonical, "openai")
            speeds.append(nbytes / (time.process_time() - t0) / 1e6)
            fast_export.openai_columns = saved
        lines.append(f"| {name} | {nbytes / 1e6:.0f} | {speeds[0]:.0f} | {speeds[1]:.0f} |")
        print(lines[-1], flush=True)
    out = Path(__file__).parent / "results" / "formats_normalise.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("# normalise / export throughput (one core; normalise: median of 3)\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
