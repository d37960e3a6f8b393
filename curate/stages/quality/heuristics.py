"""Gopher (quality + repetition), C4 and FineWeb signals of plain texts, computed for a whole batch.

The rules are those of the papers, with the reference implementation's definitions and default
thresholds (datatrove 0.10's GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter and
FineWebQualityFilter), so keep/drop decisions match it; tests/stages/quality/test_heuristics_parity.py
checks that. What differs is the shape: every text is tokenized once (not once per filter), lines,
paragraphs and n-grams are grouped with polars/numpy, and every measured quantity becomes a column, so
a user can look at the numbers before choosing thresholds. Thresholds and the decision live in
`curate.stages.quality.rules`.

Columns (all prefixed ``quality_``): see ``TEXT_COLUMNS``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.stages.quality.tokens import TERMINAL_REGEX, Tokens, tokenize

WS = r"[\s\x1c-\x1f]"  # Python's str.isspace(): Unicode White_Space plus the four separators
PY_WS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)
SPLITLINES = r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]"  # str.splitlines() boundaries
SEP = "\U0010ffff"  # a noncharacter: never in real text, used to split on regex matches
CITATION = r"\[\d*]|\[edit]|\[citation needed]"
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
_PRIME = np.uint64(1099511628211)

TEXT_COLUMNS = {
    # Gopher quality
    "quality_words": "words that are not only punctuation",
    "quality_mean_word_length": "mean length of those words",
    "quality_hash_ratio": "'#' per word",
    "quality_ellipsis_ratio": "'...' and '…' per word",
    "quality_bullet_lines": "share of lines starting with a bullet",
    "quality_ellipsis_lines": "share of lines ending with an ellipsis",
    "quality_alpha_words": "share of words with a letter",
    "quality_stop_words": "distinct English stop words present",
    # Gopher repetition
    "quality_dup_para_frac": "share of paragraphs that repeat an earlier one",
    "quality_dup_para_char_frac": "characters in repeated paragraphs / characters",
    "quality_dup_line_frac": "share of lines that repeat an earlier one",
    "quality_dup_line_char_frac": "characters in repeated lines / characters",
    **{f"quality_top_{n}gram_frac": f"characters of the most frequent {n}-gram / characters" for n in TOP_NGRAMS},
    **{f"quality_dup_{n}gram_frac": f"characters in repeated {n}-grams / characters" for n in DUP_NGRAMS},
    # C4
    "quality_c4_lines": "lines C4 keeps (terminal punctuation, 3+ words, no javascript/policy)",
    "quality_c4_sentences": "sentences in those lines (exact below 5 lines, else at least the line count)",
    "quality_c4_bad": "'lorem ipsum' or 'curly bracket' when a kept line has one, else null",
    # FineWeb
    "quality_line_punct_ratio": "share of lines ending with terminal punctuation",
    "quality_short_line_ratio": "share of lines of 30 characters or fewer",
    "quality_char_dup_ratio": "characters in repeated lines / characters without newlines",
    "quality_newline_ratio": "newlines per word",
}


def text_signals(texts: list[str], *, min_c4_sentences: int = 5) -> pl.DataFrame:
    """Every ``TEXT_COLUMNS`` signal for each text (one row per text, nulls where undefined)."""
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String}).with_row_index("row")
    tokens = tokenize(texts)
    n = len(texts)
    chars = frame["t"].str.len_chars().to_numpy().astype(np.float64)
    out = {**_gopher_quality(frame, tokens, n), **_repetition(frame, tokens, chars)}
    out.update(_c4(frame, min_c4_sentences))
    out.update(_fineweb(frame, tokens, chars))
    return pl.DataFrame(out)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _nan_to_null(values: np.ndarray) -> pl.Series:
    return pl.Series(values=values, dtype=pl.Float64).fill_nan(None)


def _gopher_quality(frame: pl.DataFrame, tokens: Tokens, n: int) -> dict:
    words = np.bincount(tokens.row, minlength=n).astype(np.float64)
    kept = ~tokens.symbol
    non_symbol = np.bincount(tokens.row, weights=kept, minlength=n)
    mean_len = _ratio(np.bincount(tokens.row, weights=tokens.length * kept, minlength=n), non_symbol)
    alpha = np.bincount(tokens.row, weights=tokens.alpha, minlength=n)
    stop_pairs = np.unique(tokens.row[tokens.stop >= 0] * 16 + tokens.stop[tokens.stop >= 0])
    stops = np.bincount(stop_pairs // 16, minlength=n)
    counts = frame.select(
        pl.col("t").str.count_matches("#", literal=True).alias("hash"),
        (pl.col("t").str.count_matches("...", literal=True) + pl.col("t").str.count_matches("…", literal=True))
        .alias("ellipsis"),
    )
    # str.splitlines() gives no empty last line after a final line break; split() does.
    trailing = frame.select(pl.col("t").str.contains(f"(?:{SPLITLINES})$").cast(pl.Int64)).to_series().to_numpy()
    lines = _split(frame, SPLITLINES).with_columns(
        bullet=pl.col("part").str.contains(f"^{WS}*[•-]"),
        ell=pl.col("part").str.contains(f"(?:\\.\\.\\.|…){WS}*$"),
    )
    per_row = lines.group_by("row").agg(n=pl.len(), bullet=pl.col("bullet").sum(), ell=pl.col("ell").sum())
    line_count = _dense(per_row, "n", n) - trailing
    return {
        "quality_words": non_symbol.astype(np.int64),
        "quality_mean_word_length": _nan_to_null(mean_len),
        "quality_hash_ratio": _nan_to_null(_ratio(counts["hash"].to_numpy(), words)),
        "quality_ellipsis_ratio": _nan_to_null(_ratio(counts["ellipsis"].to_numpy(), words)),
        "quality_bullet_lines": _nan_to_null(_ratio(_dense(per_row, "bullet", n), line_count)),
        "quality_ellipsis_lines": _nan_to_null(_ratio(_dense(per_row, "ell", n), line_count)),
        "quality_alpha_words": _nan_to_null(_ratio(alpha, words)),
        "quality_stop_words": stops.astype(np.int64),
    }


def _dense(per_row: pl.DataFrame, column: str, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.float64)
    out[per_row["row"].to_numpy()] = per_row[column].fill_null(0).to_numpy()
    return out


def _split(frame: pl.DataFrame, pattern: str, *, strip: bool = False) -> pl.DataFrame:
    """One row per part of each text split on ``pattern`` (a regex), with ``row`` and ``part``."""
    text = pl.col("t").str.strip_chars(PY_WS) if strip else pl.col("t")
    parts = text.str.replace_all(pattern, SEP).str.split(SEP).alias("part")
    return frame.select("row", parts).explode("part")


def _duplicates(parts: pl.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(parts, repeated parts, characters in repeated parts) per row: later copies count, first does not."""
    grouped = parts.group_by("row", "part").agg(c=pl.len()).with_columns(
        dup=pl.col("c") - 1, dup_chars=(pl.col("c") - 1) * pl.col("part").str.len_chars()
    )
    per_row = grouped.group_by("row").agg(total=pl.col("c").sum(), dup=pl.col("dup").sum(),
                                          dup_chars=pl.col("dup_chars").sum())
    return _dense(per_row, "total", n), _dense(per_row, "dup", n), _dense(per_row, "dup_chars", n)


