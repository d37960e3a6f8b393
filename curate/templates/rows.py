"""Row-level template checks, batch by batch: render every row once, tokenise the batch in one call.

Reads ``id`` and, by kind, ``messages`` + ``tools`` (conversation), ``prompt``/``chosen``/``rejected``
(preference) or ``text`` (text). Writes findings into a `TemplateReport` and returns token lengths.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.templates.mask import TemplateShape, assistant_char_spans, token_ranges
from curate.templates.render import ChatRenderer, chat_messages, parse_tools
from curate.templates.report import TemplateReport
from curate.templates.tokenizer import LocalTokenizer

ROLES = frozenset({"system", "user", "assistant", "tool"})
BATCH = 4096


@dataclass
class Context:
    tokenizer: LocalTokenizer
    renderer: ChatRenderer | None
    shape: TemplateShape | None
    foreign: re.Pattern | None  # markup of families this tokenizer/template does not use
    max_length: int | None
    split_markup: dict[str, str] = field(default_factory=dict)  # template markup that is not one token here
    sample: int | None = None  # length statistics from about this many rows (None: every row)
    over_max_length: int = 0  # rows longer than max_length, counted exactly


class _Row:
    """Problems of one row, in the order found; the first error is the row's reject reason."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[tuple[str, str | None]] = []

    def add(self, check: str, detail: str | None = None) -> None:
        self.problems.append((check, detail))


def _record(report: TemplateReport, row_id: str, row: _Row) -> None:
    seen = set()
    for check, detail in row.problems:
        if check not in seen:
            seen.add(check)
            report.add(check, row_id, detail)
    errors = [c for c, _ in row.problems if c != "truncated text"]
    if errors:
        report.row_problems.append((row_id, f"template: {errors[0]}"))


def _message_checks(messages: list[dict], row: _Row, ctx: Context, answers: bool = True) -> None:
    """Checks that need no render: roles, empty answers, another family's markup in the content."""
    for message in messages:
        role = message.get("role")
        if role not in ROLES:
            row.add("unknown role", f"role {role!r} (convert ShareGPT human/gpt to user/assistant)")
        content = message.get("content")
        if answers and role == "assistant" and not message.get("tool_calls") and not (
            isinstance(content, str) and content.strip()
        ):
            row.add("empty assistant turn")
        if ctx.foreign is not None and isinstance(content, str):
            hit = ctx.foreign.search(content)
            if hit:
                row.add("foreign markup", f"{hit.group(0)!r} in a {role} turn")


def _render_checks(text: str, messages: list[dict], row: _Row, first_answer: int = 0) -> None:
    """Every turn must survive the render; answers and their reasoning verbatim.

    Turns are looked for in order; one found only earlier (a template may move the system prompt, e.g. into
    the last user turn) still counts as rendered.
    """
    cursor = 0
    for index, message in enumerate(messages):
        content, role = message.get("content"), message.get("role")
        if not isinstance(content, str) or not content.strip():
            continue
        answer = role == "assistant" and index >= first_answer
        needle = content if answer else content.strip()
        found = text.find(needle, cursor)
        if found < 0 and text.find(needle) < 0 and (answer or json.dumps(content, ensure_ascii=False) not in text):
            if not answer:  # (Llama 3.1 writes tool results through tojson: quoted and escaped, still there)
                row.add("turn dropped", f"a {role} turn renders to nothing")
            elif content.strip() in text:
                row.add("answer altered", "the template trims whitespace around assistant content")
            else:
                row.add("answer altered", "assistant content is not verbatim in the render (rewritten or cut)")
            continue
        if answer:
            reasoning = message.get("reasoning")
            if isinstance(reasoning, str) and reasoning.strip() and reasoning.strip() not in text:
                row.add("reasoning dropped", "the template drops the assistant's reasoning")
        if found >= 0 and role != "system":
            cursor = found + len(needle)


def _split_markup(text: str, row_id: str, ctx: Context, report: TemplateReport) -> None:
    """Template markup that only some rows render (tool calls) and that this vocabulary splits."""
    for markup, detail in ctx.split_markup.items():
        if markup in text:
            report.add("markup not single tokens", row_id, f"{detail} - rendered by rows with tool calls")


def _encode(ctx: Context, texts: list[str]) -> list:
    """Tokenise a batch; the rows longer than --max-length again with offsets (their truncation is checked)."""
    encodings = ctx.tokenizer.encode(texts)
    limit = ctx.max_length
    long = [i for i, e in enumerate(encodings) if limit and len(e) > limit]
    if long:
        for index, encoding in zip(long, ctx.tokenizer.encode_offsets([texts[i] for i in long])):
            encodings[index] = encoding
    return encodings


