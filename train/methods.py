"""One function per method: data in TRL's columns + model + TRL config → a ready TRL trainer.

- ``sft``: SFTTrainer on conversations; loss on assistant tokens only (see `train.masks`), optional packing.
- ``dpo``: DPOTrainer on preference pairs (``prompt``/``chosen``/``rejected``).
- ``reward``: RewardTrainer on preference pairs, a one-label sequence-classification head.
- ``rlhf``: RLOOTrainer (default) or GRPOTrainer on the conversations' prompts, rewarded by a trained
  reward model (PPO is gone from TRL 1.16).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from train.masks import LossPath, sft_loss_path, tokenize_with_masks


@dataclass
class Setup:
    """What every method gets: the dataset, tokenizer and its template, the TRL config, PEFT config."""

    dataset: Any
    tokenizer: Any
    tokenizer_dir: str
    template: str
    args: Any
    peft_config: Any | None
    model: Any


def build_sft(setup: Setup, all_tokens: bool) -> tuple[Any, LossPath]:
    from trl import SFTTrainer

    path = sft_loss_path(setup.tokenizer, setup.template, all_tokens)
    dataset, args = setup.dataset, setup.args
    if path == "curate mask":
        dataset = tokenize_with_masks(dataset, setup.tokenizer_dir, setup.template)
        args.assistant_only_loss = False  # the masks are already in the data
    else:
        args.assistant_only_loss = path != "all tokens"
    trainer = SFTTrainer(model=setup.model, args=args, train_dataset=dataset, processing_class=setup.tokenizer,
                         peft_config=setup.peft_config)
    return trainer, path


def build_dpo(setup: Setup) -> Any:
    from trl import DPOTrainer

    return DPOTrainer(model=setup.model, args=setup.args, train_dataset=setup.dataset,
                      processing_class=setup.tokenizer, peft_config=setup.peft_config)


def build_reward(setup: Setup) -> Any:
    from trl import RewardTrainer

    return RewardTrainer(model=setup.model, args=setup.args, train_dataset=setup.dataset,
                         processing_class=setup.tokenizer, peft_config=setup.peft_config)


def build_rlhf(setup: Setup, algorithm: str, reward_model: Any, reward_tokenizer: Any) -> Any:
    """Online RL: the policy answers each prompt ``num_generations`` times; the reward model scores them."""
    from trl import GRPOTrainer, RLOOTrainer

    cls = GRPOTrainer if algorithm == "grpo" else RLOOTrainer
    return cls(model=setup.model, reward_funcs=reward_model, args=setup.args, train_dataset=setup.dataset,
               processing_class=setup.tokenizer, reward_processing_classes=reward_tokenizer,
               peft_config=setup.peft_config)
