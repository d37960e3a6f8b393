"""Near-duplicate removal, side by side: curate's MinHash stage vs datatrove's 4-stage MinHash (its
defaults) vs datasketch's MinHash + MinHashLSH loop, on the same corpus, in one run.

    .venv/bin/python bench/minhash_corpus.py           # once: corpus + exact-Jaccard truth
    .venv/bin/python bench/minhash_bench.py [--repeat 3]

Each tool runs in its own process (2 workers each) from the same two JSONL files and writes the ids it
removes; the parent measures whole-process wall time, CPU time and peak memory (PSS summed over the
process tree, sampled every 50 ms), then scores the removals against the truth at threshold 0.8:
- recall: per true cluster (connected pairs with exact Jaccard >= 0.8) of k rows, k - 1 should go;
  recall = sum(min(removed in cluster, k - 1)) / sum(k - 1);
- precision: share of removed rows that have some partner with exact Jaccard >= 0.6.
Results go to bench/results/minhash.md (or --results NAME).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data" / "minhash"
RESULTS = BENCH / "results"
THRESHOLD = 0.8
WORKERS = 2
TOOLS = ("curate", "datatrove", "datasketch")
EXTRA_TOOLS = ("curate-signature",)  # curate with verify="signature" (no exact check near the threshold)


# ---------------------------------------------------------------------------------------------------
# The three tools; each runs as `python minhash_bench.py --tool NAME --out FILE` in its own process.


def _curate_keys(args: tuple) -> "object":
    import pyarrow as pa
    import pyarrow.json as pj

    stage, path = args
    table = pj.read_json(path).select(["id", "text"])
    batches = [stage.keys(table.slice(i, 10_000)) for i in range(0, table.num_rows, 10_000)]
    return pa.concat_tables(batches)


def run_curate(out: Path, work: Path, verify: str = "exact") -> None:
    import multiprocessing

    import pyarrow as pa

    sys.path.insert(0, str(ROOT))
    from curate.stages.dedup.minhash import MinHashConfig, MinHashDedup

    stage = MinHashDedup(MinHashConfig(threshold=THRESHOLD, spill_dir=work, verify=verify))
    files = sorted(str(p) for p in DATA.glob("part-*.jsonl"))
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        keys = pa.concat_tables(pool.map(_curate_keys, [(stage, f) for f in files]))
    removed = stage.decide(pl.from_arrow(keys).lazy().with_row_index("order"))
    removed.select("id", "duplicate_of").write_parquet(out)
    print(json.dumps(stage.manifest_info()), file=sys.stderr)


def run_datatrove(out: Path, work: Path) -> None:
    import gzip

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    config = MinhashConfig()  # its defaults: 5-grams, 14 buckets x 8 hashes, 64-bit xxhash
    reader = lambda: JsonlReader(str(DATA), glob_pattern="part-*.jsonl")  # noqa: E731
    common = {"workers": WORKERS, "logging_dir": None}
    s1 = LocalPipelineExecutor(
        [reader(), MinhashDedupSignature(str(work / "sigs"), config=config)], tasks=2,
        **{**common, "logging_dir": str(work / "logs1")},
    )  # fmt: skip
    s2 = LocalPipelineExecutor(
        [MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=config)],
        tasks=config.num_buckets, depends=s1, **{**common, "logging_dir": str(work / "logs2")},
    )  # fmt: skip
    s3 = LocalPipelineExecutor(
        [MinhashDedupCluster(str(work / "buckets"), str(work / "remove"), config=config)],
        tasks=1, depends=s2, **{**common, "logging_dir": str(work / "logs3")},
    )  # fmt: skip
    s4 = LocalPipelineExecutor(
        [reader(), MinhashDedupFilter(str(work / "remove"), exclusion_writer=JsonlWriter(str(work / "removed"))),
         JsonlWriter(str(work / "kept"))],
        tasks=2, depends=s3, **{**common, "logging_dir": str(work / "logs4")},
    )  # fmt: skip
    s4.run()
    ids = [json.loads(line)["id"] for f in sorted((work / "removed").glob("*.jsonl.gz")) for line in gzip.open(f)]
    pl.DataFrame({"id": ids}, schema={"id": pl.String}).write_parquet(out)


def _datasketch_hashes(path: str) -> tuple[list[str], np.ndarray, str]:
    import re

    from datasketch import MinHash

    ids, rows = [], []
    for line in open(path):
        record = json.loads(line)
        words = re.findall(r"\w+", record["text"].lower())
        grams = [" ".join(words[i : i + 5]).encode() for i in range(max(len(words) - 4, 1))]
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(grams)
        ids.append(record["id"])
        rows.append(m.hashvalues)
    return ids, np.stack(rows), m.scheme


def run_datasketch(out: Path, work: Path) -> None:
    import multiprocessing

    from datasketch import LeanMinHash, MinHashLSH

    files = sorted(str(p) for p in DATA.glob("part-*.jsonl"))
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        parts = pool.map(_datasketch_hashes, files)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)
    removed, kept_of = [], []
    for ids, hashes, scheme in parts:
        for doc_id, values in zip(ids, hashes):
            m = LeanMinHash(seed=1, hashvalues=values, scheme=scheme)
            hits = lsh.query(m)
            if hits:
                removed.append(doc_id)
                kept_of.append(min(hits))
            else:
                lsh.insert(doc_id, m)
    schema = {"id": pl.String, "duplicate_of": pl.String}
    pl.DataFrame({"id": removed, "duplicate_of": kept_of}, schema=schema).write_parquet(out)


# ---------------------------------------------------------------------------------------------------
# Measuring and scoring.


def measure(tool: str, out: Path) -> dict:
    """Run one tool in its own process; wall time, CPU time and peak memory of its whole process tree.

    Memory is PSS (shared pages split between the processes sharing them) summed over the tree, so
    forked workers are not counted twice; CPU is user + system, summed over every process seen."""
    import psutil

    with tempfile.TemporaryDirectory(prefix=f"mh-{tool}-") as work:
        cmd = [sys.executable, __file__, "--tool", tool, "--out", str(out), "--work", work]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        root, peak, cpu = psutil.Process(proc.pid), 0, {}
        while proc.poll() is None:
            total = 0
            for p in [root, *root.children(recursive=True)]:
                try:
                    with p.oneshot():
                        total += p.memory_full_info().pss
                        times = p.cpu_times()
                        cpu[p.pid] = times.user + times.system
                except psutil.Error:
                    pass
            peak = max(peak, total)
            time.sleep(0.05)
        wall = time.perf_counter() - start
        err = proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"{tool} failed:\n{err[-3000:]}")
    info = json.loads(err.strip().splitlines()[-1]) if tool.startswith("curate") else None
    return {"wall": wall, "cpu": sum(cpu.values()), "rss": peak / 2**20, "info": info}


def score(removed_ids: list[str], truth: pl.DataFrame, n_docs: int) -> dict:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    removed = np.zeros(n_docs, bool)
    removed[[int(i[1:]) for i in removed_ids]] = True
    strong = truth.filter(pl.col("jaccard") >= THRESHOLD)
    a, b = strong["a"].to_numpy(), strong["b"].to_numpy()
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_docs, n_docs))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    hit = np.bincount(labels, weights=removed)
    multi = sizes > 1
    recall = np.minimum(hit[multi], sizes[multi] - 1).sum() / (sizes[multi] - 1).sum()

    def partnered(min_j: float) -> float:
        t = truth.filter(pl.col("jaccard") >= min_j)
        has = np.zeros(n_docs, bool)
        has[t["a"].to_numpy()] = True
        has[t["b"].to_numpy()] = True
        return float((has & removed).sum() / max(removed.sum(), 1))

    return {"removed": int(removed.sum()), "should_remove": int((sizes[multi] - 1).sum()),
            "recall": float(recall), "precision_0.6": partnered(0.6), "precision_0.8": partnered(0.8)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=TOOLS + EXTRA_TOOLS)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; wall time and RSS are medians")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, of {TOOLS + EXTRA_TOOLS}")
    parser.add_argument("--results", default="minhash", help="name of the report under bench/results/")
    args = parser.parse_args()
    if args.tool:
        runners = {"curate": run_curate, "datatrove": run_datatrove, "datasketch": run_datasketch,
                   "curate-signature": lambda out, work: run_curate(out, work, verify="signature")}
        runners[args.tool](args.out, args.work)
        return
    if not (DATA / "truth.parquet").exists():
        raise SystemExit("no corpus: run bench/minhash_corpus.py first")
    truth = pl.read_parquet(DATA / "truth.parquet")
    n_docs = sum(1 for f in DATA.glob("part-*.jsonl") for _ in open(f))
    tools = args.tools.split(",")
    runs: dict[str, list[dict]] = {t: [] for t in tools}
    scores: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeat):
            for tool in tools if r % 2 == 0 else tools[::-1]:  # alternate the order between rounds
                out = Path(tmp) / f"{tool}.parquet"
                runs[tool].append(measure(tool, out))
                scores[tool] = score(pl.read_parquet(out)["id"].to_list(), truth, n_docs)
                print(tool, r, f"{runs[tool][-1]['wall']:.1f}s", scores[tool], flush=True)
    report(runs, scores, n_docs, truth, args.repeat, args.results)


def report(runs: dict, scores: dict, n_docs: int, truth: pl.DataFrame, repeat: int, name: str) -> None:
    wall = {t: statistics.median(r["wall"] for r in runs[t]) for t in runs}
    rss = {t: statistics.median(r["rss"] for r in runs[t]) for t in runs}
    cpu = {t: statistics.median(r["cpu"] for r in runs[t]) for t in runs}
    lines = [
        f"# Near-duplicate removal at threshold {THRESHOLD}: {n_docs} documents, {WORKERS} workers each",
        "",
        f"Truth: {truth.filter(pl.col('jaccard') >= THRESHOLD).height} pairs with exact Jaccard >= {THRESHOLD}; "
        f"median of {repeat} runs; CPU = user + system of the whole process tree; "
        "memory = peak PSS summed over the process tree (sampled every 50 ms).",
        "",
        "| tool | wall s | wall vs datatrove | CPU s | CPU vs datatrove | peak PSS MiB | PSS vs datatrove "
        "| removed | recall (>=0.8) | precision (partner >=0.6) | precision (partner >=0.8) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in runs:
        s = scores[t]
        ratio = (lambda d: f"{d[t] / d['datatrove']:.2f}" if "datatrove" in d else "-")
        lines.append(
            f"| {t} | {wall[t]:.1f} | {ratio(wall)} | {cpu[t]:.1f} | {ratio(cpu)} | {rss[t]:.0f} | {ratio(rss)} "
            f"| {s['removed']} | {s['recall']:.4f} | {s['precision_0.6']:.4f} | {s['precision_0.8']:.4f} |"
        )
    info = next((r["info"] for r in runs.get("curate", []) if r["info"]), None)
    if info:
        lines += ["", "curate's manifest entry:", "", "```json", json.dumps(info, indent=1), "```"]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
