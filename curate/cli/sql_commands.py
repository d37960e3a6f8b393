"""`curate sql`, `curate check` and `curate report`: looking at a cleaned dataset folder."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.cli.common import cli_errors

OutArg = Annotated[Path, typer.Argument(help="The dataset folder written by `curate clean`.", metavar="OUT", show_default=False)]


class SqlFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def sql_command(
    out: OutArg,
    query: Annotated[str, typer.Argument(help="One SELECT over the views data, rejects and manifest.", metavar="QUERY", show_default=False)],
    format: Annotated[SqlFormat, typer.Option("--format", "-f", help="Output: an aligned table, CSV, or a JSON array of rows.")] = SqlFormat.table,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Rows the table format shows at most (csv/json print all).")] = 100,
) -> None:
    """Run read-only DuckDB SQL over a dataset: views data, rejects and manifest."""
    with cli_errors():
        from curate.sql.format import format_csv, format_json, format_table
        from curate.sql.query import Dataset

        with Dataset(out) as dataset:
            limit = max_rows if format is SqlFormat.table else None
            columns, rows, more = dataset.rows(query, limit)
        if format is SqlFormat.table:
            text = format_table(columns, rows, more=more)
        else:
            text = format_csv(columns, rows) if format is SqlFormat.csv else format_json(columns, rows)
        typer.echo(text)


def check_command(
    out: OutArg,
    rules: Annotated[Optional[Path], typer.Option("--rules", help="A .sql file of rules: `-- name:` and `-- severity: error|warn` comments above a SELECT returning the violating rows.")] = None,
) -> None:
    """Check a dataset: built-in contracts plus your rules; exit 1 when an error rule is violated."""
    with cli_errors():
        from curate.sql.check import check, failed, format_results

        results = check(out, rules)
        typer.echo(format_results(results))
        if failed(results):
            raise typer.Exit(1)


def report_command(
    out: OutArg,
    html: Annotated[Optional[Path], typer.Option("--html", help="Where to write the report (default: OUT/report.html).")] = None,
) -> None:
    """Write a self-contained HTML report with charts of a dataset (no network needed to view it)."""
    with cli_errors():
        from curate.report import write_report

        path = write_report(out, html)
        typer.echo(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


def register(app: typer.Typer) -> None:
    app.command("sql")(sql_command)
    app.command("check")(check_command)
    app.command("report")(report_command)
