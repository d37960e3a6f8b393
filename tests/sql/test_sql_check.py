"""`curate check`: built-in contracts, user rules, their output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import ConfigError
from curate.sql import check, parse_rules

runner = CliRunner()
PASSED = [
    "ok    schema-valid",
    "ok    ids-unique",
    "ok    no-empty-turns",
    "ok    role-grammar",
    "ok    counts-balance",
    "ok    shards-match-manifest",
]


def run(out: Path, *extra: str):
    return runner.invoke(app, ["check", str(out), *extra])


def test_clean_dataset_passes(dataset: Path):
    result = run(dataset)
    assert result.exit_code == 0
    assert result.output.splitlines() == PASSED + ["check passed: 0 errors, 0 warnings, 6 passed, 0 skipped"]


RULES = """\
-- Rules for our CI.
-- name: no-german
-- severity: warn
SELECT id FROM data WHERE lang = 'de';

-- name: two-turns-only
SELECT id FROM data WHERE len(messages) > 3 ORDER BY id;  -- system or tool turns count too

-- name: no-duplicates-left
-- severity: error
SELECT id FROM rejects WHERE reason = 'nope'
"""


def test_user_rules_error_and_warn(dataset: Path, tmp_path: Path):
    rules = tmp_path / "rules.sql"
    rules.write_text(RULES)
    result = run(dataset, "--rules", str(rules))
    assert result.exit_code == 1
    assert result.output.splitlines() == PASSED + [
        "warn  no-german              (warn) 1 violation, e.g. a:2",
        "FAIL  two-turns-only         (error) 2 violations, e.g. a:1, b:0",
        "ok    no-duplicates-left",
        "check failed: 1 error, 1 warning, 7 passed, 0 skipped",
    ]


def test_only_warnings_exit_zero(dataset: Path, tmp_path: Path):
    rules = tmp_path / "rules.sql"
    rules.write_text("-- name: long\n-- severity: warn\nSELECT id FROM data WHERE len(messages) > 3\n")
    result = run(dataset, "--rules", str(rules))
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "check passed: 0 errors, 1 warning, 6 passed, 0 skipped"


def test_rule_without_id_column_shows_first_column(dataset: Path, tmp_path: Path):
    rules = tmp_path / "rules.sql"
    rules.write_text("-- name: langs\nSELECT lang, count(*) FROM data GROUP BY lang ORDER BY lang")
    result = run(dataset, "--rules", str(rules))
    assert result.exit_code == 1
    assert "FAIL  langs                  (error) 3 violations, e.g. de, en, zh" in result.output.splitlines()


@pytest.mark.parametrize(
    "text,message",
    [
        ("-- name: x\n-- severity: fatal\nSELECT 1", "rules.sql:2: bad severity line '-- severity: fatal'"),
        ("SELECT 1\n-- name: x\nSELECT 1", "rules.sql: a query before the first `-- name:` line"),
        ("-- name: x\n-- just a comment\n", "rules.sql:1: rule 'x' has no query"),
        ("-- name: x\nSELECT 1\n-- name: x\nSELECT 2", "rules.sql: rule name 'x' is used twice"),
        ("-- only comments\n", "rules.sql: no rules found"),
    ],
)
def test_malformed_rules_exit_2(dataset: Path, tmp_path: Path, text: str, message: str):
    rules = tmp_path / "rules.sql"
    rules.write_text(text)
    result = run(dataset, "--rules", str(rules))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {tmp_path}/{message}")


def test_rule_that_writes_or_fails_exit_2(dataset: Path, tmp_path: Path):
    rules = tmp_path / "rules.sql"
    rules.write_text("-- name: ok\nSELECT id FROM data WHERE false\n-- name: sneaky\nCOPY data TO 'x.csv'\n")
    result = run(dataset, "--rules", str(rules))
    assert result.exit_code == 2
    assert result.output == (
        f"error: {rules}:3: rule 'sneaky': curate sql is read-only: COPY statements are refused "
        "(hint: only SELECT queries over data, rejects and manifest are allowed)\n"
    )
    assert not (dataset / "x.csv").exists()
    rules.write_text("-- name: typo\nSELECT id FROM dat\n")
    result = run(dataset, "--rules", str(rules))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {rules}:1: rule 'typo': query failed: Catalog Error: Table with name dat does not exist!")


def test_parse_rules_keeps_names_severities_and_lines():
    rules = parse_rules(RULES, "r.sql")
    assert [(r.name, r.severity, r.where) for r in rules] == [
        ("no-german", "warn", "r.sql:2"), ("two-turns-only", "error", "r.sql:6"), ("no-duplicates-left", "error", "r.sql:9")]
    assert rules[0].sql == "SELECT id FROM data WHERE lang = 'de';"


def _results(out: Path) -> dict:
    return {r.name: r for r in check(out)}


def test_duplicate_ids_empty_turns_and_bad_roles(tmp_path: Path, builder):
    c, m = builder.conv, builder.msg
    rows = [
        c("x", ("user", "q"), ("assistant", "a")),
        c("x", ("user", "q2"), ("assistant", "a2")),
        c("blank", ("user", "  \n"), ("assistant", "a")),
        c("no-turns"),
        c("call-ok", ("user", "q"), m("assistant", None, tool_calls=[{"id": "1", "type": "function", "name": "f", "arguments": "{}"}]),
          ("tool", "r"), ("assistant", "done")),
        c("two-users", ("user", "q"), ("user", "q"), ("assistant", "a")),
        c("ends-on-user", ("user", "q"), ("assistant", "a"), ("user", "q")),
        c("late-system", ("user", "q"), ("system", "s"), ("assistant", "a")),
        c("odd-role", ("user", "q"), ("narrator", "a")),
    ]
    out = builder.write_dataset(tmp_path / "out", rows, [])
    results = _results(out)
    assert (results["ids-unique"].count, results["ids-unique"].examples) == (1, ["x"])
    assert (results["no-empty-turns"].count, sorted(results["no-empty-turns"].examples)) == (2, ["blank", "no-turns"])
    bad = run_ids(out, "role-grammar")
    assert bad == ["blank"] * 0 + ["ends-on-user", "late-system", "no-turns", "odd-role", "two-users"]
    result = run(out)
    assert result.exit_code == 1
    assert "FAIL  ids-unique             (error) 1 violation, e.g. x" in result.output.splitlines()


def run_ids(out: Path, contract: str) -> list[str]:
    """All violating ids of a query contract (the result keeps only a few)."""
    from curate.sql.contracts import query_contracts
    from curate.sql.query import Dataset

    with Dataset(out) as ds:
        rule = {r.name: r for r in query_contracts("conversation", {"messages": "STRUCT(role VARCHAR)[]"})[0]}[contract]
        return sorted(r[0] for r in ds.execute(rule.sql).fetchall())


def test_counts_that_do_not_add_up(tmp_path: Path, builder):
    out = builder.write_dataset(tmp_path / "out", [builder.conv("x", ("user", "q"), ("assistant", "a"))],
                                [builder.reject("y", "validate", "empty turn")], read=3)
    result = _results(out)["counts-balance"]
    assert (result.status, result.examples) == ("fail", ["manifest.json: kept 1 + rejected 1 != read 3"])
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["counts"].update(read=5, kept=4)
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert _results(out)["counts-balance"].examples == ["data/ holds 1 rows, the manifest says kept 4"]


def test_changed_and_unlisted_shards(dataset: Path):
    shard = dataset / "data" / "part-00001.parquet"
    table = pq.read_table(shard)
    pq.write_table(table.slice(0, 1), shard)
    pq.write_table(table, dataset / "data" / "part-00009.parquet")
    result = _results(dataset)["shards-match-manifest"]
    assert result.status == "fail"
    assert result.examples[0].startswith("data/part-00001.parquet: size ")
    assert result.examples[1] == "data/part-00009.parquet: not listed in the manifest"
    assert run(dataset).exit_code == 1


def test_schema_with_wrong_types(tmp_path: Path, builder):
    out = builder.write_dataset(tmp_path / "out", [builder.conv("x", ("user", "q"), ("assistant", "a"))], [])
    broken = pa.table({"id": ["x"], "messages": ['[{"role": "user"}]'], "extra": ["{}"]})
    pq.write_table(broken, out / "data" / "part-00000.parquet")
    result = _results(out)["schema-valid"]
    assert result.examples == ["data/part-00000.parquet: column messages has type string",
                               "data/part-00000.parquet: missing column source"]


def test_text_kind_skips_role_grammar(tmp_path: Path, builder):
    rows = [{"id": "t1", "text": "hello", "extra": None, "source": None}, {"id": "t2", "text": " ", "extra": None, "source": None}]
    out = builder.write_dataset(tmp_path / "out", rows, [], kind="text")
    result = run(out)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "FAIL  no-empty-turns         (error) 1 violation, e.g. t2" in lines
    assert "skip  role-grammar           text datasets have no turns" in lines


def test_check_needs_a_manifest(tmp_path: Path):
    (tmp_path / "data").mkdir()
    result = run(tmp_path)
    assert result.exit_code == 2
    assert result.output == (f"error: {tmp_path}/manifest.json: no manifest.json "
                             "(hint: pass the OUT folder written by `curate clean`)\n")
