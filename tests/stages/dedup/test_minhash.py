"""MinHash near-duplicate removal: properties, keep policies, reasons, scopes, determinism."""

from __future__ import annotations

import random
import re

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from curate.errors import ConfigError
from curate.records import MESSAGES, SCHEMAS
from curate.stages.dedup.minhash import MinHashConfig, MinHashDedup, near_duplicates
from curate.stages.dedup.shingles import hash_strings, normalise, text_shingles

VOCAB = [f"w{i}x" for i in range(20_000)]


def _doc(rng: random.Random, n: int = 100) -> list[str]:
    return rng.sample(VOCAB, n)


def _jaccard(a: str, b: str, n: int = 5) -> float:
    """Exact Jaccard of word 5-gram sets (independent of the code under test)."""
    def grams(t: str) -> set:
        w = t.split()
        return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}
    sa, sb = grams(a), grams(b)
    return len(sa & sb) / len(sa | sb)


def test_identical_texts_always_cluster_and_point_to_the_first():
    rng = random.Random(1)
    originals = [" ".join(_doc(rng, rng.choice([1, 3, 4, 5, 6, 40, 300]))) for _ in range(60)]
    originals.append("Ünïcode ÇAFÉ, spaced   out\ttext!")
    texts = originals + originals[::-1]
    result = near_duplicates(texts)
    n = len(originals)
    assert result["id"].to_list() == [str(i) for i in range(n, 2 * n)]
    assert result["duplicate_of"].to_list() == [str(i) for i in range(n - 1, -1, -1)]
    assert set(result["similarity"].to_list()) == {1.0}
    assert result["reason"][0] == f"near-duplicate: similarity 1.00 to {n - 1}"


def test_unrelated_texts_never_cluster():
    rng = random.Random(2)
    texts = [" ".join(_doc(rng, rng.randint(20, 200))) for _ in range(400)]
    assert near_duplicates(texts).height == 0


@pytest.mark.parametrize("seed", range(1, 11))
def test_pair_at_jaccard_09_is_found_and_pair_at_05_is_not(seed):
    rng = random.Random(seed)
    base = _doc(rng, 100)
    close = list(base)
    close[50] = "replacedx"  # one word changes 5 of 96 shingles
    far = base[:36] + [f"new{i}x" for i in range(28)] + base[64:]  # 28 words change 32 shingles
    a, b, c = " ".join(base), " ".join(close), " ".join(far)
    assert _jaccard(a, b) == pytest.approx(91 / 101)
    assert _jaccard(a, c) == pytest.approx(0.5)
    config = MinHashConfig(seed=seed)
    assert near_duplicates([a, b], config=config)["id"].to_list() == ["1"]
    assert near_duplicates([a, c], config=config).height == 0


def test_signature_only_verification_also_separates_09_from_05():
    rng = random.Random(5)
    base = _doc(rng, 100)
    close, far = list(base), base[:36] + [f"n{i}x" for i in range(28)] + base[64:]
    close[10] = "zz"
    texts = [" ".join(base), " ".join(close), " ".join(far)]
    result = near_duplicates(texts, config=MinHashConfig(verify="signature"))
    assert result["id"].to_list() == ["1"]


def test_normalisation_ignores_case_punctuation_whitespace_and_accents():
    texts = pa.array(["Café au lait, s'il vous plaît!", "cafe AU  lait s il\nvous plait", "", None])
    assert normalise(texts).to_list() == ["cafe au lait s il vous plait ", "cafe au lait s il vous plait", "", ""]
    shingles, per_row = text_shingles(texts, 5, 1)
    assert per_row.tolist() == [3, 3, 0, 0]
    assert shingles[:3].tolist() == shingles[3:6].tolist()


def test_word_hash_is_stable_across_versions():
    # These values are part of the on-disk index format (HASH_VERSION): change both together.
    assert hash_strings(pa.array(["hello", "world", "a" * 20]), 1).tolist() == [
        6629801303385586991, 842484904515662509, 12840671102386614180,
    ]  # fmt: skip


def _texts_with_clusters() -> tuple[list[str], list[str]]:
    rng = random.Random(3)
    base = _doc(rng, 80)
    longer = base + ["extra1x", "extra2x"]
    texts = [" ".join(base), " ".join(_doc(rng)), " ".join(longer), " ".join(base), " ".join(_doc(rng))]
    return texts, ["a", "b", "c", "d", "e"]


