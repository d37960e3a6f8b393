"""The pre-filter is a superset of every recognizer, so the fast path decides exactly like Presidio."""

from __future__ import annotations

import random
import re

import pyarrow as pa
import pytest
from test_pii_recognizers import NEGATIVE, POSITIVE

from curate.stages.pii import PiiConfig
from curate.stages.pii.entities import BY_NAME, PATTERN_ENTITIES, PHONE_PUNCTUATION
from curate.stages.pii.scan import detect, prefilter

ALPHABET = "0123456789" * 4 + " -.()/+:@_#=;x" + "abcdefABCDEF" + "sk-AKIA@ghp_"


def _corpus() -> list[str]:
    rng = random.Random(7)
    texts = [t for t, _ in POSITIVE] + NEGATIVE
    for text in list(texts):  # mutate real positives: drop, duplicate or swap characters
        for _ in range(3):
            chars = list(text)
            i = rng.randrange(len(chars))
            op = rng.choice(["drop", "dup", "swap"])
            if op == "drop":
                del chars[i]
            elif op == "dup":
                chars.insert(i, chars[i])
            else:
                chars[i] = rng.choice(ALPHABET)
            texts.append("".join(chars))
    texts += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(8, 60))) for _ in range(300)]
    texts += [f"call {rng.randint(10**(n - 1), 10**n - 1)} now" for n in range(4, 13) for _ in range(15)]
    # several numbers, extensions and words around them: the phone matcher's pieces must not matter
    words = ["ext", "ext.", "x", "extension", "int", "anexo", "call", "phone", "or", "and", "v2.1", "(", ")", "+", "/", ":", "#"]
    numbers = ["212-555-0147", "+44 20 7946 0958", "1640", "01689", "2024-03-15", "555 0147", "030 1234567", "12", "7"]
    for _ in range(200):
        texts.append(" ".join(rng.choice(words + numbers) for _ in range(rng.randint(3, 10))))
        texts.append("".join(rng.choice(words + numbers) for _ in range(rng.randint(2, 6))))
    return texts


@pytest.fixture(scope="module")
def engine():
    from curate.stages.pii.recognizers import analyzer

    return analyzer(None, PiiConfig().threshold)


@pytest.fixture(scope="module")
def reference():
    """Presidio's AnalyzerEngine with the same recognizers, the phone matcher run on whole texts."""
    from curate.stages.pii.recognizers import analyzer

    return analyzer(None, PiiConfig().threshold, reference=True)


def test_prefilter_is_superset_of_each_recognizer(reference):
    texts = _corpus()
    index, hits = prefilter(pa.array(texts), PATTERN_ENTITIES)
    flagged = {int(i): set(h) for i, h in zip(index, hits)}
    misses = []
    for i, text in enumerate(texts):
        raw = reference.analyze(text=text, language="en", entities=list(PATTERN_ENTITIES), score_threshold=0.0)
        for entity in {r.entity_type for r in raw}:
            if entity not in flagged.get(i, set()):
                misses.append((entity, i))
    assert misses == []


def test_fast_path_equals_presidio_on_every_text(engine, reference):
    texts = _corpus()
    threshold = PiiConfig().threshold
    index, hits = prefilter(pa.array(texts), PATTERN_ENTITIES)
    fast = dict(zip(index.tolist(), detect(engine, [texts[i] for i in index], hits, threshold, resolved=False)))
    for i, text in enumerate(texts):
        full = reference.analyze(text=text, language="en", entities=list(PATTERN_ENTITIES), score_threshold=threshold)
        assert sorted(fast.get(i, [])) == sorted((r.start, r.end, r.entity_type, r.score) for r in full), i


def test_phone_punctuation_matches_phonenumbers():
    from phonenumbers import phonenumberutil

    cls = re.compile("[" + phonenumberutil._VALID_PUNCTUATION + "]", re.UNICODE | re.IGNORECASE)
    expected = "".join(c for c in map(chr, range(0x110000)) if cls.fullmatch(c))
    assert sorted(PHONE_PUNCTUATION) == sorted(expected)


