import pytest

from curate.errors import InputError
from curate.io import manifest


def make(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data/part-00000.parquet").write_bytes(b"abc")
    from curate.io.writers import sha256_of

    shard = {"path": "data/part-00000.parquet", "rows": 1, "bytes": 3, "sha256": sha256_of(tmp_path / "data/part-00000.parquet")}
    manifest.write(tmp_path, {"schema_version": 1, "shards": {"data": [shard], "rejects": []}})
    return tmp_path


def test_verify_ok_then_each_kind_of_tampering(tmp_path):
    out = make(tmp_path)
    assert manifest.verify(out) == []
    (out / "data/part-00000.parquet").write_bytes(b"abd")
    assert manifest.verify(out) == ["data/part-00000.parquet: sha256 differs from the manifest (the file was changed)"]
    (out / "data/part-00000.parquet").write_bytes(b"abcd")
    assert manifest.verify(out) == ["data/part-00000.parquet: size 4 bytes, manifest says 3"]
    (out / "data/part-00001.parquet").write_bytes(b"x")
    (out / "data/part-00000.parquet").unlink()
    assert manifest.verify(out) == ["data/part-00000.parquet: missing", "data/part-00001.parquet: not listed in the manifest"]


def test_verify_refuses_paths_that_escape(tmp_path):
    manifest.write(tmp_path, {"shards": {"data": [{"path": "../etc/passwd", "rows": 0, "bytes": 0, "sha256": ""}]}})
    assert manifest.verify(tmp_path) == ["../etc/passwd: path escapes the dataset folder"]


def test_load_errors_are_one_line_with_hint(tmp_path):
    with pytest.raises(InputError) as error:
        manifest.load(tmp_path)
    assert str(error.value) == f"{tmp_path}: no manifest.json (hint: pass a folder written by `curate clean`)"
