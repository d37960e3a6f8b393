"""`curate split`: deterministic, near-copies on one side, both sides verified curated folders."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.io import manifest as manifest_io
from curate.split import SplitConfig, split

runner = CliRunner()
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def _msg(role: str, content: str) -> dict:
    return {"role": role, "content": content, "name": None, "tool_calls": None, "tool_call_id": None,
            "reasoning": None, "extra": None}


def _rows() -> list[dict]:
    """40 distinct conversations (word i*7+k mod 26, no shared 3-grams) plus near-copies of rows 3 and 11."""
    rows = []
    for i in range(40):
        question = " ".join(f"{WORDS[(i * 7 + k) % 26]}{i}" for k in range(12))
        rows.append((f"r{i:02d}", question, f"answer number {i} is {WORDS[i % 26]}"))
    near = [("z3a", rows[3][1] + " please", rows[3][2]), ("z3b", rows[3][1], rows[3][2] + " indeed"),
            ("z11", rows[11][1], rows[11][2] + " ok")]
    out = []
    for i, (rid, q, a) in enumerate(rows + near):
        out.append({"id": rid, "messages": [_msg("user", q), _msg("assistant", a)], "tools": None,
                    "extra": None, "source": {"file": "t.jsonl", "index": i, "format": "openai"}})
    return out


@pytest.fixture()
def dataset(tmp_path):
    from train import toy  # writes shards + manifest the way `curate clean` does (pure pyarrow)

    return toy.make_dataset(tmp_path / "out", "conversation", _rows())


def _ids(folder) -> list[str]:
    return sorted(pq.read_table(folder / "data" / "part-00000.parquet").column("id").to_pylist())


def test_split_is_deterministic_and_groups_near_copies(dataset, tmp_path):
    config = SplitConfig(eval=0.25, seed=7)
    first = split(dataset, tmp_path / "a_train", tmp_path / "a_eval", config)
    again = split(dataset, tmp_path / "b_train", tmp_path / "b_eval", config)
    assert (first.train_rows, first.eval_rows) == (again.train_rows, again.eval_rows)
    assert first.train_rows + first.eval_rows == 43
    assert first.eval_rows == 11  # round(0.25 * 43), whole groups only
    assert _ids(tmp_path / "a_eval") == _ids(tmp_path / "b_eval")
    assert (first.groups, first.grouped_rows) == (2, 5)
    for group in (("r03", "z3a", "z3b"), ("r11", "z11")):
        sides = {("eval" if g in _ids(tmp_path / "a_eval") else "train") for g in group}
        assert len(sides) == 1, group
    assert set(_ids(tmp_path / "a_eval")).isdisjoint(_ids(tmp_path / "a_train"))
    other = split(dataset, tmp_path / "c_train", tmp_path / "c_eval", SplitConfig(eval=0.25, seed=8))
    assert _ids(tmp_path / "c_eval") != _ids(tmp_path / "a_eval")
    assert other.eval_rows + other.train_rows == 43


def test_split_cli_writes_two_verified_folders(dataset):
    result = runner.invoke(app, ["split", str(dataset), "--eval", "0.1", "--seed", "3"])
    assert result.exit_code == 0, result.output
    train_dir, eval_dir = dataset.parent / "out_train", dataset.parent / "out_eval"
    lines = result.stdout.splitlines()
    assert lines[0] == "split 43 rows: 39 train, 4 eval (2 near-duplicate groups, 5 rows, kept on one side)"
    assert lines[1:] == [f"train: {train_dir} (verified)", f"eval:  {eval_dir} (verified)"]
    for folder, rows in ((train_dir, 39), (eval_dir, 4)):
        assert manifest_io.verify(folder) == []
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["kind"] == "conversation" and manifest["counts"]["kept"] == rows
        assert manifest["split"]["seed"] == 3 and manifest["split"]["rows"] == {"train": 39, "eval": 4}
        assert runner.invoke(app, ["verify", str(folder)]).exit_code == 0
        assert runner.invoke(app, ["check", str(folder)]).exit_code == 0


def test_split_refuses_bad_fraction_and_tampered_input(dataset, tmp_path):
    result = runner.invoke(app, ["split", str(dataset), "--eval", "1.5"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --eval 1.5: not a fraction between 0 and 1 (hint: e.g. --eval 0.05)"
    shard = dataset / "data" / "part-00000.parquet"
    shard.write_bytes(shard.read_bytes() + b"x")
    result = runner.invoke(app, ["split", str(dataset), "--out-train", str(tmp_path / "t"), "--out-eval", str(tmp_path / "e")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {dataset} failed verification against its manifest: data/part-00000.parquet: size")
    assert not (tmp_path / "t").exists()


def test_leaks_finds_exact_and_near_copies_only(dataset, tmp_path):
    import pyarrow as pa

    from curate.split import leaks, read_data

    _, table = read_data(dataset)
    train = table.filter(pa.array([i not in ("r05", "r06", "r07") for i in table.column("id").to_pylist()]))
    rows = [r for r in _rows() if r["id"] in ("r05", "r06", "r07")]
    held = pa.Table.from_pylist(rows, schema=table.schema)
    assert leaks(train, held) == []  # r05..r07 were taken out of train: nothing leaks
    exact, near = [r for r in _rows() if r["id"] in ("r01", "r02")]
    near["id"] = "n02"
    near["messages"][1]["content"] += " indeed"  # a near copy of train row r02
    copied = pa.Table.from_pylist([exact, near] + rows, schema=table.schema)
    assert leaks(train, copied) == ["r01", "n02"]
