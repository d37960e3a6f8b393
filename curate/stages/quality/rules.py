"""The keep/drop decision over annotation columns: the default rules, or a user's DuckDB predicate.

Default rules are ordered lists of ``(reason, polars condition)``; a row's reason is the first condition
that holds (null keeps it). Text rules follow the reference order (Gopher repetition, Gopher quality, C4,
FineWeb) and its published thresholds (`TextThresholds`); instruction rules use `InstructionThresholds`.
`--keep-where` replaces all of them with one predicate that DuckDB evaluates over the batch's columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from curate.errors import UsageError
from curate.stages.quality.heuristics import DUP_NGRAMS, TOP_NGRAMS

Rule = tuple[str, pl.Expr]


@dataclass(frozen=True)
class TextThresholds:
    """Published defaults: Gopher (Rae et al. 2021, table A1), C4 (Raffel et al. 2020), FineWeb (2024)."""

    min_words: int = 50
    max_words: int = 100_000
    min_mean_word_length: float = 3
    max_mean_word_length: float = 10
    max_symbol_ratio: float = 0.1
    max_bullet_lines: float = 0.9
    max_ellipsis_lines: float = 0.3
    min_alpha_words: float = 0.8
    min_stop_words: int = 2
    max_dup_para_frac: float = 0.3
    max_dup_para_char_frac: float = 0.2
    max_dup_line_frac: float = 0.3
    max_dup_line_char_frac: float = 0.2
    max_top_ngram_frac: tuple[float, ...] = (0.2, 0.18, 0.16)  # 2-, 3-, 4-grams
    max_dup_ngram_frac: tuple[float, ...] = (0.15, 0.14, 0.13, 0.12, 0.11, 0.10)  # 5- … 10-grams
    min_c4_sentences: int = 5
    min_line_punct_ratio: float = 0.12
    max_short_line_ratio: float = 0.67
    max_char_dup_ratio: float = 0.01
    max_newline_ratio: float = 0.3


@dataclass(frozen=True)
class InstructionThresholds:
    """Defaults of the instruction-data rules (see `curate.stages.quality.instruction`)."""

    min_response_chars: int = 2
    max_response_chars: int = 100_000
    max_copy_ratio: float = 0.9
    max_repeat_ratio: float = 0.3


def _gt(column: str, value: float) -> pl.Expr:
    return pl.col(column).fill_null(float("-inf")) > value


def _lt(column: str, value: float) -> pl.Expr:
    return pl.col(column).fill_null(float("inf")) < value


def text_rules(t: TextThresholds) -> list[Rule]:
    """The default rules for continued pre-training text, in the reference order."""
    empty = pl.col("text").fill_null("") == ""
    rules: list[Rule] = [
        ("gopher repetition: empty", empty),
        ("gopher repetition: duplicate paragraphs", _gt("quality_dup_para_frac", t.max_dup_para_frac)),
        ("gopher repetition: duplicate paragraph characters",
         _gt("quality_dup_para_char_frac", t.max_dup_para_char_frac)),
        ("gopher repetition: duplicate lines", _gt("quality_dup_line_frac", t.max_dup_line_frac)),
        ("gopher repetition: duplicate line characters",
         _gt("quality_dup_line_char_frac", t.max_dup_line_char_frac)),
    ]
    rules += [(f"gopher repetition: top {n}-gram", _gt(f"quality_top_{n}gram_frac", limit))
              for n, limit in zip(TOP_NGRAMS, t.max_top_ngram_frac)]
    rules += [(f"gopher repetition: duplicate {n}-grams", _gt(f"quality_dup_{n}gram_frac", limit))
              for n, limit in zip(DUP_NGRAMS, t.max_dup_ngram_frac)]
    rules += [
        ("gopher: word count", (pl.col("quality_words") < t.min_words) | (pl.col("quality_words") > t.max_words)),
        ("gopher: mean word length", _lt("quality_mean_word_length", t.min_mean_word_length)
         | _gt("quality_mean_word_length", t.max_mean_word_length)),
        ("gopher: hashes", _gt("quality_hash_ratio", t.max_symbol_ratio)),
        ("gopher: ellipses", _gt("quality_ellipsis_ratio", t.max_symbol_ratio)),
        ("gopher: bullet lines", _gt("quality_bullet_lines", t.max_bullet_lines)),
        ("gopher: ellipsis lines", _gt("quality_ellipsis_lines", t.max_ellipsis_lines)),
        ("gopher: alphabetic words", _lt("quality_alpha_words", t.min_alpha_words)),
        ("gopher: stop words", pl.col("quality_stop_words") < t.min_stop_words),
        ("c4: lorem ipsum", pl.col("quality_c4_bad") == "lorem ipsum"),
        ("c4: curly bracket", pl.col("quality_c4_bad") == "curly bracket"),
        ("c4: too few sentences", pl.col("quality_c4_sentences") < t.min_c4_sentences),
        ("fineweb: empty", pl.col("quality_line_punct_ratio").is_null()),
        ("fineweb: line punctuation", _lt("quality_line_punct_ratio", t.min_line_punct_ratio)),
        ("fineweb: short lines", _gt("quality_short_line_ratio", t.max_short_line_ratio)),
        ("fineweb: duplicate line characters", _gt("quality_char_dup_ratio", t.max_char_dup_ratio)),
        ("fineweb: list-like", _gt("quality_newline_ratio", t.max_newline_ratio)),
    ]
    return rules


def first_reason(frame: pl.DataFrame, rules: list[Rule]) -> pl.Series:
    """For each row the reason of the first rule that holds, null if none."""
    if not rules:
        return pl.Series("reason", [None] * frame.height, dtype=pl.String)
    # A rule is (reason, condition), or ("__expr__", an expression giving the reason or null).
    parts = [pl.when(cond.fill_null(False)).then(pl.lit(reason)) if reason != "__expr__" else cond
             for reason, cond in rules]
    return frame.select(pl.coalesce(parts).cast(pl.String).alias("reason")).to_series()


def keep_where(table: pa.Table, predicate: str) -> pa.Array:
    """Evaluate a user's DuckDB predicate over a batch: a boolean array, null counted as not kept."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.register("batch", table)
        result = connection.sql(f"SELECT coalesce(({predicate}), false) AS keep FROM batch").to_arrow_table()
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        raise UsageError(f"--keep-where {predicate!r} is not a valid predicate over the annotation columns: "
                         f"{first_line}", hint="use SQL over columns such as lang, lang_score, quality_*") from None
    finally:
        connection.close()
    return result.column("keep").combine_chunks()


