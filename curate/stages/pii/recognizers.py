"""The Presidio side: an offline AnalyzerEngine with curate's recognizer set, built once per process.

Importing this module imports presidio (seconds), so only the PII stage does it, inside a worker.

Offline facts (see DESIGN.md): ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS`` must be empty before presidio is
imported (the e-mail validator uses tldextract's bundled suffix list instead of fetching one), and
the NLP engine is ``spacy.blank("en")`` plus a component that copies ``lower_`` into ``lemma_``:
Presidio's context enhancer compares lemmas, and a blank pipeline has none. With a user-installed
spaCy model (``en_core_web_sm`` …) the engine loads it instead and NER adds PERSON and LOCATION.
"""

from __future__ import annotations

import bisect
import ipaddress
import logging
import os
import re
from functools import lru_cache

os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # before presidio (and tldextract) is imported

import phonenumbers  # noqa: E402
import spacy  # noqa: E402
from phonenumbers import phonenumbermatcher as _pnm  # noqa: E402
from phonenumbers.phonenumberutil import NumberParseException  # noqa: E402
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult  # noqa: E402
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine  # noqa: E402
from presidio_analyzer.predefined_recognizers import (  # noqa: E402
    CreditCardRecognizer,
    CryptoRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UsSsnRecognizer,
)
from spacy.language import Language  # noqa: E402

from curate.stages.pii import secrets  # noqa: E402
from curate.stages.pii.entities import NER_ENTITIES, PHONE_PUNCTUATION  # noqa: E402

# Presidio logs at DEBUG/INFO only timings and recognizer names, never text; keep its chatter out of
# the user's log anyway (a decision-process trace would contain text, and it stays off).
logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)


@Language.component("curate_lemma_lower")
def _lemma_lower(doc):
    """Lemma = lower-cased text, so Presidio's context words ("phone", "email") match."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


class OfflineSpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine without its model download: a blank English pipeline, or ``model``."""

    def __init__(self, model: str | None = None):
        super().__init__(models=[{"lang_code": "en", "model_name": model or "blank"}])
        self._model = model

    def load(self) -> None:
        nlp = spacy.load(self._model) if self._model else spacy.blank("en")
        if "lemmatizer" not in nlp.pipe_names:
            nlp.add_pipe("curate_lemma_lower")
        self.nlp = {"en": nlp}


_VERSION_BEFORE = re.compile(
    r"(?i)(?:\bv|\b(?:version|versions|release|released|build|upgrade|upgrading|upgraded|downgrade|bump|bumped|pin|pinned|after|onto|since|than)\b[^.\n]{0,20}?)\s*$"
)


class CurateIpRecognizer(IpRecognizer):
    """Presidio's IP recognizer minus addresses that identify no one and four-part version numbers.

    Dropped: loopback, unspecified and multicast addresses, netmasks (``255.…``), and dotted quads
    right after ``v`` or a version word ("upgrading from 4.1.12.1").
    """

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not self._harmless(text, r.start, r.end)]

    @staticmethod
    def _harmless(text: str, start: int, end: int) -> bool:
        value = text[start:end]
        try:
            ip = ipaddress.ip_interface(value).ip
        except ValueError:
            return False
        if ip.is_loopback or ip.is_unspecified or ip.is_multicast or value.startswith("255."):
            return True
        return ip.version == 4 and bool(_VERSION_BEFORE.search(text[max(0, start - 40) : start]))


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HASH_BEFORE = re.compile(r"(?i)(?:#|0x|\b(?:commit|sha|sha1|hash|rev|revision|cherry-pick)\s+)$")
# Cut points for the phone matcher: between two ASCII letters that are not a bigram of one of
# phonenumbers' extension words (ext, extn, extension, int, anexo; matched case-insensitively). A
# phone candidate is digits, punctuation, 'x' and those words, so no candidate spans such a cut, and
# the matcher's look-around (one character before, three after) stays inside the piece: it finds the
# same numbers on the pieces as on the whole text.
_EXTENSION_BIGRAMS = ("ex", "xt", "te", "en", "ns", "si", "io", "on", "tn", "in", "nt", "an", "ne", "xo")
_CUT = re.compile(
    "(?<=[A-Za-z])(?=[A-Za-z])"
    + "".join(f"(?!(?<=[{a}{a.upper()}])[{b}{b.upper()}])" for a, b in _EXTENSION_BIGRAMS)
)
_SEP = "[" + re.escape(PHONE_PUNCTUATION) + "]{0,4}"
_CHAIN = re.compile(rf"\d(?:{_SEP}\d){{5}}|1{_SEP}6{_SEP}[4689]|(?![0-9])\d")  # = the Rust pre-filter