def test_keep_first_longest_and_quality():
    texts, ids = _texts_with_clusters()
    first = near_duplicates(texts, ids)
    assert first.select("id", "duplicate_of").rows() == [("c", "a"), ("d", "a")]
    longest = near_duplicates(texts, ids, MinHashConfig(keep="longest"))
    assert longest.select("id", "duplicate_of").rows() == [("a", "c"), ("d", "c")]

    stage = MinHashDedup(MinHashConfig(keep="quality"))
    table = pa.table({"id": ids, "text": texts, "quality_score": [0.1, 0.9, 0.2, 0.7, 0.5]})
    removed = stage.decide(pl.from_arrow(stage.keys(table)).lazy().with_row_index("order"))
    assert removed.columns == ["order", "id", "reason", "duplicate_of"]
    assert removed["order"].to_list() == [0, 2]
    assert removed.select("id", "duplicate_of").rows() == [("a", "d"), ("c", "d")]
    assert re.fullmatch(r"near-duplicate: similarity 0\.\d\d to d", removed["reason"][1])
    stage.close()


def test_keep_quality_without_the_column_keeps_the_first():
    texts, ids = _texts_with_clusters()
    result = near_duplicates(texts, ids, MinHashConfig(keep="quality"))
    assert result.select("id", "duplicate_of").rows() == [("c", "a"), ("d", "a")]


def test_same_output_twice_and_across_batchings():
    rng = random.Random(4)
    base = [_doc(rng, 60) for _ in range(30)]
    texts = [" ".join(d) for d in base]
    for d in base[:15]:
        d = list(d)
        d[rng.randrange(60)] = "editx"
        texts.append(" ".join(d))
    once = near_duplicates(texts)
    twice = near_duplicates(texts)
    small_batches = near_duplicates(texts, batch_rows=7)
    assert once.height == 15
    assert once.equals(twice) and once.equals(small_batches)


def test_rows_without_words_never_cluster_and_are_counted():
    stage = MinHashDedup()
    table = pa.table({"id": ["a", "b", "c", "d"], "text": ["", "...", "", "same words here"]})
    removed = stage.decide(pl.from_arrow(stage.keys(table)).lazy().with_row_index("order"))
    assert removed.height == 0
    info = stage.manifest_info()
    assert info["rows"] == 4 and info["rows_without_text"] == 3 and info["clusters"] == 0
    stage.close()


def test_manifest_records_parameters_clusters_and_histogram():
    rng = random.Random(6)
    docs = [" ".join(_doc(rng, 50)) for _ in range(6)]
    texts = docs + [docs[0]] * 2 + [docs[1]] + [docs[2]] * 4  # clusters of sizes 3, 2, 5
    stage = MinHashDedup(MinHashConfig(threshold=0.7, num_perm=64))
    keys = pl.from_arrow(stage.keys(pa.table({"id": [f"r{i}" for i in range(len(texts))], "text": texts})))
    removed = stage.decide(keys.lazy().with_row_index("order"))
    info = stage.manifest_info()
    assert removed.height == 7
    assert info["parameters"]["threshold"] == 0.7 and info["parameters"]["num_perm"] == 64
    assert (info["parameters"]["bands"], info["parameters"]["rows"]) == (stage.bands, stage.rows)
    assert stage.bands * stage.rows <= 64
    assert info["clusters"] == 3 and info["clustered_rows"] == 10 and info["removed"] == 7
    assert info["cluster_sizes"] == {"2": 1, "3": 1, "4-7": 1}
    stage.close()


def _conversation(prompt: str, answer: str) -> dict:
    blank = {"name": None, "tool_calls": None, "tool_call_id": None, "reasoning": None, "extra": None}
    return [{"role": "user", "content": prompt, **blank}, {"role": "assistant", "content": answer, **blank}]


