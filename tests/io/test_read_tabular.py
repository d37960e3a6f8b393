"""read_file on CSV/TSV (every column text) and Parquet (row groups, corrupt files)."""

from __future__ import annotations

import gzip
import json

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reader_helpers import assert_aligned, assert_all_accounted, collect

CSV = (
    b'\xef\xbb\xbfid,instruction,output,conversations\r\n'
    b'1,Say hi,hi,\r\n'  # data row 0
    b'2,Count,NA\r\n'  # 1: ragged
    b'\r\n'  # empty line: not a record
    b'3,"multi\nline, quoted",007,"[{""from"": ""human"", ""value"": ""hi""}]"\r\n'  # 2
    b'4,a,b,c,d\r\n'  # 3: ragged
    b'   \r\n'  # whitespace only: not a record
    b'5,caf\xe9,x,\r\n'  # 4: latin-1 byte
    b'6,,"",\r\n'  # 5: empty cells stay ""
)


def test_csv_cells_are_strings_and_rows_are_accounted(write):
    res = collect(write("d.csv", CSV))
    assert res.rows == [
        {"id": "1", "instruction": "Say hi", "output": "hi", "conversations": ""},
        {"id": "3", "instruction": "multi\nline, quoted", "output": "007",
         "conversations": '[{"from": "human", "value": "hi"}]'},
        {"id": "6", "instruction": "", "output": "", "conversations": ""},
    ]
    assert res.index == [0, 2, 5]
    assert res.raw[1] == ('{"id":"3","instruction":"multi\\nline, quoted","output":"007",'
                          '"conversations":"[{\\"from\\": \\"human\\", \\"value\\": \\"hi\\"}]"}')
    assert res.rejects == [
        {"raw": "2,Count,NA", "source_index": 1, "stage": "parse",
         "reason": "malformed CSV row: 3 cells, expected 4 (row 3 counting the header)"},
        {"raw": "4,a,b,c,d", "source_index": 3, "stage": "parse",
         "reason": "malformed CSV row: 5 cells, expected 4 (row 5 counting the header)"},
        {"raw": '{"id":"5","instruction":"caf\\\\xe9","output":"x","conversations":""}',
         "source_index": 4, "stage": "read",
         "reason": "invalid UTF-8: data row 4 column 'instruction'"},
    ]
    assert_aligned(res)
    assert_all_accounted(res, 6)


def test_csv_schema_is_all_string(write):
    from curate.io import discover, read_file

    (file,), _ = discover([write("n.csv", "a,b,c\n1,2.5,true\n")])
    (batch,) = read_file(file)
    assert batch.table.schema == pa.schema([("a", pa.string()), ("b", pa.string()),
                                            ("c", pa.string())])


def test_csv_ragged_rows_across_small_batches(write):
    lines = ["k,v"] + [f"{i},{'x' * (i % 50)}" if i % 10 else f"{i}" for i in range(3000)]
    res = collect(write("r.csv", "\n".join(lines) + "\n"), batch_bytes=4096)
    assert res.batches > 3
    assert [int(r["k"]) for r in res.rows] == [i for i in range(3000) if i % 10]
    assert res.index == [i for i in range(3000) if i % 10]
    assert [r["source_index"] for r in res.rejects] == list(range(0, 3000, 10))
    assert_all_accounted(res, 3000)


def test_ragged_last_row(write):
    res = collect(write("t.csv", "a,b\n1,2\n3\n"))
    assert res.index == [0] and [r["source_index"] for r in res.rejects] == [1]


def test_tsv_and_gzip(write):
    data = b"instruction\toutput\nq1\ta1\nq2\t\"quoted\"\n"
    res = collect(write("t.tsv.gz", gzip.compress(data)))
    assert res.rows == [{"instruction": "q1", "output": "a1"},
                        {"instruction": "q2", "output": "quoted"}]
    assert res.raw == ['{"instruction":"q1","output":"a1"}', '{"instruction":"q2","output":"quoted"}']


def test_header_only_csv(write):
    assert collect(write("h.csv", "a,b\n")).rows == []


