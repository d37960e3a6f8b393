"""`curate clean`, `curate inspect`, `curate verify`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curate.cli.common import cli_errors, is_tty
from curate.config import help_of


def clean(
    inputs: list[Path] = typer.Argument(..., help="Files or folders of JSON/JSONL(.gz/.zst)/CSV/TSV/Parquet dumps."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Dataset folder to write (data/, rejects/, manifest.json)."),
    to: Optional[str] = typer.Option(None, help=help_of("to")),
    format: Optional[str] = typer.Option(None, "--format", help=help_of("format")),
    kind: Optional[str] = typer.Option(None, help=help_of("kind")),
    dedup: Optional[str] = typer.Option(None, help=help_of("dedup")),
    dedup_scope: Optional[str] = typer.Option(None, help=help_of("dedup_scope")),
    dedup_keep: Optional[str] = typer.Option(None, help=help_of("dedup_keep")),
    threshold: Optional[float] = typer.Option(None, help=help_of("threshold")),
    against: Optional[str] = typer.Option(None, help=help_of("against")),
    pii: Optional[str] = typer.Option(None, help=help_of("pii")),
    pii_salt: Optional[str] = typer.Option(None, help=help_of("pii_salt")),
    quality: Optional[str] = typer.Option(None, help=help_of("quality")),
    lang: Optional[str] = typer.Option(None, help=help_of("lang")),
    annotate_only: Optional[bool] = typer.Option(None, "--annotate-only", help=help_of("annotate_only")),
    keep_where: Optional[str] = typer.Option(None, help=help_of("keep_where")),
    quality_model: Optional[str] = typer.Option(None, help=help_of("quality_model")),
    decontaminate: Optional[list[str]] = typer.Option(None, help=help_of("decontaminate")),
    decontaminate_ngram: Optional[int] = typer.Option(None, help=help_of("decontaminate_ngram")),
    tokenizer: Optional[str] = typer.Option(None, help=help_of("tokenizer")),
    max_length: Optional[int] = typer.Option(None, help=help_of("max_length")),
    report: Optional[bool] = typer.Option(None, "--report/--no-report", help=help_of("report")),
    workers: Optional[int] = typer.Option(None, help=help_of("workers")),
    unit_mb: Optional[int] = typer.Option(None, help=help_of("unit_mb")),
    shard_rows: Optional[int] = typer.Option(None, help=help_of("shard_rows")),
    row_group_rows: Optional[int] = typer.Option(None, help=help_of("row_group_rows")),
    executor: Optional[str] = typer.Option(None, help=help_of("executor")),
    ray_address: Optional[str] = typer.Option(None, help=help_of("ray_address")),
    config: Optional[Path] = typer.Option(None, "--config", help="A curate.toml with these options ([clean] table); flags override it."),
) -> None:
    """Clean raw dumps into a verified dataset: read, normalise, validate, deduplicate, write shards."""
    from curate import config as config_mod
    from curate.cli.progress import progress_display
    from curate.pipeline import run_clean

    overrides = {k: v for k, v in locals().items() if k not in ("inputs", "out", "config", "config_mod",
                                                                 "progress_display", "run_clean")}
    with cli_errors():
        cfg = config_mod.build(overrides, config)
        with progress_display(enabled=is_tty()) as progress:
            result = run_clean(inputs, out, cfg, progress=progress)
        _print_summary(result)
        _pii_coverage_note(cfg)
        if cfg.report:
            _write_report(out)
        _template_gate(result.manifest.get("templates"))


def _print_summary(result) -> None:
    m = result.manifest
    typer.echo(f"read {result.read} records from {len(m['inputs'])} files: "
               f"{result.kept} kept, {result.rejected} rejected ({m['seconds']:.1f} s)")
    for item in m["inputs"]:
        if item["format"]:
            detail = f"{item['format']} ({item['kind']})"
        else:
            detail = f"not read: {item['note']}" if item["note"] else "empty"
        typer.echo(f"  {item['file']}: {item['rows']} records, {detail}")
    for item in m["skipped"]:
        typer.echo(f"  skipped {item['file']}: {item['note']}")
    if result.by_reason:
        typer.echo("rejected (stage/reason):")
        width = max(len(k) for k in result.by_reason)
        for key, n in sorted(result.by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            typer.echo(f"  {key:<{width}}  {n}")
    pii = m["stages"].get("pii")
    if pii:
        found = ", ".join(f"{name} {n}" for name, n in pii["totals"].items()) or "none"
        typer.echo(f"pii ({pii['action']}): {found}")
    data, rejects = m["shards"]["data"], m["shards"]["rejects"]
    out = result.out
    typer.echo(f"data:     {out / 'data'} ({_n(len(data), 'shard')}, {_n(result.kept, 'row')}, {m['kind']}, "
               f"{m['format']} format)")
    typer.echo(f"rejects:  {out / 'rejects'} ({_n(len(rejects), 'shard')}, {_n(result.rejected, 'row')})")
    typer.echo(f"manifest: {out / 'manifest.json'}")


def _pii_coverage_note(cfg) -> None:
    if cfg.pii == "off":
        return
    from curate.stages.pii import PiiConfig, coverage_note

    note = coverage_note(PiiConfig(action=cfg.pii, salt=cfg.pii_salt))
    if note:
        typer.echo(f"note: {note}", err=True)


def _template_gate(verdict: dict | None) -> None:
    """Rows the template cannot train on are in rejects; what dropping rows cannot fix fails the run."""
    if verdict is None:
        return
    fp = verdict.get("fingerprint") or {}
    typer.echo(f"template: {fp.get('name') or fp.get('family') or 'unknown'} ({fp.get('match')}), "
               f"verdict {verdict['verdict_after_rejects']}, {verdict['rows_with_errors']} rows rejected")
    if verdict["verdict_after_rejects"] != "safe":
        for finding in verdict.get("findings", []):
            if finding.get("scope") == "dataset" and finding.get("severity") == "error":
                typer.echo(f"  {finding['check']}: {finding.get('detail', '')}", err=True)
        typer.echo("error: the chat template and this data disagree; training on it would fail "
                   "(hint: see `curate templates check OUT --tokenizer PATH`)", err=True)
        raise typer.Exit(1)


def _write_report(out: Path) -> None:
    """The report is a convenience: failing to draw it never fails the clean."""
    from curate.errors import CurateError
    from curate.report import write_report

    try:
        typer.echo(f"report:   {write_report(out, None)}")
    except CurateError as error:
        typer.echo(f"warning: no report written: {error}", err=True)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def verify(out: Path = typer.Argument(..., help="A dataset folder written by `curate clean`.")) -> None:
    """Re-hash every shard against manifest.json; exit 1 naming each file that differs."""
    from curate.io.manifest import load, verify as verify_shards

    with cli_errors():
        problems = verify_shards(out)
        if problems:
            for line in problems:
                typer.echo(f"FAIL {line}")
            typer.echo(f"{out}: {len(problems)} problem(s); the dataset does not match its manifest", err=True)
            raise typer.Exit(1)
        shards = load(out)["shards"]
        n = len(shards.get("data", [])) + len(shards.get("rejects", []))
        typer.echo(f"ok: {n} shards match {out / 'manifest.json'}")


def inspect(
    inputs: list[Path] = typer.Argument(..., help="Files or folders to look at (nothing is written)."),
    rows: int = typer.Option(2, "--rows", help="Sample rows to show per file."),
) -> None:
    """Show each input file's detected format and kind, record counts, problems found, and sample rows."""
    from curate.inspect import inspect_inputs

    with cli_errors():
        for line in inspect_inputs(inputs, sample_rows=rows):
            typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command()(clean)
    app.command()(inspect)
    app.command()(verify)
