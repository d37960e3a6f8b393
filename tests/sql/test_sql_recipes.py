"""The SQL recipes and the example rules file the README shows, run on the standard fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from curate.cli import app
from curate.sql import Dataset, check, parse_rules

runner = CliRunner()

RECIPES = {
    "SELECT stage, reason, count(*) AS n FROM rejects GROUP BY ALL ORDER BY n DESC, reason":
        [("dedup", "duplicate", 1), ("validate", "empty turn", 1), ("pii", "pii: EMAIL", 1)],
    "SELECT len(messages) AS turns, count(*) AS n FROM data GROUP BY turns ORDER BY turns":
        [(2, 2), (3, 1), (4, 2)],
    "SELECT m.role, count(*) AS n FROM (SELECT unnest(messages) AS m FROM data) GROUP BY ALL ORDER BY n DESC, m.role":
        [("assistant", 7), ("user", 6), ("system", 1), ("tool", 1)],
    "SELECT id, length(messages[-1].content) AS chars FROM data ORDER BY chars DESC LIMIT 2":
        [("a:1", 12), ("a:0", 6)],
    "SELECT id FROM data WHERE len(list_filter(messages, lambda m: len(m.tool_calls) > 0)) > 0":
        [("a:1",)],
    "SELECT id FROM data WHERE len(list_filter(messages, lambda m: m.content ILIKE '%paris%')) > 0":
        [("a:1",)],
    "SELECT r.id, r.duplicate_of, d.messages[-1].content AS kept_answer FROM rejects r JOIN data d ON d.id = r.duplicate_of":
        [("a:4", "a:0", "Hello!")],
    "SELECT lang, count(*) AS n FROM data GROUP BY lang ORDER BY n DESC, lang":
        [("en", 3), ("de", 1), ("zh", 1)],
    "SELECT name, rows_in, rows AS rows_out, seconds FROM manifest WHERE section = 'stage'":
        [("validate", 8, 7, 0.5), ("dedup", 7, 6, 0.25), ("pii", 6, 5, 1.0)],
    "SELECT id, reason, json_extract_string(raw, '$.id') AS raw_id FROM rejects WHERE stage = 'pii'":
        [("b:2", "pii: EMAIL", "b:2")],
}

EXAMPLE_RULES = """\
-- name: english-only
-- severity: warn
SELECT id, lang FROM data WHERE lang <> 'en';

-- name: no-long-conversations
SELECT id FROM data WHERE len(messages) > 40;

-- name: few-duplicates
SELECT n FROM (SELECT count(*) AS n FROM rejects WHERE stage = 'dedup')
WHERE n > 0.2 * (SELECT rows FROM manifest WHERE section = 'count' AND name = 'read');
"""


@pytest.mark.parametrize("query", list(RECIPES))
def test_recipe(dataset: Path, query: str):
    with Dataset(dataset) as ds:
        assert ds.execute(query).fetchall() == RECIPES[query]


def test_example_rules(dataset: Path, tmp_path: Path):
    rules = tmp_path / "rules.sql"
    rules.write_text(EXAMPLE_RULES)
    assert [r.name for r in parse_rules(EXAMPLE_RULES)] == ["english-only", "no-long-conversations", "few-duplicates"]
    found = {r.name: (r.status, r.count, r.examples) for r in check(dataset, rules)}
    status, count, examples = found["english-only"]
    assert (status, count, sorted(examples)) == ("fail", 2, ["a:2", "b:0"])
    assert found["no-long-conversations"] == ("ok", 0, [])
    assert found["few-duplicates"] == ("ok", 0, [])


@pytest.mark.parametrize("name", ["sql", "check", "report"])
def test_commands_and_options_have_help(name: str):
    command = typer.main.get_command(app).commands[name]
    assert command.help
    for param in command.params:
        assert getattr(param, "help", None), f"{name}: {param.name} has no help"
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
