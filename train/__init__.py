"""The trainer layer: verified curated shards → TRL 1.16 + PEFT (SFT, DPO, ORPO, KTO, reward model, online RL).

Python API (each returns a `TrainResult` with ``output_dir``, ``metrics`` and ``record``)::

    import train
    train.sft("out/", "./model", "runs/sft", lora=True, max_steps=100)
    train.dpo("prefs/", "runs/sft-merged", "runs/dpo", trl={"beta": 0.1})
    train.reward("prefs/", "./model", "runs/rm")
    train.rlhf("out/", "./model", "runs/rloo", reward_model="runs/rm", algorithm="grpo")
    train.orpo("prefs/", "./model", "runs/orpo")            # TRL's experimental ORPOTrainer
    train.kto("labelled/", "./model", "runs/kto")           # pairs, or conversations with label/kto_tag

Evaluation and export: `train.evaluate.evaluate(EvalOptions(...))`, `train.export.export(...)`.

Keyword options are the fields of `train.config.TrainOptions`; ``trl={...}`` sets any field of the
method's TRL config. Importing this package does not import torch (the CLI help stays fast).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from train.config import METHODS, Method, TrainOptions

__all__ = ["METHODS", "TrainOptions", "dpo", "kto", "orpo", "reward", "rlhf", "run", "sft"]


def run(method: Method, options: TrainOptions) -> Any:
    """Run one method with explicit options (see `train.runner.run`)."""
    from train.runner import run as _run

    return _run(method, options)


def _call(method: Method, data: str | Path, model: str | Path, output_dir: str | Path, **options: Any) -> Any:
    return run(method, TrainOptions(data=Path(data), model=Path(model), output_dir=Path(output_dir), **options))


def sft(data: str | Path, model: str | Path, output_dir: str | Path, **options: Any) -> Any:
    """Supervised fine-tuning on conversations (loss on assistant tokens unless ``all_tokens=True``)."""
    return _call("sft", data, model, output_dir, **options)


def dpo(data: str | Path, model: str | Path, output_dir: str | Path, **options: Any) -> Any:
    """Direct preference optimisation on preference pairs."""
    return _call("dpo", data, model, output_dir, **options)


def reward(data: str | Path, model: str | Path, output_dir: str | Path, **options: Any) -> Any:
    """A reward model (sequence classification, one label) on preference pairs."""
    return _call("reward", data, model, output_dir, **options)


def rlhf(data: str | Path, model: str | Path, output_dir: str | Path, **options: Any) -> Any:
    """Online RL (RLOO, or GRPO with ``algorithm="grpo"``) on conversation prompts with ``reward_model=``."""
    return _call("rlhf", data, model, output_dir, **options)


def orpo(data: str | Path, model: str | Path, output_dir: str | Path, **options: Any) -> Any:
    """ORPO on preference pairs (TRL's experimental ORPOTrainer)."""
    return _call("orpo", data, model, output_dir, **options)


def kto(data: str | Path, model: str | Path, output_dir: str | Path, **options: Any) -> Any:
    """KTO on preference pairs, or on conversations labelled by ``label``/``kto_tag`` in ``extra``."""
    return _call("kto", data, model, output_dir, **options)
