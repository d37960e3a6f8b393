"""Assistant-only loss: which path each template takes, and curate's mask for templates without markers."""

from __future__ import annotations

from pathlib import Path

import trl
from transformers import AutoTokenizer

from train import toy
from train.data import hf_dataset, open_curated
from train.masks import sft_loss_path, tokenize_with_masks


def test_loss_paths(world):
    plain = AutoTokenizer.from_pretrained(world["plain_tok"])
    assert sft_loss_path(plain, toy.CHATML_PLAIN, all_tokens=False) == "curate mask"
    assert sft_loss_path(plain, toy.CHATML_PLAIN, all_tokens=True) == "all tokens"
    assert sft_loss_path(plain, toy.CHATML_GENERATION, all_tokens=False) == "template markers"
    shipped = (Path(trl.__file__).parent / "chat_templates" / "qwen2_5.jinja").read_text()
    plain.chat_template = shipped
    assert sft_loss_path(plain, shipped, all_tokens=False) == "trl training template"


def test_curate_mask_equals_the_generation_marker_mask(world):
    """Without markers, curate's mask must train exactly what the marked twin template marks."""
    dataset = hf_dataset(open_curated(world["conversations"]))
    masked = tokenize_with_masks(dataset, str(world["plain_tok"]), toy.CHATML_PLAIN)
    assert masked.column_names == ["input_ids", "assistant_masks"]
    marked = AutoTokenizer.from_pretrained(world["gen_tok"])
    for row, messages in zip(masked, dataset["messages"]):
        expected = marked.apply_chat_template(messages, tokenize=True, return_dict=True,
                                              return_assistant_tokens_mask=True)
        assert row["input_ids"] == expected["input_ids"]
        assert row["assistant_masks"] == expected["assistant_masks"]


def test_curate_mask_covers_each_answer_and_its_end_of_turn(world):
    rows = [{"id": "r", "messages": [toy.message("system", "the model answers"), toy.message("user", "hello there"),
                                     toy.message("assistant", "i am fine"), toy.message("user", "how are you"),
                                     toy.message("assistant", "thank you")],
             "tools": None, "extra": None, "source": None}]
    out = toy.make_dataset(world["plain_tok"].parent / "mask_case", "conversation", rows)
    masked = tokenize_with_masks(hf_dataset(open_curated(out)), str(world["plain_tok"]), toy.CHATML_PLAIN)[0]
    tokenizer = AutoTokenizer.from_pretrained(world["plain_tok"])
    ids, mask = masked["input_ids"], masked["assistant_masks"]
    spans, current = [], []
    for token, bit in zip(ids, mask):
        if bit:
            current.append(token)
        elif current:
            spans.append(tokenizer.decode(current))
            current = []
    if current:
        spans.append(tokenizer.decode(current))
    assert spans == ["i am fine<|im_end|>\n", "thank you<|im_end|>\n"]
    assert tokenizer.decode(ids) == (
        "<|im_start|>system\nthe model answers<|im_end|>\n<|im_start|>user\nhello there<|im_end|>\n"
        "<|im_start|>assistant\ni am fine<|im_end|>\n<|im_start|>user\nhow are you<|im_end|>\n"
        "<|im_start|>assistant\nthank you<|im_end|>\n"
    )
