"""Export a trained model: merge a LoRA adapter into its base, and write GGUF for llama.cpp.

- merge: ``AutoPeftModelForCausalLM`` (the adapter's local base) → ``merge_and_unload`` → safetensors,
  with the tokenizer and its chat template (``chat_template.jinja``) beside it.
- GGUF (`write_gguf`), written here with the ``gguf`` package's `GGUFWriter`, for the architectures in
  ``GGUF_ARCHITECTURES`` only (others are refused: their tensor layouts and hyper-parameters differ):
  hyper-parameters from ``config.json``; tensors renamed with gguf's Llama name map; the q/k projections
  re-permuted from Hugging Face's rotate-half layout back to the interleaved rotary layout llama.cpp
  reads; norms in f32, matrices in f16 or q8_0 (``gguf.quants``; a matrix whose rows are not a multiple
  of the 32-value block stays f16, as llama.cpp's own converter does); the tokenizer as a byte-level
  BPE (``gpt2``: tokens, token types, merges) with bos/eos/pad ids and ``tokenizer.chat_template``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, MissingDependency, UsageError
from train.evaluate import load_for_eval

GGUF_ARCHITECTURES = {"LlamaForCausalLM": "llama"}
GGUF_DTYPES = ("f16", "q8_0")


@dataclass
class ExportResult:
    merged_dir: Path | None
    gguf: Path | None
    gguf_tensors: int
    architecture: str | None


def is_adapter(folder: Path) -> bool:
    return (folder / "adapter_config.json").is_file()


def merge_adapter(adapter_dir: Path, out: Path) -> Path:
    """Merge a LoRA adapter into its base; save safetensors, the tokenizer and the chat template."""
    from transformers import AutoTokenizer

    if not is_adapter(adapter_dir):
        raise UsageError(f"--merge: {adapter_dir} is not a LoRA adapter folder (no adapter_config.json)",
                         hint="pass the output of `curate train ... --lora`, or drop --merge for a full model")
    model = load_for_eval(adapter_dir).merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer = AutoTokenizer.from_pretrained(str(adapter_dir), local_files_only=True, trust_remote_code=False)
    tokenizer.save_pretrained(str(out))  # carries chat_template.jinja, the template trained with
    return out


def _permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """Hugging Face's rotate-half q/k rows → the interleaved pairs llama.cpp's rotary embedding reads."""
    rows = weights.shape[0]
    return (weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape))


def _tokenizer_metadata(writer: Any, folder: Path, vocab_size: int) -> None:
    """Byte-level BPE vocabulary (``gpt2``) with token types, merges, special ids and chat template."""
    import gguf
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8")) if (folder / "tokenizer.json").is_file() else {}
    model = spec.get("model", {})
    if model.get("type") != "BPE" or (spec.get("pre_tokenizer") or {}).get("type") not in ("ByteLevel", None):
        raise UsageError(f"GGUF export: {folder} has a {model.get('type', 'non-tokenizers')} tokenizer",
                         hint="GGUF export supports byte-level BPE tokenizers (tokenizer.ggml.model gpt2)")
    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    specials = {t.content for t in tokenizer.added_tokens_decoder.values() if t.special}
    added = {t.content for t in tokenizer.added_tokens_decoder.values()}
    tokens, types = [], []
    for i in range(vocab_size):
        token = by_id.get(i, f"[PAD{i}]")
        tokens.append(token)
        types.append(gguf.TokenType.CONTROL if token in specials else gguf.TokenType.USER_DEFINED if token in added
                     else gguf.TokenType.UNUSED if i not in by_id else gguf.TokenType.NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    eos = tokenizer.eos_token_id
    writer.add_eos_token_id(eos)
    writer.add_bos_token_id(tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos)
    writer.add_add_bos_token(False)  # the chat template writes every special token itself
    if tokenizer.pad_token_id is not None:
        writer.add_pad_token_id(tokenizer.pad_token_id)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)


def _hyper_parameters(writer: Any, config: Any, name: str, file_type: Any) -> None:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads or config.num_attention_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    theta = (getattr(config, "rope_parameters", None) or {}).get("rope_theta") or getattr(config, "rope_theta", 10000.0)
    writer.add_rope_freq_base(float(theta))
    writer.add_rope_dimension_count(head_dim)
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(file_type)


def _add_tensors(writer: Any, state: dict, config: Any, dtype: str) -> int:
    import gguf

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads or config.num_attention_heads
    count = 0
    for hf_name, tensor in state.items():
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise UsageError(f"GGUF export: no GGUF name for tensor {hf_name}", hint="only plain Llama checkpoints are supported")
        data = tensor.float().numpy()
        if hf_name.endswith("q_proj.weight"):
            data = _permute(data, heads)
        elif hf_name.endswith("k_proj.weight"):
            data = _permute(data, kv_heads)
        if data.ndim == 1:
            writer.add_tensor(name, data.astype(np.float32))
        elif dtype == "q8_0" and data.shape[-1] % 32 == 0:
            quant = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(name, gguf.quants.quantize(data.astype(np.float32), quant), raw_dtype=quant)
        else:
            writer.add_tensor(name, data.astype(np.float16))
        count += 1
    return count


def write_gguf(model_dir: Path, path: Path, dtype: str = "f16") -> tuple[int, str]:
    """Write ``model_dir`` (a full model, or an adapter merged in memory) as GGUF; (tensors, architecture)."""
    try:
        import gguf
    except ImportError as error:
        raise MissingDependency("GGUF export needs the gguf package", hint="pip install 'gguf==0.19.0'") from error
    from transformers import AutoConfig

    if dtype not in GGUF_DTYPES:
        raise UsageError(f"--dtype {dtype}: not a GGUF type curate writes", hint="use f16 or q8_0")
    config_dir = Path(json.loads((model_dir / "adapter_config.json").read_text())["base_model_name_or_path"]) \
        if is_adapter(model_dir) else model_dir
    config = AutoConfig.from_pretrained(str(config_dir), local_files_only=True, trust_remote_code=False)
    architecture = (config.architectures or [type(config).__name__])[0]
    if architecture not in GGUF_ARCHITECTURES:
        raise UsageError(f"GGUF export: architecture {architecture} is not supported",
                         hint=f"supported: {', '.join(sorted(GGUF_ARCHITECTURES))}; use --merge for safetensors")
    model = load_for_eval(model_dir)
    if is_adapter(model_dir):
        model = model.merge_and_unload()
    state = model.state_dict()
    if getattr(config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)  # llama.cpp reads token_embd as the output when output is absent
    file_type = gguf.LlamaFileType.MOSTLY_Q8_0 if dtype == "q8_0" else gguf.LlamaFileType.MOSTLY_F16
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), GGUF_ARCHITECTURES[architecture])
    _hyper_parameters(writer, config, model_dir.name, file_type)
    _tokenizer_metadata(writer, model_dir, config.vocab_size)
    count = _add_tensors(writer, state, config, dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return count, GGUF_ARCHITECTURES[architecture]


def export(model: Path, *, merge: bool = False, out: Path | None = None, gguf: Path | None = None,
           dtype: str = "f16") -> ExportResult:
    """`curate export`: ``merge`` an adapter into ``out`` and/or write ``gguf`` (from the merged model)."""
    if not model.is_dir():
        raise InputError(f"--model {model}: not a folder", hint="pass a folder written by `curate train`")
    if not merge and gguf is None:
        raise UsageError("nothing to export", hint="pass --merge, --gguf FILE, or both")
    if dtype not in GGUF_DTYPES:
        raise UsageError(f"--dtype {dtype}: not a GGUF type curate writes", hint="use f16 or q8_0")
    merged = None
    if merge:
        merged = merge_adapter(model, out or model.parent / f"{model.name}_merged")
    tensors, architecture = (0, None)
    if gguf is not None:
        tensors, architecture = write_gguf(merged or model, gguf, dtype)
    return ExportResult(merged, gguf, tensors, architecture)
