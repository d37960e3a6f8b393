"""`curate check`: the built-in contracts, then the user's rules, and a short text report."""

from __future__ import annotations

from pathlib import Path

from curate.sql.rules import RuleResult, load_rules, run_rule

def check(out_dir: str | Path, rules_file: str | Path | None = None) -> list[RuleResult]:
    """Results of every built-in contract and every rule in ``rules_file``, in order.

    Bad rules (unparsable file, a query that fails or writes) raise `ConfigError`/`UsageError` before
    any result is returned, so a broken rules file never passes as a clean dataset.
    """
    from curate.sql.contracts import run_contracts
    from curate.sql.query import Dataset

    rules = load_rules(rules_file) if rules_file is not None else []
    with Dataset(out_dir, require_manifest=True) as dataset:
        results = run_contracts(dataset)
        results += [run_rule(dataset, rule) for rule in rules]
    return results


def failed(results: list[RuleResult]) -> bool:
    """True when an error-severity rule found violations (exit code 1)."""
    return any(r.failed_error for r in results)


def format_results(results: list[RuleResult]) -> str:
    """One line per rule, then a summary line::

        ok    ids-unique
        FAIL  no-empty-turns  (error) 2 violations, e.g. a:1, a:7
        warn  short-answers   (warn) 1 violation, e.g. b:3
        skip  role-grammar    text datasets have no turns
        check failed: 1 error, 1 warning, 5 passed, 1 skipped
    """
    width = max(len(r.name) for r in results) if results else 0
    lines = []
    for r in results:
        if r.status == "fail":
            mark = "FAIL" if r.severity == "error" else "warn"
            noun = "violation" if r.count == 1 else "violations"
            shown = ", ".join(r.examples)
            lines.append(f"{mark}  {r.name.ljust(width)}  ({r.severity}) {r.count} {noun}" + (f", e.g. {shown}" if shown else ""))
        elif r.status == "skip":
            lines.append(f"skip  {r.name.ljust(width)}  {r.note}")
        else:
            lines.append(f"ok    {r.name}")
    errors = sum(r.failed_error for r in results)
    warnings = sum(r.status == "fail" and r.severity == "warn" for r in results)
    passed = sum(r.status == "ok" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    verdict = "check failed" if errors else "check passed"
    lines.append(f"{verdict}: {errors} {'error' if errors == 1 else 'errors'}, "
                 f"{warnings} {'warning' if warnings == 1 else 'warnings'}, {passed} passed, {skipped} skipped")
    return "\n".join(lines)
