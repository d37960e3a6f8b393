"""Every method trains a few CPU steps on the tiny fixtures, with a finite loss, and saves its output."""

from __future__ import annotations

import hashlib
import json
import math
import shutil

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForCausalLM
from typer.testing import CliRunner

import train
from curate.cli import app
from train import toy
from train.config import TrainOptions, build_trl_config, load_yaml

runner = CliRunner()
SMALL = {"per_device_train_batch_size": 2}
RL = {"per_device_train_batch_size": 2, "num_generations": 2, "max_completion_length": 6}


def _record(folder) -> dict:
    return json.loads((folder / "curate_train.json").read_text())


def _finite(record: dict, steps: int) -> None:
    losses = record["metrics"]["losses"]
    assert len(losses) == steps and record["metrics"]["global_step"] == steps
    assert all(math.isfinite(x) for x in losses), losses


def test_sft_full_via_cli_with_curate_mask(world, tmp_path):
    out = tmp_path / "sft"
    result = runner.invoke(app, ["train", "sft", "--data", str(world["conversations"]), "--model",
                                 str(world["model"]), "--output-dir", str(out), "--max-steps", "2"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"saved model, tokenizer and curate_train.json to {out}"
    assert result.stdout.splitlines()[-2].startswith("trained sft: 12 conversation rows, 2 steps, final loss ")
    record = _record(out)
    _finite(record, 2)
    assert record["loss_on"] == "curate mask"
    assert record["template"]["verdict"] == "safe" and record["template"]["source"] == "check"
    manifest = (world["conversations"] / "manifest.json").read_bytes()
    assert record["data"]["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert (out / "model.safetensors").is_file()
    assert (out / "chat_template.jinja").read_text() == toy.CHATML_PLAIN
    assert record["metrics"]["tokens_per_second"] > 0


def test_sft_lora_saves_an_adapter_with_trl_markers(world, tmp_path):
    out = tmp_path / "lora"
    config = tmp_path / "train.yaml"
    config.write_text("per_device_train_batch_size: 2\nlearning_rate: 0.001\nlora:\n  r: 4\n")
    result = runner.invoke(app, ["train", "sft", "--data", str(world["conversations"]), "--model",
                                 str(world["gen_model"]), "--output-dir", str(out), "--max-steps", "2", "--lora",
                                 "--config", str(config)])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.glob("adapter_*")) == ["adapter_config.json", "adapter_model.safetensors"]
    assert not (out / "model.safetensors").exists()
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 4
    record = _record(out)
    _finite(record, 2)
    assert record["adapter"] is True and record["loss_on"] == "template markers"
    assert (out / "chat_template.jinja").read_text() == toy.CHATML_GENERATION


def test_sft_packing_and_all_tokens(world, tmp_path):
    result = train.sft(world["conversations"], world["model"], tmp_path / "packed", max_steps=1, packing=True,
                       all_tokens=True, max_length=256, trl=SMALL)
    _finite(result.record, 1)
    assert result.record["loss_on"] == "all tokens"


def test_dpo(world, tmp_path):
    result = train.dpo(world["preferences"], world["model"], tmp_path / "dpo", max_steps=2, trl=SMALL)
    _finite(result.record, 2)
    assert result.record["data"]["kind"] == "preference"
    assert (tmp_path / "dpo" / "model.safetensors").is_file()


def test_reward(world, tmp_path):
    result = train.reward(world["preferences"], world["reward_model"], tmp_path / "rm", max_steps=2, trl=SMALL)
    _finite(result.record, 2)
    config = AutoConfig.from_pretrained(tmp_path / "rm")
    assert config.architectures == ["LlamaForSequenceClassification"] and config.num_labels == 1


@pytest.mark.parametrize("algorithm", ["rloo", "grpo"])
def test_rlhf(world, tmp_path, algorithm):
    result = train.rlhf(world["conversations"], world["model"], tmp_path / algorithm, max_steps=1,
                        reward_model=world["reward_model"], algorithm=algorithm, trl=RL)
    _finite(result.record, 1)
    assert result.record["method"] == f"rlhf ({algorithm})"
    assert (tmp_path / algorithm / "model.safetensors").is_file()


@pytest.mark.parametrize("lora", [False, True])
def test_fix_untrained_tokens_then_train(world, tmp_path, lora):
    base = tmp_path / "base"
    model = AutoModelForCausalLM.from_pretrained(world["model"])
    with torch.no_grad():
        model.get_input_embeddings().weight[[1, 2]] = 0  # <|im_start|>, <|im_end|>
    model.save_pretrained(base)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(world["plain_tok"] / name, base)
    result = train.sft(world["conversations"], base, tmp_path / "fixed", max_steps=1, fix_untrained_tokens=True,
                       lora=lora, trl=SMALL)
    _finite(result.record, 1)
    assert result.record["untrained_tokens_fixed"] == ["<|im_end|>", "<|im_start|>"]
    if lora:  # the repaired rows travel in the adapter
        tensors = load_file(tmp_path / "fixed" / "adapter_model.safetensors")
        delta = tensors["base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta"]
        assert tuple(delta.shape) == (2, 32) and delta.abs().min() > 0
    else:
        saved = AutoModelForCausalLM.from_pretrained(tmp_path / "fixed").get_input_embeddings().weight
        assert saved[1].abs().max() > 0 and saved[2].abs().max() > 0


def test_skip_checks_trains_on_tampered_data_and_records_it(world, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(world["conversations"], out)
    (out / "data" / "part-00009.parquet").write_bytes(b"stray")
    result = train.sft(out, world["model"], tmp_path / "run", max_steps=1, skip_checks=True, trl=SMALL)
    assert result.record["checks_overridden"] == ["verify: data/part-00009.parquet: not listed in the manifest"]
    assert (f"WARNING: --skip-checks: training on {out} although it fails verification: "
            "data/part-00009.parquet: not listed in the manifest") in capsys.readouterr().err


def test_yaml_passes_through_and_cli_flags_win(tmp_path):
    config = tmp_path / "t.yaml"
    config.write_text("max_steps: 50\nlearning_rate: 0.5\nbeta: 0.3\nlora: {r: 8}\n")
    fields, lora = load_yaml(config)
    assert lora == {"r": 8}
    options = TrainOptions(data=tmp_path, model=tmp_path, output_dir=tmp_path / "o", config=config, max_steps=3)
    args = build_trl_config("dpo", options, fields)
    assert (type(args).__name__, args.max_steps, args.learning_rate, args.beta) == ("DPOConfig", 3, 0.5, 0.3)
    assert (args.report_to, args.save_strategy, args.output_dir) == ([], "no", str(tmp_path / "o"))


def test_template_option_takes_a_file_or_the_tokenizers_own(world, tmp_path):
    from train.models import resolve_template

    jinja = tmp_path / "mine.jinja"
    jinja.write_text(toy.CHATML_GENERATION)
    assert resolve_template(world["plain_tok"], None) == toy.CHATML_PLAIN
    assert resolve_template(world["plain_tok"], str(jinja)) == toy.CHATML_GENERATION
