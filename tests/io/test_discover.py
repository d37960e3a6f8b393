"""discover(): folders, order, skipped notes, classification of .json files, missing inputs."""

from __future__ import annotations

import gzip

import pytest

from curate.errors import InputError
from curate.io import discover


def make_tree(root):
    (root / "raw" / "sub" / "deeper").mkdir(parents=True)
    (root / "raw" / ".hidden").mkdir()
    files = {
        "raw/b.jsonl": b'{"a":1}\n',
        "raw/a.csv": b"x,y\n1,2\n",
        "raw/README.md": b"# notes\n",
        "raw/notes.txt": b"hello\n",
        "raw/.secret.jsonl": b'{"a":1}\n',
        "raw/.hidden/c.jsonl": b'{"a":1}\n',
        "raw/sub/c.ndjson": b'{"a":1}\n',
        "raw/sub/d.tsv": b"x\ty\n",
        "raw/sub/deeper/e.jsonl.zst": b"",
        "raw/sub/deeper/f.parquet": b"PAR1",
        "raw/sub/g.json": b'[{"a": 1}]',
        "raw/sub/info.json": b'{\n  "alpaca": {"file_name": "a.json"}\n}\n',
        "raw/z.jsonl.gz": gzip.compress(b'{"a":1}\n'),
    }
    for rel, data in files.items():
        (root / rel).write_bytes(data)
    return root / "raw"


def test_folder_recursive_sorted_with_notes(tmp_path):
    files, skipped = discover([make_tree(tmp_path)])
    assert [(f.rel, f.kind, f.compression) for f in files] == [
        ("raw/a.csv", "csv", None),
        ("raw/b.jsonl", "jsonl", None),
        ("raw/sub/c.ndjson", "jsonl", None),
        ("raw/sub/d.tsv", "tsv", None),
        ("raw/sub/deeper/e.jsonl.zst", "jsonl", "zstd"),
        ("raw/sub/deeper/f.parquet", "parquet", None),
        ("raw/sub/g.json", "json", None),
        ("raw/z.jsonl.gz", "jsonl", "gzip"),
    ]
    assert skipped == [
        {"file": "raw/README.md", "note": "not a data file"},
        {"file": "raw/notes.txt", "note": "not a data file"},
        {"file": "raw/sub/info.json", "note": "not a dataset: JSON object, not an array of records"},
    ]
    assert all(f.path.is_absolute() and f.path.is_file() for f in files)
    assert files[0].size == len(b"x,y\n1,2\n")


def test_order_is_deterministic(tmp_path):
    root = make_tree(tmp_path)
    assert discover([root]) == discover([root])


def test_file_argument_rel_is_its_name(tmp_path):
    root = make_tree(tmp_path)
    files, skipped = discover([root / "sub" / "c.ndjson", root / "b.jsonl"])
    assert [f.rel for f in files] == ["c.ndjson", "b.jsonl"]  # the order of the arguments
    assert skipped == []


def test_file_reached_twice_is_read_once(tmp_path):
    root = make_tree(tmp_path)
    files, skipped = discover([root / "b.jsonl", root])
    assert [f.rel for f in files].count("raw/b.jsonl") == 0
    assert [f.rel for f in files][0] == "b.jsonl"
    assert {"file": "raw/b.jsonl", "note": "listed twice: read once"} in skipped


def test_missing_input_raises(tmp_path):
    with pytest.raises(InputError) as err:
        discover([tmp_path / "nope.jsonl"])
    assert str(err.value) == (f"input not found: {tmp_path / 'nope.jsonl'} "
                              "(hint: check the path; give data files or folders that hold them)")


@pytest.mark.parametrize("content, kind, note", [
    (b'[{"a": 1}]', "json", ""),
    (b'\xef\xbb\xbf  \n [\n {"a": 1}\n]', "json", ""),
    (b"", "json", ""),
    (b'{"a": 1}\n{"a": 2}\n', "jsonl", ""),
    (b'{"a": 1}\r\n\r\n{"a": 2}', "jsonl", ""),
    (b'{"a": 1}', None, "not a dataset: JSON object, not an array of records"),
    (b'{\n  "a": {"b": [1, 2]}\n}\n', None, "not a dataset: JSON object, not an array of records"),
    (b'"just a string"', None, "not a dataset: JSON scalar, not an array of records"),
    (b'{"a": 1\n{"a": 2}\n', "jsonl", ""),  # JSON Lines whose first line is broken
])
def test_json_files_are_classified_by_their_first_bytes(tmp_path, content, kind, note):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    files, skipped = discover([path])
    if kind is None:
        assert files == [] and skipped == [{"file": "x.json", "note": note}]
    else:
        assert [f.kind for f in files] == [kind] and skipped == []


def test_compressed_json_is_peeked_through_gzip(tmp_path):
    path = tmp_path / "x.json.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    files, _ = discover([path])
    assert [(f.kind, f.compression) for f in files] == [("jsonl", "gzip")]


def test_compressed_parquet_is_skipped_with_a_note(tmp_path):
    path = tmp_path / "x.parquet.gz"
    path.write_bytes(b"")
    assert discover([path]) == ([], [{
        "file": "x.parquet.gz",
        "note": "not a data file: compressed Parquet is not supported (Parquet compresses inside)"}])


@pytest.mark.parametrize("content, kind", [
    (b'[\n  {"a": 1},\n  {"a": 2}\n]\n', "json"),  # a pretty-printed array saved as .jsonl
    (b'[{"a": 1}, {"a": 2}]', "json"),
    (b'["a", 1]\n{"a": 2}\n', "jsonl"),  # JSON Lines whose first record is an array
    (b'{"a": 1}\n', "jsonl"),
])
def test_jsonl_holding_one_array_is_read_as_json(tmp_path, content, kind):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    files, _ = discover([path])
    assert [f.kind for f in files] == [kind]
