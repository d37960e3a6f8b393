"""CLI conventions: help on every command, fast start-up without heavy imports."""

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from curate.cli import app

runner = CliRunner()


def all_commands():
    root = typer.main.get_command(app)
    stack = [((), root)]
    while stack:
        path, command = stack.pop()
        yield path, command
        if hasattr(command, "commands"):
            stack.extend(((*path, name), sub) for name, sub in command.commands.items())


def test_every_command_and_option_has_help():
    missing = []
    for path, command in all_commands():
        if not (command.help or "").strip():
            missing.append(" ".join(path) or "curate")
        for param in command.params:
            if param.param_type_name == "option" and not (getattr(param, "help", "") or "").strip():
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert missing == []


@pytest.mark.parametrize("path", sorted(" ".join(p) for p, _ in all_commands() if p))
def test_help_runs(path):
    result = runner.invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_startup_imports_no_heavy_libraries():
    code = ("import sys; from curate.cli import app; "
            "heavy = sorted(m for m in ('torch', 'presidio_analyzer', 'ray', 'transformers', 'trl', 'spacy', 'duckdb') "
            "if m in sys.modules); print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_command_prints_usage():
    result = runner.invoke(app, [])
    assert "clean" in result.output and "verify" in result.output


def test_test_module_names_are_unique():
    """pytest imports test modules by basename (rootdir mode): two equal names in different folders clash."""
    from collections import Counter
    from pathlib import Path

    names = Counter(p.name for p in Path(__file__).parent.rglob("*.py") if p.name != "conftest.py")
    assert [name for name, n in names.items() if n > 1] == []
