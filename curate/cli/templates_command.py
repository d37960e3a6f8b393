"""`curate templates list | check | show`: chat templates against the data, before the GPU hour."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from curate.cli.common import cli_errors

templates_app = typer.Typer(
    help="Chat templates: list the shipped ones, check data against a tokenizer, show a row as training sees it.",
    no_args_is_help=True,
)

DATA_HELP = "A folder written by `curate clean`, or any input curate reads."
TOKENIZER_HELP = "Local folder of the tokenizer (tokenizer.json, tokenizer_config.json); never fetched from the hub."
TEMPLATE_HELP = "Use this template instead of the tokenizer's: a name from `curate templates list` or a .jinja file."


@templates_app.command("list")
def list_templates() -> None:
    """List the shipped chat templates: name, family, revision, source model, sha256."""
    with cli_errors():
        from curate.templates.registry import load_registry

        rows = [(e.name, e.family, e.revision, e.sha256[:12], e.source) for e in load_registry().entries]
        widths = [max(len(r[i]) for r in rows + [("name", "family", "revision", "sha256", "source")]) for i in range(4)]
        header = ("name", "family", "revision", "sha256", "source")
        for row in [header, *rows]:
            typer.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])


@templates_app.command("check")
def check(
    data: Path = typer.Argument(..., help=DATA_HELP),
    tokenizer: Path = typer.Option(..., "--tokenizer", help=TOKENIZER_HELP),
    max_length: Optional[int] = typer.Option(None, "--max-length", min=1, help="Training max length in tokens: report rows whose answer or stop token it cuts."),
    template: Optional[str] = typer.Option(None, "--template", help=TEMPLATE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    length_sample: int = typer.Option(20_000, "--length-sample", min=0, help="Token length statistics from about this many evenly spaced rows (0: every row); every check still runs on every row."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Processes for 20,000 conversations or more (default: one per core)."),
) -> None:
    """Render every row as training will and report what would break the fine-tune. Exit 0 safe, 1 unsafe."""
    with cli_errors():
        from curate.templates.check import check_dataset

        report = check_dataset(data, tokenizer, max_length, template=template, length_sample=length_sample,
                               workers=workers)
        typer.echo(report.dumps() if as_json else report.to_text())
        if report.verdict != "safe":
            raise typer.Exit(1)


@templates_app.command("show")
def show(
    data: Path = typer.Argument(..., help=DATA_HELP),
    tokenizer: Path = typer.Option(..., "--tokenizer", help=TOKENIZER_HELP),
    row: int = typer.Option(..., "--row", help="Index of the row to show (0-based)."),
    template: Optional[str] = typer.Option(None, "--template", help=TEMPLATE_HELP),
    max_length: Optional[int] = typer.Option(None, "--max-length", min=1, help="Mark tokens that truncation cuts."),
    tokens: bool = typer.Option(False, "--tokens", help="One line per token: index, id, label (-100 = not trained), text."),
) -> None:
    """Show one row rendered and tokenised, trained tokens between « » (highlighted on a terminal)."""
    with cli_errors():
        from curate.templates.data import load_rows
        from curate.templates.show import format_row, show_row
        from curate.templates.tokenizer import LocalTokenizer

        shown = show_row(load_rows(data), LocalTokenizer.load(tokenizer), row, template, max_length)
        typer.echo(format_row(shown, table=tokens, color=sys.stdout.isatty()))


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")
