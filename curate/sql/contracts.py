"""The built-in contracts `curate check` runs on every dataset before the user's rules.

- ``schema-valid``: every data shard has the canonical columns of the manifest's kind with the right
  types, every rejects shard has the reject columns;
- ``ids-unique``: no ``id`` is null or repeated in ``data``;
- ``no-empty-turns``: no message without content (unless it carries tool calls), no empty text;
- ``role-grammar``: ``[system] user (assistant tool+)* assistant ...`` (preference: the prompt ends on a
  user turn, chosen/rejected are assistant answers);
- ``counts-balance``: kept + rejected = read, and the shards hold exactly those rows;
- ``shards-match-manifest``: every shard's size and sha256 match the manifest, nothing unlisted.

Query contracts are plain `Rule`s (the same machinery as user rules); the others are Python checks that
return messages naming the file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.records import KINDS, MESSAGE_COLUMNS, REJECT_SCHEMA, SCHEMAS
from curate.sql.rules import EXAMPLES, Rule, RuleResult, run_rule

_ROLE_LETTERS = (
    "array_to_string(list_transform({col}, lambda m: CASE m.role WHEN 'system' THEN 's' WHEN 'user' THEN 'u' "
    "WHEN 'assistant' THEN 'a' WHEN 'tool' THEN 't' ELSE '?' END), '')"
)
# One exchange: a user turn, tool rounds (an assistant call answered by tool turns), the answer.
_EXCHANGE = "u(at+)*a"
_GRAMMAR = {
    "messages": f"s?({_EXCHANGE})+",
    "prompt": f"s?({_EXCHANGE})*u",
    "chosen": "(at+)*a",
    "rejected": "(at+)*a",
}
_EMPTY_TURN = (
    "len(list_filter({col}, lambda m: regexp_full_match(coalesce(m.content, ''), '\\s*') "
    "AND coalesce(len(m.tool_calls), 0) = 0)) > 0"
)
# Struct fields that must exist even where a writer drops the optional ones.
_REQUIRED_FIELDS = {"role", "content", "file", "index"}


def query_contracts(kind: str, columns: dict[str, str]) -> tuple[list[Rule], dict[str, str]]:
    """The query contracts for a dataset of ``kind`` with these data columns (name -> DuckDB type), and
    the ones skipped (name -> why). Message columns that are not lists are left to ``schema-valid``."""
    rules = [Rule("ids-unique", "SELECT id, count(*) AS n FROM data GROUP BY id HAVING id IS NULL OR count(*) > 1")]
    skipped: dict[str, str] = {}
    message_cols = [c for c in MESSAGE_COLUMNS.get(kind, ()) if columns.get(c, "").endswith("[]")]
    if kind == "text" and "text" in columns:
        rules.append(Rule("no-empty-turns", "SELECT id FROM data WHERE regexp_full_match(coalesce(text, ''), '\\s*')"))
        skipped["role-grammar"] = "text datasets have no turns"
    elif message_cols:
        empty = " OR ".join(f"{c} IS NULL OR len({c}) = 0 OR " + _EMPTY_TURN.format(col=c) for c in message_cols)
        rules.append(Rule("no-empty-turns", f"SELECT id FROM data WHERE {empty}"))
        bad = " OR ".join(
            f"NOT regexp_full_match({_ROLE_LETTERS.format(col=c)}, '{_GRAMMAR[c]}')" for c in message_cols
        )
        rules.append(Rule("role-grammar", f"SELECT id FROM data WHERE {bad}"))
    else:
        why = f"the data has no {'/'.join(MESSAGE_COLUMNS.get(kind) or ('text',))} list column (see schema-valid)"
        skipped["no-empty-turns"] = skipped["role-grammar"] = why
    return rules, skipped


def _string_like(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Same type up to string/list flavours and list item names; structs may omit optional fields."""
    if _string_like(expected):
        return _string_like(actual)
    if pa.types.is_list(expected):
        listy = pa.types.is_list(actual) or pa.types.is_large_list(actual) or pa.types.is_list_view(actual)
        return listy and _compatible(actual.value_type, expected.value_type)
    if pa.types.is_struct(expected):
        if not pa.types.is_struct(actual):
            return False
        have = {f.name: f.type for f in actual}
        for f in expected:
            if f.name in have and not _compatible(have[f.name], f.type):
                return False
            if f.name not in have and f.name in _REQUIRED_FIELDS:
                return False
        return True
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    return actual.equals(expected)


