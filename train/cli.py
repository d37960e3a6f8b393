"""`curate train sft|dpo|reward|rlhf|orpo|kto` (also `python -m train ...`, which is what `accelerate launch -m` runs).

Thin: parse, build `TrainOptions`, call `train.runner.run`, print a summary. Exit codes: 0 trained,
1 the data or the model failed a check (tampered shards, unsafe template, untrained template tokens,
vocabulary mismatch), 2 bad usage or unreadable input. Option help comes from `train.config.HELP`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.cli.common import cli_errors
from train.config import HELP, Method, TrainOptions

app = typer.Typer(
    name="curate train",
    help="Train on a curated folder with TRL + PEFT: the shards' hashes and chat-template verdict are checked first.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Data = Annotated[Path, typer.Option("--data", help=HELP["data"])]
Model = Annotated[Path, typer.Option("--model", help=HELP["model"])]
OutputDir = Annotated[Path, typer.Option("--output-dir", help=HELP["output_dir"])]
Tokenizer = Annotated[Optional[Path], typer.Option("--tokenizer", help=HELP["tokenizer"])]
Template = Annotated[Optional[str], typer.Option("--template", help=HELP["template"])]
Config = Annotated[Optional[Path], typer.Option("--config", help=HELP["config"])]
MaxSteps = Annotated[Optional[int], typer.Option("--max-steps", help=HELP["max_steps"], min=1)]
MaxLength = Annotated[Optional[int], typer.Option("--max-length", help=HELP["max_length"], min=1)]
Lora = Annotated[bool, typer.Option("--lora", help=HELP["lora"])]
Qlora = Annotated[bool, typer.Option("--qlora", help=HELP["qlora"])]
Packing = Annotated[bool, typer.Option("--packing", help=HELP["packing"])]
AllTokens = Annotated[bool, typer.Option("--all-tokens", help=HELP["all_tokens"])]
RewardModel = Annotated[Optional[Path], typer.Option("--reward-model", help=HELP["reward_model"])]
Algorithm = Annotated[str, typer.Option("--algorithm", help=HELP["algorithm"])]
SkipChecks = Annotated[bool, typer.Option("--skip-checks", help=HELP["skip_checks"])]
FixTokens = Annotated[bool, typer.Option("--fix-untrained-tokens", help=HELP["fix_untrained_tokens"])]


def _run(method: Method, **fields: object) -> None:
    with cli_errors():
        from train.runner import run

        options = TrainOptions(**fields)  # type: ignore[arg-type]
        result = run(method, options)
    m = result.metrics
    line = f"trained {method}: {result.record['data']['rows']} {result.record['data']['kind']} rows, " \
           f"{m['global_step']} steps, final loss {m['final_loss']:.4f}"
    if m.get("tokens_per_second"):
        line += f", {m['tokens_per_second']} tokens/s"
    typer.echo(line)
    what = "adapter" if result.record["adapter"] else "model"
    typer.echo(f"saved {what}, tokenizer and curate_train.json to {result.output_dir}")


@app.command("sft")
def sft(data: Data, model: Model, output_dir: OutputDir, tokenizer: Tokenizer = None, template: Template = None,
        config: Config = None, max_steps: MaxSteps = None, max_length: MaxLength = None, lora: Lora = False,
        qlora: Qlora = False, packing: Packing = False, all_tokens: AllTokens = False,
        skip_checks: SkipChecks = False, fix_untrained_tokens: FixTokens = False) -> None:
    """Supervised fine-tuning on conversations; loss on the assistant's tokens for any chat template."""
    _run("sft", data=data, model=model, output_dir=output_dir, tokenizer=tokenizer, template=template,
         config=config, max_steps=max_steps, max_length=max_length, lora=lora, qlora=qlora, packing=packing,
         all_tokens=all_tokens, skip_checks=skip_checks, fix_untrained_tokens=fix_untrained_tokens)


