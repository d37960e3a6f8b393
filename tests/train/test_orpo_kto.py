"""ORPO and KTO: a few CPU steps each on the tiny fixtures; KTO also on unpaired, labelled conversations."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import InputError
from train import toy
from train.methods_extra import kto_labels

runner = CliRunner()


def _record(folder) -> dict:
    return json.loads((folder / "curate_train.json").read_text())


def _labelled(n: int, key: str = "label") -> list[dict]:
    rows = toy.conversation_rows(n, seed=3)
    for i, row in enumerate(rows):
        row["extra"] = json.dumps({key: i % 2 == 0})
    return rows


def test_orpo_trains_on_preference_pairs_via_cli(world, tmp_path):
    out = tmp_path / "orpo"
    config = tmp_path / "orpo.yaml"
    config.write_text("per_device_train_batch_size: 2\n")
    result = runner.invoke(app, ["train", "orpo", "--data", str(world["preferences"]), "--model", str(world["model"]),
                                 "--output-dir", str(out), "--max-steps", "2", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2].startswith("trained orpo: 8 preference rows, 2 steps, final loss ")
    record = _record(out)
    assert record["trl_config"] == "ORPOConfig" and record["metrics"]["global_step"] == 2
    assert all(math.isfinite(x) for x in record["metrics"]["losses"])
    assert (out / "model.safetensors").is_file()


def test_orpo_help_says_experimental():
    result = runner.invoke(app, ["train", "orpo", "--help"])
    assert result.exit_code == 0
    assert "experimental ORPOTrainer" in " ".join(result.stdout.split())


def test_kto_on_pairs_and_on_unpaired_labels(world, tmp_path):
    import train

    paired = train.kto(world["preferences"], world["model"], tmp_path / "kto_pairs", max_steps=2,
                       trl={"per_device_train_batch_size": 4})
    assert paired.record["trl_config"] == "KTOConfig" and paired.metrics["global_step"] == 2
    assert all(math.isfinite(x) for x in paired.metrics["losses"])

    data = toy.make_dataset(tmp_path / "kto_data", "conversation", _labelled(8, "kto_tag"))
    out = tmp_path / "kto_unpaired"
    result = runner.invoke(app, ["train", "kto", "--data", str(data), "--model", str(world["model"]),
                                 "--output-dir", str(out), "--max-steps", "2", "--lora"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2].startswith("trained kto: 8 conversation rows, 2 steps, final loss ")
    assert (out / "adapter_model.safetensors").is_file()
    assert all(math.isfinite(x) for x in _record(out)["metrics"]["losses"])


def test_kto_refuses_unlabelled_conversations(world, tmp_path):
    rows = _labelled(4)
    rows[2]["extra"] = None
    data = toy.make_dataset(tmp_path / "unlabelled", "conversation", rows)
    result = runner.invoke(app, ["train", "kto", "--data", str(data), "--model", str(world["model"]),
                                 "--output-dir", str(tmp_path / "o"), "--max-steps", "1"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {data}: row 2 has no boolean `label` (or `kto_tag`) in its extra field "
                                     "(hint: KTO on conversations needs a desirable/undesirable label on every row; "
                                     "or train it on preference pairs)")


def test_kto_labels_read_both_keys():
    extra = pa.array(['{"label": true}', '{"kto_tag": false}', '{"label": "True", "x": 1}', '{"kto_tag": 0}'])
    assert kto_labels(extra, "d").to_pylist() == [True, False, True, False]
    with pytest.raises(InputError, match="row 0 has no boolean"):
        kto_labels(pa.array(['{"label": "maybe"}']), "d")


def test_clean_keeps_unpaired_labels_for_kto(tmp_path):
    """TRL's unpaired file and a LLaMA-Factory KTO file go through `curate clean`; the label survives in
    `extra` and becomes TRL's unpaired columns."""
    from train.data import open_curated
    from train.methods_extra import unpaired_dataset

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "unpaired.jsonl").write_text(
        '{"prompt": "how are you today", "completion": "i am fine thank you", "label": true}\n'
        '{"prompt": "hello there", "completion": "go away", "label": false}\n')
    (raw / "kto.json").write_text(json.dumps([
        {"messages": [{"role": "user", "content": "what is parquet"},
                      {"role": "assistant", "content": "a columnar file format"}], "label": True},
        {"messages": [{"role": "user", "content": "what is arrow"},
                      {"role": "assistant", "content": "no idea"}], "label": False}]))
    for name in ("unpaired.jsonl", "kto.json"):
        out = tmp_path / f"out_{name}"
        result = runner.invoke(app, ["clean", str(raw / name), "--out", str(out), "--dedup", "off", "--pii", "off",
                                     "--quality", "off", "--no-report"])
        assert result.exit_code == 0, result.output
        rows = unpaired_dataset(open_curated(out)).to_list()
        simple = [([m["content"] for m in r["prompt"]], [m["content"] for m in r["completion"]], r["label"]) for r in rows]
        expected = {"unpaired.jsonl": [(["how are you today"], ["i am fine thank you"], True),
                                       (["hello there"], ["go away"], False)],
                    "kto.json": [(["what is parquet"], ["a columnar file format"], True),
                                 (["what is arrow"], ["no idea"], False)]}[name]
        assert simple == expected