def _trained(encoding, spans: list[tuple[int, int]], row: _Row, ctx: Context) -> int:  # type: ignore[no-untyped-def]
    """Token checks on one tokenised row; returns its length."""
    length = len(encoding)
    limit = ctx.max_length
    if not spans:
        row.add("no trained tokens", "no assistant tokens")
    elif limit and length > limit:  # `_encode` gave this row offsets
        ranges = token_ranges(encoding, spans)
        if not ranges or all(first >= limit for first, _ in ranges):
            row.add("no trained tokens", "nothing left to train on after truncation")
        elif _cut_end(encoding, ranges[-1], ctx) > limit:
            row.add("truncated answer", f"{length} tokens; --max-length {limit} cuts an answer or its stop token")
    return length


def _cut_end(encoding, last: tuple[int, int], ctx: Context) -> int:  # type: ignore[no-untyped-def]
    """Tokens the last answer needs: up to its stop token; what follows it (a newline) may be cut."""
    first, stop = last
    ids = encoding.ids[first:stop]
    stops = ctx.tokenizer.stop_ids
    for offset in range(len(ids)):
        if ids[offset] in stops:
            return first + offset + 1
    return stop


def check_conversations(table: pa.Table, ctx: Context, report: TemplateReport) -> np.ndarray:
    """Render batch k+1 in Python while the tokenizer (Rust, GIL released) encodes batch k.

    Tokenised: every row that --max-length could cut (its UTF-8 size bounds its token count) and the
    rows of the length sample (every row when the dataset has at most ``ctx.sample`` rows).
    """
    lengths: list[int] = []
    step = -(-table.num_rows // ctx.sample) if ctx.sample and table.num_rows > ctx.sample else 1
    with ThreadPoolExecutor(max_workers=1) as pool:
        previous = None
        start = 0
        for batch in table.to_batches(max_chunksize=BATCH):
            pending = _render_conversations(batch, ctx, report)
            chosen = _to_tokenise(pending, start, step, ctx)
            future = pool.submit(_encode_chosen, ctx, pending, chosen)
            start += batch.num_rows
            if previous is not None:
                _finish(*previous, ctx, report, lengths)
            previous = (pending, chosen, future)
        if previous is not None:
            _finish(*previous, ctx, report, lengths)
    return np.asarray(lengths, dtype=np.int64)


def _render_conversations(batch: pa.RecordBatch, ctx: Context, report: TemplateReport) -> list[list]:
    """[row id, problems, trained char spans (None: the template raised), rendered text] per row."""
    renderer, shape = ctx.renderer, ctx.shape
    assert renderer is not None and shape is not None
    ids = batch.column("id").to_pylist()
    all_messages = batch.column("messages").to_pylist()
    tools_column = batch.column("tools").to_pylist() if "tools" in batch.schema.names else [None] * len(ids)
    pending: list[list] = []
    for row_id, raw, tools in zip(ids, all_messages, tools_column):
        row, messages = _Row(), chat_messages(raw)
        _message_checks(messages, row, ctx)
        try:
            text, spans = renderer.render(messages, tools=parse_tools(tools))
        except Exception as error:  # the template is foreign code: anything it raises is a finding
            row.add("template raises", _short(error))
            pending.append([row_id, row, None, None])
            continue
        _render_checks(text, messages, row)
        _split_markup(text, row_id, ctx, report)
        if not renderer.has_generation:
            spans = assistant_char_spans(text, messages, shape)
        pending.append([row_id, row, spans, text])
    return pending


def _to_tokenise(pending: list[list], start: int, step: int, ctx: Context) -> dict[int, tuple[bool, bool]]:
    """{position in batch: (needs offsets, in the length sample)}. Offsets for the rows --max-length may
    cut: a token covers at least one UTF-8 byte, plus one for a prepended word marker."""
    limit = ctx.max_length
    chosen: dict[int, tuple[bool, bool]] = {}
    for position, (_row_id, _row, spans, text) in enumerate(pending):
        if text is None:
            continue
        sampled = (start + position) % step == 0
        long = bool(limit and spans) and (
            not ctx.tokenizer.bytes_bound or (len(text) * 4 + 1 > limit and len(text.encode("utf-8")) + 1 > limit))
        if long or sampled:
            chosen[position] = (long, sampled)
    return chosen


def _encode_chosen(ctx: Context, pending: list[list], chosen: dict[int, tuple[bool, bool]]) -> dict[int, object]:
    fast = [p for p, (offsets, _) in chosen.items() if not offsets]
    slow = [p for p, (offsets, _) in chosen.items() if offsets]
    encoded = dict(zip(fast, ctx.tokenizer.encode([pending[p][3] for p in fast])))
    encoded.update(zip(slow, ctx.tokenizer.encode_offsets([pending[p][3] for p in slow])))
    return encoded


def _finish(pending: list[list], chosen: dict[int, tuple[bool, bool]], future, ctx: Context,  # type: ignore[no-untyped-def]
            report: TemplateReport, lengths: list[int]) -> None:
    encoded = future.result()
    for position, (row_id, row, spans, _text) in enumerate(pending):
        if spans is not None:
            if position not in encoded:  # too short to be cut: only whether anything is trained matters
                if not spans:
                    row.add("no trained tokens", "no assistant tokens")
            else:
                length = _trained(encoded[position], spans, row, ctx)
                ctx.over_max_length += bool(ctx.max_length and length > ctx.max_length)
                if chosen[position][1]:
                    lengths.append(length)
        _record(report, row_id, row)


def check_preferences(table: pa.Table, ctx: Context, report: TemplateReport) -> np.ndarray:
    """Prompt + generation prompt must be a token prefix of prompt + chosen (and + rejected)."""
    lengths: list[int] = []
    renderer, shape = ctx.renderer, ctx.shape
    assert renderer is not None and shape is not None
    for batch in table.to_batches(max_chunksize=BATCH):
        columns = {name: batch.column(name).to_pylist() for name in ("id", "prompt", "chosen", "rejected")}
        tools_column = batch.column("tools").to_pylist() if "tools" in batch.schema.names else [None] * batch.num_rows
        pending, texts = [], []
        for row_id, prompt, chosen, rejected, tools in zip(*columns.values(), tools_column):
            row = _Row()
            prompt, tools = chat_messages(prompt), parse_tools(tools)
            _message_checks(prompt, row, ctx, answers=False)
            rendered = []
            try:
                rendered.append(renderer.render(prompt, tools=tools, add_generation_prompt=True)[0])
                for answer in (chat_messages(chosen), chat_messages(rejected)):
                    _message_checks(answer, row, ctx)
                    text, spans = renderer.render(prompt + answer, tools=tools)
                    _render_checks(text, prompt + answer, row, first_answer=len(prompt))
                    if not renderer.has_generation:
                        spans = assistant_char_spans(text, prompt + answer, shape)
                    kept = sum(1 for m in prompt if m.get("role") == "assistant")
                    rendered.append((text, spans[kept:] if not renderer.has_generation else spans))
            except Exception as error:
                row.add("template raises", _short(error))
                _record(report, row_id, row)
                continue
            pending.append((row_id, row, rendered))
            texts.extend([rendered[0], rendered[1][0], rendered[2][0]])
        encodings = _encode(ctx, texts)
        for index, (row_id, row, rendered) in enumerate(pending):
            prompt_ids = encodings[3 * index].ids
            for side in (1, 2):
                encoding = encodings[3 * index + side]
                if encoding.ids[: len(prompt_ids)] != prompt_ids:
                    row.add("prompt not a prefix", f"generation prompt {shape.gen_prompt!r} is not how the answer starts")
                length = _trained(encoding, rendered[side][1], row, ctx)
                if side == 1:
                    lengths.append(length)
            _record(report, row_id, row)
    return np.asarray(lengths, dtype=np.int64)


def check_texts(table: pa.Table, ctx: Context, report: TemplateReport) -> np.ndarray:
    """Pre-rendered text: double BOS and foreign markup, vectorised; lengths as training counts them."""
    tok = ctx.tokenizer
    texts = pc.fill_null(table.column("text"), "")
    ids = table.column("id")
    flags: list[tuple[str, pa.Array]] = []
    if tok.adds_bos and tok.bos_token:
        flags.append(("double BOS", pc.starts_with(texts, tok.bos_token)))
    if ctx.foreign is not None:
        flags.append(("foreign markup", pc.match_substring_regex(texts, ctx.foreign.pattern)))
    lengths = np.fromiter(
        (len(e.ids) for batch in _chunks(texts) for e in tok.backend.encode_batch_fast(batch, add_special_tokens=True)),
        dtype=np.int64,
    )
    if tok.eos_token:  # TRL appends EOS to a text that does not end with it
        lengths = lengths + (~pc.ends_with(texts, tok.eos_token).to_numpy(zero_copy_only=False)).astype(np.int64)
    problems: dict[int, _Row] = {}
    for check, mask in flags:
        for index in np.flatnonzero(mask.to_numpy(zero_copy_only=False)):
            problems.setdefault(int(index), _Row()).add(check)
    if ctx.max_length:
        for index in np.flatnonzero(lengths > ctx.max_length):
            problems.setdefault(int(index), _Row()).add("truncated text", f"rows longer than {ctx.max_length} tokens")
    for index in sorted(problems):
        _record(report, ids[index].as_py(), problems[index])
    return lengths


def _chunks(array: pa.ChunkedArray) -> list[list[str]]:
    values = array.to_pylist()
    return [values[i : i + BATCH] for i in range(0, len(values), BATCH)]


def _short(error: Exception) -> str:
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return message[:160]