@app.command("dpo")
def dpo(data: Data, model: Model, output_dir: OutputDir, tokenizer: Tokenizer = None, template: Template = None,
        config: Config = None, max_steps: MaxSteps = None, max_length: MaxLength = None, lora: Lora = False,
        qlora: Qlora = False, skip_checks: SkipChecks = False, fix_untrained_tokens: FixTokens = False) -> None:
    """Direct preference optimisation on preference pairs (prompt, chosen, rejected)."""
    _run("dpo", data=data, model=model, output_dir=output_dir, tokenizer=tokenizer, template=template,
         config=config, max_steps=max_steps, max_length=max_length, lora=lora, qlora=qlora,
         skip_checks=skip_checks, fix_untrained_tokens=fix_untrained_tokens)


@app.command("reward")
def reward(data: Data, model: Model, output_dir: OutputDir, tokenizer: Tokenizer = None,
           template: Template = None, config: Config = None, max_steps: MaxSteps = None,
           max_length: MaxLength = None, lora: Lora = False, qlora: Qlora = False,
           skip_checks: SkipChecks = False, fix_untrained_tokens: FixTokens = False) -> None:
    """A reward model on preference pairs: a one-label sequence-classification head (RewardTrainer)."""
    _run("reward", data=data, model=model, output_dir=output_dir, tokenizer=tokenizer, template=template,
         config=config, max_steps=max_steps, max_length=max_length, lora=lora, qlora=qlora,
         skip_checks=skip_checks, fix_untrained_tokens=fix_untrained_tokens)


@app.command("rlhf")
def rlhf(data: Data, model: Model, output_dir: OutputDir, reward_model: RewardModel = None,
         algorithm: Algorithm = "rloo", tokenizer: Tokenizer = None, template: Template = None,
         config: Config = None, max_steps: MaxSteps = None, lora: Lora = False, qlora: Qlora = False,
         skip_checks: SkipChecks = False, fix_untrained_tokens: FixTokens = False) -> None:
    """Online RL on the conversations' prompts, rewarded by a trained reward model (RLOO or GRPO)."""
    _run("rlhf", data=data, model=model, output_dir=output_dir, reward_model=reward_model, algorithm=algorithm,
         tokenizer=tokenizer, template=template, config=config, max_steps=max_steps, lora=lora, qlora=qlora,
         skip_checks=skip_checks, fix_untrained_tokens=fix_untrained_tokens)


@app.command("orpo")
def orpo(data: Data, model: Model, output_dir: OutputDir, tokenizer: Tokenizer = None, template: Template = None,
         config: Config = None, max_steps: MaxSteps = None, max_length: MaxLength = None, lora: Lora = False,
         qlora: Qlora = False, skip_checks: SkipChecks = False, fix_untrained_tokens: FixTokens = False) -> None:
    """ORPO (odds-ratio preference optimisation, no reference model) on preference pairs. Uses TRL's
    experimental ORPOTrainer (trl.experimental.orpo): its options may change between TRL releases."""
    _run("orpo", data=data, model=model, output_dir=output_dir, tokenizer=tokenizer, template=template,
         config=config, max_steps=max_steps, max_length=max_length, lora=lora, qlora=qlora,
         skip_checks=skip_checks, fix_untrained_tokens=fix_untrained_tokens)


@app.command("kto")
def kto(data: Data, model: Model, output_dir: OutputDir, tokenizer: Tokenizer = None, template: Template = None,
        config: Config = None, max_steps: MaxSteps = None, max_length: MaxLength = None, lora: Lora = False,
        qlora: Qlora = False, skip_checks: SkipChecks = False, fix_untrained_tokens: FixTokens = False) -> None:
    """KTO (TRL's KTOTrainer) on preference pairs, or on unpaired conversations labelled desirable or not
    (a `label` or LLaMA-Factory `kto_tag` field, kept in `extra` by `curate clean`)."""
    _run("kto", data=data, model=model, output_dir=output_dir, tokenizer=tokenizer, template=template,
         config=config, max_steps=max_steps, max_length=max_length, lora=lora, qlora=qlora,
         skip_checks=skip_checks, fix_untrained_tokens=fix_untrained_tokens)


def main(args: list[str] | None = None, prog_name: str = "curate train") -> int:
    """Run the command line; return its exit code (the hand-over from `curate train`)."""
    try:
        app(args=args, prog_name=prog_name, standalone_mode=True)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0