_MISSING = object()
_PARSE_CACHE_MAX = 100_000  # entries (most are None); cleared when full


class _MemoMatcher(_pnm.PhoneNumberMatcher):
    """phonenumbers' matcher with ``parse`` + ``_verify`` memoised per (candidate, region).

    ``_parse_and_verify`` below is upstream's, line for line, except that the parse-and-verify step
    (a pure function of the candidate string, the preferred region and the leniency at ``VALID``:
    ``parse``, ``is_valid_number``, the x-chars and national-prefix checks read nothing else) is
    looked up in a dict first. The look-around checks, which read the surrounding text, run every
    time, as do the iteration, ``max_tries`` counting and inner-match search. Chat text repeats the
    same candidates ("127.0.0.1", "6379", dates) across texts and regions; the parse is most of the
    matcher's cost. tests/stages/pii/test_pii_scan.py compares it with the unmodified matcher.
    """

    _cache: dict = {}

    # pure functions of one character: memoised (upstream's, via the parent class)
    _is_latin_letter = staticmethod(lru_cache(maxsize=4096)(_pnm.PhoneNumberMatcher._is_latin_letter))
    _is_invalid_punctuation_symbol = staticmethod(
        lru_cache(maxsize=4096)(_pnm.PhoneNumberMatcher._is_invalid_punctuation_symbol)
    )

    def _parse_and_verify(self, candidate, offset):
        if self.leniency != _pnm.Leniency.VALID:
            return super()._parse_and_verify(candidate, offset)
        if not _pnm.fullmatch(_pnm._MATCHING_BRACKETS, candidate) or _pnm._PUB_PAGES.search(candidate):
            return None
        if offset > 0 and not _pnm._LEAD_PATTERN.match(candidate):
            previous_char = self.text[offset - 1]
            if self._is_invalid_punctuation_symbol(previous_char) or self._is_latin_letter(previous_char):
                return None
        last_char_index = offset + len(candidate)
        if last_char_index < len(self.text):
            next_char = self.text[last_char_index]
            if self._is_invalid_punctuation_symbol(next_char) or self._is_latin_letter(next_char):
                return None
        cache = _MemoMatcher._cache
        key = (candidate, self.preferred_region)
        numobj = cache.get(key, _MISSING)
        if numobj is _MISSING:
            numobj = None
            try:
                parsed = _pnm.parse(candidate, self.preferred_region, keep_raw_input=True)
                if _pnm._verify(self.leniency, parsed, candidate, self):
                    parsed.country_code_source = _pnm.CountryCodeSource.UNSPECIFIED
                    parsed.raw_input = None
                    parsed.preferred_domestic_carrier_code = None
                    numobj = parsed
            except NumberParseException:
                pass
            if len(cache) >= _PARSE_CACHE_MAX:
                cache.clear()
            cache[key] = numobj
        return None if numobj is None else _pnm.PhoneNumberMatch(offset, candidate, numobj)


class CuratePhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer, run only on the pieces of text that hold a candidate digit chain.

    The matcher costs ~0.1 ms per digit run per region, and most runs in chat text (years, versions,
    counts) cannot be phone numbers; the pieces between cut points (see ``_CUT``) that hold a chain
    are matched and the rest skipped, which gives the same numbers (``pieces=False``: whole text, the
    reference the tests compare with). Also dropped: digit runs that are hex colours (``#333333``),
    hex literals (``0x…``), all-digit git hashes (``commit 0489799``) or groups of a UUID.
    """

    def __init__(self, pieces: bool = True):
        super().__init__()
        self.pieces = pieces

    def analyze(self, text, entities, nlp_artifacts=None):
        if not self.pieces:
            results = super().analyze(text, entities, nlp_artifacts)
        else:
            results = []
            for start, end in self._windows(text):
                for result in self._analyze_piece(text[start:end], nlp_artifacts):
                    result.start += start
                    result.end += start
                    results.append(result)
        uuids = [m.span() for m in _UUID.finditer(text)] if results else []
        return [
            r for r in results
            if not _HASH_BEFORE.search(text[max(0, r.start - 16) : r.start])
            and not any(a < r.end and r.start < b for a, b in uuids)
        ]

    def _analyze_piece(self, text, nlp_artifacts=None):
        """`PhoneRecognizer.analyze`, line for line, with the memoising matcher (`_MemoMatcher`)."""
        results = []
        for region in self.supported_regions:
            for match in _MemoMatcher(text, region, leniency=self.leniency):
                try:
                    parsed_number = phonenumbers.parse(text[match.start : match.end])
                    region = phonenumbers.region_code_for_number(parsed_number)
                    results += [self._get_recognizer_result(match, text, region, nlp_artifacts)]
                except NumberParseException:
                    results += [self._get_recognizer_result(match, text, region, nlp_artifacts)]
        return EntityRecognizer.remove_duplicates(results)

    @staticmethod
    def _windows(text: str) -> list[tuple[int, int]]:
        """Merged pieces (between cut points) that contain a candidate chain."""
        cuts = [m.start() for m in _CUT.finditer(text)]
        windows: list[tuple[int, int]] = []
        for chain in _CHAIN.finditer(text):
            i = bisect.bisect_right(cuts, chain.start())
            start = cuts[i - 1] if i else 0
            j = bisect.bisect_left(cuts, chain.end())
            end = cuts[j] if j < len(cuts) else len(text)
            if windows and start <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
            else:
                windows.append((start, end))
        return windows


def pattern_recognizers(reference: bool = False) -> list:
    """curate's pattern recognizers: Presidio's predefined ones (two renamed, two with hard-negative
    filters) plus the secrets."""
    return [
        EmailRecognizer(supported_entity="EMAIL"),
        CuratePhoneRecognizer(pieces=not reference),
        CreditCardRecognizer(),
        IbanRecognizer(supported_entity="IBAN"),
        CurateIpRecognizer(),
        UsSsnRecognizer(),
        CryptoRecognizer(),
        *(cls() for cls in secrets.ALL),
    ]


@lru_cache(maxsize=4)
def analyzer(ner_model: str | None, threshold: float, reference: bool = False) -> AnalyzerEngine:
    """The per-process engine (cached: workers build it once, on first use). ``reference``: the same
    recognizers without the phone recognizer's piecewise matching, for exactness checks."""
    engine = OfflineSpacyEngine(ner_model)
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in pattern_recognizers(reference):
        registry.add_recognizer(recognizer)
    if ner_model:
        registry.add_recognizer(SpacyRecognizer(supported_entities=list(NER_ENTITIES)))
    return AnalyzerEngine(
        registry=registry, nlp_engine=engine, supported_languages=["en"], default_score_threshold=threshold
    )


_NO_ARTIFACTS = NlpArtifacts(entities=[], tokens=None, tokens_indices=[], lemmas=[], nlp_engine=None, language="en")


@lru_cache(maxsize=256)
def _recognizers_for(engine: AnalyzerEngine, entities: tuple[str, ...]) -> list:
    recognizers = engine.registry.get_recognizers(language="en", entities=list(entities), all_fields=False)
    for recognizer in recognizers:
        if not recognizer.is_loaded:
            recognizer.load()
            recognizer.is_loaded = True
    return recognizers


def analyze(engine: AnalyzerEngine, text: str, entities: list[str], threshold: float) -> list[RecognizerResult]:
    """Presidio's own decision for ``text``, restricted to ``entities`` (those the pre-filter flagged).

    Restricting is exact: Presidio removes duplicates and low scores per entity type, so recognizers
    of entities that cannot match in ``text`` never change the others' results.
    For pattern entities this runs the steps of `AnalyzerEngine.analyze` itself, in an order that
    skips work: the recognizers first (they do not read spaCy tokens), and only if one of them
    matched, the spaCy tokens, Presidio's context enhancer, the threshold and its duplicate removal.
    Context words only raise the score of an existing match, so no match means no result. The
    tests and the bench compare this with `AnalyzerEngine.analyze` on every text of a corpus.
    """
    if any(e in NER_ENTITIES for e in entities):
        return engine.analyze(text=text, language="en", entities=entities, score_threshold=threshold)
    recognizers = _recognizers_for(engine, tuple(entities))
    raw = []
    needs_context = False
    for recognizer in recognizers:
        for result in recognizer.analyze(text=text, entities=entities, nlp_artifacts=None) or []:
            needs_context = needs_context or bool(recognizer.context)
            # what AnalyzerEngine adds before its context step (which finds recognizers by id)
            meta = result.recognition_metadata or {}
            meta.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, recognizer.id)
            meta.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, recognizer.name)
            result.recognition_metadata = meta
            raw.append(result)
    if not raw:
        return []
    # Presidio's context step reads the spaCy tokens only for results of recognizers with context
    # words (the secrets have none; no recognizer here overrides `enhance_using_context`): without
    # such a result the tokenisation is skipped, and an empty (non-None) artifact stands in for it.
    artifacts = engine.nlp_engine.process_text(text, "en") if needs_context else _NO_ARTIFACTS
    results = engine._enhance_using_context(text, raw, artifacts, recognizers, None)
    results = [r for r in results if r.score >= threshold]
    return EntityRecognizer.remove_duplicates(results)
