"""Run options, the YAML file, and the TRL config they become.

`TrainOptions` holds what curate itself decides (which data, which model, checks, LoRA); every field is
documented once in ``HELP``, which the CLI reuses. Everything else is TRL's: the YAML file's top-level
keys are fields of the method's TRL config dataclass (`SFTConfig`, `DPOConfig`, `RewardConfig`,
`RLOOConfig`, `GRPOConfig`) and pass through unchanged, so any TRL field works. One key is ours:
``lora:`` (a mapping of `peft.LoraConfig` fields). Precedence: curate's defaults < YAML < CLI flags.

This module imports neither torch nor TRL at import time (the CLI help stays fast).
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from curate.errors import ConfigError, UsageError

Method = Literal["sft", "dpo", "reward", "rlhf", "orpo", "kto"]
METHODS: tuple[Method, ...] = ("sft", "dpo", "reward", "rlhf", "orpo", "kto")
Algorithm = Literal["rloo", "grpo"]
# The data kind each method reads from a curated folder.
# kto also reads unpaired conversations (a `label`/`kto_tag` in `extra`): see `train.methods_extra`.
KIND_OF: dict[str, str] = {"sft": "conversation", "dpo": "preference", "reward": "preference",
                           "rlhf": "conversation", "orpo": "preference", "kto": "preference"}

HELP: dict[str, str] = {
    "data": "Curated folder written by `curate clean` (data/ shards + manifest.json).",
    "model": "Local folder of the model to train (a Hugging Face save_pretrained folder).",
    "output_dir": "Where the model or adapter, the tokenizer with its chat template and curate_train.json go.",
    "tokenizer": "Local tokenizer folder, if not the model's own.",
    "template": "Chat template to train with: a registry name (`curate templates list`) or a .jinja file; "
                "default: the tokenizer's own.",
    "config": "YAML file whose keys are fields of the method's TRL config (any TRL field), plus `lora:`.",
    "max_steps": "Stop after this many optimizer steps (TRL's max_steps).",
    "lora": "Train a LoRA adapter (PEFT) instead of every weight; the output holds the adapter.",
    "qlora": "LoRA on a 4-bit quantised model (bitsandbytes, CUDA GPU only).",
    "packing": "SFT: pack several conversations into each max_length sequence.",
    "all_tokens": "SFT: compute the loss on every token, not only the assistant's.",
    "max_length": "Longest sequence in tokens (TRL's max_length); longer rows are truncated.",
    "reward_model": "RLHF: local folder of the reward model (e.g. the output of `curate train reward`).",
    "algorithm": "RLHF: online RL algorithm, rloo (default) or grpo.",
    "skip_checks": "Train even when the data fails its hash or template check (loud warnings, recorded).",
    "fix_untrained_tokens": "Initialise never-trained chat-template token embeddings from the mean of trained rows.",
}


@dataclass
class TrainOptions:
    """One training run. ``trl`` holds TRL config fields set through the API (over the YAML file)."""

    data: Path
    model: Path
    output_dir: Path
    tokenizer: Path | None = None
    template: str | None = None
    config: Path | None = None
    max_steps: int | None = None
    lora: bool = False
    qlora: bool = False
    packing: bool = False
    all_tokens: bool = False
    max_length: int | None = None
    reward_model: Path | None = None
    algorithm: Algorithm = "rloo"
    skip_checks: bool = False
    fix_untrained_tokens: bool = False
    trl: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("data", "model", "output_dir", "tokenizer", "config", "reward_model"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                setattr(self, name, Path(value))
        if self.algorithm not in ("rloo", "grpo"):
            raise UsageError(f"unknown RL algorithm {self.algorithm!r}", hint="use rloo or grpo")
        if self.qlora:
            self.lora = True


def trl_config_class(method: Method, algorithm: Algorithm = "rloo") -> type:
    """The TRL dataclass a method's options fill."""
    import trl

    if method == "rlhf":
        return trl.GRPOConfig if algorithm == "grpo" else trl.RLOOConfig
    if method == "orpo":
        from trl.experimental.orpo import ORPOConfig  # experimental in TRL 1.16

        return ORPOConfig
    if method == "kto":
        return trl.KTOConfig
    return {"sft": trl.SFTConfig, "dpo": trl.DPOConfig, "reward": trl.RewardConfig}[method]


def load_yaml(path: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(trl fields, lora fields)`` from a YAML file; ({}, {}) without one."""
    if path is None:
        return {}, {}
    import yaml

    if not path.is_file():
        raise ConfigError(f"config file not found: {path}", hint="pass a YAML file of TRL config fields")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})", hint="fix the file") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of TRL config fields, got {type(data).__name__}",
                          hint="write `key: value` lines, e.g. `learning_rate: 2.0e-5`")
    lora = data.pop("lora", None) or {}
    if not isinstance(lora, dict):
        raise ConfigError(f"{path}: `lora` must be a mapping of peft.LoraConfig fields", hint="e.g. `lora: {r: 16}`")
    return data, lora


def _check_keys(keys: dict[str, Any], allowed: set[str], where: str, what: str) -> None:
    for key in keys:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"see the fields of {what}"
            raise ConfigError(f"{where}: unknown key {key!r} for {what}", hint=hint)


def _precision_defaults() -> dict[str, Any]:
    """bf16 on a GPU that supports it; full precision on CPU (TRL defaults to bf16 and fails there)."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return {"bf16": True}
    return {"bf16": False, "fp16": False}


def build_trl_config(method: Method, options: TrainOptions, yaml_fields: dict[str, Any]) -> Any:
    """The TRL config of this run: curate's defaults < YAML < the API's ``trl`` < CLI flags."""
    cls = trl_config_class(method, options.algorithm)
    allowed = {f.name for f in dataclasses.fields(cls) if f.init}
    _check_keys(yaml_fields, allowed, str(options.config), cls.__name__)
    _check_keys(options.trl, allowed, "trl options", cls.__name__)
    values: dict[str, Any] = {"report_to": "none", "save_strategy": "no", "logging_steps": 1,
                              **_precision_defaults()}
    values.update(yaml_fields)
    values.update(options.trl)
    values["output_dir"] = str(options.output_dir)
    if options.max_steps is not None:
        values["max_steps"] = options.max_steps
    if options.max_length is not None and "max_length" in allowed:
        values["max_length"] = options.max_length
    if method == "sft" and options.packing:
        values["packing"] = True
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{cls.__name__} rejected the options: {error}", hint="fix the YAML key or CLI flag it names") from error


def lora_fields(method: Method, yaml_lora: dict[str, Any]) -> dict[str, Any]:
    """`peft.LoraConfig` keyword arguments: small defaults, then the YAML ``lora:`` mapping."""
    import peft

    allowed = {f.name for f in dataclasses.fields(peft.LoraConfig) if f.init}
    _check_keys(yaml_lora, allowed, "lora", "peft.LoraConfig")
    task = "SEQ_CLS" if method == "reward" else "CAUSAL_LM"
    return {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": "all-linear",
            "task_type": task, **yaml_lora}
