"""What happens to a detected span: redact (typed placeholder), mask, or salted hash (pseudonym).

Every replacement is chosen so that no recognizer matches it again: redacting twice changes nothing
more. Pure string functions, used only on the few texts the pre-filter lets through.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Literal, NamedTuple

Action = Literal["redact", "mask", "hash", "drop", "off"]
ACTIONS: tuple[Action, ...] = ("redact", "mask", "hash", "drop", "off")
PSEUDONYM_LETTERS = 10  # letters only: a digit run could read as a phone number on the next pass


class Span(NamedTuple):
    start: int
    end: int
    entity: str
    score: float


def resolve(spans: Iterable[Span], secrets: frozenset[str] = frozenset()) -> list[Span]:
    """Non-overlapping spans in text order.

    A secret wins over the PII detections it overlaps, which are dropped: in ``https://user:pw@host``
    or ``https://ghp_…@github.com`` the e-mail pattern's match is an artefact of the secret. Other
    overlaps merge into one span covering all of them (nothing detected stays visible), typed after
    the highest score, then the longest, then the name (deterministic).
    """
    spans = list(spans)
    secret_spans = [s for s in spans if s.entity in secrets]
    if secret_spans:
        spans = [s for s in spans if s.entity in secrets or not any(s.start < o.end and o.start < s.end for o in secret_spans)]
    merged: list[list[Span]] = []
    end = -1
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < end:
            merged[-1].append(span)
            end = max(end, span.end)
        else:
            merged.append([span])
            end = span.end
    out = []
    for group in merged:
        best = min(group, key=lambda s: (-s.score, -(s.end - s.start), s.entity))
        out.append(Span(group[0].start, max(s.end for s in group), best.entity, best.score))
    return out


def pseudonym(value: str, entity: str, salt: str) -> str:
    """``<TYPE_xxxxxxxxxx>``: the same value gets the same letters everywhere in a run with this salt."""
    digest = hashlib.blake2b(f"{entity}\x00{value}".encode(), key=salt.encode()[:64], digest_size=16).digest()
    letters = "".join(chr(ord("a") + b % 26) for b in digest[:PSEUDONYM_LETTERS])
    return f"<{entity}_{letters}>"


def mask(value: str) -> str:
    """Every non-space character becomes ``*`` (length and line layout are kept)."""
    return "".join(c if c.isspace() else "*" for c in value)


def replacement(value: str, entity: str, action: Action, salt: str) -> str:
    if action == "redact":
        return f"<{entity}>"
    if action == "mask":
        return mask(value)
    if action == "hash":
        return pseudonym(value, entity, salt)
    return value


def apply(text: str, spans: list[Span], action: Action, salt: str = "") -> str:
    """``text`` with each resolved span replaced according to ``action`` (drop/off: unchanged)."""
    if action in ("drop", "off") or not spans:
        return text
    parts = []
    cursor = 0
    for span in spans:
        parts.append(text[cursor : span.start])
        parts.append(replacement(text[span.start : span.end], span.entity, action, salt))
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)