def schema_problems(paths: list[Path], expected: pa.Schema, root: Path, optional: set[str]) -> list[str]:
    """One message per shard column that is missing or has the wrong type."""
    problems = []
    for path in paths:
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        try:
            actual = pq.read_schema(path)
        except (OSError, pa.ArrowException) as error:
            problems.append(f"{name}: not a readable Parquet file ({error.__class__.__name__})")
            continue
        for f in expected:
            if f.name not in actual.names:
                if f.name not in optional:
                    problems.append(f"{name}: missing column {f.name}")
            elif not _compatible(actual.field(f.name).type, f.type):
                problems.append(f"{name}: column {f.name} has type {_short(actual.field(f.name).type)}")
    return problems


def _short(t: pa.DataType) -> str:
    text = str(t)
    return text if len(text) <= 60 else text[:59] + "…"


def count_problems(manifest: dict, data_rows: int, reject_rows: int) -> list[str]:
    """kept + rejected = read, and the shards hold the rows the counts say."""
    counts = manifest.get("counts") or {}
    missing = [k for k in ("read", "kept", "rejected") if not isinstance(counts.get(k), int)]
    if missing:
        return [f"manifest.json: counts.{missing[0]} is missing"]
    read, kept, rejected = counts["read"], counts["kept"], counts["rejected"]
    problems = []
    if kept + rejected != read:
        problems.append(f"manifest.json: kept {kept} + rejected {rejected} != read {read}")
    if data_rows != kept:
        problems.append(f"data/ holds {data_rows} rows, the manifest says kept {kept}")
    if reject_rows != rejected:
        problems.append(f"rejects/ holds {reject_rows} rows, the manifest says rejected {rejected}")
    return problems


def _from_problems(name: str, problems: list[str]) -> RuleResult:
    return RuleResult(name, "error", "fail" if problems else "ok", len(problems), problems[:EXAMPLES])


def run_contracts(dataset) -> list[RuleResult]:
    """Every built-in contract over a `curate.sql.query.Dataset`, in the order the module doc lists."""
    from curate.sql.query import shard_paths

    manifest, root = dataset.manifest, dataset.root
    kind = manifest.get("kind") if manifest.get("kind") in KINDS else "conversation"
    relation = dataset.relation("SELECT * FROM data")
    columns = {name: str(t) for name, t in zip(relation.columns, relation.types)}
    data_paths = shard_paths(root, manifest, "data")
    canonical = manifest.get("format") in (None, "openai") or kind == "text"
    expected = SCHEMAS[kind] if canonical else pa.schema([SCHEMAS[kind].field("id")])
    schema = schema_problems(data_paths, expected, root, {"tools"})
    schema += schema_problems(shard_paths(root, manifest, "rejects"), REJECT_SCHEMA, root, set())
    results = [_from_problems("schema-valid", schema)]
    rules, skipped = query_contracts(kind, columns)
    for rule in rules:
        results.append(run_rule(dataset, rule))
    for name, why in skipped.items():
        results.append(RuleResult(name, "error", "skip", note=why))
    data_rows = dataset.execute("SELECT count(*) FROM data").fetchall()[0][0]
    reject_rows = dataset.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
    results.append(_from_problems("counts-balance", count_problems(manifest, data_rows, reject_rows)))
    from curate.io.manifest import verify  # the same check as `curate verify`

    results.append(_from_problems("shards-match-manifest", verify(root)))
    return results