def _repetition(frame: pl.DataFrame, tokens: Tokens, chars: np.ndarray) -> dict:
    n = frame.height
    paras, para_dup, para_chars = _duplicates(_split(frame, r"\n{2,}", strip=True), n)
    lines, line_dup, line_chars = _duplicates(_split(frame, r"\n+"), n)
    out = {
        "quality_dup_para_frac": _nan_to_null(_ratio(para_dup, paras)),
        "quality_dup_para_char_frac": _nan_to_null(_ratio(para_chars, chars)),
        "quality_dup_line_frac": _nan_to_null(_ratio(line_dup, lines)),
        "quality_dup_line_char_frac": _nan_to_null(_ratio(line_chars, chars)),
    }
    cum = np.concatenate([[0], np.cumsum(tokens.length)])
    for size in TOP_NGRAMS:
        out[f"quality_top_{size}gram_frac"] = _nan_to_null(_ratio(_top_ngram(tokens, cum, size, n), chars))
    for size in DUP_NGRAMS:
        out[f"quality_dup_{size}gram_frac"] = _nan_to_null(_ratio(_repeated_ngram_chars(tokens, cum, size, n), chars))
    return out


def _ngram_keys(tokens: Tokens, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(start positions, keys) of every n-gram inside one text; equal keys mean equal token sequences."""
    total = len(tokens.orth)
    if total < size:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    starts = np.arange(total - size + 1)
    starts = starts[starts + size <= tokens.offsets[tokens.row[starts] + 1]]
    keys = tokens.orth[starts].copy()
    with np.errstate(over="ignore"):
        for j in range(1, size):
            keys = keys * _PRIME + tokens.orth[starts + j]
    return starts, keys


def _top_ngram(tokens: Tokens, cum: np.ndarray, size: int, n: int) -> np.ndarray:
    """Characters of each text's most frequent n-gram (words joined by spaces) times its count; ties go
    to the n-gram seen first. NaN where the text has fewer than ``size`` words (the rule is skipped)."""
    starts, keys = _ngram_keys(tokens, size)
    out = np.full(n, np.nan)
    if not len(starts):
        return out
    table = pl.DataFrame({"row": tokens.row[starts], "key": keys, "pos": starts,
                          "chars": cum[starts + size] - cum[starts] + (size - 1)})
    top = (
        table.group_by("row", "key").agg(c=pl.len(), pos=pl.col("pos").min(), chars=pl.col("chars").first())
        .sort(["row", "c", "pos"], descending=[False, True, False])
        .group_by("row", maintain_order=True).first()
    )
    out[top["row"].to_numpy()] = (top["c"] * top["chars"]).to_numpy()
    return out


def _repeated_ngram_chars(tokens: Tokens, cum: np.ndarray, size: int, n: int) -> np.ndarray:
    """Gopher's duplicated n-gram characters: walk the words; an n-gram already seen counts its
    characters (words joined without spaces) and the walk jumps past it. Only n-grams occurring at least
    twice can change the outcome, so the walk visits just those positions."""
    out = np.zeros(n)
    starts, keys = _ngram_keys(tokens, size)
    if not len(starts):
        return out
    table = pl.DataFrame({"row": tokens.row[starts], "key": keys, "pos": starts})
    repeated = table.filter(pl.len().over("row", "key") > 1).sort("pos")
    seen: set[tuple[int, int]] = set()
    next_pos = -1
    current_row = -1
    for row, key, pos in repeated.iter_rows():
        if row != current_row:
            current_row, next_pos, seen = row, -1, set()
        if pos < next_pos:
            continue  # skipped by the jump after a repeat
        if key in seen:
            out[row] += cum[pos + size] - cum[pos]
            next_pos = pos + size
        else:
            seen.add(key)
            next_pos = pos + 1
    return out


def _c4(frame: pl.DataFrame, min_sentences: int) -> dict:
    """C4's document-level outcome: which lines survive its line filters, and what ends the document."""
    n = frame.height
    lines = _split(frame, SPLITLINES).with_row_index("line")
    stripped = pl.col("part").str.strip_chars(PY_WS)
    clean = stripped.str.replace_all(CITATION, "")
    lower = clean.str.to_lowercase()
    lines = lines.with_columns(
        clean=clean,
        basic=~stripped.str.contains(f"[^{WS[1:-1]}]{{1001,}}")
        & clean.str.contains(r"[.?!\"']$")
        & ~clean.str.ends_with("...")
        & (stripped.str.count_matches(f"[^{WS[1:-1]}]+") >= 3),
        lorem=lower.str.contains("lorem ipsum", literal=True),
        js=lower.str.contains("javascript", literal=True),
        curly=clean.str.contains("{", literal=True),
        policy=pl.any_horizontal([lower.str.contains(p, literal=True) for p in POLICY]),
    ).with_columns(
        bad=pl.when(pl.col("basic") & pl.col("lorem")).then(pl.lit("lorem ipsum"))
        .when(pl.col("basic") & ~pl.col("js") & pl.col("curly")).then(pl.lit("curly bracket")),
        kept=pl.col("basic") & ~pl.col("lorem") & ~pl.col("js") & ~pl.col("curly") & ~pl.col("policy"),
    )
    per_row = lines.group_by("row").agg(
        bad=pl.col("bad").drop_nulls().first(), kept=pl.col("kept").sum()
    ).sort("row")
    bad = [None] * n
    for row, value in zip(per_row["row"].to_list(), per_row["bad"].to_list()):
        bad[row] = value
    kept = _dense(per_row, "kept", n).astype(np.int64)
    sentences = kept.copy()
    few = lines.filter(pl.col("kept") & pl.col("row").is_in(np.flatnonzero(kept < min_sentences).tolist()))
    if few.height:
        from curate.stages.quality.tokens import count_sentences

        np.add.at(sentences, few["row"].to_numpy(), np.array(count_sentences(few["clean"].to_list())) - 1)
    return {"quality_c4_lines": kept, "quality_c4_sentences": sentences,
            "quality_c4_bad": pl.Series(bad, dtype=pl.String)}


def _fineweb(frame: pl.DataFrame, tokens: Tokens, chars: np.ndarray) -> dict:
    n = frame.height
    lines = _split(frame, "\n").filter(pl.col("part").str.contains(f"[^{WS[1:-1]}]"))
    lines = lines.with_columns(
        punct=pl.col("part").str.contains(f"{TERMINAL_REGEX}$"),
        short=pl.col("part").str.len_chars() <= 30,
    )
    per_row = lines.group_by("row").agg(total=pl.len(), punct=pl.col("punct").sum(), short=pl.col("short").sum())
    total = _dense(per_row, "total", n)
    _, _, dup_chars = _duplicates(lines.select("row", "part"), n)
    newlines = frame["t"].str.count_matches("\n", literal=True).to_numpy().astype(np.float64)
    words = np.bincount(tokens.row, minlength=n).astype(np.float64)
    return {
        "quality_line_punct_ratio": _nan_to_null(_ratio(_dense(per_row, "punct", n), total)),
        "quality_short_line_ratio": _nan_to_null(_ratio(_dense(per_row, "short", n), total)),
        "quality_char_dup_ratio": _nan_to_null(_ratio(dup_chars, chars - newlines)),
        "quality_newline_ratio": _nan_to_null(_ratio(newlines, words)),
    }
