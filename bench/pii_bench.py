"""PII bench: quality on a labelled set and whole-process speed, curate vs Presidio, in one run.

    .venv/bin/python bench/pii_bench.py                # eval set + speed corpus + both tools
    .venv/bin/python bench/pii_bench.py --conversations 10000 --repeats 1 --workers 2

Quality (bench/pii_data.py, seeded): per-type recall (a detection of the right type covers the whole
labelled value) and the share of hard negatives left untouched, for curate and for Presidio's
AnalyzerEngine with its predefined recognizers (blank spaCy engine, default threshold). It also checks
that curate's pre-filtered path decides exactly like Presidio's AnalyzerEngine run on every text with
the same recognizers.
Speed: each tool in its own process over the same Parquet of >= 10,000 conversations (read, detect,
anonymise with typed placeholders, write), wall time and peak RSS of the process tree
(bench/measure.py), medians over ``--repeats``. Results go to bench/results/pii.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

PRESIDIO_NAMES = {"EMAIL_ADDRESS": "EMAIL", "IBAN_CODE": "IBAN"}


# --- corpus ----------------------------------------------------------------------------------------
def canonical_table(conversations: list[dict]) -> pa.Table:
    from curate.records import SCHEMAS

    rows = [
        {
            "id": f"c{i}",
            "messages": [{"role": m["role"], "content": m["content"]} for m in c["messages"]],
            "source": {"file": "bench", "index": i, "format": "openai"},
        }
        for i, c in enumerate(conversations)
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMAS["conversation"])


# --- detectors (span lists per text) ---------------------------------------------------------------
def ours_spans(texts: list[str], resolved: bool = True) -> list[list[tuple]]:
    from curate.stages.pii import PiiConfig
    from curate.stages.pii.imports import load_recognizers
    from curate.stages.pii.scan import detect, prefilter

    analyzer = load_recognizers(None).analyzer

    cfg = PiiConfig()
    index, hits = prefilter(pa.array(texts, pa.string()), cfg.pattern_entities(), ())
    found = detect(analyzer(None, cfg.threshold), [texts[i] for i in index], hits, cfg.threshold, resolved)
    out: list[list] = [[] for _ in texts]
    for i, spans in zip(index, found):
        out[i] = [(s.start, s.end, s.entity) if resolved else tuple(s) for s in spans]
    return out


def presidio_same_recognizers(texts: list[str]) -> list[list[tuple]]:
    """Presidio's AnalyzerEngine on every text, every entity: the reference for the exactness check
    (raw results: start, end, type, score)."""
    from curate.stages.pii import PiiConfig
    from curate.stages.pii.imports import load_recognizers

    cfg = PiiConfig()
    engine = load_recognizers(None).analyzer(None, cfg.threshold, reference=True)
    entities = list(cfg.pattern_entities())
    out = []
    for text in texts:
        results = engine.analyze(text=text, language="en", entities=entities, score_threshold=cfg.threshold)
        out.append(sorted((r.start, r.end, r.entity_type, r.score) for r in results))
    return out


def presidio_default_engine():
    """Presidio as documented: predefined recognizers, spaCy engine on a blank pipeline. Imported
    like curate imports it (without torch/transformers, see curate/stages/pii/imports.py), so that
    both tools pay the same start-up."""
    from curate.stages.pii.imports import without

    with without():
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_anonymizer import AnonymizerEngine  # noqa: F401  (imported here for the same reason)
    from spacy.language import Language

    if "bench_lemma" not in Language.factories:
        @Language.component("bench_lemma")
        def _lemma(doc):
            for token in doc:
                token.lemma_ = token.lower_
            return doc

    class Blank(SpacyNlpEngine):
        def load(self):
            nlp = spacy.blank("en")
            nlp.add_pipe("bench_lemma")
            self.nlp = {"en": nlp}

    engine = Blank(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=engine)
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


def presidio_default_spans(texts: list[str]) -> list[list[tuple[int, int, str]]]:
    engine = presidio_default_engine()
    return [[(r.start, r.end, PRESIDIO_NAMES.get(r.entity_type, r.entity_type)) for r in engine.analyze(t, language="en")] for t in texts]


# --- quality ---------------------------------------------------------------------------------------
def score(conversations: list[dict], spans: list[list]) -> tuple[dict, dict]:
    """(recall per type, preserved share per hard-negative category) as {name: (hit, total)}."""
    offsets, k = [], 0
    for c in conversations:
        offsets.append(k)
        k += len(c["messages"])
    recall: dict = defaultdict(lambda: [0, 0])
    kept: dict = defaultdict(lambda: [0, 0])
    for c, base in zip(conversations, offsets):
        for m, s, e, kind in c["labels"]:
            hit = any(t == kind and a <= s and b >= e for a, b, t in spans[base + m])
            recall[kind][0] += hit
            recall[kind][1] += 1
        for m, s, e, cat in c["negatives"]:
            untouched = not any(a < e and b > s for a, b, _ in spans[base + m])
            kept[cat][0] += untouched
            kept[cat][1] += 1
    return dict(recall), dict(kept)


def quality(n: int, seed: int) -> dict:
    from pii_data import generate

    conversations = generate(n, seed, pii_rate=0.6, neg_rate=0.6)
    texts = [m["content"] for c in conversations for m in c["messages"]]
    ours_spans(texts[:10])  # build the engine before timing
    t0 = time.perf_counter()
    ours = ours_spans(texts)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    reference = presidio_same_recognizers(texts)
    t_ref = time.perf_counter() - t0
    mismatches = sum(a != b for a, b in zip(ours_spans(texts, resolved=False), reference))
    default = presidio_default_spans(texts)
    return {
        "texts": len(texts),
        "ours": score(conversations, ours),
        "presidio": score(conversations, default),
        "exact_mismatches": mismatches,
        "seconds": {"ours_fast_path": t_ours, "presidio_all_texts": t_ref},
    }


# --- speed: one tool per process -------------------------------------------------------------------
def _ours_worker(table: pa.Table) -> pa.Table:
    from curate.stages.pii import PiiConfig, PiiRedactor

    return PiiRedactor(PiiConfig(action="redact")).annotate(table)


_PRESIDIO: dict = {}


def _presidio_worker(table: pa.Table) -> pa.Table:
    from curate.records import map_texts

    if not _PRESIDIO:
        from presidio_anonymizer import AnonymizerEngine

        _PRESIDIO["a"], _PRESIDIO["z"] = presidio_default_engine(), AnonymizerEngine()
    analyzer, anonymizer = _PRESIDIO["a"], _PRESIDIO["z"]

    def redact(texts: pa.Array) -> pa.Array:
        out = []
        for text in texts.to_pylist():
            if text:
                text = anonymizer.anonymize(text=text, analyzer_results=analyzer.analyze(text, language="en")).text
            out.append(text)
        return pa.array(out, pa.string())

    return map_texts(table, redact)


def run_tool(tool: str, src: str, dst: str, workers: int) -> None:
    from multiprocessing import get_context

    table = pq.read_table(src)
    step = -(-table.num_rows // (workers * 8))
    shards = [table.slice(i, step) for i in range(0, table.num_rows, step)]
    fn = _ours_worker if tool == "curate" else _presidio_worker
    with get_context("spawn").Pool(workers) as pool:
        parts = pool.map(fn, shards)
    pq.write_table(pa.concat_tables(parts), dst)
    print(json.dumps({"rows": table.num_rows}))


def speed(n: int, seed: int, workers: int, repeats: int, pii_rate: float) -> dict:
    from measure import median_of, run_measured
    from pii_data import generate

    data = ROOT / "bench" / "data"
    data.mkdir(parents=True, exist_ok=True)
    src = data / f"pii_speed_{n}_{pii_rate}.parquet"
    conversations = generate(n, seed + 1, pii_rate=pii_rate, neg_rate=0.3)
    pq.write_table(canonical_table(conversations), src)
    texts = sum(len(c["messages"]) for c in conversations)
    runs: dict[str, list[dict]] = {"curate": [], "presidio": []}
    load = [os.getloadavg()[0]]
    for _ in range(repeats):  # interleaved, so both tools see the same drift in machine load
        for tool in runs:
            cmd = [sys.executable, __file__, "--run", tool, "--src", str(src), "--dst", str(data / f"pii_out_{tool}.parquet"), "--workers", str(workers)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            run = run_measured(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)})
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            run["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            runs[tool].append(run)
            load.append(os.getloadavg()[0])
    results = {tool: {k: median_of(r, k) for k in ("wall_s", "cpu_s", "peak_rss_mb")} for tool, r in runs.items()}
    results["load"] = [round(x, 1) for x in load]
    return {"conversations": n, "texts": texts, "pii_rate": pii_rate, "workers": workers, "repeats": repeats, **results}


# --- report ----------------------------------------------------------------------------------------
def _ratio(pair) -> str:
    hit, total = pair
    return f"{hit / total:.3f} ({hit}/{total})" if total else "-"


def report(q: dict, speeds: list[dict]) -> str:
    (ours_recall, ours_kept), (pres_recall, pres_kept) = q["ours"], q["presidio"]
    lines = [f"## PII quality ({q['texts']} texts, bench/pii_data.py seed)", "", "| type | curate recall | Presidio (predefined) recall |", "|---|---|---|"]
    for kind in sorted(ours_recall):
        lines.append(f"| {kind} | {_ratio(ours_recall[kind])} | {_ratio(pres_recall.get(kind, (0, ours_recall[kind][1])))} |")
    all_ours = [sum(v[i] for v in ours_recall.values()) for i in (0, 1)]
    all_pres = [sum(pres_recall.get(k, (0, 0))[0] for k in ours_recall), all_ours[1]]
    lines.append(f"| **all** | {_ratio(all_ours)} | {_ratio(all_pres)} |")
    lines += ["", "| hard negative | curate preserved | Presidio preserved |", "|---|---|---|"]
    for cat in sorted(ours_kept):
        lines.append(f"| {cat} | {_ratio(ours_kept[cat])} | {_ratio(pres_kept[cat])} |")
    kept_ours = [sum(v[i] for v in ours_kept.values()) for i in (0, 1)]
    kept_pres = [sum(v[i] for v in pres_kept.values()) for i in (0, 1)]
    lines.append(f"| **all** | {_ratio(kept_ours)} | {_ratio(kept_pres)} |")
    lines += [
        "",
        f"Exactness: texts where curate's pre-filtered path differs from Presidio's AnalyzerEngine run on "
        f"every text with the same recognizers: **{q['exact_mismatches']}** of {q['texts']} "
        f"(detection only: {q['seconds']['ours_fast_path']:.2f} s vs {q['seconds']['presidio_all_texts']:.2f} s).",
    ]
    for s in speeds:
        c, p = s["curate"], s["presidio"]
        lines += [
            "",
            f"## Whole-process speed: {s['conversations']} conversations, {s['texts']} texts, "
            f"{s['pii_rate']:.0%} of turns with PII, {s['workers']} workers each, median of {s['repeats']}",
            "",
            "| tool | wall s | rows/s | CPU s (process tree) | peak RSS MB |",
            "|---|---|---|---|---|",
            f"| curate (pre-filter + Presidio on candidates) | {c['wall_s']:.1f} | {s['conversations'] / c['wall_s']:.0f} | {c['cpu_s']:.1f} | {c['peak_rss_mb']:.0f} |",
            f"| Presidio Analyzer + Anonymizer | {p['wall_s']:.1f} | {s['conversations'] / p['wall_s']:.0f} | {p['cpu_s']:.1f} | {p['peak_rss_mb']:.0f} |",
            f"| **curate vs Presidio** | **{p['wall_s'] / c['wall_s']:.1f}x faster** | | {p['cpu_s'] / c['cpu_s']:.1f}x less CPU | {c['peak_rss_mb'] / p['peak_rss_mb']:.2f}x memory |",
            "",
            f"1-minute load average of the (shared, 2-core) machine before and after each run: {s['load']}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-conversations", type=int, default=1500)
    parser.add_argument("--conversations", type=int, default=10000)
    parser.add_argument("--pii-rates", default="0.1,0.6", help="share of turns with PII in the speed corpora")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="interleaved runs per tool (medians are reported)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--run", choices=["curate", "presidio"], help=argparse.SUPPRESS)
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--dst", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_tool(args.run, args.src, args.dst, args.workers)
        return
    q = quality(args.eval_conversations, args.seed)
    speeds = [speed(args.conversations, args.seed, args.workers, args.repeats, float(r)) for r in args.pii_rates.split(",") if r]
    text = report(q, speeds)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "pii.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
