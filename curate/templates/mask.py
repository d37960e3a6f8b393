"""The trained span of a rendered chat: which characters, then which tokens, are the assistant's.

With ``{% generation %}`` markers the template says it. Without them the trained span of an assistant
turn is what prefix rendering gives (everything after ``render(messages[:i], add_generation_prompt=True)``
up to the end of ``render(messages[:i+1])``), computed from ONE render per row: the template's
generation prompt and turn terminator are probed once (`TemplateShape`), then each answer is located in
the render. ``assistant_mask`` is the function the trainer reuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from os.path import commonprefix

from curate.templates.render import ChatRenderer

_U, _A, _U2, _S = "U0Uq", "A0Aq", "U1Uq", "S0Sq"  # probe contents, unlikely to merge with markup


@dataclass(frozen=True)
class TemplateShape:
    """What a template writes around an answer, probed on tiny chats.

    ``gen_prompt``: what ``add_generation_prompt`` appends (the assistant header), "" if nothing;
    ``terminator``: what follows an answer before the next turn (``<|im_end|>\\n``, ``<|eot_id|>``);
    ``tail``: what follows the final answer (may add EOS after the terminator);
    ``trained_terminator``: with generation markers, whether the terminator is inside them.
    """

    gen_prompt: str
    terminator: str
    tail: str
    trained_terminator: bool | None
    error: str | None = None
    lead: str = ""  # what a finished chat has before an answer (the header; " " for Mistral v3)


def _after(text: str, marker: str) -> str:
    return text[text.rindex(marker) + len(marker) :]


def probe_shape(renderer: ChatRenderer, tokenizer) -> TemplateShape:  # type: ignore[no-untyped-def]
    """Probe the template once (with a system turn if it insists on one); record the error if it raises."""
    user, answer, user2 = {"role": "user", "content": _U}, {"role": "assistant", "content": _A}, {"role": "user", "content": _U2}
    failure = ""
    for head in ([], [{"role": "system", "content": _S}]):
        try:
            with_gp, _ = renderer.render([*head, user], add_generation_prompt=True)
            without_gp, _ = renderer.render([*head, user])
            end, end_spans = renderer.render([*head, user, answer])
            mid, _ = renderer.render([*head, user, answer, user2])
            break
        except Exception as error:  # a template is foreign code: any exception is a finding
            failure = failure or f"{type(error).__name__}: {error}"
    else:
        return TemplateShape("", "", "", None, error=failure)
    gen_prompt = with_gp[len(_whole_tokens(tokenizer, with_gp, len(commonprefix([with_gp, without_gp])))) :]
    tail = _after(end, _A) if _A in end else ""
    common = commonprefix([tail, _after(mid, _A)]) if _A in mid else ""
    terminator = _whole_tokens(tokenizer, tail, len(common))
    trained = None
    if renderer.has_generation and _A in end:
        answer = end.rindex(_A)
        stop = answer + len(_A) + _stop_token_end(tokenizer, terminator or tail)
        trained = any(s <= answer and e >= stop for s, e in end_spans)
    lead = ""
    if _A in end:
        lead = end[len(_whole_tokens(tokenizer, end, len(commonprefix([end, without_gp])))) : end.index(_A)]
    return TemplateShape(gen_prompt, terminator, tail, trained, lead=lead)


def _stop_token_end(tokenizer, terminator: str) -> int:  # type: ignore[no-untyped-def]
    """Characters of ``terminator`` up to the end of its stop token (its first added token, else all)."""
    encoding = tokenizer.backend.encode(terminator, add_special_tokens=False)
    for token_id, (_start, end) in zip(encoding.ids, encoding.offsets):
        if token_id in tokenizer.stop_ids or tokenizer.backend.id_to_token(token_id) in tokenizer.added:
            return end
    return len(terminator)


def _whole_tokens(tokenizer, text: str, limit: int) -> str:  # type: ignore[no-untyped-def]
    """The longest prefix of ``text`` within ``limit`` characters that ends on a token boundary."""
    if limit <= 0:
        return ""
    encoding = tokenizer.backend.encode(text, add_special_tokens=False)
    best = 0
    for _start, end in encoding.offsets:
        if end <= limit:
            best = max(best, end)
    return text[:best]


def injected_text(renderer: ChatRenderer, tokenizer, markup: list[str], with_system: bool) -> str:  # type: ignore[no-untyped-def]
    """Words a template writes that come from no message (default system prompt, date block)."""
    chat = [{"role": "user", "content": _U}, {"role": "assistant", "content": _A}]
    if with_system:
        chat.insert(0, {"role": "system", "content": _S})
    try:
        text, _ = renderer.render(chat)
    except Exception:
        return ""
    for piece in sorted({*tokenizer.added, *markup, _U, _A, _S}, key=len, reverse=True):
        if piece:
            text = text.replace(piece, " ")
    words = [w for w in text.split() if w not in _ROLE_WORDS and any(c.isalnum() for c in w)]
    return " ".join(words)


_ROLE_WORDS = {"system", "user", "assistant", "model", "[INST]", "[/INST]", "<think>", "</think>", "<s>", "</s>"}


def assistant_char_spans(text: str, messages: list[dict], shape: TemplateShape) -> list[tuple[int, int]]:
    """Character spans of the assistant turns in one render without generation markers."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    last = len(messages) - 1
    for index, message in enumerate(messages):
        content = message.get("content")
        content = content if isinstance(content, str) else ""
        if message.get("role") != "assistant":
            found = text.find(content.strip(), cursor) if content.strip() and message.get("role") != "system" else -1
            if found >= 0:
                cursor = found + len(content.strip())
            continue
        span = _answer_span(text, content, cursor, shape, index == last)
        if span is not None:
            spans.append(span)
            cursor = span[1]
    return spans


