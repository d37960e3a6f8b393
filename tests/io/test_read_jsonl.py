"""read_file on JSON Lines: line handling, rejects with exact reasons, bisection, compression."""

from __future__ import annotations

import gzip
import json

import pytest
import zstandard

from reader_helpers import assert_aligned, assert_all_accounted, collect

MESSY = (
    b'\xef\xbb\xbf{"id":"a","n":1}\r\n'  # 0: BOM + CRLF
    b"\r\n"  # 1: blank
    b'   \t \n'  # 2: whitespace only
    b'{"id":"b","n":2}\n'  # 3
    b'{"id":"c", "n":3 \n'  # 4: invalid JSON
    b"42\n"  # 5: not an object
    b'["id"]\n'  # 6: not an object
    b'{"id":"d","n":4}\n'  # 7
    b'{"id":"e","n":"\xff"}\n'  # 8: invalid UTF-8
    b'{"id":"f","n":5} {"id":"g","n":6}\n'  # 9: two values on one line
    b'  {"id":"h","n":7}  \n'  # 10: indented, kept as is
    b'{"id":"i","n":8}'  # 11: no final newline
)
MESSY_REJECTS = [
    {"raw": '{"id":"c", "n":3 ', "source_index": 4, "stage": "parse",
     "reason": "invalid JSON: line 5 column 18: unexpected end of data"},
    {"raw": "42", "source_index": 5, "stage": "parse", "reason": "not a JSON object: line 6 is a number"},
    {"raw": '["id"]', "source_index": 6, "stage": "parse",
     "reason": "not a JSON object: line 7 is an array"},
    {"raw": '{"id":"e","n":"\\xff"}', "source_index": 8, "stage": "read",
     "reason": "invalid UTF-8: line 9 byte 16: invalid start byte"},
    {"raw": '{"id":"f","n":5} {"id":"g","n":6}', "source_index": 9, "stage": "parse",
     "reason": "invalid JSON: line 10 column 18: unexpected content after document"},
]


def test_messy_lines(write):
    res = collect(write("m.jsonl", MESSY))
    assert res.rows == [{"id": k, "n": n} for k, n in zip("abdhi", [1, 2, 4, 7, 8])]
    assert res.index == [0, 3, 7, 10, 11]
    assert res.raw == ['{"id":"a","n":1}', '{"id":"b","n":2}', '{"id":"d","n":4}',
                       '  {"id":"h","n":7}  ', '{"id":"i","n":8}']
    assert res.rejects == MESSY_REJECTS
    # lines 1 and 2 are blank: not records; every other line is read or rejected, once
    assert sorted(res.index + [r["source_index"] for r in res.rejects]) == [0, *range(3, 12)]


def test_bad_line_in_the_middle_keeps_its_neighbours(write):
    lines = [json.dumps({"instruction": f"q{i}", "output": f"a{i}"}) for i in range(1000)]
    lines[500] = '{"instruction": "q500", "output": }'
    res = collect(write("a.jsonl", "\n".join(lines) + "\n"))
    assert len(res.rows) == 999
    assert res.rejects == [{"raw": lines[500], "source_index": 500, "stage": "parse",
                            "reason": "invalid JSON: line 501 column 35: unexpected character, expected a JSON value"}]
    assert res.index == [i for i in range(1000) if i != 500]
    assert res.rows[499] == {"instruction": "q499", "output": "a499"}
    assert res.rows[500] == {"instruction": "q501", "output": "a501"}
    assert_aligned(res)
    assert_all_accounted(res, 1000)


def test_type_conflict_sends_the_minority_to_the_loose_batch(write):
    lines = [json.dumps({"instruction": f"q{i}", "output": f"a{i}"}) for i in range(300)]
    lines[0] = '{"instruction": "q0", "output": 17}'  # the odd one first: Arrow infers from it
    lines[200] = '{"instruction": "q200", "output": {"text": "x"}}'
    lines[250] = '{"instruction": "q250", "output": null}'  # null fits any type
    res = collect(write("c.jsonl", "\n".join(lines)))
    assert res.rejects == []
    assert res.loose == [(0, lines[0]), (200, lines[200])]
    assert len(res.rows) == 298 and res.rows[248]["output"] is None
    assert_aligned(res)
    assert_all_accounted(res, 300)


def test_nested_type_conflict_names_the_path(write):
    conv = [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]
    rows = [{"id": i, "conversations": conv} for i in range(20)]
    rows[7] = {"id": 7, "conversations": [{"from": "human", "value": 5}]}
    res = collect(write("s.jsonl", "\n".join(json.dumps(r) for r in rows)))
    assert res.rejects == [] and res.loose == [(7, json.dumps(rows[7]))]
    assert res.index == [i for i in range(20) if i != 7]
    assert_aligned(res)


def test_mixed_array_inside_one_record(write):
    res = collect(write("x.jsonl", '{"a": [1, 2]}\n{"a": [1, "x"]}\n{"a": [3]}\n'))
    assert res.rejects == [] and res.loose == [(1, '{"a": [1, "x"]}')]
    assert res.rows == [{"a": [1, 2]}, {"a": [3]}]


def test_duplicate_key(write):
    res = collect(write("x.jsonl", '{"a": 1}\n{"a": 2, "a": 3}\n'))
    assert [r["reason"] for r in res.rejects] == ["invalid JSON: line 2: duplicate key 'a'"]