@pytest.mark.parametrize(("scope", "expected"), [("response", ["c1"]), ("prompt", []), ("all", [])])
def test_conversation_scopes(scope, expected):
    rng = random.Random(7)
    answer = " ".join(_doc(rng, 60))
    messages = [_conversation(" ".join(_doc(rng, 60)), answer) for _ in range(2)]
    table = pa.table(
        {"id": ["c0", "c1"], "messages": pa.array(messages, MESSAGES), "tools": [None, None],
         "extra": [None, None], "source": [None, None]},
        schema=SCHEMAS["conversation"],
    )  # fmt: skip
    stage = MinHashDedup(MinHashConfig(scope=scope))
    removed = stage.decide(pl.from_arrow(stage.keys(table)).lazy().with_row_index("order"))
    assert removed["id"].to_list() == expected
    stage.close()


def test_preference_prompt_scope():
    rng = random.Random(8)
    prompt = [_conversation(" ".join(_doc(rng, 40)), "")[0]]
    rows = [(prompt, _conversation("", " ".join(_doc(rng, 40)))[1:]) for _ in range(2)]
    table = pa.table(
        {"id": ["p0", "p1"], "prompt": pa.array([r[0] for r in rows], MESSAGES),
         "chosen": pa.array([r[1] for r in rows], MESSAGES), "rejected": pa.array([r[1] for r in rows], MESSAGES),
         "tools": [None, None], "extra": [None, None], "source": [None, None]},
        schema=SCHEMAS["preference"],
    )  # fmt: skip
    for scope, expected in (("prompt", ["p1"]), ("response", [])):
        stage = MinHashDedup(MinHashConfig(scope=scope))
        removed = stage.decide(pl.from_arrow(stage.keys(table)).lazy().with_row_index("order"))
        assert removed["id"].to_list() == expected
        stage.close()


def test_keys_table_and_spill_files(tmp_path):
    stage = MinHashDedup(MinHashConfig(spill_dir=tmp_path, num_perm=32, bands=4, rows=8))
    keys = stage.keys(pa.table({"id": ["a", "b"], "text": ["one two three four five six", ""]}))
    assert keys.column_names == ["id", "minhash_shard", "minhash_row", "minhash_len", "minhash_quality",
                                 "minhash_b00", "minhash_b01", "minhash_b02", "minhash_b03"]  # fmt: skip
    assert keys["minhash_row"].to_pylist() == [0, 1]
    assert keys["minhash_len"].to_pylist() == [27, 0]
    assert keys["minhash_b00"].null_count == 1
    spills = sorted(p.name for p in (tmp_path / "near-dedup").iterdir())
    assert spills == [f"sig-{keys['minhash_shard'][0].as_py():016x}.parquet"]
    stage.decide(pl.from_arrow(keys).lazy())
    assert len(list((tmp_path / "near-dedup").iterdir())) == 2  # + the copy of the keys table
    stage.close()
    assert list((tmp_path / "near-dedup").iterdir()) == []


def test_stages_built_separately_share_the_default_spill_folder():
    # the pipeline builds one stage object per worker and another one for the decision
    texts = pa.table({"id": ["a", "b"], "text": ["one two three four five six"] * 2})
    keys = MinHashDedup().keys(texts)
    decider = MinHashDedup()
    assert decider.decide(pl.from_arrow(keys).lazy())["id"].to_list() == ["b"]
    decider.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"threshold": 1.5}, "minhash: invalid threshold: 1.5 (hint: a number between 0 and 1, e.g. 0.8)"),
        ({"scope": "middle"}, "minhash: invalid scope: 'middle' (hint: one of all, prompt, response)"),
        ({"bands": 4}, "minhash: invalid bands/rows: 4 (hint: give both or neither)"),
        ({"bands": 20, "rows": 10}, "minhash: bands × rows = 20 × 10 does not fit num_perm=128 "
                                    "(hint: choose bands × rows <= num_perm, or leave both unset)"),
    ],
)  # fmt: skip
def test_invalid_config(options, message):
    with pytest.raises(ConfigError) as err:
        MinHashConfig(**options)
    assert str(err.value) == message


def test_band_layout_favours_recall_at_the_threshold():
    bands, rows = MinHashConfig().band_layout()
    assert (bands, rows) == (18, 7)
    assert 1 - (1 - 0.8**rows) ** bands > 0.98
    assert MinHashConfig(bands=16, rows=8).band_layout() == (16, 8)
    assert np.isclose(1 - (1 - 0.3**rows) ** bands, 0.0039, atol=1e-4)
