"""`curate eval` and `curate export`: thin hand-overs to the trainer layer (`train.evaluate`, `train.export`).

torch, transformers and gguf are imported only when a command runs, so `curate --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from curate.cli.common import cli_errors

EXPORT_HELP = ("Export a trained model: merge a LoRA adapter into its base (safetensors + tokenizer + chat "
               "template) and/or write GGUF for llama.cpp. GGUF architectures: llama (LlamaForCausalLM); "
               "others are refused.")


def _trainer_stack(name: str) -> None:
    typer.echo(f"error: this command needs the trainer stack ({name} is missing) (hint: pip install 'curate[train]')",
               err=True)
    raise typer.Exit(2)


def evaluate(
    model: Path = typer.Option(..., "--model", help="Local model folder, or a LoRA adapter folder (its base is loaded)."),
    data: Path = typer.Option(..., "--data", help="Held-out curated folder (e.g. OUT_eval from `curate split`)."),
    train_data: Optional[Path] = typer.Option(None, "--train", help="Training folder, for --decontaminate."),
    decontaminate: bool = typer.Option(False, "--decontaminate", help="Check that no eval row is an exact or near copy of a --train row; exit 1 on a leak."),
    tokenizer: Optional[Path] = typer.Option(None, "--tokenizer", help="Local tokenizer folder, if not the model's own."),
    template: Optional[str] = typer.Option(None, "--template", help="Chat template: a registry name or a .jinja file; default: the tokenizer's."),
    samples: int = typer.Option(3, "--samples", min=0, help="Greedy samples to generate for the report."),
    max_new_tokens: int = typer.Option(32, "--max-new-tokens", min=1, help="Tokens per greedy sample."),
    max_length: Optional[int] = typer.Option(None, "--max-length", min=1, help="Truncate rows to this many tokens."),
    ref_model: Optional[Path] = typer.Option(None, "--ref-model", help="Preference data: reference model for DPO's implicit reward accuracy and margin."),
    beta: float = typer.Option(0.1, "--beta", help="Preference data: DPO's beta for the implicit reward (with --ref-model)."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write the figures and samples as JSON here (default: print only)."),
) -> None:
    """Held-out loss and perplexity on assistant tokens (the training masks), preference accuracy and margins."""
    with cli_errors():
        try:
            from train.evaluate import EvalOptions, evaluate as run_eval
        except ImportError as error:
            _trainer_stack(error.name or "torch")
        options = EvalOptions(model=model, data=data, train_data=train_data, decontaminate=decontaminate,
                              tokenizer=tokenizer, template=template, samples=samples,
                              max_new_tokens=max_new_tokens, max_length=max_length, ref_model=ref_model, beta=beta)
        result = run_eval(options)
        if report is not None:
            report.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in _summary(result):
        typer.echo(line)
    leak = result.get("decontamination") or {}
    if leak.get("leaked_rows"):
        raise typer.Exit(1)


def _summary(result: dict) -> list[str]:
    lines = [f"evaluated {result['rows']} {result['kind']} rows of {result['data']}"]
    if "loss" in result:
        lines.append(f"loss {result['loss']:.4f}, perplexity {result['perplexity']:.3f} "
                     f"over {result['tokens']} assistant tokens")
    if "accuracy" in result:
        lines.append(f"preference accuracy {result['accuracy']:.3f}, mean log-prob margin {result['margin']:.4f}")
    if "reward_accuracy" in result:
        lines.append(f"implicit reward (beta {result['beta']}) accuracy {result['reward_accuracy']:.3f}, "
                     f"mean margin {result['reward_margin']:.4f}")
    leak = result.get("decontamination")
    if leak:
        lines.append(f"decontamination: {leak['leaked_rows']} of {result['rows']} eval rows have a copy in train"
                     + (f" (e.g. {', '.join(leak['examples'])})" if leak["examples"] else ""))
    for sample in result.get("samples", []):
        lines.append(f"sample {sample['id']}: {sample['completion']!r}")
    return lines


def export(
    model: Path = typer.Option(..., "--model", help="Local model folder or LoRA adapter folder (from `curate train`)."),
    merge: bool = typer.Option(False, "--merge", help="Merge the LoRA adapter into its base and save safetensors with the tokenizer and chat template."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the merged model (default: MODEL_merged next to MODEL)."),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="Write a GGUF file here (architectures: llama)."),
    dtype: str = typer.Option("f16", "--dtype", help="GGUF tensor type: f16 or q8_0."),
) -> None:
    """Merge an adapter into its base and/or write GGUF (chat template and special token ids in its metadata)."""
    with cli_errors():
        try:
            from train.export import export as run_export
        except ImportError as error:
            _trainer_stack(error.name or "torch")
        result = run_export(model, merge=merge, out=out, gguf=gguf, dtype=dtype)
    if result.merged_dir is not None:
        typer.echo(f"merged model, tokenizer and chat template saved to {result.merged_dir}")
    if result.gguf is not None:
        typer.echo(f"wrote {result.gguf} ({result.gguf_tensors} tensors, {dtype}, architecture {result.architecture})")


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)
    app.command("export", help=EXPORT_HELP)(export)
