"""DATA: an OUT folder or any input curate reads, through the readers + formats API."""

import json

import pyarrow as pa
import pyarrow.parquet as pq

from curate.templates import check_dataset
from curate.templates.data import load_rows


def test_raw_sharegpt_input_is_normalised_and_checked(tmp_path, tokenizer_dir):
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [{"conversations": [{"from": "human", "value": "Hello there"}, {"from": "gpt", "value": "I am fine"}]},
             {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "  Hello  "}]}]
    (raw / "chat.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    table = load_rows(raw)
    assert table.num_rows == 2
    assert [m["role"] for m in table.column("messages")[0].as_py()] == ["user", "assistant"]
    report = check_dataset(raw, tokenizer_dir("gemma", "gemma"))
    assert {k: f.count for k, f in report.findings.items()} == {"answer altered": 1}
    assert report.row_problems == [(table.column("id")[1].as_py(), "template: answer altered")]


def test_out_folder_written_as_jsonl_is_read_back(tmp_path, tokenizer_dir):
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"schema_version": 1}))
    row = {"id": "x:0", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    (out / "data" / "part-00000.jsonl").write_text(json.dumps(row) + "\n")
    table = load_rows(out)
    assert table.column("id").to_pylist() == ["x:0"]
    assert check_dataset(out, tokenizer_dir("chatml", "chatml")).verdict == "safe"


def test_out_folder_parquet_with_preference_columns(tmp_path, tokenizer_dir):
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"schema_version": 1}))
    turn = lambda role, text: [{"role": role, "content": text}]  # noqa: E731
    pq.write_table(pa.table({"id": ["p:0"], "prompt": [turn("user", "Two plus two?")],
                             "chosen": [turn("assistant", "four")], "rejected": [turn("assistant", "five")]}),
                   out / "data" / "part-00000.parquet")
    report = check_dataset(out, tokenizer_dir("chatml", "chatml"), 64)
    assert report.kind == "preference" and report.verdict == "safe" and report.lengths["count"] == 1
