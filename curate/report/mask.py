"""A small regex masker for the report's sample rows: personal data never reaches the HTML.

Deliberately aggressive (a report shows a handful of rows, so over-masking costs nothing): e-mail
addresses, private-key blocks, well-known secret-key shapes, long random-looking tokens, card-like and
phone-like digit runs, and IPv4 addresses become ``<EMAIL>``, ``<PRIVATE_KEY>``, ``<SECRET>``,
``<NUMBER>`` and ``<IP>``.
"""

from __future__ import annotations

import re

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), "<PRIVATE_KEY>"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<EMAIL>"),
    (re.compile(r"\b(?:sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}"
                r"|AIza[0-9A-Za-z_-]{30,}|hf_[A-Za-z0-9]{20,})"), "<SECRET>"),
    # Long tokens mixing letters and digits (hex digests, base64 keys, JWT parts).
    (re.compile(r"\b(?=[A-Za-z0-9_\-+/=]*\d)(?=[A-Za-z0-9_\-+/=]*[A-Za-z])[A-Za-z0-9_\-+/=]{24,}"), "<SECRET>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<IP>"),
    # Phone numbers, card numbers, national ids: 7+ digits, possibly split by spaces, dots, dashes, parens.
    (re.compile(r"\+?\(?\d(?:[\s().-]*\d){6,}"), "<NUMBER>"),
]


def mask(text: str) -> str:
    """``text`` with every match of the patterns above replaced by its placeholder."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text
