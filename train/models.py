"""Local models and tokenizers (never the hub, never remote code), LoRA and 4-bit QLoRA set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curate.errors import InputError, TemplateError, UsageError


def _require_folder(path: Path, what: str) -> None:
    if not path.is_dir() or not (path / "config.json").is_file():
        raise InputError(f"{what} {path}: not a saved model folder (no config.json)",
                         hint="pass a local folder written by save_pretrained; nothing is downloaded")


def resolve_template(tokenizer_dir: Path, template: str | None) -> str:
    """The chat template this run trains with: --template (registry name or .jinja file) or the tokenizer's."""
    from curate.templates.check import resolve_template as resolve
    from curate.templates.tokenizer import LocalTokenizer

    text = resolve(LocalTokenizer.load(tokenizer_dir), template)
    if not text:
        raise TemplateError(f"tokenizer {tokenizer_dir} has no chat template",
                            hint="pass --template NAME (see `curate templates list`) or a .jinja file")
    return text


def load_tokenizer(tokenizer_dir: Path, template: str) -> Any:
    """The tokenizer with ``template`` as its chat template and a pad token (EOS when it has none)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError) as error:
        raise InputError(f"tokenizer {tokenizer_dir}: cannot be loaded ({error})", hint="pass a local tokenizer folder") from error
    tokenizer.chat_template = template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _quantization(qlora: bool) -> dict[str, Any]:
    if not qlora:
        return {}
    import torch

    if not torch.cuda.is_available():
        raise UsageError("--qlora needs a CUDA GPU: 4-bit quantisation (bitsandbytes) does not run on CPU",
                         hint="use --lora on CPU, or run on a machine with an NVIDIA GPU")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as error:
        raise UsageError("--qlora needs the bitsandbytes package", hint="pip install bitsandbytes") from error
    from transformers import BitsAndBytesConfig

    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                bnb_4bit_compute_dtype=torch.bfloat16)
    return {"quantization_config": config, "device_map": {"": torch.cuda.current_device()}}


def load_model(model_dir: Path, *, head: str = "causal", qlora: bool = False, pad_token_id: int | None = None) -> Any:
    """A causal LM (``head="causal"``) or a one-label sequence classifier (``head="reward"``)."""
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    _require_folder(model_dir, "model")
    kwargs: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False, **_quantization(qlora)}
    if head == "reward":
        model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=1, **kwargs)
    else:
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), **kwargs)
    if pad_token_id is not None and getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = pad_token_id  # RewardTrainer and batched generation need it
    if qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    return model


def _input_embedding_name(model: Any) -> str:
    embedding = model.get_input_embeddings()
    for name, module in model.named_modules():
        if module is embedding:
            return name.rsplit(".", 1)[-1]
    return "embed_tokens"


def lora_config(fields: dict[str, Any], model: Any, fixed_token_ids: list[int]) -> Any:
    """A `peft.LoraConfig`; repaired template-token rows of the input embedding train with the adapter
    (and are saved in it). An untied output row repaired by the fix is not in the adapter: TRL's fused
    loss cannot run through PEFT's wrapper of ``lm_head``."""
    from peft import LoraConfig

    if fixed_token_ids and "trainable_token_indices" not in fields:
        fields = {**fields, "trainable_token_indices": {_input_embedding_name(model): sorted(fixed_token_ids)}}
    return LoraConfig(**fields)


def require_reward_model(path: Path | None) -> Path:
    if path is None:
        raise UsageError("rlhf needs --reward-model", hint="train one with `curate train reward` and pass its folder")
    _require_folder(path, "reward model")
    return path
