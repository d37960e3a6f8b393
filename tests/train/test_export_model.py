"""`curate export`: a merged LoRA model gives base+adapter's logits; GGUF holds the tensors, the template,
the special ids; llama.cpp (llama-cpp-python, when installed) loads it and gives the same logits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from curate.cli import app
from train import toy
from train.evaluate import load_for_eval
from train.export import _permute, write_gguf

gguf = pytest.importorskip("gguf")
runner = CliRunner()
PROMPT = [{"role": "user", "content": "the model reads data"}]


@pytest.fixture(scope="module")
def adapter(world, tmp_path_factory):
    """A LoRA adapter with random (non-zero) B matrices on the tiny Llama, saved with its tokenizer."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tmp_path_factory.mktemp("export") / "adapter"
    torch.manual_seed(3)
    base = AutoModelForCausalLM.from_pretrained(str(world["model"]))
    config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(base, config).save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(world["model"])).save_pretrained(str(folder))
    return folder


def _ids(folder) -> torch.Tensor:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    text = tokenizer.apply_chat_template(PROMPT, tokenize=False, add_generation_prompt=True)
    return torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])


def _logits(model, ids) -> np.ndarray:
    with torch.no_grad():
        return model(input_ids=ids).logits[0].float().numpy()


def test_merge_gives_base_plus_adapter_logits(world, adapter, tmp_path):
    out = tmp_path / "merged"
    result = runner.invoke(app, ["export", "--model", str(adapter), "--merge", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"merged model, tokenizer and chat template saved to {out}"
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
    assert (out / "chat_template.jinja").read_text() == toy.CHATML_PLAIN
    ids = _ids(out)
    peft_logits = _logits(load_for_eval(adapter), ids)
    merged_logits = _logits(load_for_eval(out), ids)
    base_logits = _logits(load_for_eval(world["model"]), ids)
    np.testing.assert_allclose(merged_logits, peft_logits, atol=1e-4)
    assert np.abs(base_logits - peft_logits).max() > 1e-2  # the adapter changes the model


def _reader_fields(path) -> dict:
    reader = gguf.GGUFReader(str(path))
    return reader, {k: f.contents() for k, f in reader.fields.items()}


def test_gguf_metadata_and_tensors_round_trip(world, tmp_path):
    path = tmp_path / "tiny-f16.gguf"
    result = runner.invoke(app, ["export", "--model", str(world["model"]), "--gguf", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {path} (21 tensors, f16, architecture llama)"
    reader, fields = _reader_fields(path)
    assert fields["general.architecture"] == "llama" and fields["llama.block_count"] == 2
    assert fields["tokenizer.chat_template"] == toy.CHATML_PLAIN
    assert fields["tokenizer.ggml.model"] == "gpt2"
    assert (fields["tokenizer.ggml.eos_token_id"], fields["tokenizer.ggml.padding_token_id"]) == (2, 0)
    tokens = fields["tokenizer.ggml.tokens"]
    assert len(tokens) == 300 and tokens[:3] == toy.SPECIALS
    assert fields["tokenizer.ggml.token_type"][:4] == [3, 3, 3, 1]  # control, control, control, normal
    from safetensors.torch import load_file

    state = load_file(str(world["model"] / "model.safetensors"))
    tensors = {t.name: t for t in reader.tensors}
    embed = np.asarray(tensors["token_embd.weight"].data, dtype=np.float32)
    np.testing.assert_allclose(embed, state["model.embed_tokens.weight"].numpy(), atol=1e-3)
    q = np.asarray(tensors["blk.1.attn_q.weight"].data, dtype=np.float32)
    np.testing.assert_allclose(q, _permute(state["model.layers.1.self_attn.q_proj.weight"].numpy(), 4), atol=1e-3)
    assert tensors["blk.0.attn_norm.weight"].tensor_type == gguf.GGMLQuantizationType.F32


def test_gguf_q8_0_and_refusals(world, adapter, tmp_path):
    count, arch = write_gguf(adapter, tmp_path / "tiny-q8.gguf", "q8_0")  # an adapter is merged in memory
    reader, fields = _reader_fields(tmp_path / "tiny-q8.gguf")
    types = {t.name: t.tensor_type for t in reader.tensors}
    assert (count, arch) == (21, "llama") and types["blk.0.ffn_up.weight"] == gguf.GGMLQuantizationType.Q8_0
    assert fields["general.file_type"] == gguf.LlamaFileType.MOSTLY_Q8_0

    result = runner.invoke(app, ["export", "--model", str(world["model"]), "--gguf", str(tmp_path / "x.gguf"),
                                 "--dtype", "q4_k"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --dtype q4_k: not a GGUF type curate writes (hint: use f16 or q8_0)"
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = tmp_path / "gpt2"
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=300)).save_pretrained(str(gpt2))
    result = runner.invoke(app, ["export", "--model", str(gpt2), "--gguf", str(tmp_path / "g.gguf")])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: GGUF export: architecture GPT2LMHeadModel is not supported "
                                     "(hint: supported: LlamaForCausalLM; use --merge for safetensors)")
    result = runner.invoke(app, ["export", "--model", str(world["model"]), "--merge"])
    assert result.exit_code == 2
    assert "is not a LoRA adapter folder (no adapter_config.json)" in result.stderr


def test_llama_cpp_loads_the_gguf_and_matches_logits(world, tmp_path):
    llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (it builds llama.cpp "
                                                        "from source; install it to run this check)")
    path = tmp_path / "tiny.gguf"
    write_gguf(world["model"], path, "f16")
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, logits_all=True, verbose=False, seed=0)
    ids = _ids(world["model"])
    from transformers import AutoTokenizer

    text = AutoTokenizer.from_pretrained(str(world["model"])).apply_chat_template(PROMPT, tokenize=False,
                                                                                 add_generation_prompt=True)
    assert llm.tokenize(text.encode(), add_bos=False, special=True) == ids[0].tolist()  # same tokenizer
    llm.eval(ids[0].tolist())
    cpp = np.array(llm.scores[: ids.shape[1]], dtype=np.float32)
    hf = _logits(load_for_eval(world["model"]), ids)
    np.testing.assert_allclose(cpp, hf, atol=2e-3)  # f16 weights (measured: 2e-4 of logits up to 0.5)
    out = llm.create_completion(text, max_tokens=4, temperature=0.0)
    assert out["usage"]["completion_tokens"] >= 1
    assert llm.metadata["tokenizer.chat_template"] == toy.CHATML_PLAIN
    write_gguf(world["model"], tmp_path / "tiny-q8.gguf", "q8_0")
    quantised = llama_cpp.Llama(model_path=str(tmp_path / "tiny-q8.gguf"), n_ctx=128, logits_all=True, verbose=False)
    quantised.eval(ids[0].tolist())
    q8 = np.array(quantised.scores[: ids.shape[1]], dtype=np.float32)
    np.testing.assert_allclose(q8, hf, atol=3e-2)  # measured: 5e-3
