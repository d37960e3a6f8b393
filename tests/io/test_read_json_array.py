"""read_file on JSON array files (.json): elements re-serialised, non-objects rejected."""

from __future__ import annotations

import gzip
import json

import orjson

from reader_helpers import assert_aligned, assert_all_accounted, collect

ALPACA = [
    {"instruction": "Say hi", "input": "", "output": "hi"},
    {"instruction": "Add", "input": "1+1", "output": "2", "history": [["q", "a"]]},
    "a stray string",
    {"instruction": "Count", "input": "", "output": 3},
    None,
    {"instruction": "Ünïcode ✓", "input": "", "output": "好"},
]


def test_array_of_records(write):
    res = collect(write("a.json", "\ufeff" + json.dumps(ALPACA, indent=2, ensure_ascii=False)))
    assert res.index == [0, 1, 5]
    assert res.raw == [orjson.dumps(ALPACA[i]).decode() for i in (0, 1, 5)]
    assert res.rows[1]["history"] == [["q", "a"]] and res.rows[0].get("history") is None
    assert res.rejects == [
        {"raw": '"a stray string"', "source_index": 2, "stage": "parse",
         "reason": "not a JSON object: element 2 is a string"},
        {"raw": "null", "source_index": 4, "stage": "parse",
         "reason": "not a JSON object: element 4 is null"},
    ]
    assert res.loose == [(3, orjson.dumps(ALPACA[3]).decode())]  # the format layer judges its number
    assert_aligned(res)
    assert_all_accounted(res, len(ALPACA))


def test_small_batches(write):
    items = [{"k": i, "v": "x" * i} for i in range(100)]
    res = collect(write("a.json", json.dumps(items)), batch_bytes=200)
    assert res.batches > 5
    assert res.index == list(range(100)) and [r["k"] for r in res.rows] == list(range(100))
    assert_aligned(res)


def test_gzip_array(write):
    res = collect(write("a.json.gz", gzip.compress(json.dumps(ALPACA[:2]).encode())))
    assert res.index == [0, 1] and res.rejects == []


def test_json_lines_saved_as_json(write):
    res = collect(write("l.json", '{"a": 1}\n{"a": 2}\n'))
    assert res.rows == [{"a": 1}, {"a": 2}] and res.raw == ['{"a": 1}', '{"a": 2}']


def test_broken_array_is_one_file_reject(write):
    res = collect(write("b.json", '[{"a": 1},\n {"a": 2'))
    assert res.rows == []
    assert res.rejects == [{"raw": "", "source_index": -1, "stage": "parse",
                            "reason": "invalid JSON: line 2 column 9: unexpected end of data"}]


def test_invalid_utf8_array_is_one_read_reject(write):
    res = collect(write("u.json", b'[{"a": "\xff"}]'))
    assert [(r["source_index"], r["stage"], r["reason"].split(":")[0]) for r in res.rejects] == [
        (-1, "read", "invalid UTF-8")]


def test_reader_confirms_an_object_is_not_a_dataset(tmp_path):
    from curate.io import InputFile, read_file

    path = tmp_path / "o.json"
    path.write_text('{"a": {"b": 1}}')
    file = InputFile(path=path, rel="o.json", kind="json", compression=None, size=15)
    (batch,) = read_file(file)
    assert batch.table.num_rows == 0
    assert batch.rejects.to_pylist() == [{
        "raw": "", "source_index": -1, "stage": "read",
        "reason": "unreadable file: not a dataset: JSON object, not an array of records"}]


def test_empty_array(write):
    assert collect(write("e.json", "[]")).batches == 0
