"""A training run from start to end: checks first, then the model, the trainer, and the output folder.

Order matters: everything that can refuse the run cheaply (config keys, shard hashes, data kind, the
template verdict) runs before a model is loaded; the model pre-flight runs before the first step.
The output folder holds the model (or adapter), the tokenizer with the exact chat template trained
with (``chat_template.jinja``), and ``curate_train.json``: the dataset's manifest sha256, the template
verdict, any checks overridden, the loss path and the metrics.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.errors import UsageError
from train import checks
from train.config import KIND_OF, Method, TrainOptions, build_trl_config, load_yaml, lora_fields
from train.data import Warn, hf_dataset, open_curated, warn_stderr
from train.methods import Setup, build_dpo, build_reward, build_rlhf, build_sft
from train.methods_extra import build_kto, build_orpo, unpaired_dataset
from train.models import load_model, load_tokenizer, lora_config, require_reward_model, resolve_template
from train.preflight import check_vocabulary, preflight

RECORD = "curate_train.json"


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict
    record: dict


def _peak_memory() -> dict:
    import resource

    import torch

    peak = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if torch.cuda.is_available():
        peak["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return peak


def _metrics(trainer: Any, output: Any) -> dict:
    history = trainer.state.log_history
    losses = [entry["loss"] for entry in history if "loss" in entry]
    metrics = {k: v for k, v in output.metrics.items() if isinstance(v, (int, float))}
    metrics["global_step"] = trainer.state.global_step
    metrics["losses"] = losses
    metrics["final_loss"] = losses[-1] if losses else metrics.get("train_loss")
    tokens = trainer.state.num_input_tokens_seen or max((e.get("num_tokens", 0) for e in history), default=0)
    if tokens and metrics.get("train_runtime"):
        metrics["tokens"] = int(tokens)
        metrics["tokens_per_second"] = round(tokens / metrics["train_runtime"], 1)
    metrics.update(_peak_memory())
    return metrics


def _kind_check(method: Method, kind: str, data: Path) -> None:
    want = KIND_OF[method]
    if kind != want and not (method == "kto" and kind == "conversation"):
        raise UsageError(f"`curate train {method}` trains on {want} data, but {data} holds {kind} data",
                         hint="sft/rlhf take conversations, dpo/reward/orpo take preference pairs, "
                              "kto takes pairs or labelled conversations")


def _trainer(method: Method, options: TrainOptions, setup: Setup) -> tuple[Any, str | None]:
    if method == "sft":
        return build_sft(setup, options.all_tokens)
    if method == "dpo":
        return build_dpo(setup), None
    if method == "reward":
        return build_reward(setup), None
    if method == "orpo":
        return build_orpo(setup), None
    if method == "kto":
        return build_kto(setup), None
    reward_dir = require_reward_model(options.reward_model)
    reward_tokenizer = load_tokenizer(reward_dir, resolve_template(reward_dir, None))
    reward_model = load_model(reward_dir, head="reward", pad_token_id=reward_tokenizer.pad_token_id)
    check_vocabulary(reward_model, reward_tokenizer, str(reward_dir))
    return build_rlhf(setup, options.algorithm, reward_model, reward_tokenizer), None


def _record(method: Method, options: TrainOptions, curated: Any, verdict: Any, loss_path: str | None,
            fixed: dict[int, str], args: Any, metrics: dict) -> dict:
    """curate_train.json: what was trained on what, with which template verdict, and how it went."""
    return {
        "method": method if method != "rlhf" else f"rlhf ({options.algorithm})",
        "model": str(options.model),
        "adapter": bool(options.lora),
        "qlora": bool(options.qlora),
        "data": {"path": str(options.data), "kind": curated.kind, "rows": curated.rows,
                 "manifest_sha256": curated.manifest_sha256},
        "template": verdict.to_json(),
        "loss_on": loss_path,
        "checks_overridden": curated.skipped,
        "untrained_tokens_fixed": sorted(fixed.values()),
        "reward_model": str(options.reward_model) if options.reward_model else None,
        "trl_config": type(args).__name__,
        "metrics": metrics,
    }


def run(method: Method, options: TrainOptions, *, warn: Warn = warn_stderr) -> TrainResult:
    """Check, train and save; raise a `curate.errors.CurateError` subclass when the run is refused."""
    if method == "rlhf":
        require_reward_model(options.reward_model)
    yaml_fields, yaml_lora = load_yaml(options.config)
    args = build_trl_config(method, options, yaml_fields)
    curated = open_curated(options.data, skip_checks=options.skip_checks, warn=warn)
    _kind_check(method, curated.kind, options.data)
    tokenizer_dir = options.tokenizer or options.model
    template = resolve_template(tokenizer_dir, options.template)
    max_length = options.max_length or yaml_fields.get("max_length")
    verdict = checks.template_verdict(curated, str(tokenizer_dir), template, max_length)
    checks.require_safe(verdict, curated, str(tokenizer_dir), skip_checks=options.skip_checks, warn=warn)

    if method == "kto" and curated.kind == "conversation":
        dataset = unpaired_dataset(curated)  # a `label`/`kto_tag` per row, kept in `extra` by the spine
    else:
        dataset = hf_dataset(curated, prompts_only=method == "rlhf")
    tokenizer = load_tokenizer(tokenizer_dir, template)
    model = load_model(options.model, head="reward" if method == "reward" else "causal", qlora=options.qlora,
                       pad_token_id=tokenizer.pad_token_id)
    untrained = preflight(model, tokenizer, template, str(options.model), fix=options.fix_untrained_tokens, warn=warn)
    peft_config = lora_config(lora_fields(method, yaml_lora), model, list(untrained.tokens)) if options.lora else None
    setup = Setup(dataset, tokenizer, str(tokenizer_dir), template, args, peft_config, model)
    trainer, loss_path = _trainer(method, options, setup)

    cpu_started = time.process_time()
    output = trainer.train()
    metrics = _metrics(trainer, output)
    metrics["train_cpu_seconds"] = round(time.process_time() - cpu_started, 3)  # load-independent cost
    trainer.save_model(str(options.output_dir))  # every rank takes part (gathers ZeRO-3/FSDP shards)
    record = _record(method, options, curated, verdict, loss_path, untrained.tokens, args, metrics)
    if trainer.is_world_process_zero():
        tokenizer.chat_template = template  # exactly the template the data was rendered with
        tokenizer.save_pretrained(str(options.output_dir))
        (options.output_dir / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if not all(math.isfinite(x) for x in metrics["losses"]):
        warn(f"the loss was not finite at some step: {metrics['losses'][-5:]}")
    return TrainResult(options.output_dir, metrics, record)
