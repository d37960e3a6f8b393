"""Basic validation: records that no chat template or trainer can use go to rejects.

Reads ``messages`` (conversation), ``prompt``/``chosen``/``rejected`` (preference) or ``text``.
Writes no columns. Reasons (label first):
- ``empty turn: turn N (role)``: content empty or whitespace-only (an assistant turn that only calls tools
  is fine);
- ``no assistant turn``;
- ``role order: ...``: assistant before any user turn, a system message that is not first, two system
  messages, a tool result with no tool call before it;
- ``empty text``, ``empty prompt``, ``empty answer: chosen|rejected``, ``chosen equals rejected``.
Each row gets the first reason that applies, in that order.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from curate.records import kind_of
from curate.stages.base import Filter


def _role() -> pl.Expr:
    return pl.element().struct.field("role")


def _is_empty_turn() -> pl.Expr:
    blank = pl.element().struct.field("content").fill_null("").str.strip_chars() == ""
    calls_tools = pl.element().struct.field("tool_calls").list.len().fill_null(0) > 0
    return blank & ~calls_tools


def _message_checks(column: str, *, need_assistant: bool) -> list[pl.Expr]:
    messages = pl.col(column)
    roles = messages.list.eval(_role())
    empty = messages.list.eval(_is_empty_turn())
    first_empty = empty.list.arg_max()
    empty_reason = pl.format(
        "empty turn: turn {} ({})", first_empty + 1, roles.list.get(first_empty, null_on_oob=True)
    )
    non_system = messages.list.eval(_role().filter(_role() != "system"))
    n_system = roles.list.eval((pl.element() == "system").cast(pl.Int32)).list.sum()
    orphan_tool = messages.list.eval(
        (_role() == "tool") & ~_role().shift(1).is_in(["assistant", "tool"]).fill_null(False)
    ).list.any()
    checks = [pl.when(empty.list.any()).then(empty_reason)]
    if need_assistant:
        checks.append(pl.when(~roles.list.contains("assistant")).then(pl.lit("no assistant turn")))
    checks += [
        pl.when(non_system.list.first() == "assistant").then(pl.lit("role order: assistant turn before any user turn")),
        pl.when(n_system > 1).then(pl.lit("role order: two system messages")),
        pl.when((n_system == 1) & (roles.list.first() != "system")).then(pl.lit("role order: system message is not first")),
        pl.when(orphan_tool).then(pl.lit("role order: tool result without a tool call before it")),
    ]
    return checks


def _answer_checks(column: str) -> list[pl.Expr]:
    messages = pl.col(column)
    no_content = messages.list.eval(_is_empty_turn()).list.all() | (messages.list.len().fill_null(0) == 0)
    return [pl.when(no_content).then(pl.lit(f"empty answer: {column}"))]


class Validate(Filter):
    name = "validate"

    def reasons(self, batch: pa.Table) -> pa.Array:
        kind = kind_of(batch.schema)
        if kind == "text":
            checks = [pl.when(pl.col("text").fill_null("").str.strip_chars() == "").then(pl.lit("empty text"))]
        elif kind == "conversation":
            checks = _message_checks("messages", need_assistant=True)
        else:
            checks = [
                pl.when(pl.col("prompt").list.len().fill_null(0) == 0).then(pl.lit("empty prompt")),
                *_message_checks("prompt", need_assistant=False),
                *_answer_checks("chosen"),
                *_answer_checks("rejected"),
                pl.when(pl.col("chosen") == pl.col("rejected")).then(pl.lit("chosen equals rejected")),
            ]
        columns = [c for c in ("text", "messages", "prompt", "chosen", "rejected") if c in batch.column_names]
        frame = pl.from_arrow(batch.select(columns))
        assert isinstance(frame, pl.DataFrame)
        return frame.select(pl.coalesce(checks).alias("reason")).to_series().to_arrow().cast(pa.string())
