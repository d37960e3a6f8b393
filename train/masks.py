"""Assistant-only loss for any chat template.

TRL masks the loss to assistant tokens with ``{% generation %}`` markers: the template's own, or a
training copy TRL ships for templates byte-equal to one it knows. `sft_loss_path` picks that path when
it exists. For every other template the conversations are tokenised here, with curate's mask (the
span prefix rendering gives each answer, up to and including its end-of-turn token; see
`curate.templates.mask`), into ``input_ids`` + ``assistant_masks`` columns, which SFTTrainer turns into
labels without rendering again.
"""

from __future__ import annotations

from typing import Any, Literal

LossPath = Literal["all tokens", "template markers", "trl training template", "curate mask"]


def sft_loss_path(tokenizer: Any, template: str, all_tokens: bool) -> LossPath:
    """How the SFT loss is restricted to the assistant's tokens for this template."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    if all_tokens:
        return "all tokens"
    if has_generation_markers(template):
        return "template markers"
    try:
        training = get_training_chat_template(tokenizer)
    except ValueError:  # TRL knows no training copy of this template
        return "curate mask"
    return "trl training template" if training else "template markers"


def _encoder(tokenizer_dir: str, template: str) -> Any:
    """A function rows → (input_ids, mask) built once (`curate.templates.mask_encoder`)."""
    from curate.templates import mask_encoder
    from curate.templates.render import chat_messages, parse_tools

    encode_chat = mask_encoder(tokenizer_dir, template)

    def encode(messages: list[dict], tools: str | None) -> tuple[list[int], list[int]]:
        return encode_chat(chat_messages(messages), parse_tools(tools))

    return encode


def _from_reasoning_content(message: dict) -> dict:
    # The training columns carry `reasoning_content`; curate's renderer takes the canonical `reasoning`.
    if message.get("reasoning_content") is None:
        return message
    out = dict(message)
    out["reasoning"] = out.pop("reasoning_content")
    return out


def _canonical_calls(message: dict) -> dict:
    calls = message.get("tool_calls")
    if not calls:
        return message
    flat = [{"id": c.get("id"), "type": c.get("type"), "name": (c.get("function") or {}).get("name"),
             "arguments": (c.get("function") or {}).get("arguments")} for c in calls]
    return {**message, "tool_calls": flat}


def tokenize_with_masks(dataset: Any, tokenizer_dir: str, template: str) -> Any:
    """``messages`` (+ ``tools``) → ``input_ids`` + ``assistant_masks`` (1 on trained tokens)."""
    encode = _encoder(tokenizer_dir, template)

    def batch(rows: dict) -> dict:
        tools = rows.get("tools") or [None] * len(rows["messages"])
        ids, masks = [], []
        for messages, tool_text in zip(rows["messages"], tools):
            canonical = [_canonical_calls(_from_reasoning_content(m)) for m in messages]
            input_ids, mask = encode(canonical, tool_text)
            ids.append(input_ids)
            masks.append(mask)
        return {"input_ids": ids, "assistant_masks": masks}

    return dataset.map(batch, batched=True, remove_columns=dataset.column_names,
                       desc="Tokenising with curate's assistant mask")
