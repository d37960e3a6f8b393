"""The `curate` command line. Thin: each command parses options, calls the library, and maps
`CurateError` to an exit code (2 bad usage/unreadable input, 1 the data failed a check).

Heavy libraries (torch, presidio, ray, transformers) are imported inside the commands that use them, so
`curate --help` starts fast. Each area keeps its commands in a module of this package and registers them
in `_register()` below.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="curate",
    help="Turn messy LLM fine-tuning data into verified Parquet training shards, and train on them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


COMMAND_MODULES = (
    "data_commands",      # clean, inspect, verify
    "convert_command",    # convert
    "sql_commands",       # sql, check, report
    "templates_command",  # templates list|check|show
    "train_command",      # train sft|dpo|reward|rlhf (imports torch only when run)
    "quality_command",    # quality train
    "split_command",      # split
    "eval_command",       # eval, export (import torch only when run)
)


def _register() -> None:
    from importlib import import_module

    for name in COMMAND_MODULES:
        import_module(f"curate.cli.{name}").register(app)


_register()


def main() -> None:
    app()
