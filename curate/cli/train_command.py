"""`curate train ...`: a thin hand-over to the trainer layer (`train/`), imported only when the command runs.

The engine never imports `train/` otherwise, so `curate --help` loads neither torch nor TRL. Every
argument after `train` (including --help) goes to `train.cli`, which owns the options.
"""

from __future__ import annotations

import typer

HELP = "Train on a curated folder: sft, dpo, reward, rlhf, orpo, kto (TRL + PEFT). See `curate train --help`."


def register(app: typer.Typer) -> None:
    @app.command(
        "train",
        help=HELP,
        add_help_option=False,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def train_command(ctx: typer.Context) -> None:
        try:
            from train.cli import main
        except ImportError as error:  # the trainer stack is the optional `train` extra
            typer.echo(f"error: `curate train` needs the trainer stack ({error.name} is missing) "
                       "(hint: pip install 'curate[train]')", err=True)
            raise typer.Exit(2)
        raise typer.Exit(main(list(ctx.args)))
