"""Held-out evaluation of a trained model on a verified curated folder (`curate eval`).

- conversation data: loss and perplexity over the assistant's tokens only, with the mask SFT trains
  with (`curate.templates.mask_encoder`: the ``{% generation %}`` span, or the answer up to and
  including its end-of-turn token for templates without markers);
- preference data: the same loss on the chosen answers, plus preference accuracy (how often the chosen
  answer has the higher summed log-probability) and the mean reward margin, the log-probability gap
  chosen − rejected (in nats); with a reference model, DPO's implicit reward accuracy and margin,
  beta × (policy − reference) log-ratio gap;
- a few greedy samples (the first rows' prompts), written to the report;
- ``decontaminate``: eval rows with an exact or near copy in the training folder (`curate.split.leaks`).

The folder is verified first (a tampered folder is refused, exit 1). A LoRA adapter folder is loaded on
its base. Rows run in batches under ``torch.no_grad``; figures are summed in float64.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.errors import CheckFailed, InputError, UsageError
from train.data import open_curated

BATCH = 8


@dataclass
class EvalOptions:
    model: Path
    data: Path
    train_data: Path | None = None
    decontaminate: bool = False
    tokenizer: Path | None = None
    template: str | None = None
    samples: int = 3
    max_new_tokens: int = 32
    max_length: int | None = None
    ref_model: Path | None = None  # preference data: DPO's implicit reward beta * (policy - reference) log-ratio
    beta: float = 0.1


def load_for_eval(model_dir: Path) -> Any:
    """A causal LM in eval mode: a saved model, or a LoRA adapter folder loaded on its (local) base."""
    from train.models import load_model

    if (model_dir / "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM

        try:
            model = AutoPeftModelForCausalLM.from_pretrained(str(model_dir), local_files_only=True)
        except OSError as error:
            raise InputError(f"adapter {model_dir}: its base model cannot be loaded ({error})",
                             hint="the adapter's base_model_name_or_path must be a local folder") from error
    else:
        config = json.loads((model_dir / "config.json").read_text()) if (model_dir / "config.json").is_file() else {}
        if any(a.endswith("ForSequenceClassification") for a in config.get("architectures") or ()):
            raise UsageError(f"--model {model_dir}: a reward model (sequence classification), not a language model",
                             hint="evaluate the policy; reward models are not scored by curate eval")
        model = load_model(model_dir)
    return model.eval()


def _encoded_rows(table: Any, kind: str, encode: Any, max_length: int | None) -> tuple[list, list]:
    """(ids, masks) per row; preference rows give two entries each (chosen, rejected) in that order."""
    from curate.templates.render import chat_messages, parse_tools

    rows = table.to_pylist()
    out_ids, out_masks = [], []
    for row in rows:
        tools = parse_tools(row.get("tools"))
        chats = [row["messages"]] if kind == "conversation" else \
            [(row["prompt"] or []) + (row["chosen"] or []), (row["prompt"] or []) + (row["rejected"] or [])]
        # A preference answer is scored on its own tokens: assistant turns inside the prompt are not.
        skip = sum(encode(chat_messages(row["prompt"]), tools)[1]) if kind == "preference" and row["prompt"] else 0
        for chat in chats:
            ids, mask = encode(chat_messages(chat), tools)
            if skip:
                on = set([i for i, m in enumerate(mask) if m][:skip])
                mask = [0 if i in on else m for i, m in enumerate(mask)]
            if max_length:
                ids, mask = ids[:max_length], mask[:max_length]
            out_ids.append(ids)
            out_masks.append(mask)
    return out_ids, out_masks


def masked_logprobs(model: Any, ids: list[list[int]], masks: list[list[int]], pad_id: int) -> list[tuple[float, int]]:
    """For each sequence: (sum of log p of the masked tokens given what precedes them, their count)."""
    import torch

    results = []
    for start in range(0, len(ids), BATCH):
        chunk, chunk_masks = ids[start:start + BATCH], masks[start:start + BATCH]
        width = max(len(x) for x in chunk)
        input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(chunk), width), dtype=torch.long)
        target_mask = torch.zeros((len(chunk), width), dtype=torch.bool)
        for i, (row, mask) in enumerate(zip(chunk, chunk_masks)):
            input_ids[i, :len(row)] = torch.tensor(row)
            attention[i, :len(row)] = 1
            target_mask[i, :len(mask)] = torch.tensor(mask, dtype=torch.bool)
        with torch.no_grad():
            logits = model(input_ids=input_ids, attention_mask=attention).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
        keep = target_mask[:, 1:]  # a token is scored from the position before it (the first never is)
        sums = (logp.double() * keep).sum(dim=1)
        counts = keep.sum(dim=1)
        results.extend((float(s), int(c)) for s, c in zip(sums, counts))
    return results


def _samples(model: Any, tokenizer: Any, table: Any, kind: str, options: EvalOptions) -> list[dict]:
    """Greedy answers to the first rows' prompts (the turns before the last assistant turn)."""
    import torch

    from curate.templates.render import chat_messages

    out = []
    for row in table.slice(0, options.samples).to_pylist():
        if kind == "conversation":
            turns = row["messages"] or []
            last = max((i for i, m in enumerate(turns) if m["role"] == "assistant"), default=len(turns))
            prompt, reference = turns[:last], (turns[last]["content"] if last < len(turns) else None)
        else:
            prompt, reference = row["prompt"] or [], (row["chosen"] or [{}])[0].get("content")
        text = tokenizer.apply_chat_template(chat_messages(prompt), tokenize=False, add_generation_prompt=True)
        ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")
        with torch.no_grad():
            generated = model.generate(**ids, max_new_tokens=options.max_new_tokens, do_sample=False,
                                       pad_token_id=tokenizer.pad_token_id)
        completion = tokenizer.decode(generated[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        out.append({"id": row["id"], "completion": completion, "reference": reference})
    return out


def _decontamination(options: EvalOptions, held_out: Any) -> dict:
    from curate.split import leaks

    if options.train_data is None:
        raise UsageError("--decontaminate needs --train TRAIN_FOLDER", hint="pass the training folder to compare with")
    train = open_curated(options.train_data)
    leaked = leaks(train.table(), held_out)
    return {"train": str(options.train_data), "leaked_rows": len(leaked), "examples": leaked[:5]}


def _implicit_rewards(options: EvalOptions, margins: list[float], ids: list, masks: list, pad_id: int) -> dict:
    """DPO's reward accuracy and margin: beta * (policy margin - reference margin), per pair."""
    reference = masked_logprobs(load_for_eval(options.ref_model), ids, masks, pad_id)  # type: ignore[arg-type]
    ref_margins = [c[0] - r[0] for c, r in zip(reference[0::2], reference[1::2])]
    rewards = [options.beta * (m - r) for m, r in zip(margins, ref_margins)]
    return {"reward_accuracy": sum(x > 0 for x in rewards) / len(rewards), "reward_margin": sum(rewards) / len(rewards),
            "ref_model": str(options.ref_model), "beta": options.beta}


def evaluate(options: EvalOptions) -> dict:
    """The evaluation report (a JSON-ready dict); raises a `CurateError` subclass when refused."""
    from curate.templates import mask_encoder
    from train.models import load_tokenizer, resolve_template

    curated = open_curated(options.data)
    if curated.kind not in ("conversation", "preference"):
        raise InputError(f"{options.data}: {curated.kind} data", hint="curate eval reads conversations or preference pairs")
    table = curated.table()
    report: dict[str, Any] = {"data": str(options.data), "kind": curated.kind, "rows": table.num_rows,
                              "model": str(options.model), "manifest_sha256": curated.manifest_sha256}
    if options.decontaminate:  # cheap and model-free: before the model is loaded
        report["decontamination"] = _decontamination(options, table)
    tokenizer_dir = options.tokenizer or options.model
    template = resolve_template(tokenizer_dir, options.template)
    tokenizer = load_tokenizer(tokenizer_dir, template)
    model = load_for_eval(options.model)
    ids, masks = _encoded_rows(table, curated.kind, mask_encoder(str(tokenizer_dir), template), options.max_length)
    scored = masked_logprobs(model, ids, masks, tokenizer.pad_token_id)
    answers = scored if curated.kind == "conversation" else scored[0::2]  # loss on chosen answers
    total, count = sum(s for s, _ in answers), sum(c for _, c in answers)
    if count == 0:
        raise CheckFailed(f"{options.data}: no assistant tokens to score", hint="check the data with `curate templates check`")
    report.update({"tokens": count, "loss": -total / count, "perplexity": math.exp(-total / count)})
    if curated.kind == "preference":
        margins = [c[0] - r[0] for c, r in zip(scored[0::2], scored[1::2])]
        report["accuracy"] = sum(m > 0 for m in margins) / len(margins)
        report["margin"] = sum(margins) / len(margins)
        if options.ref_model is not None:
            report.update(_implicit_rewards(options, margins, ids, masks, tokenizer.pad_token_id))
    report["samples"] = _samples(model, tokenizer, table, curated.kind, options) if options.samples else []
    return report
