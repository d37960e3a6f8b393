"""`curate templates list | check | show` through the CLI runner: exact output and exit codes."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.templates.registry import load_registry

runner = CliRunner()
ROWS = [
    {"id": "a", "messages": [{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "I am fine"}]},
    {"id": "b", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}]},
]


def write_out(folder, rows):
    """A curated OUT folder as `curate clean` writes it: manifest.json + data/part-00000.parquet."""
    (folder / "data").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"schema_version": 1, "kind": "conversation", "shards": {}}))
    message = pa.struct([("role", pa.string()), ("content", pa.string()), ("name", pa.string())])
    table = pa.table({"id": [r["id"] for r in rows],
                      "messages": pa.array([[{**m, "name": None} for m in r["messages"]] for r in rows],
                                           pa.list_(message))})
    pq.write_table(table, folder / "data" / "part-00000.parquet")
    return folder


def test_list_names_every_template():
    result = runner.invoke(app, ["templates", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["name", "family", "revision", "sha256", "source"]
    assert [line.split()[0] for line in lines[1:]] == [e.name for e in load_registry().entries]
    assert lines[1].split()[:4] == ["llama3", "llama3", "3.0", load_registry().entry("llama3").sha256[:12]]


def test_check_unsafe_exits_1_with_exact_report(tmp_path, tokenizer_dir):
    out = write_out(tmp_path / "out", ROWS)
    result = runner.invoke(app, ["templates", "check", str(out), "--tokenizer", str(tokenizer_dir("chatml", "chatml")),
                                 "--max-length", "64"])
    assert result.exit_code == 1
    assert result.output == (
        "template: chatml chatml (exact match to templates/chatml), sha256 153280e3ff55\n"
        "rows: 2 conversation, max length 64\n"
        "tokens: min 16, median 17, p95 18, max 19; 0 rows over 64\n"
        "error  empty assistant turn: 1 row (e.g. b)\n"
        "verdict: unsafe\n"
    )


def test_check_safe_exits_0_and_json(tmp_path, tokenizer_dir):
    out = write_out(tmp_path / "out", ROWS[:1])
    tok = str(tokenizer_dir("qwen2.5", "chatml"))
    result = runner.invoke(app, ["templates", "check", str(out), "--tokenizer", tok])
    assert result.exit_code == 0
    assert result.output.splitlines()[-2:] == [
        "note   template injects text - when a chat has no system turn: "
        "'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.'",
        "verdict: safe",
    ]
    result = runner.invoke(app, ["templates", "check", str(out), "--tokenizer", tok, "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["verdict"] == "safe" and data["fingerprint"]["name"] == "qwen2.5"
    assert data["checks"]["template injects text"]["count"] == 1 and data["lengths"]["count"] == 1


def test_check_without_template_and_with_template_option(tmp_path, tokenizer_dir):
    out = write_out(tmp_path / "out", ROWS[:1])
    tok = str(tokenizer_dir(None, "chatml"))
    result = runner.invoke(app, ["templates", "check", str(out), "--tokenizer", tok])
    assert result.exit_code == 1
    assert "error  no chat template - pass --template NAME (see `curate templates list`) to give it one" in result.output
    assert runner.invoke(app, ["templates", "check", str(out), "--tokenizer", tok, "--template", "chatml"]).exit_code == 0
    bad = runner.invoke(app, ["templates", "check", str(out), "--tokenizer", tok, "--template", "nope"])
    assert bad.exit_code == 2 and bad.output.startswith("error: no template named 'nope' in the registry (hint: one of: llama3,")


def test_check_bad_usage_exits_2(tmp_path, tokenizer_dir):
    result = runner.invoke(app, ["templates", "check", str(tmp_path / "missing"), "--tokenizer",
                                 str(tokenizer_dir("chatml", "chatml"))])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: input not found: {tmp_path / 'missing'}")
    out = write_out(tmp_path / "out", ROWS)
    result = runner.invoke(app, ["templates", "check", str(out), "--tokenizer", str(tmp_path)])
    assert result.exit_code == 2 and f"error: tokenizer {tmp_path}: no tokenizer.json" in result.output


def test_show_marks_trained_tokens(tmp_path, tokenizer_dir):
    out = write_out(tmp_path / "out", ROWS)
    tok = str(tokenizer_dir("chatml", "chatml"))
    result = runner.invoke(app, ["templates", "show", str(out), "--tokenizer", tok, "--row", "0"])
    assert result.exit_code == 0
    assert result.output == (
        "row 0 (id a): 19 tokens, 5 trained\n"
        "<|im_start|>user\\n\nHello there<|im_end|>\\n\n<|im_start|>assistant\\n\n«I am fine<|im_end|>\\n\n»\n"
    )
    table = runner.invoke(app, ["templates", "show", str(out), "--tokenizer", tok, "--row", "0", "--tokens"])
    lines = table.output.splitlines()
    assert lines[1] == "index  id      label  token"
    assert [line.split()[2] for line in lines[2:]].count("-100") == 14
    assert lines[-2].split()[1] == lines[-2].split()[2] and lines[-2].endswith("'<|im_end|>'")
    bad = runner.invoke(app, ["templates", "show", str(out), "--tokenizer", tok, "--row", "5"])
    assert bad.exit_code == 2 and bad.output == "error: --row 5: the data has 2 rows (hint: give 0..1)\n"


@pytest.mark.parametrize("command", [["templates"], ["templates", "list"], ["templates", "check"], ["templates", "show"]])
def test_every_command_and_option_has_help(command):
    import click
    import typer.main

    group = typer.main.get_command(app)
    ctx = click.Context(group)
    node = group
    for name in command:
        node = node.get_command(ctx, name)
    assert node.help
    for param in node.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, f"{' '.join(command)} {param.name}"
