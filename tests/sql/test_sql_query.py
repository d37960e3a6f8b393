"""`curate sql`: results against the shard contents, output formats, and the read-only sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import InputError, UsageError
from curate.sql import Dataset, guard, run_query

runner = CliRunner()


def sql(out: Path, query: str, *extra: str):
    return runner.invoke(app, ["sql", str(out), query, *extra])


def shard_rows(out: Path, part: str) -> list[dict]:
    rows = []
    for path in sorted((out / part).glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def test_data_view_matches_every_shard(dataset: Path):
    expected = {r["id"]: r for r in shard_rows(dataset, "data")}
    table = run_query(dataset, "SELECT id, len(messages) AS turns, messages[1].role AS first, lang FROM data")
    got = {r["id"]: r for r in table.to_pylist()}
    assert sorted(got) == ["a:0", "a:1", "a:2", "b:0", "b:1"] == sorted(expected)
    for row_id, row in got.items():
        assert row["turns"] == len(expected[row_id]["messages"])
        assert row["first"] == expected[row_id]["messages"][0]["role"]
        assert row["lang"] == expected[row_id]["lang"]


def test_unnest_messages_counts_roles(dataset: Path):
    table = run_query(dataset, "SELECT m.role, count(*) AS n FROM (SELECT unnest(messages) AS m FROM data) GROUP BY 1 ORDER BY 1")
    roles = [m["role"] for r in shard_rows(dataset, "data") for m in r["messages"]]
    assert table.to_pylist() == [{"role": k, "n": roles.count(k)} for k in sorted(set(roles))]
    assert table.to_pylist() == [{"role": "assistant", "n": 7}, {"role": "system", "n": 1}, {"role": "tool", "n": 1}, {"role": "user", "n": 6}]


def test_tool_calls_are_queryable(dataset: Path):
    table = run_query(dataset, "SELECT id, m.tool_calls[1].name AS tool FROM (SELECT id, unnest(messages) AS m FROM data) WHERE len(m.tool_calls) > 0")
    assert table.to_pylist() == [{"id": "a:1", "tool": "weather"}]


def test_rejects_and_manifest_views(dataset: Path):
    rejects = run_query(dataset, "SELECT stage, reason, duplicate_of FROM rejects ORDER BY id").to_pylist()
    assert rejects == [{"stage": r["stage"], "reason": r["reason"], "duplicate_of": r["duplicate_of"]}
                       for r in sorted(shard_rows(dataset, "rejects"), key=lambda r: r["id"])]
    dropped = run_query(dataset, "SELECT name, rows FROM manifest WHERE section = 'dropped' ORDER BY name").to_pylist()
    assert dropped == [{"name": "dedup/duplicate", "rows": 1}, {"name": "pii/pii: EMAIL", "rows": 1},
                       {"name": "validate/empty turn", "rows": 1}]
    shards = run_query(dataset, "SELECT name, rows, sha256 FROM manifest WHERE section = 'shard' AND part = 'data' ORDER BY name")
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert shards.to_pylist() == [{"name": s["path"], "rows": s["rows"], "sha256": s["sha256"]} for s in manifest["shards"]["data"]]
    inputs = run_query(dataset, "SELECT name, value, rows FROM manifest WHERE section = 'input'").to_pylist()
    assert inputs == [{"name": "raw/a.jsonl", "value": "sharegpt", "rows": 8}]
    counts = run_query(dataset, "SELECT name, rows FROM manifest WHERE section = 'count' ORDER BY name").to_pylist()
    assert counts == [{"name": "kept", "rows": 5}, {"name": "read", "rows": 8}, {"name": "rejected", "rows": 3}]


def test_empty_rejects_is_an_empty_typed_view(tmp_path: Path, builder):
    out = builder.write_dataset(tmp_path / "out", [builder.conv("x", ("user", "q"), ("assistant", "a"))], [])
    assert run_query(out, "SELECT count(*) AS n FROM rejects").to_pylist() == [{"n": 0}]
    assert "reason" in run_query(out, "SELECT * FROM rejects").column_names


def test_csv_output(dataset: Path):
    result = sql(dataset, "SELECT id, len(messages) AS turns FROM data ORDER BY id", "--format", "csv")
    assert result.exit_code == 0
    assert result.output == "id,turns\na:0,3\na:1,4\na:2,2\nb:0,4\nb:1,2\n"


def test_json_output_keeps_nesting(dataset: Path):
    result = sql(dataset, "SELECT id, messages FROM data WHERE id = 'b:1'", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [m["content"] for m in rows[0]["messages"]] == ["Translate 'cat'", "chat"]
    assert rows[0]["id"] == "b:1"


def test_table_output_and_row_limit(dataset: Path):
    result = sql(dataset, "SELECT id, lang FROM data ORDER BY id", "--max-rows", "2")
    assert result.exit_code == 0
    assert result.output == "id   lang\n---  ----\na:0  en\na:1  en\n(2 rows shown; more not shown: add LIMIT or use --format csv)\n"
    result = sql(dataset, "SELECT count(*) AS n FROM data")
    assert result.output == "n\n-\n5\n(1 row)\n"


REFUSED = {
    "COPY data TO 'out.csv'": "COPY",
    "CREATE TABLE t AS SELECT 1": "CREATE",
    "CREATE VIEW v AS SELECT 1": "CREATE",
    "INSERT INTO data SELECT * FROM data": "INSERT",
    "UPDATE data SET id = 'x'": "UPDATE",
    "DELETE FROM data": "DELETE",
    "DROP VIEW data": "DROP",
    "ATTACH 'other.db'": "ATTACH",
    "INSTALL httpfs": "LOAD",
    "LOAD httpfs": "LOAD",
    "SET enable_external_access = true": "SET",
    "PRAGMA version": "PRAGMA",
    "EXPORT DATABASE 'dump'": "EXPORT",
    "CALL pragma_version()": "CALL",
}


@pytest.mark.parametrize("query,kind", REFUSED.items())
def test_writes_and_settings_are_refused(dataset: Path, query: str, kind: str):
    before = sorted(p.name for p in dataset.rglob("*"))
    result = sql(dataset, query)
    assert result.exit_code == 2
    assert result.output == (
        f"error: curate sql is read-only: {kind} statements are refused "
        "(hint: only SELECT queries over data, rejects and manifest are allowed)\n"
    )
    assert sorted(p.name for p in dataset.rglob("*")) == before


def test_two_statements_are_refused(dataset: Path):
    result = sql(dataset, "SELECT 1; COPY data TO 'x.csv'")
    assert result.exit_code == 2
    assert result.output == "error: 2 statements given; curate sql runs exactly one (hint: pass a single SELECT statement)\n"


DENIED = "(hint: curate sql reads only the views data, rejects and manifest of this dataset)\n"


def test_files_outside_the_dataset_cannot_be_read(dataset: Path):
    result = sql(dataset, "SELECT * FROM read_csv('/etc/passwd')")
    assert result.exit_code == 2
    assert result.output == (
        'error: query failed: Permission Error: Cannot access file "/etc/passwd" - file system operations '
        f"are disabled by configuration {DENIED}"
    )
    secret = dataset.parent / "secret.txt"
    secret.write_text("token=abc\n")
    for path in (str(secret), str(dataset / ".." / "secret.txt")):
        result = sql(dataset, f"SELECT content FROM read_text('{path}')")
        assert result.exit_code == 2
        assert result.output == (f'error: query failed: Permission Error: Cannot access file "{path}" - file system '
                                 f"operations are disabled by configuration {DENIED}")
        assert "token" not in result.output


def test_files_inside_the_dataset_can_be_read(dataset: Path):
    result = sql(dataset, f"SELECT kind FROM read_json('{dataset / 'manifest.json'}')", "--format", "csv")
    assert result.exit_code == 0
    assert result.output == "kind\nconversation\n"


def test_engine_sandbox_holds_without_the_statement_guard(dataset: Path, tmp_path: Path):
    """The connection refuses writes outside OUT and setting changes even if a statement got past `guard`."""
    import duckdb

    with Dataset(dataset) as ds:
        with pytest.raises(duckdb.PermissionException, match="file system operations are disabled"):
            ds.con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'leak.csv'}'")
        with pytest.raises(duckdb.PermissionException, match="file system operations are disabled"):
            ds.con.execute(f"ATTACH '{tmp_path / 'other.db'}'")
        with pytest.raises(duckdb.InvalidInputException, match="the configuration has been locked"):
            ds.con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.InvalidInputException, match="the configuration has been locked"):
            ds.con.execute("SET allowed_directories = ['/']")
        with pytest.raises(duckdb.PermissionException, match="external extensions is disabled"):
            ds.con.execute("LOAD httpfs")
    assert not (tmp_path / "leak.csv").exists()


def test_link_out_of_the_dataset_is_refused(dataset: Path):
    secret = dataset.parent / "secret.txt"
    secret.write_text("x")
    (dataset / "data" / "notes.txt").symlink_to(secret)
    with pytest.raises(InputError, match="a link to a file outside the dataset folder"):
        Dataset(dataset)


def test_manifest_shard_path_escaping_is_refused(dataset: Path, builder):
    builder.rewrite_manifest(dataset, shards={"data": [{"path": "../elsewhere.parquet"}], "rejects": []})
    result = sql(dataset, "SELECT 1")
    assert result.exit_code == 2
    assert "shard path '../elsewhere.parquet' is outside the dataset folder" in result.output


def test_malformed_manifest_is_an_input_error(dataset: Path, builder):
    builder.rewrite_manifest(dataset, inputs=[{"file": "a", "rows": "many"}])
    result = sql(dataset, "SELECT 1")
    assert result.exit_code == 2
    assert result.output == (f"error: {dataset.resolve() / 'manifest.json'}: unexpected structure (ArrowInvalid) "
                             "(hint: re-run `curate clean`, or check the file against schemas/)\n")
    (dataset / "manifest.json").write_text("{not json")
    result = sql(dataset, "SELECT 1")
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {dataset.resolve() / 'manifest.json'}: unreadable manifest (")


def test_unknown_column_and_missing_folder(dataset: Path, tmp_path: Path):
    result = sql(dataset, "SELECT nope FROM data")
    assert result.exit_code == 2
    assert result.output.startswith('error: query failed: Binder Error: Referenced column "nope" not found')
    assert result.output.endswith("(hint: the views are data, rejects and manifest; `DESCRIBE data` lists the columns)\n")
    result = sql(tmp_path / "missing", "SELECT 1")
    assert result.exit_code == 2
    assert result.output == f"error: {tmp_path / 'missing'}: not a folder (hint: pass the OUT folder written by `curate clean`)\n"


def test_guard_accepts_select_shapes():
    for query in ("SELECT 1", "WITH a AS (SELECT 1) SELECT * FROM a", "FROM data", "DESCRIBE data", "SUMMARIZE data", "SELECT 1;"):
        assert guard(query) == query
    with pytest.raises(UsageError, match="EXPLAIN statements are refused"):
        guard("EXPLAIN ANALYZE COPY data TO 'x'")


def test_corrupt_shard_is_an_input_error(dataset: Path):
    (dataset / "data" / "part-00001.parquet").write_bytes(b"not parquet at all")
    result = sql(dataset, "SELECT count(*) FROM data")
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {dataset.resolve() / 'data'}: shards cannot be read (")
    assert result.output.endswith("(hint: run `curate verify OUT`, or re-run `curate clean`)\n")


def test_runtime_error_is_one_line(dataset: Path):
    result = sql(dataset, "SELECT CAST(id AS INTEGER) FROM data")
    assert result.exit_code == 2
    assert result.output.startswith("error: query failed: Conversion Error: Could not convert string 'a:0' to INT32")
    assert len(result.output.splitlines()) == 1
