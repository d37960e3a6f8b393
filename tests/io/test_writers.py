import json

import pyarrow as pa
import pyarrow.parquet as pq

from curate.io.conform import conform, dataset_schema, used_paths
from curate.io.writers import ShardWriter, sha256_of


def test_shards_cut_every_n_rows_with_hashes(tmp_path):
    schema = pa.schema([("id", pa.string()), ("n", pa.int64())])
    writer = ShardWriter(tmp_path, "data", schema, shard_rows=4, row_group_rows=2)
    for start in (0, 3, 6):
        writer.write(pa.table({"id": [str(i) for i in range(start, start + 3)], "n": list(range(start, start + 3))}))
    shards = writer.close()
    assert [(s.path, s.rows) for s in shards] == [
        ("data/part-00000.parquet", 4), ("data/part-00001.parquet", 4), ("data/part-00002.parquet", 1)]
    assert pq.read_table(tmp_path / "data/part-00001.parquet")["n"].to_pylist() == [4, 5, 6, 7]
    assert pq.ParquetFile(tmp_path / "data/part-00000.parquet").metadata.num_row_groups == 2
    assert shards[0].sha256 == sha256_of(tmp_path / "data/part-00000.parquet")
    assert not list((tmp_path / "data").glob(".*"))  # no temp files left


def test_empty_dataset_still_gets_one_empty_shard(tmp_path):
    schema = pa.schema([("id", pa.string())])
    shards = ShardWriter(tmp_path, "data", schema).close()
    assert [(s.path, s.rows) for s in shards] == [("data/part-00000.parquet", 0)]
    assert pq.read_table(tmp_path / shards[0].path).schema == schema


def test_jsonl_shards(tmp_path):
    schema = pa.schema([("id", pa.string()), ("text", pa.string())])
    writer = ShardWriter(tmp_path, "data", schema, to="jsonl")
    writer.write(pa.table({"id": ["a"], "text": ["é\n"]}))
    [shard] = writer.close()
    assert shard.path == "data/part-00000.jsonl"
    assert [json.loads(l) for l in (tmp_path / shard.path).read_text(encoding="utf-8").splitlines()] == [
        {"id": "a", "text": "é\n"}]


def test_dataset_schema_prunes_unused_nested_fields_and_conform_fills_missing_columns():
    msg = pa.struct([("role", pa.string()), ("content", pa.string()), ("name", pa.string())])
    a = pa.table({"id": ["1"], "messages": pa.array([[{"role": "user", "content": "x", "name": None}]], pa.list_(msg))})
    b = pa.table({"id": ["2"], "messages": pa.array([[{"role": "user", "content": "y", "name": None}]], pa.list_(msg)),
                  "category": ["poetry"]})
    used = used_paths(a) | used_paths(b)
    schema = dataset_schema([a.schema, b.schema], used)
    assert schema.names == ["id", "messages", "category"]
    assert schema.field("messages").type == pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    out = conform(a, schema)
    assert out.to_pylist() == [{"id": "1", "messages": [{"role": "user", "content": "x"}], "category": None}]
    sliced = conform(b.slice(0, 1), schema)
    assert sliced["messages"].to_pylist() == [[{"role": "user", "content": "y"}]]
