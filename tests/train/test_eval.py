"""`curate eval`: held-out figures on a model trained to overfit a tiny set beat an untrained model's."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from curate.cli import app
from train import toy
from train.evaluate import EvalOptions, evaluate

runner = CliRunner()


@pytest.fixture(scope="module")
def overfit(world, tmp_path_factory):
    """An SFT model trained 30 steps at a high learning rate on 4 short conversations (it memorises them)."""
    import train

    root = tmp_path_factory.mktemp("eval")
    rows = toy.conversation_rows(4, seed=5, words=(2, 4))
    data = toy.make_dataset(root / "four", "conversation", rows)
    train.sft(data, world["model"], root / "overfit", max_steps=30,
              trl={"learning_rate": 3e-2, "per_device_train_batch_size": 4, "lr_scheduler_type": "constant"})
    pairs = []
    for i, row in enumerate(rows):  # chosen: the memorised answer; rejected: another sentence
        turns = row["messages"]
        last = max(j for j, m in enumerate(turns) if m["role"] == "assistant")
        other = toy.message("assistant", ["loss data shards", "every day answer", "python arrow", "the user asks"][i])
        pairs.append({"id": f"q{i}", "prompt": turns[:last], "chosen": [turns[last]], "rejected": [other],
                      "tools": None, "extra": None, "source": {"file": "p.jsonl", "index": i, "format": "trl"}})
    prefs = toy.make_dataset(root / "prefs", "preference", pairs)
    return {"data": data, "prefs": prefs, "model": root / "overfit", "root": root}


def test_overfit_model_has_lower_loss_and_prefers_its_answers(world, overfit, tmp_path):
    untrained = evaluate(EvalOptions(model=world["model"], data=overfit["data"], samples=0))
    trained = evaluate(EvalOptions(model=overfit["model"], data=overfit["data"], samples=1, max_new_tokens=24))
    assert trained["tokens"] == untrained["tokens"] > 0
    assert trained["loss"] < 0.5 * untrained["loss"], (trained["loss"], untrained["loss"])
    assert math.isclose(trained["perplexity"], math.exp(trained["loss"]))
    assert untrained["perplexity"] > 100  # about the vocabulary size for random weights
    sample = trained["samples"][0]
    assert sample["id"] == "c0" and sample["reference"] == "day rewards loss on"
    assert sample["completion"].startswith("day rewards loss")  # the memorised answer's start, greedily

    prefs_trained = evaluate(EvalOptions(model=overfit["model"], data=overfit["prefs"], samples=0))
    prefs_untrained = evaluate(EvalOptions(model=world["model"], data=overfit["prefs"], samples=0))
    assert prefs_trained["accuracy"] == 1.0 and prefs_trained["margin"] > 5.0
    assert prefs_trained["margin"] > prefs_untrained["margin"]
    result = runner.invoke(app, ["eval", "--model", str(overfit["model"]), "--data", str(overfit["prefs"]),
                                 "--ref-model", str(world["model"]), "--samples", "0"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2] == f"preference accuracy 1.000, mean log-prob margin {prefs_trained['margin']:.4f}"
    reward = 0.1 * (prefs_trained["margin"] - prefs_untrained["margin"])  # the mean of beta * per-pair gaps
    assert lines[3] == f"implicit reward (beta 0.1) accuracy 1.000, mean margin {reward:.4f}"


def test_eval_cli_report_and_decontamination(overfit, tmp_path):
    rows = toy.conversation_rows(4, seed=5, words=(2, 4))[:2] + toy.conversation_rows(3, seed=77)
    for i, row in enumerate(rows):
        row["id"] = f"e{i}"
    held_out = toy.make_dataset(tmp_path / "held", "conversation", rows)
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["eval", "--model", str(overfit["model"]), "--data", str(held_out), "--train",
                                 str(overfit["data"]), "--decontaminate", "--samples", "2", "--report", str(report)])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"evaluated 5 conversation rows of {held_out}"
    assert lines[2] == "decontamination: 2 of 5 eval rows have a copy in train (e.g. e0, e1)"
    figures = json.loads(report.read_text())
    assert figures["decontamination"] == {"train": str(overfit["data"]), "leaked_rows": 2, "examples": ["e0", "e1"]}
    assert [s["id"] for s in figures["samples"]] == ["e0", "e1"]
    assert lines[1] == f"loss {figures['loss']:.4f}, perplexity {figures['perplexity']:.3f} over {figures['tokens']} assistant tokens"


def test_eval_decontaminate_needs_train(overfit):
    result = runner.invoke(app, ["eval", "--model", str(overfit["model"]), "--data", str(overfit["data"]),
                                 "--decontaminate"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --decontaminate needs --train TRAIN_FOLDER "
                                     "(hint: pass the training folder to compare with)")
