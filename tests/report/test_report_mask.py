"""The sample-row masker: exact replacements, and text without personal data left alone."""

from __future__ import annotations

import pytest

from curate.report.mask import mask
from curate.report.charts import fmt

CASES = [
    ("write to jane.doe+ml@mail.example.org today", "write to <EMAIL> today"),
    ("call +1 (415) 555-0199 or 030 1234567", "call <NUMBER> or <NUMBER>"),
    ("card 4111 1111 1111 1111 ok", "card <NUMBER> ok"),
    ("key sk-abcdefghijklmnopqrstuvwx and AKIAABCDEFGHIJKLMNOP", "key <SECRET> and <SECRET>"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token <SECRET>"),
    ("digest 3f786850e387550fdab836ed7e6dc881de23001b", "digest <SECRET>"),
    ("server 192.168.10.23 is up", "server <IP> is up"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done", "<PRIVATE_KEY> done"),
    ("In 2024 we had 12 models and 3.5 stars.", "In 2024 we had 12 models and 3.5 stars."),
    ("A very long ordinary word: internationalization", "A very long ordinary word: internationalization"),
]


@pytest.mark.parametrize("text,masked", CASES)
def test_mask(text: str, masked: str):
    assert mask(text) == masked


def test_number_format():
    assert [fmt(1234), fmt(1234.0), fmt(0.123456), fmt(1234.56), fmt(0)] == ["1,234", "1,234", "0.123", "1,234.6", "0"]
