"""Model pre-flight: does the model know the tokens its chat template writes?

A base model given an instruct template (or a tokenizer with freshly added markup) has embedding rows
for ``<|im_start|>``-style tokens that were never trained: all zero, or one constant initial vector
shared by several tokens. Training on them is wasted at best (NaN losses at worst), so they are
refused with their names, or, with ``fix``, initialised from the mean of the trained rows. A tokenizer
whose ids run past the model's embedding matrix is refused too.

Template tokens: the added/special tokens in a probe render of the template, plus the token-like markup
the template contains (`curate.templates.registry.template_markup`) when it is one token.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from curate.errors import CheckFailed

ZERO = 1e-8  # a row whose largest |value| is below this was never trained
_PROBE = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
          {"role": "assistant", "content": "a"}, {"role": "user", "content": "v"}]


@dataclass
class UntrainedTokens:
    tokens: dict[int, str]  # id -> token text
    reason: dict[int, str]  # id -> "all zero" | "same vector as <tok>" | "equal to the mean row"

    def names(self) -> str:
        return ", ".join(f"{text} ({self.reason[i]})" for i, text in sorted(self.tokens.items()))


@contextmanager
def full_weights(params: list[Any], modify: bool = False) -> Iterator[None]:
    """Under DeepSpeed ZeRO-3 a loaded model's weights are partitioned (empty here): gather them."""
    if not any(hasattr(p, "ds_id") for p in params):
        yield
        return
    import deepspeed

    with deepspeed.zero.GatheredParameters(params, modifier_rank=0 if modify else None):
        yield


def check_vocabulary(model: Any, tokenizer: Any, model_dir: str) -> None:
    """Refuse a tokenizer whose ids do not fit the model's embedding matrix."""
    weight = model.get_input_embeddings().weight
    rows = getattr(weight, "ds_shape", weight.shape)[0]
    if len(tokenizer) > rows:
        raise CheckFailed(
            f"tokenizer has {len(tokenizer)} tokens but the model {model_dir} has {rows} embedding rows",
            hint="use the tokenizer saved with this model (or resize the embeddings and train them first)",
        )


def template_token_ids(tokenizer: Any, template: str) -> dict[int, str]:
    """Ids of the special/added tokens the chat template writes."""
    from curate.templates.registry import fingerprint, template_markup

    special = set(tokenizer.all_special_ids) | set(tokenizer.added_tokens_decoder)
    found: dict[int, str] = {}
    try:
        ids = tokenizer.apply_chat_template(_PROBE, chat_template=template, tokenize=True,
                                            add_generation_prompt=True, return_dict=True)["input_ids"]
    except Exception:  # a template that cannot render the probe is the template check's finding
        ids = []
    for token_id in ids:
        if token_id in special:
            found[token_id] = tokenizer.convert_ids_to_tokens(token_id)
    for markup in template_markup(template, fingerprint(template)["family"]):
        pieces = tokenizer.encode(markup, add_special_tokens=False)
        if len(pieces) == 1:
            found.setdefault(pieces[0], markup)
    return found


def _matrices(model: Any) -> list[Any]:
    matrices = [model.get_input_embeddings().weight]
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if output is not None and output.weight.data_ptr() != matrices[0].data_ptr():
        matrices.append(output.weight)
    return matrices


def find_untrained(model: Any, token_ids: dict[int, str]) -> UntrainedTokens:
    """Template tokens whose input (or untied output) embedding row looks never trained."""
    import torch

    reason: dict[int, str] = {}
    ids = sorted(i for i in token_ids if i is not None)
    for matrix in _matrices(model):
        weight = matrix.detach().float()
        if not ids or max(ids) >= weight.shape[0]:
            continue
        rows = weight[ids]
        mean = weight.mean(dim=0)
        for k, token_id in enumerate(ids):
            row = rows[k]
            if row.abs().max().item() <= ZERO:
                reason.setdefault(token_id, "all zero")
            elif torch.equal(row, mean):
                reason.setdefault(token_id, "equal to the mean row")
            else:
                twins = [token_ids[j] for m, j in enumerate(ids) if m != k and torch.equal(rows[m], row)]
                if twins:
                    reason.setdefault(token_id, f"same vector as {twins[0]}")
    return UntrainedTokens({i: token_ids[i] for i in reason}, reason)


def fix_untrained(model: Any, untrained: UntrainedTokens) -> None:
    """Set each untrained row to the mean of the rows that are not untrained (input and untied output)."""
    import torch

    ids = torch.tensor(sorted(untrained.tokens), dtype=torch.long)
    with torch.no_grad():
        for matrix in _matrices(model):
            keep = torch.ones(matrix.shape[0], dtype=torch.bool)
            keep[ids] = False
            keep &= matrix.detach().abs().amax(dim=1) > ZERO
            mean = matrix.detach().float()[keep].mean(dim=0).to(matrix.dtype)
            matrix[ids] = mean


def preflight(model: Any, tokenizer: Any, template: str, model_dir: str, *, fix: bool,
              warn: Any = None) -> UntrainedTokens:
    """Vocabulary check, then untrained template tokens: refuse (`CheckFailed`) or, with ``fix``, repair."""
    check_vocabulary(model, tokenizer, model_dir)
    with full_weights(_matrices(model)):
        untrained = find_untrained(model, template_token_ids(tokenizer, template))
    if not untrained.tokens:
        return untrained
    if not fix:
        raise CheckFailed(
            f"model {model_dir}: embeddings of chat-template tokens were never trained: {untrained.names()}"
            " - a base model given an instruct template?",
            hint="pass --fix-untrained-tokens to initialise them from the mean of the trained rows, "
                 "or train from the matching instruct model",
        )
    with full_weights(_matrices(model), modify=True):
        fix_untrained(model, untrained)
    if warn is not None:
        warn(f"--fix-untrained-tokens: initialised {untrained.names()} from the mean of the trained rows")
    return untrained
