"""The pre-flight template check: does this data render and tokenise into what training needs?

`check_dataset(data, tokenizer_path, max_length)` loads the tokenizer from a local folder, checks the
template itself once (dataset-level findings: no template, markup that is not single tokens, a turn
terminator that is not a stop token or not trained, injected text) and then every row (row-level
findings, see `curate.templates.rows`), and returns a `TemplateReport`.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from curate.errors import InputError
from curate.records import kind_of
from curate.templates.mask import TemplateShape, injected_text, probe_shape
from curate.templates.registry import fingerprint, load_registry, template_markup
from curate.templates.render import ChatRenderer
from curate.templates.report import Finding, TemplateReport, length_stats
from curate.templates.rows import Context, check_conversations, check_preferences, check_texts
from curate.templates.tokenizer import LocalTokenizer


LENGTH_SAMPLE = 20_000
PARALLEL_ROWS = 20_000  # below this, starting processes costs more than it saves
_NONE = Finding("template raises")


def resolve_template(tokenizer: LocalTokenizer, template: str | None) -> str | None:
    """``--template``: a registry name, a .jinja file, or None for the tokenizer's own."""
    if template is None:
        return tokenizer.chat_template
    path = Path(template)
    if path.suffix == ".jinja" or path.is_file():
        if not path.is_file():
            raise InputError(f"template file not found: {template}", hint="pass a .jinja file or a registry name")
        return path.read_text(encoding="utf-8")
    return load_registry().entry(template).text


def check_dataset(
    data: pa.Table | list[dict] | str | Path,
    tokenizer_path: str | Path | LocalTokenizer,
    max_length: int | None = None,
    *,
    template: str | None = None,
    length_sample: int | None = LENGTH_SAMPLE,
    workers: int | None = None,
) -> TemplateReport:
    """Check every row of ``data`` (a canonical table, rows as dicts, or a DATA path) against a tokenizer.

    Every check runs on every row. Token length statistics of a conversation dataset larger than
    ``length_sample`` rows come from an evenly spaced sample of about that many rows (None or 0: all);
    the rows over ``max_length`` are always counted exactly. A conversation dataset of at least
    `PARALLEL_ROWS` rows is split over ``workers`` processes (default: one per core).
    """
    started = time.perf_counter()
    table = _as_table(data)
    tok = tokenizer_path if isinstance(tokenizer_path, LocalTokenizer) else LocalTokenizer.load(tokenizer_path)
    text = resolve_template(tok, template)
    kind = kind_of(table.schema)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if kind == "conversation" and text is not None and workers > 1 and table.num_rows >= PARALLEL_ROWS:
        report = _parallel(table, tok, text, max_length, length_sample, workers)
        report.seconds = time.perf_counter() - started
        return report
    return _check_table(table, tok, text, kind, max_length, length_sample, started)


def _check_table(table: pa.Table, tok: LocalTokenizer, text: str | None, kind: str, max_length: int | None,
                 length_sample: int | None, started: float) -> TemplateReport:
    report = TemplateReport(str(tok.path), kind, table.num_rows, max_length, fingerprint(text))
    ctx = Context(tok, None, None, _foreign_markup(tok, text), max_length, sample=length_sample or None)
    if kind == "text":
        lengths = check_texts(table, ctx, report)
    elif text is None:
        report.add("no chat template", detail="pass --template NAME (see `curate templates list`) to give it one")
        lengths = np.zeros(0, dtype=np.int64)
    else:
        ctx.renderer = ChatRenderer(text, tok.special)
        ctx.shape = probe_shape(ctx.renderer, tok)
        if ctx.shape.error:
            report.add("template probe failed", detail=ctx.shape.error)
        _template_checks(report, ctx, text)
        _injection_note(report, ctx, table, text)
        run = check_conversations if kind == "conversation" else check_preferences
        lengths = run(table, ctx, report)
    report.token_lengths = lengths
    report.lengths = length_stats(lengths, max_length)
    if kind == "conversation" and lengths.size:
        if max_length:
            report.lengths["over_max_length"] = ctx.over_max_length
        if lengths.size < report.rows - report.findings.get("template raises", _NONE).count:
            report.lengths["sampled_rows"] = int(lengths.size)
    report.seconds = time.perf_counter() - started
    return report


