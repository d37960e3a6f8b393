"""`curate convert IN... --to FORMAT --out FILE`."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli.common import cli_errors


def convert(
    inputs: list[Path] = typer.Argument(..., help="Files or folders in any supported format (detected per file)."),
    to: str = typer.Option(..., "--to", help="Target format: alpaca, sharegpt, openai, trl or text."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write; .json, .jsonl or .parquet by its extension."),
) -> None:
    """Convert records to another format losslessly; what the target cannot express is listed (exit 1)."""
    from curate.formats.convert import convert as run

    with cli_errors():
        summary = run(inputs, to, out)
        files = len(summary.files)
        typer.echo(f"converted {summary.converted} records from {files} files to {summary.to}: {summary.out}")
        for item in summary.files:
            shape = f"{item['format']} ({item['kind']})" if item["format"] else "no readable records"
            typer.echo(f"  {item['file']}: {shape}")
        for item in summary.skipped:
            typer.echo(f"  skipped {item['file']}: {item['note']}")
        if summary.rejects:
            typer.echo(f"not converted: {len(summary.rejects)} records (listed in {summary.rejects_path})")
            for reason, count in sorted(summary.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
                typer.echo(f"  {count}  {reason}")
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
