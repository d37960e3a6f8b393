"""Helpers shared by the command modules: error mapping and console output."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

import typer

from curate.errors import CurateError


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a `CurateError` into one line on stderr and its exit code; never a traceback.

    Anything else is a bug in curate: one line too (exit 2), with the traceback behind CURATE_DEBUG=1."""
    try:
        yield
    except CurateError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.exit_code)
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as error:
        if os.environ.get("CURATE_DEBUG"):
            raise
        first_line = (str(error).splitlines() or [""])[0][:160]
        typer.echo(f"internal error: {type(error).__name__}: {first_line} "
                   "(a bug in curate; rerun with CURATE_DEBUG=1 for the traceback)", err=True)
        raise typer.Exit(2)


def is_tty() -> bool:
    return sys.stderr.isatty()