def instruction_rules(t: InstructionThresholds) -> list[Rule]:
    """The default rules for conversation and preference rows (answer = last assistant turn)."""
    chars = pl.col("quality_response_chars")
    text_answer = ~pl.col("quality_tool_call")  # a tool call may come with empty text
    return [
        ("empty answer", (chars == 0) & text_answer),
        ("too short", (chars > 0) & (chars < t.min_response_chars) & text_answer),
        ("too long", chars > t.max_response_chars),
        ("refusal", pl.col("quality_refusal")),
        ("ai boilerplate", pl.col("quality_boilerplate")),
        ("copies prompt", pl.col("quality_copy_ratio") >= t.max_copy_ratio),
        ("unclosed code fence", pl.col("quality_unclosed_fence")),
        ("cut off", pl.col("quality_truncated")),
        ("placeholder", pl.col("quality_placeholder")),
        ("repetition", pl.col("quality_repeat_ratio") > t.max_repeat_ratio),
    ]


def lang_mismatch_rule() -> Rule:
    reason = pl.format("lang mismatch: prompt {}, response {}", pl.col("lang_prompt"), pl.col("lang_response"))
    return ("__expr__", pl.when(pl.col("quality_lang_mismatch").fill_null(False)).then(reason))


def lang_rule(langs: tuple[str, ...]) -> Rule:
    """Rows whose detected language is not one of ``langs`` (rows without letters have no language and
    are kept: there is nothing to judge)."""
    wanted = ",".join(langs)
    outside = pl.col("lang").is_not_null() & ~pl.col("lang").is_in(list(langs))
    return ("__expr__", pl.when(outside).then(pl.format("lang: {} not in " + wanted.replace("{", "{{"), pl.col("lang"))))
