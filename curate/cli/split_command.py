"""`curate split`: a deterministic train/eval split of a curated folder (engine side, no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curate.cli.common import cli_errors
from curate.split import HELP


def split(
    out: Path = typer.Argument(..., help="Curated folder to split (written by `curate clean`)."),
    eval: float = typer.Option(0.05, "--eval", help=HELP["eval"]),
    seed: int = typer.Option(0, "--seed", help=HELP["seed"]),
    out_train: Optional[Path] = typer.Option(None, "--out-train", help="Train folder to write (default: OUT_train next to OUT)."),
    out_eval: Optional[Path] = typer.Option(None, "--out-eval", help="Eval folder to write (default: OUT_eval next to OUT)."),
    threshold: float = typer.Option(0.5, "--threshold", help=HELP["threshold"]),
) -> None:
    """Split a curated folder into train and eval folders; near-copies never straddle the two; both verified."""
    from curate.split import SplitConfig, split as run_split

    with cli_errors():
        config = SplitConfig(eval=eval, seed=seed, threshold=threshold)
        train_dir = out_train or out.parent / f"{out.name}_train"
        eval_dir = out_eval or out.parent / f"{out.name}_eval"
        result = run_split(out, train_dir, eval_dir, config)
    typer.echo(f"split {result.train_rows + result.eval_rows} rows: {result.train_rows} train, "
               f"{result.eval_rows} eval ({result.groups} near-duplicate groups, {result.grouped_rows} rows, kept on one side)")
    typer.echo(f"train: {result.train_dir} (verified)")
    typer.echo(f"eval:  {result.eval_dir} (verified)")


def register(app: typer.Typer) -> None:
    app.command("split")(split)
