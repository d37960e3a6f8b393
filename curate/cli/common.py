"""Helpers shared by the command modules: error mapping and console output."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

import typer

from curate.errors import CurateError


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a `CurateError` into one line on stderr and its exit code; never a traceback."""
    try:
        yield
    except CurateError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.exit_code)


def is_tty() -> bool:
    return sys.stderr.isatty()
