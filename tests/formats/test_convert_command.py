import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from curate.cli import app
from formats_fixtures import ALPACA, SHAREGPT

runner = CliRunner()


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_convert_all_records_exits_0(tmp_path):
    src = write_jsonl(tmp_path / "alpaca.jsonl", ALPACA)
    out = tmp_path / "out" / "chat.jsonl"
    result = runner.invoke(app, ["convert", str(src), "--to", "openai", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"converted 5 records from 1 files to openai: {out}\n  alpaca.jsonl: alpaca (conversation)\n"
    assert read_jsonl(out)[1] == {"messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "how are you?"}, {"role": "assistant", "content": "fine"},
        {"role": "user", "content": "Continue"}, {"role": "assistant", "content": "Sure."}]}
    assert not (tmp_path / "out" / "chat.rejects.jsonl").exists()
    back = tmp_path / "back.json"
    assert runner.invoke(app, ["convert", str(out), "--to", "alpaca", "--out", str(back)]).exit_code == 0
    assert json.loads(back.read_text(encoding="utf-8")) == ALPACA


def test_refused_records_are_listed_and_written_beside_the_output(tmp_path):
    src = write_jsonl(tmp_path / "tools.jsonl", SHAREGPT + [{"conversations": [{"from": "bot", "value": "x"}]}])
    out = tmp_path / "plain.jsonl"
    result = runner.invoke(app, ["convert", str(src), "--to", "alpaca", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output == (
        f"converted 2 records from 1 files to alpaca: {out}\n"
        "  tools.jsonl: sharegpt (conversation)\n"
        f"not converted: 3 records (listed in {tmp_path / 'plain.rejects.jsonl'})\n"
        "  2  cannot express: tool calls in alpaca\n"
        "  1  unknown role: 'bot' in turn 1\n"
    )
    rejects = read_jsonl(tmp_path / "plain.rejects.jsonl")
    assert [(r["index"], r["stage"], r["reason"]) for r in rejects] == [
        (4, "schema", "unknown role: 'bot' in turn 1"),
        (0, "export", "cannot express: tool calls in alpaca"),
        (3, "export", "cannot express: tool calls in alpaca"),
    ]
    assert json.loads(rejects[1]["raw"]) == SHAREGPT[0]
    assert [r["instruction"] for r in read_jsonl(out)] == ["Hi", "tag user"]


def test_parquet_output(tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", ALPACA[:2])
    out = tmp_path / "a.parquet"
    assert runner.invoke(app, ["convert", str(src), "--to", "sharegpt", "--out", str(out)]).exit_code == 0
    table = pq.read_table(out)
    assert table.column_names == ["system", "conversations", "_curate"]
    assert table["conversations"][1].as_py()[0] == {"from": "human", "value": "hi"}
    back = tmp_path / "back.jsonl"
    assert runner.invoke(app, ["convert", str(out), "--to", "alpaca", "--out", str(back)]).exit_code == 0
    assert read_jsonl(back) == ALPACA[:2]


def test_bad_usage_and_unreadable_input_exit_2(tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", ALPACA[:1])
    result = runner.invoke(app, ["convert", str(src), "--to", "yaml", "--out", str(tmp_path / "o.jsonl")])
    assert (result.exit_code, result.output) == (
        2, "error: unknown target format 'yaml' (hint: use one of openai, sharegpt, alpaca, trl, text)\n")
    result = runner.invoke(app, ["convert", str(src), "--to", "openai", "--out", str(tmp_path / "o.txt")])
    assert (result.exit_code, result.output) == (
        2, "error: cannot write o.txt: unknown file type (hint: end --out with .json, .jsonl or .parquet)\n")
    odd = write_jsonl(tmp_path / "qa.jsonl", [{"question": "q", "answer": "a"}])
    result = runner.invoke(app, ["convert", str(odd), "--to", "openai", "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert result.output.startswith("error: qa.jsonl: unknown record shape with columns ['answer', 'question']")


def test_help_texts():
    result = runner.invoke(app, ["convert", "--help"])
    assert result.exit_code == 0
    for option in ("--to", "--out", "Target format", "losslessly"):
        assert option in result.output


def test_tools_survive_parquet_in_either_spelling(tmp_path):
    from formats_fixtures import OPENAI

    records = [OPENAI[0], OPENAI[3]]  # tools as a list, and as JSON text
    src = write_jsonl(tmp_path / "chat.jsonl", records)
    mid, back = tmp_path / "chat.parquet", tmp_path / "back.jsonl"
    assert runner.invoke(app, ["convert", str(src), "--to", "openai", "--out", str(mid)]).exit_code == 0
    assert pq.read_table(mid).schema.field("tools").type == "string"
    assert runner.invoke(app, ["convert", str(mid), "--to", "openai", "--out", str(back)]).exit_code == 0
    assert read_jsonl(back) == records


def test_convert_api_summary(tmp_path):
    from curate.formats import convert

    src = write_jsonl(tmp_path / "mixed.jsonl", SHAREGPT)
    summary = convert([src], "alpaca", tmp_path / "o.json")
    assert (summary.converted, len(summary.rejects)) == (2, 2)
    assert summary.files == [{"file": "mixed.jsonl", "format": "sharegpt", "kind": "conversation", "rows": 4}]
    assert dict(summary.reasons) == {"cannot express: tool calls in alpaca": 2}
    assert summary.rejects_path == tmp_path / "o.rejects.jsonl"


def test_records_whose_types_arrow_cannot_unify_still_round_trip(tmp_path):
    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    records = [{"messages": chat, "tools": [{"name": "f", "parameters": {"default": 1}}]},
               {"messages": chat, "tools": [{"name": "g", "parameters": {"default": "one"}}]}]
    src = write_jsonl(tmp_path / "tools.jsonl", records)
    mid, back = tmp_path / "mid.jsonl", tmp_path / "back.jsonl"
    assert runner.invoke(app, ["convert", str(src), "--to", "sharegpt", "--out", str(mid)]).exit_code == 0
    assert runner.invoke(app, ["convert", str(mid), "--to", "openai", "--out", str(back)]).exit_code == 0
    assert read_jsonl(back) == records
