"""One row rendered and tokenised as training sees it, with the trained tokens marked.

`show_row` returns the tokens as (text, id, trained) triples; `format_row` turns them into the text
view of ``curate templates show`` (trained runs between « and », or coloured on a terminal; newlines
shown as ``\\n``) or a token table like axolotl's preprocess debug view.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from curate.errors import UsageError
from curate.records import kind_of
from curate.templates.check import resolve_template
from curate.templates.mask import assistant_char_spans, probe_shape, token_ranges
from curate.templates.render import ChatRenderer, chat_messages, parse_tools
from curate.templates.tokenizer import LocalTokenizer


@dataclass
class ShownRow:
    index: int
    row_id: str
    tokens: list[tuple[str, int, bool]]  # (text, token id, trained)
    max_length: int | None = None


def show_row(table: pa.Table, tokenizer: LocalTokenizer, index: int, template: str | None = None,
             max_length: int | None = None) -> ShownRow:
    if not 0 <= index < table.num_rows:
        raise UsageError(f"--row {index}: the data has {table.num_rows} rows", hint=f"give 0..{table.num_rows - 1}")
    row = table.slice(index, 1).to_pylist()[0]
    kind = kind_of(table.schema)
    if kind == "text":
        text = row.get("text") or ""
        ids = tokenizer.backend.encode(text, add_special_tokens=True)
        tokens = [(tokenizer.backend.id_to_token(i) if text[s:e] == "" else text[s:e], i, True)
                  for i, (s, e) in zip(ids.ids, ids.offsets)]
        return ShownRow(index, str(row["id"]), tokens, max_length)
    renderer = ChatRenderer(tokenizer.require_template(resolve_template(tokenizer, template)), tokenizer.special)
    if kind == "preference":
        messages = chat_messages(row.get("prompt")) + chat_messages(row.get("chosen"))
    else:
        messages = chat_messages(row.get("messages"))
    text, spans = renderer.render(messages, tools=parse_tools(row.get("tools")))
    if not renderer.has_generation:
        spans = assistant_char_spans(text, messages, probe_shape(renderer, tokenizer))
    encoding = tokenizer.backend.encode(text, add_special_tokens=False)
    trained = [False] * len(encoding.ids)
    for first, stop in token_ranges(encoding, spans):
        trained[first:stop] = [True] * (stop - first)
    tokens = [(text[s:e], i, t) for i, (s, e), t in zip(encoding.ids, encoding.offsets, trained)]
    return ShownRow(index, str(row["id"]), tokens, max_length)


def _visible(text: str) -> str:
    return text.replace("\n", "\\n\n").replace("\t", "\\t")


def format_row(shown: ShownRow, *, table: bool = False, color: bool = False) -> str:
    trained = sum(1 for *_, t in shown.tokens if t)
    head = f"row {shown.index} (id {shown.row_id}): {len(shown.tokens)} tokens, {trained} trained"
    if shown.max_length and len(shown.tokens) > shown.max_length:
        head += f"; tokens after {shown.max_length} are cut by --max-length"
    if table:
        lines = [head, "index  id      label  token"]
        for index, (text, token_id, is_trained) in enumerate(shown.tokens):
            label = str(token_id) if is_trained else "-100"
            cut = "  (cut)" if shown.max_length and index >= shown.max_length else ""
            lines.append(f"{index:<6} {token_id:<7} {label:<6} {text!r}{cut}")
        return "\n".join(lines)
    parts: list[str] = []
    current = False
    for text, _token_id, is_trained in shown.tokens:
        if is_trained != current:
            parts.append(("\x1b[42m" if is_trained else "\x1b[0m") if color else ("«" if is_trained else "»"))
            current = is_trained
        parts.append(_visible(text))
    if current:
        parts.append("\x1b[0m" if color else "»")
    return head + "\n" + "".join(parts)
