"""Words of a batch of texts, as the Gopher/FineWeb rules count them: one flat token table per batch.

The published rules count words with spaCy's rule-based English tokenizer (``spacy.blank("en")``), so this
module uses that tokenizer too, once per text (datatrove tokenizes each document again for each filter).
What comes back is a flat table of token ids (spaCy's ORTH hashes), their lengths and two flags computed
once per distinct token string, so every rule after this is array arithmetic.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

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
    import polars as pl

    candidates = [chr(i) for i in range(0x20, 0x20000) if unicodedata.category(chr(i)).startswith("P")]
    series = pl.Series(candidates)
    return frozenset(series.filter(series.str.contains(f"^{TERMINAL_REGEX}$")).to_list())


@lru_cache(maxsize=1)
def symbol_chars() -> frozenset[str]:
    return frozenset(_SYMBOLS) | frozenset(_CONTROL) | terminal_chars()


def english():
    """spaCy's blank English pipeline with a sentencizer, once per process.

    Its vocabulary grows with every new token string; past ``_MAX_STRINGS`` the pipeline is rebuilt (spaCy's
    ``memory_zone`` would bound it too, but it disables the lexeme cache and makes tokenizing ~10x slower).
    """
    global _nlp
    with _lock:
        if _nlp is None or len(_nlp.vocab.strings) > _MAX_STRINGS:
            import spacy

            _nlp = spacy.blank("en")
            _nlp.add_pipe("sentencizer")
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
_features: dict[int, tuple[bool, bool, int]] = {}  # per distinct token string, across batches
_MAX_CACHED = 1_000_000
_MAX_STRINGS = 2_000_000


def _feature(text: str) -> tuple[bool, bool, int]:
    symbols = symbol_chars()
    stop = STOP_WORDS.index(text) if text in STOP_WORDS else -1
    return all(ch in symbols for ch in text), any(ch.isalpha() for ch in text), stop


def tokenize(texts: list[str]) -> Tokens:
    """Tokens of every text; whitespace tokens are dropped (the reference strips and drops them)."""
    nlp = english()
    parts_orth, parts_len, counts = [], [], []
    from spacy.attrs import IS_SPACE, LENGTH, ORTH

    if len(_features) > _MAX_CACHED:  # bounded memory in long runs over huge vocabularies
        _features.clear()
    with _lock:
        for doc in nlp.tokenizer.pipe(texts, batch_size=256):
            array = doc.to_array([ORTH, LENGTH, IS_SPACE])
            array = array[array[:, 2] == 0] if len(array) else array.reshape(0, 3)
            parts_orth.append(array[:, 0])
            parts_len.append(array[:, 1])
            counts.append(len(array))
            for orth in np.unique(array[:, 0]):
                key = int(orth)
                if key not in _features:
                    _features[key] = _feature(nlp.vocab.strings[key])
    orth = np.concatenate(parts_orth).astype(np.uint64) if parts_orth else np.zeros(0, np.uint64)
    length = np.concatenate(parts_len).astype(np.int64) if parts_len else np.zeros(0, np.int64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    unique, inverse = np.unique(orth, return_inverse=True)
    table = np.array([_features[int(u)] for u in unique], dtype=np.int64).reshape(-1, 3)
    return Tokens(
        row=np.repeat(np.arange(len(texts)), counts),
        orth=orth,
        length=length,
        symbol=table[inverse, 0].astype(bool),
        alpha=table[inverse, 1].astype(bool),
        stop=table[inverse, 2],
        offsets=offsets,
    )


def count_sentences(lines: list[str]) -> list[int]:
    """Sentences per line with spaCy's rule-based sentencizer (C4 counts sentences this way)."""
    nlp = english()
    with _lock:
        return [len(list(doc.sents)) for doc in nlp.pipe(lines)]
