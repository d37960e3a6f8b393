"""Read-only SQL over a cleaned dataset (`Dataset`, `run_query`) and data rules (`check`)."""

from curate.sql.check import check, failed, format_results
from curate.sql.query import Dataset, guard, load_manifest, manifest_table, run_query
from curate.sql.rules import Rule, RuleResult, load_rules, parse_rules

__all__ = [
    "Dataset",
    "Rule",
    "RuleResult",
    "check",
    "failed",
    "format_results",
    "guard",
    "load_manifest",
    "load_rules",
    "manifest_table",
    "parse_rules",
    "run_query",
]