def write_parquet(path, n=10, group=4):
    table = pa.table({
        "id": [f"r{i}" for i in range(n)],
        "messages": [[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]
                     for i in range(n)],
        "score": [i / 2 for i in range(n)],
        "tags": [None if i % 3 else ["x"] for i in range(n)],
    })
    pq.write_table(table, path, row_group_size=group, use_dictionary=False)
    return table


def test_parquet_batches_rows_and_raw(tmp_path):
    table = write_parquet(tmp_path / "p.parquet")
    res = collect(tmp_path / "p.parquet", batch_bytes=150)
    assert res.batches >= 3
    assert res.rows == table.to_pylist()
    assert res.index == list(range(10))
    assert [orjson.loads(r) for r in res.raw] == table.to_pylist()
    assert res.rejects == []


def test_parquet_binary_and_dates_take_the_exact_path(tmp_path):
    import datetime

    pq.write_table(pa.table({"b": [b"ok", b"\xff"], "d": [datetime.date(2024, 1, 2), None]}),
                   tmp_path / "b.parquet")
    res = collect(tmp_path / "b.parquet")
    assert res.raw == ['{"b":"ok","d":"2024-01-02"}', '{"b":"\\\\xff","d":null}']


def test_corrupt_parquet_footer_is_one_reject(tmp_path):
    write_parquet(tmp_path / "p.parquet")
    data = (tmp_path / "p.parquet").read_bytes()
    (tmp_path / "bad.parquet").write_bytes(data[: len(data) // 2])
    res = collect(tmp_path / "bad.parquet")
    assert res.rows == []
    assert len(res.rejects) == 1
    reject = res.rejects[0]
    assert (reject["source_index"], reject["stage"]) == (-1, "read")
    assert reject["reason"].startswith("unreadable file: ")


def test_corrupt_row_group_keeps_the_others(tmp_path):
    write_parquet(tmp_path / "p.parquet", n=12, group=4)
    meta = pq.ParquetFile(tmp_path / "p.parquet").metadata
    data = bytearray((tmp_path / "p.parquet").read_bytes())
    at = meta.row_group(1).column(0).data_page_offset
    data[at:at + 8] = b"\xff" * 8  # break the page header of row group 1
    (tmp_path / "c.parquet").write_bytes(bytes(data))
    res = collect(tmp_path / "c.parquet")
    assert res.index == [0, 1, 2, 3, 8, 9, 10, 11]
    assert len(res.rejects) == 1 and res.rejects[0]["source_index"] == -1
    assert res.rejects[0]["reason"].startswith(
        "unreadable file: rows 4 to 7 (row group 1) could not be read (")


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv", "parquet"])
def test_every_format_reads_the_same_records(tmp_path, kind):
    records = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(50)]
    path = tmp_path / f"x.{kind}"
    if kind == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in records))
    elif kind == "json":
        path.write_text(json.dumps(records))
    elif kind == "csv":
        path.write_text("instruction,output\n" + "".join(f"q{i},a{i}\n" for i in range(50)))
    else:
        pq.write_table(pa.Table.from_pylist(records), path, row_group_size=7)
    res = collect(path, batch_bytes=300)
    assert res.rows == records and res.index == list(range(50)) and res.rejects == []
    assert [orjson.loads(r) for r in res.raw] == records
    assert_aligned(res)


def test_truncated_gzip_csv_keeps_the_rows_before_the_cut(write):
    data = "k,v\n" + "".join(f"{i},{'x' * 50}\n" for i in range(20000))
    packed = gzip.compress(data.encode())
    res = collect(write("t.csv.gz", packed[: len(packed) // 2]), batch_bytes=100_000)
    kept = len(res.rows)
    assert 0 < kept < 20000
    assert [int(r["k"]) for r in res.rows] == list(range(kept))
    assert all(r["v"] == "x" * 50 for r in res.rows)  # the cut row is not kept half-read
    assert res.rejects == [{"raw": "", "source_index": -1, "stage": "read",
                            "reason": "truncated file: gzip stream ended early; nothing after "
                                      f"data row {kept - 1} could be read"}]


def test_not_gzip_csv_and_empty_csv(write):
    res = collect(write("n.csv.gz", "a,b\n1,2\n"))
    assert res.rejects == [{"raw": "", "source_index": -1, "stage": "read",
                            "reason": "unreadable file: not a gzip file"}]
    assert collect(write("e.csv", "")).batches == 0
