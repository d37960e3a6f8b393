"""Data rules: a SQL query that returns the violating rows, with a name and a severity.

A rules file holds any number of rules, each introduced by comments::

    -- name: short-answers
    -- severity: warn
    SELECT id FROM data WHERE len(messages) < 2;

``severity`` is ``error`` (the default: a violation fails `curate check`, exit 1) or ``warn`` (printed
only). The query runs over the read-only views ``data``, ``rejects`` and ``manifest``; each row it
returns is one violation, and the ``id`` column (or else the first column) names a few of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from curate.errors import ConfigError, InputError, UsageError

Severity = Literal["error", "warn"]
Status = Literal["ok", "fail", "skip"]
EXAMPLES = 3  # how many ids a violation shows

_DIRECTIVE = re.compile(r"^\s*--\s*(name|severity)\s*:\s*(.*?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """One rule: ``sql`` returns the violating rows. ``where`` says where it came from (file:line)."""

    name: str
    sql: str
    severity: Severity = "error"
    where: str = "built-in"


@dataclass
class RuleResult:
    """What a rule found: ``count`` violating rows and a few ``examples`` (ids, or messages for the
    built-in checks that are not queries). ``note`` says why a rule was skipped."""

    name: str
    severity: Severity
    status: Status
    count: int = 0
    examples: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def failed_error(self) -> bool:
        return self.status == "fail" and self.severity == "error"

    def to_json(self) -> dict:
        return {"name": self.name, "severity": self.severity, "status": self.status, "count": self.count,
                "examples": self.examples, "note": self.note}


def parse_rules(text: str, source: str = "<rules>") -> list[Rule]:
    """Rules from the text of a rules file; a `ConfigError` naming ``source:line`` when malformed."""
    rules: list[Rule] = []
    current: dict | None = None
    preamble: list[str] = []

    def close() -> None:
        if current is None:
            return
        sql = "\n".join(current["lines"]).strip()
        if not _has_code(sql):
            raise ConfigError(f"{current['where']}: rule {current['name']!r} has no query",
                              hint="put a SELECT returning the violating rows under the -- name: line")
        rules.append(Rule(current["name"], sql, current["severity"], current["where"]))

    for number, line in enumerate(text.splitlines(), start=1):
        match = _DIRECTIVE.match(line)
        if match and match.group(1).lower() == "name":
            close()
            if not match.group(2):
                raise ConfigError(f"{source}:{number}: empty rule name", hint="write `-- name: some-rule`")
            current = {"name": match.group(2), "severity": "error", "lines": [], "where": f"{source}:{number}"}
        elif match:
            severity = match.group(2).lower()
            if current is None or severity not in ("error", "warn"):
                raise ConfigError(
                    f"{source}:{number}: bad severity line {line.strip()!r}",
                    hint="write `-- severity: error` or `-- severity: warn` under a `-- name:` line",
                )
            current["severity"] = severity
        elif current is None:
            preamble.append(line)
        else:
            current["lines"].append(line)
    close()
    if _has_code("\n".join(preamble)):
        raise ConfigError(f"{source}: a query before the first `-- name:` line",
                          hint="start every rule with `-- name: rule-name`")
    names = [r.name for r in rules]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"{source}: rule name {duplicated[0]!r} is used twice", hint="give each rule its own name")
    return rules


def load_rules(path: str | Path) -> list[Rule]:
    """Rules from a ``.sql`` file; `InputError` when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the rules file ({error.__class__.__name__})",
                         hint="pass a UTF-8 .sql file") from None
    rules = parse_rules(text, str(path))
    if not rules:
        raise ConfigError(f"{path}: no rules found", hint="start each rule with `-- name: rule-name`")
    return rules


def _has_code(sql: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in sql.splitlines())


def run_rule(dataset, rule: Rule) -> RuleResult:
    """Run one rule over a `curate.sql.query.Dataset`: count the violating rows, keep a few ids."""
    import duckdb

    from curate.sql.query import query_error

    try:
        result = dataset.relation(rule.sql)
        columns = result.columns
        pick = columns.index("id") if "id" in columns else 0
        count, examples = 0, []
        # Stream the violations: counting needs no wrapping subquery, so any SELECT the user wrote works.
        for batch in result.to_arrow_reader(65536):
            if len(examples) < EXAMPLES:
                examples += [str(v) for v in batch.column(pick).slice(0, EXAMPLES - len(examples)).to_pylist()]
            count += batch.num_rows
    except UsageError as error:
        raise ConfigError(f"{rule.where}: rule {rule.name!r}: {error}") from None
    except duckdb.Error as error:  # raised while streaming (e.g. a failing cast in the user's query)
        raise ConfigError(f"{rule.where}: rule {rule.name!r}: {query_error(error)}") from None
    return RuleResult(rule.name, rule.severity, "fail" if count else "ok", count, examples)
