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


def _register() -> None:
    from curate.cli import data_commands

    data_commands.register(app)
    __import__("curate.cli.sql_commands", fromlist=["register"]).register(app)
    __import__("curate.cli.templates_command", fromlist=["register"]).register(app)
    __import__("curate.cli.convert_command", fromlist=["register"]).register(app)
    __import__("curate.cli.train_command", fromlist=["register"]).register(app)


_register()


def main() -> None:
    app()
