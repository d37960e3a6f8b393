"""MinHash incremental mode: save_index on a finished dataset, then --against it."""

from __future__ import annotations

import json
import random

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.errors import ConfigError, InputError
from curate.stages.dedup.minhash import MinHashConfig, MinHashDedup
from curate.stages.dedup.shingles import HASH_VERSION

VOCAB = [f"v{i}y" for i in range(20_000)]


def _docs(seed: int, n: int, words: int = 60) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(VOCAB, words)) for _ in range(n)]


def _edit(text: str) -> str:
    words = text.split()
    words[len(words) // 2] = "changedy"
    return " ".join(words)


def _run(stage: MinHashDedup, ids: list[str], texts: list[str]) -> pl.DataFrame:
    batches = [pa.table({"id": ids[i : i + 3], "text": texts[i : i + 3]}) for i in range(0, len(ids), 3)]
    keys = pl.concat([pl.from_arrow(stage.keys(b)) for b in batches]).lazy()
    return stage.decide(keys.with_row_index("order"))


@pytest.fixture
def previous(tmp_path):
    """A curated dataset OUT with an index of 5 kept rows (one of its 6 rows was a near-duplicate)."""
    texts = _docs(1, 5)
    texts.append(_edit(texts[0]))
    ids = [f"old:{i}" for i in range(6)]
    stage = MinHashDedup(MinHashConfig(spill_dir=tmp_path / "spill1"))
    removed = _run(stage, ids, texts)
    assert removed["id"].to_list() == ["old:5"]
    kept = [i for i in ids if i not in set(removed["id"])]
    folder = stage.save_index(tmp_path / "out1", kept)
    stage.close()
    return tmp_path / "out1", folder, texts


def test_index_holds_kept_rows_and_parameters(previous):
    out, folder, _ = previous
    assert folder == out / "index" / "minhash"
    params = json.loads((folder / "params.json").read_text())
    assert params == {"bands": 18, "hash": HASH_VERSION, "indexed_rows": 5, "ngram": 5, "num_perm": 128,
                      "rows": 7, "scope": "all", "seed": 1}  # fmt: skip
    table = pq.read_table(sorted(folder.glob("part-*.parquet")))
    assert sorted(table["id"].to_pylist()) == [f"old:{i}" for i in range(5)]
    assert table.column_names[:2] == ["id", "sig"] and "minhash_b17" in table.column_names


def test_against_removes_rows_near_duplicating_the_previous_dataset(previous, tmp_path):
    out, _, old_texts = previous
    fresh = _docs(2, 3)
    # same ids as the old dataset on purpose: ids of different datasets may collide
    texts = [_edit(old_texts[3]), fresh[0], old_texts[1], fresh[1], _edit(fresh[0]), fresh[2]]
    ids = ["old:0", "n1", "n2", "n3", "n4", "n5"]
    stage = MinHashDedup(MinHashConfig(against=out, spill_dir=tmp_path / "spill2"))
    removed = _run(stage, ids, texts)
    assert removed.select("id", "duplicate_of").rows() == [("old:0", "old:3"), ("n2", "old:1"), ("n4", "n1")]
    assert removed["reason"][1] == "near-duplicate: similarity 1.00 to old:1"
    info = stage.manifest_info()
    assert info["against"] == {"dataset": str(out), "index_rows": 5, "removed_as_duplicates_of_it": 2}
    assert info["parameters"]["against"] == str(out)
    stage.close()


def test_against_wins_over_every_new_row_of_its_cluster(previous, tmp_path):
    out, _, old_texts = previous
    texts = [old_texts[2], old_texts[2], _edit(old_texts[2])]
    stage = MinHashDedup(MinHashConfig(against=out, keep="longest", spill_dir=tmp_path / "s"))
    removed = _run(stage, ["a", "b", "c"], texts)
    assert removed.select("id", "duplicate_of").rows() == [("a", "old:2"), ("b", "old:2"), ("c", "old:2")]
    stage.close()


def test_against_needs_an_index(tmp_path):
    stage = MinHashDedup(MinHashConfig(against=tmp_path, spill_dir=tmp_path / "s"))
    with pytest.raises(InputError) as err:
        _run(stage, ["a"], ["some words in a row"])
    assert str(err.value) == (
        f"{tmp_path}: no MinHash index (index/minhash/params.json is missing) "
        "(hint: --against needs a dataset written by `curate clean --dedup minhash`)"
    )


def test_against_refuses_signatures_made_with_other_parameters(previous, tmp_path):
    out, folder, _ = previous
    stage = MinHashDedup(MinHashConfig(against=out, ngram=3, spill_dir=tmp_path / "s"))
    with pytest.raises(ConfigError) as err:
        _run(stage, ["a"], ["some words in a row"])
    assert str(err.value) == (
        f"{folder / 'params.json'}: signatures are not comparable: ngram=5 (this run: 3) "
        "(hint: run with the same --dedup minhash parameters as the dataset given to --against)"
    )


def test_old_rows_are_not_reloaded_when_no_new_row_is_near_them(previous, tmp_path, monkeypatch):
    from curate.stages.dedup import minhash_index

    out, _, _ = previous
    read = []
    original = minhash_index.pq.read_table
    monkeypatch.setattr(minhash_index.pq, "read_table", lambda f, **kw: read.append(str(f)) or original(f, **kw))
    stage = MinHashDedup(MinHashConfig(against=out, spill_dir=tmp_path / "s"))
    assert _run(stage, ["x", "y"], _docs(9, 2)).height == 0
    assert not any("index" in f for f in read)
    stage.close()


def test_save_index_takes_the_kept_ids_from_a_lazy_frame(tmp_path):
    texts = _docs(3, 4)
    stage = MinHashDedup(MinHashConfig(spill_dir=tmp_path / "s"))
    _run(stage, ["a", "b", "c", "d"], texts)
    pl.DataFrame({"id": ["d", "b"], "other": [1, 2]}).write_parquet(tmp_path / "data.parquet")
    folder = stage.save_index(tmp_path / "out", pl.scan_parquet(tmp_path / "data.parquet"))
    stage.close()
    assert sorted(pq.read_table(sorted(folder.glob("part-*.parquet")))["id"].to_pylist()) == ["b", "d"]
    assert json.loads((folder / "params.json").read_text())["indexed_rows"] == 2
