"""`curate train ...` refusals and usage errors, through the CLI runner (exact messages, exit codes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM
from typer.testing import CliRunner

from curate.cli import app
from train import toy
from train.checks import template_sha256
from train.cli import app as train_app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def _train(*args: str):
    return runner.invoke(app, ["train", *map(str, args)])


def _error(result) -> str:
    """The error line (progress bars of model loading may come before it on stderr)."""
    return result.stderr.splitlines()[-1] + "\n"


def test_curate_help_lists_train_and_imports_no_torch():
    code = ("import sys\nfrom curate.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', 'TRAIN' if 'train' in sys.modules else 'NO-TRAIN')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert "train" in done.stdout and "Train on a curated folder" in done.stdout
    assert done.stdout.strip().endswith("NO-TORCH NO-TRAIN")


def test_train_help_is_handed_over():
    result = _train("--help")
    assert result.exit_code == 0
    for method in ("sft", "dpo", "reward", "rlhf", "orpo", "kto"):
        assert f"│ {method} " in result.stdout


def test_every_command_and_option_has_help():
    for command in train_app.registered_commands:
        assert command.callback.__doc__, command.name
        import typer.main

        click_command = typer.main.get_command(train_app).commands[command.name]  # type: ignore[attr-defined]
        for param in click_command.params:
            assert getattr(param, "help", None), f"{command.name} --{param.name} has no help"


def test_tampered_data_exits_1(world, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(world["conversations"], out)
    (out / "data" / "part-00000.parquet").write_bytes(b"PAR1 truncated")
    result = _train("sft", "--data", out, "--model", world["model"], "--output-dir", tmp_path / "run")
    assert result.exit_code == 1
    assert _error(result) == (
        f"error: {out} failed verification against its manifest: data/part-00000.parquet: size 14 bytes, "
        f"manifest says {(world['conversations'] / 'data' / 'part-00000.parquet').stat().st_size} "
        "(hint: re-run `curate clean` to rebuild it (or --skip-checks to train anyway))\n"
    )
    assert not (tmp_path / "run").exists()


def _bad_rows() -> list[dict]:
    rows = toy.conversation_rows(6)
    rows[2]["messages"][-1]["content"] = "sure <|eot_id|> done"  # another family's markup
    rows[4]["messages"].append(toy.message("assistant", ""))
    return rows


def test_data_failing_the_template_check_exits_1(world, tmp_path):
    out = toy.make_dataset(tmp_path / "bad", "conversation", _bad_rows())
    result = _train("sft", "--data", out, "--model", world["model"], "--output-dir", tmp_path / "run")
    assert result.exit_code == 1
    assert _error(result) == (
        f"error: {out} fails the chat-template check for {world['model']} (run now): empty assistant turn: "
        "1 rows (e.g. c4); foreign markup: 1 rows (e.g. c2) - '<|eot_id|>' in a assistant turn "
        f"(hint: see `curate templates check {out} --tokenizer {world['model']}`; fix the data or the template "
        "(or --skip-checks to train anyway))\n"
    )


def test_unsafe_verdict_in_the_manifest_is_used(world, tmp_path):
    recorded = {"verdict": "unsafe", "fingerprint": {"sha256": template_sha256(toy.CHATML_PLAIN)},
                "checks": {"terminator not a stop token": {"severity": "error", "scope": "dataset", "count": 1,
                                                           "examples": [], "detail": "set eos_token"}}}
    out = toy.make_dataset(tmp_path / "rec", "conversation", 4, templates=recorded)
    result = _train("sft", "--data", out, "--model", world["model"], "--output-dir", tmp_path / "run")
    assert result.exit_code == 1
    assert "(recorded in the manifest): terminator not a stop token - set eos_token (hint:" in result.stderr


def test_untrained_template_tokens_exit_1_with_names(world, tmp_path):
    base = tmp_path / "base"
    model = AutoModelForCausalLM.from_pretrained(world["model"])
    with torch.no_grad():
        model.get_input_embeddings().weight[[1, 2]] = 0  # <|im_start|>, <|im_end|>
    model.save_pretrained(base)
    shutil.copy(world["plain_tok"] / "tokenizer.json", base)
    shutil.copy(world["plain_tok"] / "tokenizer_config.json", base)
    shutil.copy(world["plain_tok"] / "chat_template.jinja", base)
    result = _train("sft", "--data", world["conversations"], "--model", base, "--output-dir", tmp_path / "run")
    assert result.exit_code == 1
    assert _error(result).startswith(f"error: model {base}: embeddings of chat-template tokens were never trained: "
                                    "<|im_start|> (all zero), <|im_end|> (all zero) - a base model given an "
                                    "instruct template? (hint: pass --fix-untrained-tokens")


def test_qlora_on_cpu_is_a_clear_error(world, tmp_path):
    result = _train("sft", "--data", world["conversations"], "--model", world["model"], "--output-dir",
                    tmp_path / "run", "--qlora")
    assert result.exit_code == 2
    assert _error(result) == ("error: --qlora needs a CUDA GPU: 4-bit quantisation (bitsandbytes) does not run on "
                             "CPU (hint: use --lora on CPU, or run on a machine with an NVIDIA GPU)\n")


def test_rlhf_needs_a_reward_model(world, tmp_path):
    result = _train("rlhf", "--data", world["conversations"], "--model", world["model"], "--output-dir", tmp_path)
    assert result.exit_code == 2
    assert _error(result) == ("error: rlhf needs --reward-model (hint: train one with `curate train reward` and "
                             "pass its folder)\n")


def test_method_and_data_kind_must_match(world, tmp_path):
    result = _train("dpo", "--data", world["conversations"], "--model", world["model"], "--output-dir", tmp_path)
    assert result.exit_code == 2
    assert _error(result) == (f"error: `curate train dpo` trains on preference data, but {world['conversations']} "
                             "holds conversation data (hint: sft/rlhf take conversations, dpo/reward/orpo take "
                             "preference pairs, kto takes pairs or labelled conversations)\n")


def test_unknown_yaml_key_names_the_trl_class(world, tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("learning_rat: 0.001\n")
    result = _train("sft", "--data", world["conversations"], "--model", world["model"], "--output-dir", tmp_path,
                    "--config", config)
    assert result.exit_code == 2
    assert _error(result) == (f"error: {config}: unknown key 'learning_rat' for SFTConfig "
                             "(hint: did you mean 'learning_rate'?)\n")


def test_unknown_algorithm(world, tmp_path):
    result = _train("rlhf", "--data", world["conversations"], "--model", world["model"], "--output-dir", tmp_path,
                    "--reward-model", world["reward_model"], "--algorithm", "ppo")
    assert result.exit_code == 2
    assert _error(result) == "error: unknown RL algorithm 'ppo' (hint: use rloo or grpo)\n"
