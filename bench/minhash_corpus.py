"""Build the near-duplicate benchmark corpus and its exact-Jaccard ground truth.

Text: the real English documents on this machine (LLaMA-Factory's demo sets under ../shared/reference:
C4 web pages, Alpaca, DPO/KTO/Glaive conversations), used as they are, plus documents made of runs of
real sentences; then near-duplicates made by editing documents at controlled rates (word substitutions,
deletions, insertions, swaps; dropped or appended sentences) and "related" documents that share part of
their sentences (hard negatives around Jaccard 0.3–0.7).

Ground truth: exact Jaccard similarity of 5-word shingle sets, computed independently of curate (plain
Python sets, its own normalisation), for every pair above 0.5, using an inverted index over the rarest
shingles of each document (prefix filtering: exact, no pair above the threshold is missed).

Writes bench/data/minhash/{part-0,part-1}.jsonl (id, text) and truth.parquet (a, b, jaccard).
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "llamafactory"
DATA = Path(__file__).resolve().parent / "data" / "minhash"
TRUTH_MIN = 0.5


def _strings(obj) -> list[str]:
    """Every string value inside a JSON record (message contents, instructions, outputs)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() if k not in ("role", "from", "tools", "label") for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def real_documents() -> list[str]:
    docs = [json.loads(line)["text"] for line in open(REFERENCE / "c4_demo.jsonl")]
    for name in ("alpaca_en_demo.json", "dpo_en_demo.json", "kto_en_demo.json", "glaive_toolcall_en_demo.json"):
        for record in json.load(open(REFERENCE / name)):
            text = "\n".join(s for s in _strings(record) if s.strip())
            if len(text.split()) >= 20:
                docs.append(text)
    return docs


def sentences(docs: list[str]) -> list[str]:
    seen, out = set(), []
    for doc in docs:
        for s in re.split(r"(?<=[.!?])\s+|\n+", doc):
            s = s.strip()
            if len(s.split()) >= 6 and s not in seen:
                seen.add(s)
                out.append(s)
    return out


def edit(text: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    """Word-level edits: each word is substituted, deleted, duplicated-with-insert or swapped with
    probability ``rate`` (one of the four, uniformly)."""
    words = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if rng.random() < rate:
            op = rng.randrange(4)
            if op == 0:
                out.append(rng.choice(vocab))
            elif op == 2:
                out.extend([w, rng.choice(vocab)])
            elif op == 3 and i + 1 < len(words):
                out.extend([words[i + 1], w])
                i += 1
            # op == 1: delete
        else:
            out.append(w)
        i += 1
    return " ".join(out)


def build(n_mixed: int = 22_000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    real = real_documents()
    pool = sentences(real)
    vocab = [w for s in pool[:5000] for w in s.split()]
    docs = list(real)
    for _ in range(n_mixed):  # runs of consecutive real sentences from a random place
        k = rng.randint(4, 16)
        start = rng.randrange(len(pool) - k)
        docs.append(" ".join(pool[start : start + k]))
    base = list(docs)
    for doc in rng.sample(base, len(base) // 4):  # near-duplicates at controlled edit rates
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            kind = rng.random()
            if kind < 0.1:
                docs.append(doc)
            elif kind < 0.8:
                docs.append(edit(doc, rng.uniform(0.0, 0.08), rng, vocab))
            else:
                parts = re.split(r"(?<=[.!?])\s+", doc)
                if len(parts) > 3:
                    parts.pop(rng.randrange(len(parts)))
                parts.append(rng.choice(pool))
                docs.append(" ".join(parts))
    for doc in rng.sample(base, len(base) // 20):  # related documents: share part of the sentences
        parts = re.split(r"(?<=[.!?])\s+", doc)
        keep = parts[: max(1, int(len(parts) * rng.uniform(0.4, 0.8)))]
        docs.append(" ".join(keep + [rng.choice(pool) for _ in range(len(parts) - len(keep) + 1)]))
    rng.shuffle(docs)
    return docs


def shingle_set(text: str, n: int = 5) -> set[int]:
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())
    if len(words) < n:
        return {hash(tuple(words))} if words else set()
    return {hash(tuple(words[i : i + n])) for i in range(len(words) - n + 1)}


def truth(docs: list[str], threshold: float = TRUTH_MIN) -> pl.DataFrame:
    """All pairs with exact Jaccard >= threshold (prefix filtering over rarest-first shingles)."""
    sets = [shingle_set(d) for d in docs]
    freq = Counter(s for st in sets for s in st)
    index: dict[int, list[int]] = defaultdict(list)
    found: dict[tuple[int, int], float] = {}
    for i, st in enumerate(sets):
        if not st:
            continue
        ordered = sorted(st, key=lambda s: (freq[s], s))
        prefix = ordered[: len(st) - math.ceil(threshold * len(st)) + 1]
        candidates = {j for s in prefix for j in index[s]}
        for j in candidates:
            inter = len(st & sets[j])
            jac = inter / (len(st) + len(sets[j]) - inter)
            if jac >= threshold:
                found[(j, i)] = jac
        for s in prefix:
            index[s].append(i)
    return pl.DataFrame(
        {"a": [p[0] for p in found], "b": [p[1] for p in found], "jaccard": list(found.values())},
        schema={"a": pl.Int64, "b": pl.Int64, "jaccard": pl.Float64},
    )


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="build the MinHash benchmark corpus and its truth")
    parser.add_argument("--mixed", type=int, default=11_000, help="documents made of runs of real sentences")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    docs = build(args.mixed)
    half = len(docs) // 2
    for part, chunk in enumerate((docs[:half], docs[half:])):
        offset = part * half
        with open(DATA / f"part-{part}.jsonl", "w") as f:
            for i, text in enumerate(chunk):
                f.write(json.dumps({"id": f"d{offset + i:06d}", "text": text}) + "\n")
    pairs = truth(docs)
    pairs.write_parquet(DATA / "truth.parquet")
    words = sum(len(d.split()) for d in docs)
    print(f"{len(docs)} documents, {words} words, {pairs.height} pairs with Jaccard >= {TRUTH_MIN}")
    bins = pairs.select(pl.col("jaccard").cut([0.6, 0.7, 0.8, 0.9, 0.999]).value_counts(sort=True))
    print(bins.unnest("jaccard"))


if __name__ == "__main__":
    main()
