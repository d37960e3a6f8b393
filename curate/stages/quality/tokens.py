"""Words of a batch of texts, as the Gopher/FineWeb rules count them: one flat token table per batch.

The published rules count words with spaCy's rule-based English tokenizer (``spacy.blank("en")``), so the
tokens here are exactly spaCy's, found faster: spaCy splits every whitespace-free chunk on its own, so
chunks come from one regex over the batch, plain words and numbers need no tokenizer at all, and only the
remaining distinct chunks go through spaCy (cached). datatrove tokenizes each document again for each
filter. What comes back is a flat table of token hashes, their lengths and flags computed once per
distinct token string, so every rule after this is array arithmetic.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

_lock = threading.RLock()
_nlp = None
_sentencizer = None

# Characters a "symbol word" is made of (Gopher): ASCII and CJK punctuation, control characters, and every
# sentence-terminal mark. The set follows the reference implementation so that decisions match it,
# including its quirks (the full-width digit one counts as punctuation; tab and newline do not).
_SYMBOLS = (
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«´»–—‘’“”„…∶━►、。〈〉《》「」【】！％（），．１：；？～"
)
_CONTROL = "".join(map(chr, [*range(0, 9), *range(11, 32), *range(127, 160)]))
# Unicode 15 Sentence_Terminal, plus three Khmer signs the reference lists (Unicode 16 additions excluded).
TERMINAL_REGEX = (
    r"[[\p{Sentence_Terminal}\x{17D6}\x{17D9}\x{17DA}]--[\x{1B4E}\x{1B4F}\x{1B7F}\x{2024}\x{2CF9}-\x{2CFB}"
    r"\x{FE12}\x{FE15}\x{FE16}\x{113D4}\x{113D5}\x{16D6E}\x{16D6F}]]"
)


@lru_cache(maxsize=1)
def terminal_chars() -> frozenset[str]:
    """The sentence-terminal marks of ``TERMINAL_REGEX`` as a set (computed once, from the regex)."""
    candidates = [chr(i) for i in range(0x20, 0x20000) if unicodedata.category(chr(i)).startswith("P")]
    series = pl.Series(candidates)
    return frozenset(series.filter(series.str.contains(f"^{TERMINAL_REGEX}$")).to_list())


@lru_cache(maxsize=1)
def symbol_chars() -> frozenset[str]:
    return frozenset(_SYMBOLS) | frozenset(_CONTROL) | terminal_chars()


def english():
    """spaCy's English tokenizer and rule-based sentencizer, built once per process.

    Built from ``English.Defaults`` directly: ``spacy.blank("en")`` would load every installed spaCy
    plugin through entry points (presidio among them), ~10x slower to start a worker. Same rules, same
    tokens. Its vocabulary grows with every new token string; past ``_MAX_STRINGS`` it is rebuilt.
    """
    global _nlp
    with _lock:
        if _nlp is None or len(_nlp[0].vocab.strings) > _MAX_STRINGS:
            from spacy.lang.en import English
            from spacy.pipeline import Sentencizer
            from spacy.tokenizer import Tokenizer
            from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex
            from spacy.vocab import create_vocab

            d = English.Defaults
            tokenizer = Tokenizer(
                create_vocab("en", d), rules=d.tokenizer_exceptions,
                prefix_search=compile_prefix_regex(d.prefixes).search,
                suffix_search=compile_suffix_regex(d.suffixes).search,
                infix_finditer=compile_infix_regex(d.infixes).finditer,
                token_match=d.token_match, url_match=d.url_match,
            )
            _nlp = (tokenizer, Sentencizer())
    return _nlp


@dataclass
class Tokens:
    """Tokens of ``n`` texts, flattened: ``row[i]`` is the text token ``i`` belongs to."""

    row: np.ndarray  # int64
    orth: np.ndarray  # uint64, equal for equal token strings
    length: np.ndarray  # int64, characters
    symbol: np.ndarray  # bool: every character is punctuation (Gopher's "symbol word")
    alpha: np.ndarray  # bool: at least one letter
    stop: np.ndarray  # int64: index into STOP_WORDS, -1 if none
    offsets: np.ndarray  # int64, n + 1: tokens of text i are [offsets[i], offsets[i+1])


STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")  # Gopher's English stop words
_features: dict[str, tuple[bool, bool, int]] = {}  # per distinct token string, across batches
_MAX_CACHED = 1_000_000
_MAX_STRINGS = 2_000_000


def _feature(text: str) -> tuple[bool, bool, int]:
    symbols = symbol_chars()
    stop = STOP_WORDS.index(text) if text in STOP_WORDS else -1
    return all(ch in symbols for ch in text), any(ch.isalpha() for ch in text), stop


CHUNK = r"[^\s\x1c-\x1f]+"  # spaCy tokenizes each maximal run of non-whitespace on its own
_SIMPLE = r"^(?:[A-Za-z]+|[0-9]+)$"  # no prefix, suffix or infix rule splits these
# only the final mark splits off ("." only after a lower-case letter: spaCy keeps "U." and "ABC." whole)
_WORD_PUNCT = r"^(?:[A-Za-z]+[,;:!?]|[A-Za-z]*[a-z]\.)$"
_chunks: dict[str, list[str]] = {}  # spaCy's answer per distinct complex chunk, across batches


def _spacy_chunks(chunks: list[str]) -> list[list[str]]:
    """spaCy's tokens for chunks the fast path cannot settle (cached per process)."""
    tokenizer, _ = english()
    missing = [c for c in chunks if c not in _chunks]
    if len(_chunks) + len(missing) > _MAX_CACHED:
        _chunks.clear()
        missing = chunks
    with _lock:
        for chunk, doc in zip(missing, tokenizer.pipe(missing, batch_size=1024)):
            _chunks[chunk] = [t.text for t in doc]
    return [_chunks[c] for c in chunks]


