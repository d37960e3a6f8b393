"""Tiny real tokenizers for the template tests: a byte-level BPE trained on a few sentences, carrying a
family's special tokens, saved with its real chat template (from templates/) like save_pretrained does."""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from curate.templates.registry import load_registry

CORPUS = [
    "Hello there, how are you today? I am fine, thank you very much.",
    "The capital of France is Paris. Two plus two is four.",
    "Write a short poem about the sea and the sky and the wind.",
    "You are a helpful assistant. Answer the question briefly and well.",
    "system user assistant model tool think reasoning answer question",
]

# family -> (specials in vocabulary order, bos, eos, add_bos, generation_config eos ids as tokens)
FAMILIES = {
    "llama3": (["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                "<|eom_id|>", "<|python_tag|>"], "<|begin_of_text|>", "<|eot_id|>", True,
               ["<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"]),
    "chatml": (["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"], None, "<|im_end|>", False,
               ["<|im_end|>", "<|endoftext|>"]),
    "gemma": (["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>"], "<bos>", "<eos>", True,
              ["<eos>", "<end_of_turn>"]),
    "mistral": (["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]",
                 "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]"], "<s>", "</s>", True, ["</s>"]),
    "phi3": (["<unk>", "<s>", "</s>", "<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"], "<s>",
             "<|endoftext|>", True, ["<|endoftext|>", "<|end|>"]),
    "deepseek": (["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<think>", "</think>",
                  "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>",
                  "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>",
                  "<｜tool▁sep｜>"],
                 "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", True, ["<｜end▁of▁sentence｜>"]),
}


def make_tokenizer(folder: Path, template: str | None, family: str, *, eos: str | None = None,
                   generation_eos: list[str] | None = None, specials: list[str] | None = None,
                   add_bos: bool | None = None, template_file: bool = False) -> Path:
    """Save a tokenizer for ``family`` with ``template`` (a registry name, raw jinja text, or None)."""
    base_specials, bos, default_eos, default_add_bos, default_gen = FAMILIES[family]
    specials = base_specials if specials is None else specials
    eos = default_eos if eos is None else eos
    add_bos = default_add_bos if add_bos is None else add_bos
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    if add_bos and bos is not None:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    if template is not None and "{" not in template:
        template = load_registry().entry(template).text
    config: dict = {"eos_token": eos, "bos_token": bos, "tokenizer_class": "PreTrainedTokenizerFast"}
    if template is not None and template_file:
        (folder / "chat_template.jinja").write_text(template, encoding="utf-8")
    elif template is not None:
        config["chat_template"] = template
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    gen = default_gen if generation_eos is None else generation_eos
    if gen:
        ids = [tok.token_to_id(t) for t in gen]
        (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": ids}), encoding="utf-8")
    return folder
