"""Overhead of the trainer layer: `curate train sft` against a direct TRL script, same data, model, config.

    .venv/bin/python bench/train_overhead.py [--steps 60] [--runs 3] [--rows 256]

Both sides run SFTTrainer (assistant-only loss through the template's generation markers) on a small
Llama built from a config, reading the same curated Parquet shards, each in its own process, alternating
curate / direct ``--runs`` times. curate's side adds its checks (shard hashes, template check, model
pre-flight) before the first step; those cost wall time, not steps/s. Reported: medians of TRL's
``train_steps_per_second``, steps per CPU-second of ``trainer.train()`` (robust to other load on the
machine), whole-process wall time and peak RSS, and the ratios curate / direct (target: steps/s ratio
>= 0.98). Results go to bench/results/train_overhead.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "train_overhead"
RESULTS = ROOT / "bench" / "results" / "train_overhead.md"
BATCH = 4

DIRECT = """
import json, resource, sys
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer
data, model_dir, out, steps, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
dataset = Dataset.from_parquet(data + "/data/part-00000.parquet", columns=["messages", "tools"])
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir)
args = SFTConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=batch, report_to="none",
                 save_strategy="no", logging_steps=1, bf16=False, assistant_only_loss=True)
trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
import time
cpu = time.process_time()
metrics = trainer.train().metrics
cpu = time.process_time() - cpu
trainer.save_model(out)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({"steps_per_second": metrics["train_steps_per_second"],
                              "steps_per_cpu_second": steps / cpu, "rss_mb": rss}))
"""


def build(rows: int) -> tuple[Path, Path]:
    """A tokenizer + model (hidden 64, 2 layers) and a curated folder, built once under bench/data/."""
    sys.path.insert(0, str(ROOT))
    from train import toy

    model, data = DATA / "model", DATA / "conversations"
    if not (model / "config.json").is_file():
        toy.make_tokenizer(DATA / "tokenizer", toy.CHATML_GENERATION)
        toy.make_model(model, DATA / "tokenizer", hidden=64, layers=2)
    if not (data / "manifest.json").is_file():
        toy.make_dataset(data, "conversation", rows, words=(5, 15))
    return model, data


def run_once(side: str, model: Path, data: Path, steps: int) -> dict:
    out = DATA / f"run-{side}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1"}
    if side == "curate":
        config = DATA / "sft.yaml"
        config.write_text(f"per_device_train_batch_size: {BATCH}\n")
        command = [sys.executable, "-m", "train", "sft", "--data", str(data), "--model", str(model),
                   "--output-dir", str(out), "--max-steps", str(steps), "--config", str(config)]
    else:
        command = [sys.executable, "-c", DIRECT, str(data), str(model), str(out), str(steps), str(BATCH)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{side} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    if side == "curate":
        metrics = json.loads((out / "curate_train.json").read_text())["metrics"]
        result = {"steps_per_second": metrics["train_steps_per_second"], "rss_mb": metrics["peak_rss_mb"],
                  "steps_per_cpu_second": metrics["global_step"] / metrics["train_cpu_seconds"]}
    else:
        line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
        result = json.loads(line[len("RESULT "):])
    return {**result, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=256)
    opts = parser.parse_args()
    model, data = build(opts.rows)
    samples: dict[str, list[dict]] = {"curate": [], "direct": []}
    for i in range(opts.runs):
        for side in ("curate", "direct") if i % 2 == 0 else ("direct", "curate"):
            samples[side].append(run_once(side, model, data, opts.steps))
            print(side, samples[side][-1], file=sys.stderr)
    keys = ("steps_per_second", "steps_per_cpu_second", "wall_s", "rss_mb")
    med = {side: {k: statistics.median(s[k] for s in runs) for k in keys} for side, runs in samples.items()}
    ratio = {k: med["curate"][k] / med["direct"][k] for k in keys}
    paired = statistics.median(c["steps_per_second"] / d["steps_per_second"]
                               for c, d in zip(samples["curate"], samples["direct"]))
    lines = [
        f"# curate train sft vs direct TRL SFTTrainer ({opts.runs} runs each, {opts.steps} steps, batch {BATCH}, "
        f"{opts.rows} rows, Llama hidden 64 x 2 layers, CPU)",
        "",
        "| side | steps/s (median) | steps per CPU-second (median) | whole-process wall s (median) | peak RSS MB (median) |",
        "|---|---|---|---|---|",
        *[f"| {side} | {m['steps_per_second']:.3f} | {m['steps_per_cpu_second']:.3f} | {m['wall_s']:.1f} | "
          f"{m['rss_mb']:.0f} |" for side, m in med.items()],
        f"| ratio curate/direct | {ratio['steps_per_second']:.3f} | {ratio['steps_per_cpu_second']:.3f} | "
        f"{ratio['wall_s']:.3f} | {ratio['rss_mb']:.3f} |",
        "",
        f"Median of the per-pair steps/s ratios (each curate run against the direct run next to it): {paired:.3f}.",
        "Steps per CPU-second (process CPU time of `trainer.train()`) is the figure to trust on a shared machine:",
        "wall-clock steps/s moves with other processes' load.",
        "",
        "Command: `.venv/bin/python bench/train_overhead.py "
        f"--steps {opts.steps} --runs {opts.runs} --rows {opts.rows}`",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