def _chunk_tokens(unique: pl.Series) -> pl.DataFrame:
    """(c, tok) for each distinct chunk: plain words and numbers stay whole, a word with one final mark
    splits in two, anything else (quotes, contractions, URLs, special cases) goes through spaCy."""
    rules = pl.Series(list(english()[0].rules), dtype=pl.String).implode()
    frame = pl.DataFrame({"c": unique})
    special = pl.col("c").is_in(rules)
    frame = frame.with_columns(
        kind=pl.when(pl.col("c").str.contains(_SIMPLE) & ~special).then(pl.lit(1))
        .when(pl.col("c").str.contains(_WORD_PUNCT) & ~special
              & ~pl.col("c").str.slice(0, pl.col("c").str.len_chars() - 1).is_in(rules)).then(pl.lit(2))
        .otherwise(pl.lit(0))
    )
    simple = frame.filter(pl.col("kind") == 1).select("c", tok=pl.concat_list(pl.col("c")))
    split = frame.filter(pl.col("kind") == 2).select(
        "c", tok=pl.concat_list(pl.col("c").str.slice(0, pl.col("c").str.len_chars() - 1), pl.col("c").str.slice(-1)))
    complex_chunks = frame.filter(pl.col("kind") == 0)["c"].to_list()
    rest = pl.DataFrame({"c": complex_chunks, "tok": _spacy_chunks(complex_chunks)},
                        schema={"c": pl.String, "tok": pl.List(pl.String)})
    return pl.concat([simple, split, rest]).explode("tok").with_row_index("k")


def tokenize(texts: list[str]) -> Tokens:
    """Tokens of every text, exactly as spaCy's English tokenizer splits them, whitespace dropped.

    spaCy tokenizes every whitespace-free chunk independently, so chunks are found with a regex, and
    only the distinct chunks that are not plain words or numbers go through spaCy (usually a few per
    cent of a batch; their results are cached)."""
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String}).with_row_index("row")
    chunks = frame.select("row", pl.col("t").str.extract_all(CHUNK).alias("c")).explode("c").drop_nulls("c")
    chunks = chunks.with_row_index("i")
    table = _chunk_tokens(chunks["c"].unique())
    tokens = chunks.join(table, on="c", how="inner").sort("i", "k").select("row", "tok")
    tokens = tokens.filter(pl.col("tok").str.contains(f"[^{CHUNK[2:-2]}]"))  # spaCy whitespace tokens go
    n = len(texts)
    row = tokens["row"].to_numpy().astype(np.int64)
    counts = np.bincount(row, minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    unique = tokens["tok"].unique()
    if len(_features) + len(unique) > _MAX_CACHED:
        _features.clear()
    features = {t: _features.get(t) or _features.setdefault(t, _feature(t)) for t in unique.to_list()}
    feat = pl.DataFrame({"tok": list(features), "symbol": [f[0] for f in features.values()],
                         "alpha": [f[1] for f in features.values()], "stop": [f[2] for f in features.values()]},
                        schema={"tok": pl.String, "symbol": pl.Boolean, "alpha": pl.Boolean, "stop": pl.Int64})
    tokens = tokens.with_row_index("j").join(feat, on="tok", how="left").sort("j")
    return Tokens(
        row=row,
        orth=tokens["tok"].hash(seed=0).to_numpy(),
        length=tokens["tok"].str.len_chars().to_numpy().astype(np.int64),
        symbol=tokens["symbol"].to_numpy(),
        alpha=tokens["alpha"].to_numpy(),
        stop=tokens["stop"].to_numpy(),
        offsets=offsets,
    )


def count_sentences(lines: list[str]) -> list[int]:
    """Sentences per line with spaCy's rule-based sentencizer (C4 counts sentences this way)."""
    tokenizer, sentencizer = english()
    with _lock:
        return [len(list(sentencizer(tokenizer(line)).sents)) for line in lines]