def _answer_span(text: str, content: str, cursor: int, shape: TemplateShape, is_last: bool) -> tuple[int, int] | None:
    position = text.find(content, cursor) if content else -1
    if position < 0 and content.strip():
        content = content.strip()
        position = text.find(content, cursor)
    if position < 0:  # no visible content (tool calls only, or altered): the turn starts after its header
        position = _after_header(text, cursor, shape)
        if position < 0:
            return None
        content = ""
    start = _start(text, cursor, position, shape)
    end = position + len(content)
    if is_last and shape.tail and text.endswith(shape.tail) and len(text) - len(shape.tail) >= end:
        return start, len(text)
    if shape.terminator:
        stop = text.find(shape.terminator, end)
        if stop >= 0:
            end = stop + len(shape.terminator)
    return (start, end) if end > start else None


def _after_header(text: str, cursor: int, shape: TemplateShape) -> int:
    for header in (shape.gen_prompt, shape.lead):
        found = text.find(header, cursor) if header.strip() else -1
        if found >= 0:
            return found + len(header)
    return -1


def _start(text: str, cursor: int, position: int, shape: TemplateShape) -> int:
    """Where training starts: after the generation prompt; without one, the answer's lead is trained too."""
    gen, lead = shape.gen_prompt, shape.lead
    if gen:
        for header in (gen, lead):
            found = text.rfind(header, cursor, position) if header else -1
            if found >= 0:
                return found + len(header)
        return position
    if lead and position - len(lead) >= cursor and text.startswith(lead, position - len(lead)):
        return position - len(lead)
    return position


def token_ranges(encoding, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Token index ranges [t0, t1) of character spans: every token overlapping a span."""
    ranges = []
    for start, end in spans:
        first = encoding.char_to_token(start)
        final = encoding.char_to_token(end - 1)
        if first is None or final is None:
            first, final = _scan(encoding.offsets, start, end)
            if first is None:
                continue
        ranges.append((first, final + 1))
    return ranges


def _scan(offsets: list[tuple[int, int]], start: int, end: int) -> tuple[int | None, int | None]:
    hits = [i for i, (s, e) in enumerate(offsets) if e > start and s < end]
    return (hits[0], hits[-1]) if hits else (None, None)


def mask_encoder(tokenizer, template: str | None = None):  # type: ignore[no-untyped-def]
    """A function ``(messages, tools=None) -> (input_ids, mask)`` built once (renderer, probed shape).

    ``tokenizer``: a `LocalTokenizer` or a folder; ``template``: its own chat template when None.
    ``messages``: dicts as transformers takes them (canonical rows: `render.chat_messages` first).
    """
    from curate.templates.tokenizer import LocalTokenizer

    tok = tokenizer if isinstance(tokenizer, LocalTokenizer) else LocalTokenizer.load(tokenizer)
    renderer = ChatRenderer(tok.require_template(template), tok.special)
    shape = None if renderer.has_generation else probe_shape(renderer, tok)

    def encode(messages: list[dict], tools: list | None = None) -> tuple[list[int], list[int]]:
        text, spans = renderer.render(messages, tools=tools)
        if shape is not None:
            spans = assistant_char_spans(text, messages, shape)
        encoding = tok.backend.encode(text, add_special_tokens=False)
        mask = [0] * len(encoding.ids)
        for first, stop in token_ranges(encoding, spans):
            mask[first:stop] = [1] * (stop - first)
        return list(encoding.ids), mask

    return encode


def assistant_mask(tokenizer, messages: list[dict], tools: list | None = None, template: str | None = None):  # type: ignore[no-untyped-def]
    """``(input_ids, mask)`` of one chat as training tokenises it; mask is 1 on the trained tokens.

    The trained span of an answer: with ``{% generation %}`` markers, what they enclose; otherwise what
    prefix rendering gives (after the generation prompt, up to and including the end-of-turn token).
    For many chats build `mask_encoder` once.
    """
    return mask_encoder(tokenizer, template)(messages, tools)