def _parallel(table: pa.Table, tok: LocalTokenizer, text: str, max_length: int | None,
              length_sample: int | None, workers: int) -> TemplateReport:
    """Contiguous parts in spawned processes (fork is unsafe with polars' and Arrow's threads), merged in order."""
    import multiprocessing
    from functools import reduce

    size = -(-table.num_rows // workers)
    sample = -(-length_sample // workers) if length_sample else None
    jobs = [(table.slice(i, size), str(tok.path), text, max_length, sample) for i in range(0, table.num_rows, size)]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        parts = pool.map(_check_part, jobs)
    return reduce(TemplateReport.merge, parts)


def _check_part(job: tuple) -> TemplateReport:
    table, tokenizer_path, text, max_length, sample = job
    return _check_table(table, LocalTokenizer.load(tokenizer_path), text, "conversation", max_length, sample,
                        time.perf_counter())


def _as_table(data: pa.Table | list[dict] | str | Path) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, (str, Path)):
        from curate.templates.data import load_rows

        return load_rows(data)
    return pa.Table.from_pylist(list(data))


def _foreign_markup(tok: LocalTokenizer, template: str | None) -> re.Pattern | None:
    """A regex of every family's markup that neither this template nor this vocabulary uses."""
    own = template or ""
    foreign = {
        m
        for family in load_registry().families.values()
        for m in family.markup
        if m not in own and m not in tok.added
    }
    if not foreign:
        return None
    return re.compile("|".join(re.escape(m) for m in sorted(foreign, key=len, reverse=True)))


def _template_checks(report: TemplateReport, ctx: Context, template: str) -> None:
    tok, shape = ctx.tokenizer, ctx.shape
    assert shape is not None
    split = {}
    for markup in template_markup(template, report.fingerprint["family"]):
        pieces = len(tok.backend.encode(markup, add_special_tokens=False).ids)
        if pieces != 1:
            split[markup] = f"{markup} ({pieces} tokens)"
    # Markup every chat shows fails the dataset now; markup of rarer branches (tool calls) only when a row uses it.
    probes = _probe_texts(ctx)
    shown = [m for m in split if any(m in p for p in probes)]
    if shown:
        report.add("markup not single tokens",
                   detail="; ".join(split[m] for m in shown) + " - a template or data from another family?")
    ctx.split_markup = {m: d for m, d in split.items() if m not in shown}
    if shape.error is None:
        _terminator_check(report, tok, shape)
    if shape.trained_terminator is False:
        report.add("terminator not trained", detail=f"{shape.terminator!r} is outside {{% generation %}}")


def _probe_texts(ctx: Context) -> list[str]:
    assert ctx.renderer is not None
    texts = []
    for chat, gp in (([_USER, _ANSWER], False), ([_USER], True), ([_SYSTEM, _USER, _ANSWER], False)):
        try:
            texts.append(ctx.renderer.render(chat, add_generation_prompt=gp)[0])
        except Exception:  # a template may refuse the system turn; the others are enough
            continue
    return texts


_SYSTEM, _USER, _ANSWER = ({"role": r, "content": "x"} for r in ("system", "user", "assistant"))


def _terminator_check(report: TemplateReport, tok: LocalTokenizer, shape: TemplateShape) -> None:
    terminator = shape.terminator or shape.tail
    if not terminator:
        report.add("terminator not a stop token", detail="the template writes nothing after an answer")
        return
    ids = tok.backend.encode(terminator, add_special_tokens=False).ids
    first = next((i for i in ids if tok.backend.id_to_token(i) in tok.added), ids[0])
    if first not in tok.stop_ids:
        stops = ", ".join(sorted(repr(tok.backend.id_to_token(i)) for i in tok.stop_ids)) or "none"
        report.add(
            "terminator not a stop token",
            detail=f"turns end with {tok.backend.id_to_token(first)!r}, stop tokens are {stops}: "
            "set eos_token or generation_config.json eos_token_id",
        )


def _injection_note(report: TemplateReport, ctx: Context, table: pa.Table, template: str) -> None:
    assert ctx.renderer is not None
    markup = template_markup(template, report.fingerprint["family"])
    always = injected_text(ctx.renderer, ctx.tokenizer, markup, with_system=True)
    if always:
        report.add("template injects text", count=table.num_rows, detail=f"in every chat: {always[:100]!r}")
        return
    without_system = injected_text(ctx.renderer, ctx.tokenizer, markup, with_system=False)
    if without_system:
        rows = _rows_without_system(table)
        if rows:
            report.add("template injects text", count=rows, detail=f"when a chat has no system turn: {without_system[:100]!r}")


def _rows_without_system(table: pa.Table) -> int:
    column = "messages" if "messages" in table.column_names else "prompt"
    frame = pl.from_arrow(table.select([column]))
    assert isinstance(frame, pl.DataFrame)
    first = frame.select(pl.col(column).list.first().struct.field("role").alias("role"))
    return int(first.select((pl.col("role").fill_null("") != "system").sum()).item())
