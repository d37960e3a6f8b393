"""Reading example and evaluation files for the classifier and decontamination."""

import json

import polars as pl
import pytest
from quality_helpers import conversations

from curate.errors import InputError
from curate.stages.quality.texts import file_texts, plain_text, texts_of


def test_each_file_type_gives_one_text_per_record(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "x1", "messages": [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}) + "\n")
    (tmp_path / "b.json").write_text(json.dumps([{"instruction": "Add", "input": "1+1", "output": "2"}]))
    pl.DataFrame({"question": ["Q1", "Q2"], "answer": ["A1", "A2"]}).write_csv(tmp_path / "c.csv")
    pl.DataFrame({"text": ["doc one"]}).write_parquet(tmp_path / "d.parquet")
    (tmp_path / "e.txt").write_text("line one\n\nline two\n")
    assert file_texts(tmp_path / "a.jsonl") == ["Hi\nHello"]
    assert file_texts(tmp_path / "b.json") == ["Add\n1+1\n2"]
    assert file_texts(tmp_path / "c.csv") == ["Q1\nA1", "Q2\nA2"]
    assert file_texts(tmp_path / "d.parquet") == ["doc one"]
    assert file_texts(tmp_path / "e.txt") == ["line one", "line two"]
    assert len(texts_of([str(tmp_path)])) == 7


def test_a_curated_out_folder_reads_its_data_shards(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "rejects").mkdir()
    (tmp_path / "manifest.json").write_text("{}")
    pl.DataFrame({"text": ["kept"]}).write_parquet(tmp_path / "data" / "part-00000.parquet")
    pl.DataFrame({"raw": ["rejected"]}).write_parquet(tmp_path / "rejects" / "part-00000.parquet")
    assert texts_of([str(tmp_path)]) == ["kept"]


def test_unreadable_inputs_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        texts_of([str(tmp_path / "missing")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(InputError, match=r"bad.jsonl: cannot read"):
        file_texts(bad)


def test_plain_text_drops_role_prefixes():
    batch = conversations([("Bonjour", "Salut")])
    assert plain_text(batch, "all").to_pylist() == ["Bonjour\nSalut"]
