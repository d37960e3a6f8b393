"""Signals of instruction data (conversation and preference kinds), for the whole batch at once.

The answer is the last assistant turn (preference: the last assistant turn of ``chosen``, since a bad
``rejected`` answer is the point of a preference pair); the prompt is every turn before it. Code inside
``` fences is left out of the prose checks (refusal, placeholders, cut-off), because code legitimately
contains ``{{name}}`` and lines without a full stop.

Columns: see ``INSTRUCTION_COLUMNS``.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from curate.records import kind_of

INSTRUCTION_COLUMNS = {
    "quality_response_chars": "characters of the answer (stripped)",
    "quality_refusal": "the answer opens with a refusal",
    "quality_boilerplate": "the answer talks about being an AI model",
    "quality_copy_ratio": "share of the answer's word 3-grams found in the prompt",
    "quality_truncated": "the answer stops mid-sentence",
    "quality_unclosed_fence": "the answer has an odd number of ``` fences",
    "quality_placeholder": "an unfilled template placeholder ({{name}}, [Your Name], <insert …>)",
    "quality_tool_call": "the answer is a tool call (it may have no text)",
    "quality_repeat_ratio": "share of the answer's word 4-grams that repeat an earlier one (20+ 4-grams)",
}
REFUSAL = (
    r"(?i)^\W*(?:i'?m sorry|i am sorry|sorry|i apologi[sz]e|unfortunately)?[^.!?\n]{0,40}?\b(?:i|we)\s*"
    r"(?:can ?not|can'?t|won'?t|am unable to|am not able to|'m unable to|'m not able to|must decline to|"
    r"do not feel comfortable|don'?t feel comfortable)\s+(?:help|assist|provide|fulfil|comply|answer|do|"
    r"create|generate|write|support|engage|share|give|complete)"
    r"|^\W*(?:抱歉|对不起|很抱歉)[，,]?\s*(?:我)?(?:无法|不能)|^\W*我(?:无法|不能)(?:提供|回答|帮助|协助)"
)
BOILERPLATE = (
    r"(?i)\bas an? (?:ai|artificial intelligence)(?: language model| assistant| model| chatbot)?\b"
    r"|\bas a (?:large )?language model\b|\bi(?:'m| am) an ai (?:language model|assistant|model)\b"
    r"|\bi (?:do not|don'?t) have (?:personal )?(?:opinions|feelings|emotions|beliefs|experiences)\b"
    r"|\bmy (?:knowledge|training data) (?:cutoff|cut-off)\b"
    r"|作为(?:一个|一名)?(?:人工智能|AI)(?:语言模型|助手|模型)?|我是一个(?:人工智能|AI)(?:语言模型|助手)"
)
PLACEHOLDER = (
    r"\{\{\s*[A-Za-z_][\w .-]{0,40}\}\}"
    r"|(?i:\[(?:insert|your|enter|add|recipient'?s?|company|name|date|placeholder)\b[^\]\n]{0,40}\])"
    r"|(?i:<(?:insert|your|placeholder)\b[^>\n]{0,40}>)"
)
FENCE = r"(?s)```.*?(?:```|$)"
# A last prose line ends mid-sentence when it is long, ends on a word or a comma-like mark, and is no
# list item or heading.
CUT_OFF = r"[\p{L}\p{N},;:(\-–]\s*$"
LIST_OR_HEADING = r"^\s*(?:[-*+•#>|]|\d+[.)])"
MIN_REPEAT_GRAMS = 20


def _last_assistant(column: str, field: str) -> pl.Expr:
    turns = pl.col(column).list.eval(pl.element().filter(pl.element().struct.field("role") == "assistant"))
    return turns.list.last().struct.field(field)


def _views(batch: pa.Table) -> pl.DataFrame:
    """``prompt`` (user/system/tool turns before the answer) and ``response`` per row, plus whether the
    answer is a tool call."""
    kind = kind_of(batch.schema)
    column = "chosen" if kind == "preference" else "messages"
    frame = pl.from_arrow(batch.select([c for c in ("messages", "prompt", "chosen") if c in batch.column_names]))
    assert isinstance(frame, pl.DataFrame)
    content = pl.element().struct.field("content").fill_null("")
    if kind == "preference":
        prompt = pl.col("prompt").list.eval(content).list.join("\n")
    else:
        is_assistant = (pl.element().struct.field("role") == "assistant").cast(pl.Int32)
        after = pl.col("messages").list.eval(is_assistant.reverse().cum_sum()).list.eval(
            (pl.element() == 0).cast(pl.Int32)).list.sum()
        head = (pl.col("messages").list.len() - after - 1).clip(lower_bound=0)
        prompt = pl.col("messages").list.eval(content).list.head(head).list.join("\n")
    return frame.select(
        prompt.fill_null("").alias("prompt"),
        _last_assistant(column, "content").fill_null("").str.strip_chars().alias("response"),
        (_last_assistant(column, "tool_calls").list.len().fill_null(0) > 0).alias("quality_tool_call"),
    )


def _ngrams(frame: pl.DataFrame, column: str, size: int) -> pl.DataFrame:
    """(row, gram, pos) for every lowercased word n-gram of ``column``."""
    words = frame.select("row", pl.col(column).str.to_lowercase().str.extract_all(r"\w+").alias("w")).explode("w")
    words = words.drop_nulls("w").with_columns(pos=pl.int_range(pl.len()).over("row"))
    parts = [pl.col("w")] + [pl.col("w").shift(-k).over("row") for k in range(1, size)]
    return words.with_columns(gram=pl.concat_str(parts, separator=" ")).drop_nulls("gram").select("row", "gram", "pos")


def instruction_signals(batch: pa.Table) -> pl.DataFrame:
    """Every ``INSTRUCTION_COLUMNS`` signal for each row of a conversation or preference batch."""
    views = _views(batch).with_row_index("row")
    prose = pl.col("response").str.replace_all(FENCE, "")
    last_line = prose.str.strip_chars().str.split("\n").list.last().fill_null("")
    views = views.with_columns(
        quality_response_chars=pl.col("response").str.len_chars().cast(pl.Int64),
        quality_refusal=prose.str.slice(0, 300).str.contains(REFUSAL),
        quality_boilerplate=prose.str.contains(BOILERPLATE),
        quality_truncated=last_line.str.contains(CUT_OFF) & ~last_line.str.contains(LIST_OR_HEADING)
        & (last_line.str.len_chars() >= 40) & (last_line.str.count_matches(r"\s+") >= 6),
        quality_unclosed_fence=(pl.col("response").str.count_matches("```", literal=True) % 2) == 1,
        quality_placeholder=prose.str.contains(PLACEHOLDER) | pl.col("prompt").str.contains(PLACEHOLDER),
    )
    out = views.with_columns(
        quality_copy_ratio=_copy_ratio(views), quality_repeat_ratio=_repeat_ratio(views)
    )
    return out.select(list(INSTRUCTION_COLUMNS))


def _copy_ratio(views: pl.DataFrame) -> pl.Series:
    answer = _ngrams(views, "response", 3).unique(["row", "gram"])
    prompt = _ngrams(views, "prompt", 3).unique(["row", "gram"]).with_columns(hit=pl.lit(1))
    per_row = answer.join(prompt, on=["row", "gram"], how="left").group_by("row").agg(
        ratio=pl.col("hit").fill_null(0).sum() / pl.len())
    same = (pl.col("response").str.to_lowercase() == pl.col("prompt").str.strip_chars().str.to_lowercase()) & (
        pl.col("response") != "")
    joined = views.join(per_row, on="row", how="left")
    return joined.select(pl.when(same).then(pl.lit(1.0)).otherwise(pl.col("ratio"))).to_series()


def _repeat_ratio(views: pl.DataFrame) -> pl.Series:
    grams = _ngrams(views, "response", 4)
    per_row = grams.with_columns(first=pl.col("pos") == pl.col("pos").min().over("row", "gram")).group_by(
        "row").agg(ratio=1 - pl.col("first").sum() / pl.len(), n=pl.len())
    # short answers repeat a phrase or two for good reasons; judge only answers with some length.
    per_row = per_row.with_columns(ratio=pl.when(pl.col("n") >= MIN_REPEAT_GRAMS).then(pl.col("ratio")))
    return views.select("row").join(per_row, on="row", how="left")["ratio"]
