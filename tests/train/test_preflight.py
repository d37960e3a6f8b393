"""Model pre-flight: untrained chat-template token embeddings (refused, or fixed), vocabulary mismatch."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from curate.errors import CheckFailed
from train import toy
from train.preflight import find_untrained, preflight, template_token_ids


@pytest.fixture
def pair(world):
    tokenizer = AutoTokenizer.from_pretrained(world["plain_tok"])
    model = AutoModelForCausalLM.from_pretrained(world["model"])
    return model, tokenizer


def _ids(tokenizer, *tokens):
    return [tokenizer.convert_tokens_to_ids(t) for t in tokens]


def test_template_tokens_are_found(pair):
    _, tokenizer = pair
    found = template_token_ids(tokenizer, toy.CHATML_PLAIN)
    assert sorted(found.values()) == ["<|im_end|>", "<|im_start|>"]


def test_a_trained_model_passes(pair):
    model, tokenizer = pair
    assert preflight(model, tokenizer, toy.CHATML_PLAIN, "m", fix=False).tokens == {}


def test_zero_rows_are_refused_with_their_names(pair):
    model, tokenizer = pair
    start, end = _ids(tokenizer, "<|im_start|>", "<|im_end|>")
    with torch.no_grad():
        model.get_input_embeddings().weight[[start, end]] = 0
    with pytest.raises(CheckFailed) as caught:
        preflight(model, tokenizer, toy.CHATML_PLAIN, "base-model", fix=False)
    assert str(caught.value) == (
        "model base-model: embeddings of chat-template tokens were never trained: <|im_start|> (all zero), "
        "<|im_end|> (all zero) - a base model given an instruct template? (hint: pass --fix-untrained-tokens "
        "to initialise them from the mean of the trained rows, or train from the matching instruct model)"
    )


def test_fix_sets_rows_to_the_mean_of_trained_rows(pair):
    model, tokenizer = pair
    start, end = _ids(tokenizer, "<|im_start|>", "<|im_end|>")
    inputs, outputs = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    with torch.no_grad():
        inputs[start] = 0
        outputs[end] = 0  # an untied output row counts too
    keep = torch.ones(inputs.shape[0], dtype=torch.bool)
    keep[[start, end]] = False
    pad = tokenizer.pad_token_id  # the padding row is zero from init: not a trained row either
    assert inputs[pad].abs().max() == 0
    keep_in, keep_out = keep.clone(), keep.clone()
    keep_in[pad] = False
    want_in, want_out = inputs[keep_in].mean(dim=0).clone(), outputs[keep_out].mean(dim=0).clone()
    messages: list[str] = []
    fixed = preflight(model, tokenizer, toy.CHATML_PLAIN, "m", fix=True, warn=messages.append)
    assert fixed.tokens == {start: "<|im_start|>", end: "<|im_end|>"}
    assert messages == ["--fix-untrained-tokens: initialised <|im_start|> (all zero), <|im_end|> (all zero) "
                        "from the mean of the trained rows"]
    for row in (start, end):
        assert torch.equal(inputs[row], want_in)
        assert torch.equal(outputs[row], want_out)


def test_a_shared_constant_init_is_untrained(pair):
    model, tokenizer = pair
    start, end = _ids(tokenizer, "<|im_start|>", "<|im_end|>")
    with torch.no_grad():
        model.get_input_embeddings().weight[[start, end]] = torch.full((32,), 0.01)
    found = find_untrained(model, template_token_ids(tokenizer, toy.CHATML_PLAIN))
    assert found.reason == {start: "same vector as <|im_end|>", end: "same vector as <|im_start|>"}


def test_vocabulary_mismatch_is_refused(pair):
    model, tokenizer = pair
    tokenizer.add_tokens(["<extra_1>", "<extra_2>"])
    rows = model.get_input_embeddings().weight.shape[0]
    with pytest.raises(CheckFailed) as caught:
        preflight(model, tokenizer, toy.CHATML_PLAIN, "m", fix=True)
    assert str(caught.value).startswith(f"tokenizer has {rows + 2} tokens but the model m has {rows} embedding rows")