def test_many_bad_lines_are_all_isolated(write):
    lines = [json.dumps({"k": i}) if i % 3 else "{nope" for i in range(300)]
    res = collect(write("x.jsonl", "\n".join(lines)))
    assert [r["source_index"] for r in res.rejects] == list(range(0, 300, 3))
    assert all(r["reason"].startswith("invalid JSON: line ") for r in res.rejects)
    assert [r["k"] for r in res.rows] == [i for i in range(300) if i % 3]
    assert_all_accounted(res, 300)


@pytest.mark.parametrize("batch_bytes", [1, 50, 333, 4096])
def test_small_batches_cover_every_record_once(write, batch_bytes):
    lines = [json.dumps({"id": i, "t": "x" * (i % 37)}) for i in range(400)]
    lines[123] = "not json"
    data = ("\n\n".join(lines) + "\n").encode()  # a blank line between records
    res = collect(write("x.jsonl", data), batch_bytes=batch_bytes)
    assert res.batches > 1
    assert [r["id"] for r in res.rows] == [i for i in range(400) if i != 123]
    assert res.index == [2 * i for i in range(400) if i != 123]  # blank lines are counted lines
    assert [r["source_index"] for r in res.rejects] == [246]
    assert_aligned(res)


def test_line_longer_than_a_batch(write):
    long = json.dumps({"t": "y" * 100_000})
    res = collect(write("x.jsonl", f'{{"t": "a"}}\n{long}\n{{"t": "b"}}\n'), batch_bytes=1000)
    assert [len(r["t"]) for r in res.rows] == [1, 100_000, 1]
    assert res.raw[1] == long


def test_empty_and_blank_files_have_no_records(write):
    assert collect(write("e.jsonl", b"")).batches == 0
    assert collect(write("b.jsonl", b"\n \r\n\t\n")).batches == 0


def test_empty_object_is_a_record(write):
    res = collect(write("x.jsonl", "{}\n{}\n"))
    assert res.rows == [{}, {}] and res.raw == ["{}", "{}"] and res.index == [0, 1]


@pytest.mark.parametrize("name, compress", [
    ("m.jsonl.gz", gzip.compress),
    ("m.jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ("m.ndjson", lambda b: b),
])
def test_compressed_reads_like_plain(write, name, compress):
    plain = collect(write("plain.jsonl", MESSY))
    res = collect(write(name, compress(MESSY)))
    assert (res.rows, res.raw, res.index, res.rejects) == \
        (plain.rows, plain.raw, plain.index, plain.rejects)


def test_concatenated_gzip_members(write):
    data = gzip.compress(b'{"a":1}\n') + gzip.compress(b'{"a":2}\n')
    assert collect(write("x.jsonl.gz", data)).rows == [{"a": 1}, {"a": 2}]


def test_truncated_gzip_keeps_what_was_read(write):
    lines = "".join(json.dumps({"id": i, "pad": "z" * 200}) + "\n" for i in range(2000))
    data = gzip.compress(lines.encode(), compresslevel=1)
    res = collect(write("t.jsonl.gz", data[: len(data) * 2 // 3]), batch_bytes=10_000)
    kept = len(res.rows)
    assert 0 < kept < 2000
    assert [r["id"] for r in res.rows] == list(range(kept))
    assert len(res.rejects) == 1
    cut = res.rejects[0]
    assert cut["stage"] == "read" and cut["source_index"] == kept
    assert cut["reason"] == (f"truncated file: gzip stream ended early; line {kept + 1} is cut, "
                             "nothing after it could be read")
    assert lines.splitlines()[kept].startswith(cut["raw"])


def test_truncated_zstd_keeps_what_was_read(write):
    lines = "".join(json.dumps({"id": i, "pad": "z" * 200}) + "\n" for i in range(2000))
    data = zstandard.ZstdCompressor().compress(lines.encode())
    res = collect(write("t.jsonl.zst", data[:-20]), batch_bytes=10_000)
    assert [r["id"] for r in res.rows] == list(range(len(res.rows)))
    assert len(res.rejects) == 1
    assert res.rejects[0]["reason"].startswith("truncated file: zstd stream ended early")


def test_not_gzip_at_all(write):
    res = collect(write("x.jsonl.gz", b'{"a": 1}\n'))
    assert res.rows == []
    assert res.rejects == [{"raw": "", "source_index": -1, "stage": "read",
                            "reason": "unreadable file: not a gzip file"}]


def test_unopenable_file_raises_input_error(write):
    import os

    from curate.errors import InputError
    from curate.io import discover, read_file

    path = write("x.jsonl", b'{"a":1}\n')
    files, _ = discover([path])
    os.remove(path)
    with pytest.raises(InputError, match=r"^cannot open x.jsonl: No such file or directory"):
        list(read_file(files[0]))


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_uniform_line_endings_are_stripped(write, ending):
    lines = [json.dumps({"i": i, "t": "é" * i}, ensure_ascii=False) for i in range(30)]
    res = collect(write("u.jsonl", ending.join(lines) + ending))
    assert res.raw == lines and res.index == list(range(30))
    assert_aligned(res)


def test_bad_json_and_type_conflict_in_one_small_block(write):
    lines = [json.dumps({"q": f"q{i}", "a": f"a{i}"}) for i in range(10)]
    lines[3] = '{"q": "q3", "a": "a3"'
    lines[5] = '{"q": "q5", "a": 5}'
    lines[8] = '"q8"'
    res = collect(write("x.jsonl", "\n".join(lines)))
    assert [(r["source_index"], r["reason"]) for r in res.rejects] == [
        (3, "invalid JSON: line 4 column 22: unexpected end of data"),
        (8, "not a JSON object: line 9 is a string"),
    ]
    assert res.index == [0, 1, 2, 4, 6, 7, 9] and res.loose == [(5, lines[5])]
    assert_aligned(res)
