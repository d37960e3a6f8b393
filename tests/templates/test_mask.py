"""The one-render assistant mask equals the mask prefix rendering defines, and transformers' mask
for templates with {% generation %} markers."""

import pytest

from curate.templates.mask import assistant_mask, probe_shape
from curate.templates.registry import load_registry
from curate.templates.render import ChatRenderer
from curate.templates.tokenizer import LocalTokenizer

CASES = [(e.name, e.family) for e in load_registry().entries]
CHAT = [
    {"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "I am fine, thank you"},
    {"role": "user", "content": "Two plus two?"}, {"role": "assistant", "content": "Two plus two is four."},
    {"role": "user", "content": "The sea?"}, {"role": "assistant", "content": "The sea and the sky"},
]


def prefix_spans(renderer, chat):
    """Reference: turn i is trained from the end of render(chat[:i], gp=True) to the end of render(chat[:i+1]),
    wherever those renders are prefixes of the full render (the template is prefix-preserving there)."""
    full, _ = renderer.render(chat)
    spans = []
    for i, message in enumerate(chat):
        if message["role"] != "assistant":
            continue
        prompt, _ = renderer.render(chat[:i], add_generation_prompt=True)
        upto, _ = renderer.render(chat[: i + 1])
        if full.startswith(upto) and upto.startswith(prompt):
            spans.append((len(prompt), len(upto)))
    return full, spans


def mask_of(tok, text, spans):
    encoding = tok.backend.encode(text, add_special_tokens=False)
    mask = [0] * len(encoding.ids)
    for index, (s, e) in enumerate(encoding.offsets):
        if any(e > a and s < b for a, b in spans):
            mask[index] = 1
    return mask


@pytest.mark.parametrize("name,family", CASES)
def test_mask_equals_prefix_rendering(tokenizer_dir, name, family):
    tok = LocalTokenizer.load(tokenizer_dir(name, family))
    renderer = ChatRenderer(tok.chat_template, tok.special)
    for chat in (CHAT[:2], CHAT):
        full, spans = prefix_spans(renderer, chat)
        ids, mask = assistant_mask(tok, chat)
        assert ids == tok.backend.encode(full, add_special_tokens=False).ids
        expected = mask_of(tok, full, spans)
        if len(spans) == sum(m["role"] == "assistant" for m in chat):
            assert mask == expected
        else:  # not prefix-preserving (reasoning blocks, EOS after the last turn): compare where it is
            assert all(m == 1 for m, e in zip(mask, expected) if e == 1)
        assert sum(mask) > 0


def test_mask_covers_answer_and_terminator_exactly(tokenizer_dir):
    tok = LocalTokenizer.load(tokenizer_dir("chatml", "chatml"))
    ids, mask = assistant_mask(tok, CHAT[:4])
    trained = tok.backend.decode([i for i, m in zip(ids, mask) if m], skip_special_tokens=False)
    assert trained == "I am fine, thank you<|im_end|>\nTwo plus two is four.<|im_end|>\n"
    tok = LocalTokenizer.load(tokenizer_dir("llama3", "llama3"))
    ids, mask = assistant_mask(tok, CHAT[:2])
    assert tok.backend.decode([i for i, m in zip(ids, mask) if m], skip_special_tokens=False) == "I am fine, thank you<|eot_id|>"


GENERATION_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
    "{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}<|eot_id|>{% endgeneration %}"
    "{% else %}{{ m['content'] }}<|eot_id|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def test_generation_marked_template_mask_equals_transformers(tokenizer_dir):
    transformers = pytest.importorskip("transformers")
    folder = tokenizer_dir(GENERATION_TEMPLATE, "llama3")
    theirs = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    out = theirs.apply_chat_template(CHAT, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = assistant_mask(LocalTokenizer.load(folder), CHAT)
    assert ids == list(out["input_ids"]) and mask == list(out["assistant_masks"])
    assert sum(mask) > 0


def test_probe_shape_of_families(tokenizer_dir):
    shapes = {}
    for name, family in [("chatml", "chatml"), ("llama3", "llama3"), ("gemma", "gemma"), ("phi3", "phi3"),
                         ("mistral-v1", "mistral"), ("deepseek-r1-distill", "deepseek")]:
        tok = LocalTokenizer.load(tokenizer_dir(name, family))
        shape = probe_shape(ChatRenderer(tok.chat_template, tok.special), tok)
        shapes[name] = (shape.gen_prompt, shape.terminator, shape.tail)
    assert shapes == {
        "chatml": ("<|im_start|>assistant\n", "<|im_end|>\n", "<|im_end|>\n"),
        "llama3": ("<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>", "<|eot_id|>"),
        "gemma": ("<start_of_turn>model\n", "<end_of_turn>\n", "<end_of_turn>\n"),
        "phi3": ("<|assistant|>\n", "<|end|>\n", "<|end|>\n<|endoftext|>"),
        "mistral-v1": ("", "</s>", "</s>"),
        "deepseek-r1-distill": ("<｜Assistant｜><think>\n", "<｜end▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    }


@pytest.mark.parametrize("name,family", CASES)
def test_token_count_is_bounded_by_utf8_size(tokenizer_dir, name, family):
    """The bound `check` uses to skip tokenising rows --max-length cannot cut."""
    tok = LocalTokenizer.load(tokenizer_dir(name, family))
    assert tok.bytes_bound
    chat = CHAT + [{"role": "user", "content": "ünïcödé — 東京 🙂 tabs\tand  spaces"}]
    text, _ = ChatRenderer(tok.chat_template, tok.special).render(chat)
    assert len(tok.backend.encode(text, add_special_tokens=False).ids) <= len(text.encode("utf-8")) + 1
