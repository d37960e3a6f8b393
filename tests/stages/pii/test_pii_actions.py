"""Span resolution and the exact output of each action."""

from __future__ import annotations

from curate.stages.pii.actions import Span, apply, mask, pseudonym, resolve

TEXT = "mail a@b.io or call 212-555-0147"
SPANS = [Span(5, 11, "EMAIL", 1.0), Span(20, 32, "PHONE_NUMBER", 0.4)]


def test_redact_exact():
    assert apply(TEXT, SPANS, "redact") == "mail <EMAIL> or call <PHONE_NUMBER>"


def test_mask_exact_keeps_length_and_whitespace():
    assert apply(TEXT, SPANS, "mask") == "mail ****** or call ************"
    assert mask("ab c\nd") == "** *\n*"


def test_hash_exact_and_stable():
    out = apply(TEXT, SPANS, "hash", salt="pepper")
    assert out == f"mail {pseudonym('a@b.io', 'EMAIL', 'pepper')} or call {pseudonym('212-555-0147', 'PHONE_NUMBER', 'pepper')}"
    # same value and salt -> same pseudonym; another salt or type -> another one
    assert pseudonym("a@b.io", "EMAIL", "pepper") == pseudonym("a@b.io", "EMAIL", "pepper")
    assert pseudonym("a@b.io", "EMAIL", "pepper") != pseudonym("a@b.io", "EMAIL", "salt")
    assert pseudonym("a@b.io", "EMAIL", "pepper") != pseudonym("a@b.io", "URL_CREDENTIALS", "pepper")
    value = pseudonym("a@b.io", "EMAIL", "pepper")
    assert value.startswith("<EMAIL_") and value.endswith(">") and len(value) == len("<EMAIL_>") + 10
    assert value[7:-1].isalpha() and value[7:-1].islower()


def test_drop_and_off_leave_text():
    assert apply(TEXT, SPANS, "drop") == TEXT
    assert apply(TEXT, SPANS, "off") == TEXT


def test_resolve_merges_overlaps_typed_by_score():
    spans = [Span(0, 10, "US_SSN", 0.5), Span(4, 14, "PHONE_NUMBER", 0.4), Span(20, 25, "EMAIL", 1.0)]
    assert resolve(spans) == [Span(0, 14, "US_SSN", 0.5), Span(20, 25, "EMAIL", 1.0)]


def test_resolve_secret_drops_overlapping_pii():
    spans = [Span(8, 20, "URL_CREDENTIALS", 0.95), Span(13, 30, "EMAIL", 1.0)]
    assert resolve(spans, frozenset({"URL_CREDENTIALS"})) == [Span(8, 20, "URL_CREDENTIALS", 0.95)]
    assert resolve(spans) == [Span(8, 30, "EMAIL", 1.0)]
