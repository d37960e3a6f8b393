"""Throughput of `curate templates check` on >= 100k conversations, side by side with the peer:
transformers' `apply_chat_template(tokenize=True)` over the same rows (what TRL runs to tokenise a
conversational dataset, without any of the checks).

    .venv/bin/python bench/templates_bench.py [--rows 100000] [--template qwen2.5] [--repeat 3] [--exact]

Builds (once, under bench/data/) a byte-level BPE tokenizer with a 32k vocabulary trained on synthetic
text, saved like save_pretrained with the chosen shipped template, and an OUT folder of synthetic chats
(1-3 turns, 8-60 word questions, 20-250 word answers, a third with a system turn). Each side runs in its
own process; wall time, CPU time and peak RSS are of the whole process, medians over --repeat runs.
The check runs with --max-length 4096 and its default length sample (statistics from 20,000 rows, every
check on every row); --exact adds a run that tokenises every row. Writes bench/results/templates.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "templates"
RESULTS = ROOT / "bench" / "results" / "templates.md"

SPECIALS = {
    "chatml": (["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "</tool_call>"],
               None, "<|im_end|>"),
    "llama3": (["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                "<|eom_id|>", "<|python_tag|>"], "<|begin_of_text|>", "<|eot_id|>"),
    "gemma": (["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>"], "<bos>", "<eos>"),
}


def _words(rng: random.Random, n: int) -> list[str]:
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    weights = [12, 9, 8, 7.5, 7, 6.7, 6.3, 6, 6, 4.3, 4, 2.8, 2.8, 2.4, 2.4, 2.2, 2, 2, 1.9, 1.5, 1, .8, .2, .2, .1, .1]
    return ["".join(rng.choices(letters, weights, k=rng.randint(1, 9))) for _ in range(n)]


def build(rows: int, template: str) -> tuple[Path, Path]:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    sys.path.insert(0, str(ROOT))
    from curate.templates.registry import load_registry

    entry = load_registry().entry(template)
    tok_dir, out_dir = DATA / f"tok-{template}", DATA / f"out-{rows}"
    rng = random.Random(0)
    vocab = _words(rng, 30000)
    cumulative = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))  # Zipf

    def sentence(n: int) -> str:
        return " ".join(rng.choices(vocab, cum_weights=cumulative, k=n)).capitalize() + "."

    if not (tok_dir / "tokenizer.json").is_file():
        specials, bos, eos = SPECIALS[entry.family]
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=32000, special_tokens=specials, show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator((sentence(40) for _ in range(60000)), trainer)
        tok_dir.mkdir(parents=True, exist_ok=True)
        tok.save(str(tok_dir / "tokenizer.json"))
        config = {"bos_token": bos, "eos_token": eos, "chat_template": entry.text,
                  "tokenizer_class": "PreTrainedTokenizerFast"}
        (tok_dir / "tokenizer_config.json").write_text(json.dumps(config))
    if not (out_dir / "manifest.json").is_file():
        import pyarrow as pa
        import pyarrow.parquet as pq

        ids, chats = [], []
        for i in range(rows):
            chat = [{"role": "system", "content": sentence(rng.randint(5, 20))}] if i % 3 == 0 else []
            for _ in range(rng.choice((1, 1, 2, 3))):
                chat.append({"role": "user", "content": sentence(rng.randint(8, 60))})
                chat.append({"role": "assistant", "content": sentence(rng.randint(20, 250))})
            ids.append(f"bench:{i}")
            chats.append(chat)
        (out_dir / "data").mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"id": ids, "messages": chats}), out_dir / "data" / "part-00000.parquet")
        (out_dir / "manifest.json").write_text(json.dumps({"schema_version": 1, "kind": "conversation", "shards": {}}))
    return tok_dir, out_dir


# Each side runs as its own process: `python -c PROGRAM out tok` prints the rows it processed.
OURS = """
import sys
from curate.templates import check_dataset
report = check_dataset(sys.argv[1], sys.argv[2], 4096)
print(report.rows, report.verdict, report.lengths.get("sampled_rows", report.rows), "rows measured")
"""
OURS_EXACT = OURS.replace("4096)", "4096, length_sample=0)")
PEER = """
import sys, pyarrow.parquet as pq
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(sys.argv[2], local_files_only=True)
chats = pq.read_table(sys.argv[1] + "/data/part-00000.parquet").column("messages").to_pylist()
total = 0
for start in range(0, len(chats), 1024):
    out = tok.apply_chat_template(chats[start:start + 1024], tokenize=True, return_dict=True)
    total += sum(len(ids) for ids in out["input_ids"])
print(len(chats), "tokenised", total)
"""


def run(program: str, out_dir: Path, tok_dir: Path) -> tuple[float, float, float, str]:
    """Whole-process wall seconds, peak RSS (MiB) and CPU seconds (user + system) of one run."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(time.perf_counter() - t, u.ru_maxrss / 1024, u.ru_utime + u.ru_stime, "
        "repr(p.stdout.strip() or p.stderr.strip()[-300:]))"
    )
    cmd = [sys.executable, "-c", wrapper, sys.executable, "-c", program, str(out_dir), str(tok_dir)]
    line = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}).stdout.strip()
    wall, rss, cpu, output = line.split(" ", 3)
    return float(wall), float(rss), float(cpu), output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--template", default="qwen2.5")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exact", action="store_true", help="also run the check with every row tokenised")
    args = parser.parse_args()
    tok_dir, out_dir = build(args.rows, args.template)
    sides = {"curate templates check": OURS, "transformers apply_chat_template": PEER}
    if args.exact:
        sides["curate templates check, every row tokenised"] = OURS_EXACT
    results: dict[str, list[tuple[float, float, float, str]]] = {side: [] for side in sides}
    for _ in range(args.repeat):  # interleaved, so every side sees the same machine load
        for side, program in sides.items():
            results[side].append(run(program, out_dir, tok_dir))
    load = os.getloadavg()[0]
    lines = [f"# templates check: {args.rows} conversations, template {args.template}, median of {args.repeat}", "",
             "| side | wall s | conv/s | CPU s | conv per CPU s | peak RSS MiB | output |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    medians = {}
    for side, runs in results.items():
        wall, rss, cpu = (statistics.median(r[i] for r in runs) for i in range(3))
        medians[side] = (wall, rss, cpu)
        lines.append(f"| {side} | {wall:.1f} | {args.rows / wall:,.0f} | {cpu:.1f} | {args.rows / cpu:,.0f} | "
                     f"{rss:.0f} | {runs[-1][3]} |")
    (ours_wall, ours_rss, ours_cpu), (peer_wall, peer_rss, peer_cpu) = list(medians.values())[:2]
    lines += ["", f"ratios curate/peer: wall time {ours_wall / peer_wall:.2f}, CPU time {ours_cpu / peer_cpu:.2f}, "
              f"peak RSS {ours_rss / peer_rss:.2f}",
              f"({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, 1-min load average at the end {load:.1f})"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
