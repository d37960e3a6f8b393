"""Tiny offline models, tokenizers and curated folders: for the tests, the overhead bench and the GPU smoke run.

Nothing here touches the hub. A tokenizer is trained with the `tokenizers` library on a few sentences and
saved the way ``save_pretrained`` does (with a ChatML-style chat template, with or without
``{% generation %}`` markers); a Llama is built from a config; a curated OUT folder is written with
`curate.io.writers.ShardWriter` and `curate.io.manifest.write`, so its shard hashes are right.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# ChatML written out by hand (not byte-equal to any template TRL ships, so TRL has no training copy of it).
CHATML_PLAIN = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# The same rendering, with the trained span (answer + end of turn, as TRL's training templates) in markers.
CHATML_GENERATION = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message['content'] + '<|im_end|>' + '\n' }}{% endgeneration %}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

WORDS = (
    "the model reads data and writes an answer about python arrow parquet shards while the user asks "
    "a short question on training tokens loss steps adapters rewards and preferences every day"
).split()
CORPUS = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(0, len(WORDS), 3)] + [
    "user assistant system hello there how are you today i am fine thank you",
]


def make_tokenizer(folder: Path, template: str | None = CHATML_PLAIN, *, vocab_size: int = 300,
                   extra_specials: tuple[str, ...] = ()) -> Path:
    """A byte-level BPE tokenizer with ChatML specials (EOS ``<|im_end|>``, pad ``<|endoftext|>``)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS + list(extra_specials),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    backend.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>")
    if template is not None:
        tokenizer.chat_template = template
    tokenizer.save_pretrained(folder)
    return folder


def make_model(folder: Path, tokenizer_dir: Path, *, hidden: int = 32, layers: int = 2,
               head: str = "causal", seed: int = 0) -> Path:
    """A tiny Llama (``head``: ``causal`` or ``reward``, a one-label sequence-classification head)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=None, tie_word_embeddings=False)
    torch.manual_seed(seed)
    if head == "reward":
        config.num_labels = 1
        model = LlamaForSequenceClassification(config)
    else:
        model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def message(role: str, content: str | None, **fields: object) -> dict:
    """A canonical MESSAGE dict (every field present, unset ones null)."""
    return {"role": role, "content": content, "name": None, "tool_calls": None, "tool_call_id": None,
            "reasoning": None, "extra": None, **fields}


def _sentence(rng: random.Random, low: int = 3, high: int = 8) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def conversation_rows(n: int, seed: int = 0, words: tuple[int, int] = (3, 8)) -> list[dict]:
    """``n`` conversations (some with a system turn, some with two exchanges) of ``words`` words a turn."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        messages = [message("user", _sentence(rng, *words)), message("assistant", _sentence(rng, *words))]
        if i % 3 == 0:
            messages = [message("system", "the model answers")] + messages
        if i % 4 == 1:
            messages += [message("user", _sentence(rng, *words)), message("assistant", _sentence(rng, *words))]
        rows.append({"id": f"c{i}", "messages": messages, "tools": None, "extra": None,
                     "source": {"file": "toy.jsonl", "index": i, "format": "openai"}})
    return rows


def preference_rows(n: int, seed: int = 0, words: tuple[int, int] = (3, 8)) -> list[dict]:
    """``n`` single-turn preference pairs of ``words`` words a turn."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({"id": f"p{i}", "prompt": [message("user", _sentence(rng, *words))],
                     "chosen": [message("assistant", _sentence(rng, *words))],
                     "rejected": [message("assistant", _sentence(rng, *words))], "tools": None, "extra": None,
                     "source": {"file": "toy.jsonl", "index": i, "format": "trl"}})
    return rows


def make_dataset(out_dir: Path, kind: str = "conversation", rows: int | list[dict] = 16, *, seed: int = 0,
                 words: tuple[int, int] = (3, 8), templates: dict | None = None, shard_rows: int = 100_000) -> Path:
    """A curated OUT folder (``data/`` shards, an empty ``rejects/`` shard, ``manifest.json``).

    ``rows``: how many generated rows, or the canonical rows themselves.
    """
    from curate.io.manifest import SCHEMA_VERSION, tool_versions, write
    from curate.io.writers import ShardWriter
    from curate.records import REJECT_SCHEMA, SCHEMAS

    if isinstance(rows, int):
        make = conversation_rows if kind == "conversation" else preference_rows
        rows = make(rows, seed, words)
    schema = SCHEMAS[kind]  # type: ignore[index]
    writer = ShardWriter(out_dir, "data", schema, shard_rows=shard_rows)
    writer.write(pa.Table.from_pylist(rows, schema=schema))
    data = writer.close()
    rejects = ShardWriter(out_dir, "rejects", REJECT_SCHEMA).close()
    manifest = {
        "schema_version": SCHEMA_VERSION, "kind": kind, "format": "openai" if kind == "conversation" else "trl",
        "created_by": tool_versions(), "config": {}, "inputs": [], "skipped": [],
        "counts": {"read": len(rows), "kept": len(rows), "rejected": 0, "by_stage": {}, "rejects_by_reason": {}},
        "shards": {"data": [s.to_json() for s in data], "rejects": [s.to_json() for s in rejects]},
        "stages": {}, "templates": templates,
    }
    write(out_dir, manifest)
    return out_dir
