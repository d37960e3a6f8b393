"""`curate quality train --positive A --negative B --out model.bin`: a fastText quality classifier."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli.common import cli_errors

quality_app = typer.Typer(help="Model-based quality: train a fastText classifier for --quality-model.",
                          no_args_is_help=True)


@quality_app.command("train")
def train(
    positive: list[Path] = typer.Option(..., "--positive", help="Examples of data to keep (files or folders; "
                                        "JSONL/JSON/CSV/Parquet records, TXT lines, or a curated OUT)."),
    negative: list[Path] = typer.Option(..., "--negative", help="Examples of data to drop, e.g. random web text."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the fastText model (.bin)."),
    epoch: int = typer.Option(5, "--epoch", help="Training passes over the examples."),
    dim: int = typer.Option(64, "--dim", help="Size of the word vectors."),
    lr: float = typer.Option(0.1, "--lr", help="Learning rate."),
    word_ngrams: int = typer.Option(2, "--word-ngrams", help="Longest word n-gram used as a feature."),
    bucket: int = typer.Option(100_000, "--bucket", help="Hash slots for word n-grams (model size: dim x bucket)."),
    quantize: bool = typer.Option(False, "--quantize", help="Compress the model (smaller file, .ftz-like)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the shuffle and the held-out split."),
) -> None:
    """Train a DCLM-style classifier (label hq = positive, lq = negative); score rows with
    `curate clean --quality-model OUT`."""
    from curate.stages.quality.classifier import train as run
    from curate.stages.quality.texts import texts_of

    with cli_errors():
        report = run(texts_of([str(p) for p in positive]), texts_of([str(p) for p in negative]), str(out),
                     epoch=epoch, lr=lr, dim=dim, word_ngrams=word_ngrams, bucket=bucket, seed=seed,
                     quantize=quantize)
        held = (f"held-out accuracy {report.accuracy:.3f} on {report.held_out} examples"
                if report.held_out else "too few examples to hold any out")
        typer.echo(f"trained {out} on {report.positives} positive and {report.negatives} negative examples; {held}")


def register(app: typer.Typer) -> None:
    app.add_typer(quality_app, name="quality")
