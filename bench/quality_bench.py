"""Quality stages, side by side with datatrove (the reference of the Gopher/C4/FineWeb filters).

    .venv/bin/python bench/quality_bench.py [--repeat 3]

1. Parity: keep/drop decisions (and first reasons) of our vectorised signals vs datatrove 0.10's
   GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter, each on the same
   texts: the C4 sample and the Alpaca answers of ../shared/reference/llamafactory.
2. Speed: the four heuristics over those texts, each side in its own process (whole-process wall time and
   peak RSS), ``--repeat`` times, medians.
3. Rows/s of the full default quality pass (language → heuristics → filter) on conversations (the Alpaca
   demo sets, English and Chinese) and on text (the C4 sample).

Writes bench/results/quality.md and prints it.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "reference", "llamafactory")
sys.path.insert(0, ROOT)


def corpus() -> list[str]:
    with open(os.path.join(SHARED, "c4_demo.jsonl"), encoding="utf-8") as handle:
        docs = [json.loads(line)["text"] for line in handle if line.strip()]
    with open(os.path.join(SHARED, "alpaca_en_demo.json"), encoding="utf-8") as handle:
        docs += [r["output"] for r in json.load(handle)]
    return docs


def conversation_batch(names=("alpaca_en_demo.json", "alpaca_zh_demo.json")):
    import pyarrow as pa

    from curate.records import SCHEMAS

    def msg(role, content):
        return {"role": role, "content": content, "name": None, "tool_calls": [], "tool_call_id": None,
                "reasoning": None, "extra": None}

    rows = []
    for name in names:
        with open(os.path.join(SHARED, name), encoding="utf-8") as handle:
            rows += [[msg("user", (r["instruction"] + "\n" + r.get("input", "")).strip()), msg("assistant", r["output"])]
                     for r in json.load(handle)]
    n = len(rows)
    return pa.table({"id": [str(i) for i in range(n)], "messages": rows, "tools": [None] * n, "extra": [None] * n,
                     "source": [{"file": "f", "index": i, "format": "alpaca"} for i in range(n)]},
                    schema=SCHEMAS["conversation"])


def text_batch():
    import pyarrow as pa

    from curate.records import SCHEMAS

    with open(os.path.join(SHARED, "c4_demo.jsonl"), encoding="utf-8") as handle:
        docs = [json.loads(line)["text"] for line in handle if line.strip()]
    n = len(docs)
    return pa.table({"id": [str(i) for i in range(n)], "text": docs, "extra": [None] * n,
                     "source": [{"file": "f", "index": i, "format": "text"} for i in range(n)]}, schema=SCHEMAS["text"])


# --- workers (one per process, so wall time and peak RSS are the whole process's) -------------------

def worker_ours() -> dict:
    import polars as pl

    from curate.stages.quality.heuristics import text_signals
    from curate.stages.quality.rules import TextThresholds, first_reason, text_rules

    from curate.stages.quality.tokens import english, symbol_chars

    docs = corpus()
    english(), symbol_chars()  # load the tokenizer before the filtering clock starts (as for datatrove)
    started = time.perf_counter()
    frame = text_signals(docs).with_columns(text=pl.Series(docs))
    rules = text_rules(TextThresholds())
    out = {}
    for label in ("gopher repetition", "gopher", "c4", "fineweb"):
        out[label] = first_reason(frame, [r for r in rules if r[0].split(": ")[0] == label]).to_list()
    return {"reasons": out, "compute": time.perf_counter() - started}


def worker_datatrove() -> dict:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)

    from datatrove.utils.word_tokenizers import load_word_tokenizer

    docs = corpus()
    load_word_tokenizer("en").tokenizer  # load spaCy before the filtering clock starts
    started = time.perf_counter()
    out = {}
    for label, flt in (("gopher repetition", GopherRepetitionFilter()), ("gopher", GopherQualityFilter()),
                       ("c4", C4QualityFilter()), ("fineweb", FineWebQualityFilter())):
        out[label] = [None if (v := flt.filter(Document(text=t, id=str(i)))) is True else v[1]
                      for i, t in enumerate(docs)]
    return {"reasons": out, "compute": time.perf_counter() - started}


def worker_pass(kind: str) -> dict:
    from curate.stages.quality import QualityConfig, build_stages

    batch = conversation_batch() if kind == "conversation" else text_batch()
    stages = build_stages(QualityConfig.from_options())
    warm = batch.slice(0, 2)  # load lid.176 and spaCy once, outside the timing
    for stage in stages:
        warm = stage.annotate(warm) if hasattr(stage, "annotate") else warm
    started = time.perf_counter()
    reasons = []
    for start in range(0, batch.num_rows, 1000):
        part = batch.slice(start, 1000)
        for stage in stages:
            if hasattr(stage, "annotate"):
                part = stage.annotate(part)
            else:
                reasons += stage.reasons(part).to_pylist()
    seconds = time.perf_counter() - started
    return {"rows": batch.num_rows, "seconds": seconds, "dropped": sum(r is not None for r in reasons)}


def spawn(mode: str) -> dict:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--worker", mode], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall": wall, **result}


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    runs = {"ours": [], "datatrove": []}
    for _ in range(repeat):
        for side in ("ours", "datatrove"):
            runs[side].append(spawn(side))
    ours, theirs = runs["ours"][0]["result"]["reasons"], runs["datatrove"][0]["result"]["reasons"]
    lines = ["# Quality stages vs datatrove", "", f"Texts: {len(corpus())} (C4 sample + Alpaca answers), "
             f"{repeat} runs per side, medians.", "", "| filter | dropped (ours) | dropped (datatrove) | "
             "decisions differing | reasons differing |", "|---|---|---|---|---|"]
    for label in ours:
        a, b = ours[label], theirs[label]
        lines.append(f"| {label} | {sum(x is not None for x in a)} | {sum(x is not None for x in b)} | "
                     f"{sum((x is None) != (y is None) for x, y in zip(a, b))} | "
                     f"{sum(x is not None and y is not None and not _same(x, y) for x, y in zip(a, b))} |")
    wall = {s: statistics.median(r["wall"] for r in runs[s]) for s in runs}
    rss = {s: statistics.median(r["rss_mb"] for r in runs[s]) for s in runs}
    compute = {s: statistics.median(r["result"]["compute"] for r in runs[s]) for s in runs}
    lines += ["", "| side | wall s (whole process) | filtering s (tokenizer loaded) | peak RSS MB |", "|---|---|---|---|",
              f"| curate (vectorised) | {wall['ours']:.2f} | {compute['ours']:.2f} | {rss['ours']:.0f} |",
              f"| datatrove 0.10.1 | {wall['datatrove']:.2f} | {compute['datatrove']:.2f} | {rss['datatrove']:.0f} |",
              f"| ratio datatrove/curate | {wall['datatrove'] / wall['ours']:.2f}x | "
              f"{compute['datatrove'] / compute['ours']:.2f}x | {rss['datatrove'] / rss['ours']:.2f}x |", ""]
    for kind in ("conversation", "text"):
        passes = [spawn(f"pass-{kind}") for _ in range(repeat)]
        seconds = statistics.median(p["result"]["seconds"] for p in passes)
        rows = passes[0]["result"]["rows"]
        lines.append(f"Full default quality pass, {kind} ({rows} rows, dropped {passes[0]['result']['dropped']}): "
                     f"{rows / seconds:,.0f} rows/s ({seconds:.2f} s, in-process, batches of 1000, models loaded before timing).")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "quality.md"), "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)


THEIRS = {  # datatrove's reason names -> ours
    "empty": "empty", "dup_para_frac": "duplicate paragraphs", "dup_para_char_frac": "duplicate paragraph characters",
    "dup_line_frac": "duplicate lines", "dup_line_char_frac": "duplicate line characters",
    **{f"top_{n}_gram": f"top {n}-gram" for n in (2, 3, 4)},
    **{f"duplicated_{n}_n_grams": f"duplicate {n}-grams" for n in range(5, 11)},
    "gopher_short_doc": "word count", "gopher_long_doc": "word count",
    "gopher_below_avg_threshold": "mean word length", "gopher_above_avg_threshold": "mean word length",
    "gopher_too_many_hashes": "hashes", "gopher_too_many_ellipsis": "ellipses",
    "gopher_too_many_bullets": "bullet lines", "gopher_too_many_end_ellipsis": "ellipsis lines",
    "gopher_below_alpha_threshold": "alphabetic words", "gopher_enough_stop_words": "stop words",
    "lorem_ipsum": "lorem ipsum", "curly_bracket": "curly bracket", "too_few_sentences": "too few sentences",
    "line_punct_ratio": "line punctuation", "short_line_ratio": "short lines",
    "char_dup_ratio": "duplicate line characters", "list_ratio": "list-like",
}


def _same(ours: str, theirs: str) -> bool:
    return ours.split(": ", 1)[1] == THEIRS[theirs]


if __name__ == "__main__":
    if "--worker" in sys.argv:
        mode = sys.argv[sys.argv.index("--worker") + 1]
        result = {"ours": worker_ours, "datatrove": worker_datatrove,
                  "pass-conversation": lambda: worker_pass("conversation"),
                  "pass-text": lambda: worker_pass("text")}[mode]()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"result": result, "rss_mb": rss_mb}))
    else:
        main()