def test_phone_short_numbers_only_german_pagers():
    import phonenumbers
    from phonenumbers import Leniency, PhoneMetadata
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    assert PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS == ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR")
    types = ["fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip", "pager", "uan", "voicemail"]
    for region in PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS:
        metadata = PhoneMetadata.metadata_for_region(region)
        lengths = [n for t in types if getattr(metadata, t) is not None for n in getattr(metadata, t).possible_length if n > 0]
        assert min(lengths) >= (4 if region == "DE" else 7), region
    valid = [f"{i:04d}" for i in range(10**4) if any(True for _ in phonenumbers.PhoneNumberMatcher(f"a {i:04d} b", "DE", leniency=Leniency.VALID))]
    assert valid and all(re.search("16[4689]", v) for v in valid)
    import polars as pl

    assert pl.Series(valid).str.contains(BY_NAME["PHONE_NUMBER"].prefilter).all()


def test_memoised_phone_matcher_equals_phonenumbers():
    """`_MemoMatcher` (parse + verify memoised per candidate and region) finds exactly what
    phonenumbers' own matcher finds, on every region, with the cache filled by other texts first."""
    import random

    import phonenumbers
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from curate.stages.pii.recognizers import CuratePhoneRecognizer, _MemoMatcher

    texts = _corpus()
    texts += [
        "call 127.0.0.1:6379 or (212) 555-0147 ext. 12", "+1 212 555 0147", "011 44 20 7946 0958",
        "0049 30 1234567", "x212-555-0147y", "$2125550147", "2125550147%", "tel: 030/1234567 or 0301234567",
        "on 2024-03-15 12:30:45 at 555-0147", "p. 12-34 (1999)", "+972 3-123-4567", "+91 98765 43210",
        "+55 11 91234-5678", "+33 1 23 45 67 89", "+44 7911 123456", "(514) 555-0147", "٠٢١٢٥٥٥٠١٤٧",
    ]
    order = list(range(len(texts)))
    random.Random(7).shuffle(order)
    _MemoMatcher._cache.clear()
    found = 0
    for i in order + list(range(len(texts))):  # the second pass reads the cache filled in the first
        text = texts[i]
        for region in PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS:
            want = [(m.start, m.end, m.raw_string, m.number) for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=1)]
            got = [(m.start, m.end, m.raw_string, m.number) for m in _MemoMatcher(text, region, leniency=1)]
            assert got == want, (i, region)
            found += len(want)
    assert found > 100 and len(_MemoMatcher._cache) > 100
    recognizer, presidio = CuratePhoneRecognizer(), PhoneRecognizer()
    for text in texts:
        key = lambda rs: sorted((r.start, r.end, r.entity_type, r.score, r.analysis_explanation.textual_explanation) for r in rs)  # noqa: E731
        assert key(recognizer._analyze_piece(text)) == key(presidio.analyze(text, ["PHONE_NUMBER"])), text


def test_no_tokenisation_without_context_results_equals_presidio(engine, reference, monkeypatch):
    """Texts whose only matches come from recognizers without context words (the secrets) skip spaCy
    and still equal Presidio's own analysis; texts with a context-word recognizer's match tokenise."""
    from curate.stages.pii.recognizers import analyze

    threshold = PiiConfig().threshold
    calls = []
    process_text = engine.nlp_engine.process_text
    monkeypatch.setattr(engine.nlp_engine, "process_text", lambda text, lang: calls.append(text) or process_text(text, lang))
    secret_only = [text for text, found in POSITIVE if all(e not in ("EMAIL", "PHONE_NUMBER", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "US_SSN", "CRYPTO") for e, _ in found)]
    with_context = ["call me at (212) 555-0147 tonight", "phone 212-555-0147 and DB_PASSWORD=hunter2Secret"]
    assert secret_only
    for text in secret_only + with_context:
        fast = analyze(engine, text, list(PATTERN_ENTITIES), threshold)
        full = reference.analyze(text=text, language="en", entities=list(PATTERN_ENTITIES), score_threshold=threshold)
        assert sorted((r.start, r.end, r.entity_type, r.score) for r in fast) == sorted((r.start, r.end, r.entity_type, r.score) for r in full), text
    assert calls == with_context
