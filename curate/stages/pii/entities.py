"""The entity catalogue: which entity types exist, how they are shown, and their pre-filters.

Nothing here imports presidio: the CLI and the pipeline can list entities and build a config without
paying for it. Each entity has a *pre-filter*: a regular expression in the dialect of Rust's ``regex``
crate (what polars runs) that matches every text in which the entity's Presidio recognizer could
report something. A pre-filter is built from the recognizer's own pattern with the word boundaries and
look-arounds removed (removing an assertion only widens a match), so it is a superset by construction;
``tests/stages/pii/test_prefilter.py`` checks that property on a corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Group = Literal["pii", "secret", "ner"]


@dataclass(frozen=True)
class Entity:
    """One entity type: ``name`` is what ``pii_types``, placeholders and reject reasons show."""

    name: str
    group: Group
    prefilter: str  # Rust-regex superset of the recognizer's matches ("" for NER entities)
    doc: str


# Every character matched by phonenumbers' "[" + _VALID_PUNCTUATION + "]" with its flags
# (IGNORECASE | UNICODE); tests/stages/pii/test_pii_scan.py recomputes it over all code points.
PHONE_PUNCTUATION = (
    " ()-./X[]x~\u00a0\u00ad\u200b\u2010\u2011\u2012\u2013\u2014\u2015\u2053\u2060\u2212\u223c"
    "\u3000\u30fc\uff08\uff09\uff0d\uff0e\uff0f\uff3b\uff3d\uff5e"
)


def _phone_prefilter() -> str:
    """Digit chains that phonenumbers could accept as a valid number in Presidio's default regions.

    PhoneNumberMatcher only reports runs of ``\\d{1,20}`` joined by ``[VALID_PUNCTUATION]{0,4}``
    (`PHONE_PUNCTUATION`: every character that class matches, case-insensitively)
    (never across a newline). In the regions US, GB, DE, FR, IL, IN, CA, BR a valid national number
    has at least four digits, an international one at least six (country code included), and the
    only valid numbers of four or five digits are German pager numbers ``(0)16[4689]…``; this was
    checked exhaustively over all 4- and 5-digit strings (tests/stages/pii/test_pii_scan.py re-checks
    the metadata and DE). So a candidate has a chain of six digits, or contains ``16[4689]``, or has
    a non-ASCII digit (those are left to Presidio rather than reasoned about).
    """
    sep = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PHONE_PUNCTUATION) + "]{0,4}"
    return rf"\d(?:{sep}\d){{5}}|1{sep}6{sep}[4689]|[\d&&[^0-9]]"


_B64 = r"[A-Za-z0-9+/]"
ENTITIES: tuple[Entity, ...] = (
    # --- Presidio's predefined recognizers -------------------------------------------------------
    Entity("EMAIL", "pii", r"@[\w-]+\.\w", "e-mail address (Presidio EmailRecognizer, TLD validated)"),
    Entity("PHONE_NUMBER", "pii", _phone_prefilter(), "phone number (Presidio PhoneRecognizer, libphonenumber)"),
    Entity("CREDIT_CARD", "pii", r"[13-6]\d{3}[- ]?\d{3,4}[- ]?\d{3,4}[- ]?\d{3,5}", "credit card number (Luhn checked)"),
    Entity("IBAN", "pii", r"[A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]{4}){2}", "IBAN (checksum validated)"),
    Entity(
        "IP_ADDRESS",
        "pii",
        r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|::|(?i:[0-9a-f]{1,4}:[0-9a-f]{1,4}:)",
        "IPv4 or IPv6 address",
    ),
    Entity("US_SSN", "pii", r"\d{3}[- .]?\d{2}[- .]?\d{4}", "US social security number"),
    Entity("CRYPTO", "pii", r"(?i:(?:bc1|[13])[a-z0-9]{25})", "bitcoin wallet address (checksum validated)"),
    # --- secrets: recognizers Presidio lacks (curate/stages/pii/secrets.py) -------------------------
    Entity("URL_CREDENTIALS", "secret", r"(?i:[a-z][a-z0-9+.-]*://[^\s/@:]+:[^\s/@]+@)", "user:password inside a URL"),
    Entity(
        "PASSWORD",
        "secret",
        r"(?i:(?:password|passwd|pwd)\s*=)",
        "password in a connection string or KEY=value line",
    ),
    Entity("AWS_ACCESS_KEY", "secret", r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", "AWS access key id"),
    Entity("AWS_SECRET_KEY", "secret", r"(?i:aws.?secret.?(?:access.?)?key)", "AWS secret access key (after its name)"),
    Entity("GCP_API_KEY", "secret", r"AIza[0-9A-Za-z_\-]{35}|GOCSPX-[0-9A-Za-z_\-]{28}", "Google API key / OAuth client secret"),
    Entity(
        "AZURE_KEY",
        "secret",
        rf"(?i:(?:AccountKey|SharedAccessKey)\s*=\s*{_B64}{{40}}|sig=[A-Za-z0-9%+/=]{{40}})|[A-Za-z0-9_~.]{{3}}\dQ~[A-Za-z0-9_~.-]{{31}}",
        "Azure storage/service-bus key, SAS signature or client secret",
    ),
    Entity("GITHUB_TOKEN", "secret", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82}", "GitHub token"),
    Entity("GITLAB_TOKEN", "secret", r"gl(?:pat|ptt|rt|dt)-[0-9A-Za-z_\-]{20}", "GitLab token"),
    Entity("SLACK_TOKEN", "secret", r"xox[abposr]-[0-9A-Za-z-]{10}|hooks\.slack\.com/services/", "Slack token or webhook"),
    Entity(
        "API_KEY",
        "secret",
        r"(?:sk|rk)[-_][A-Za-z0-9_\-]{20}|hf_[A-Za-z0-9]{30}",
        "OpenAI/Anthropic-style sk-… key, Stripe sk_/rk_ key, Hugging Face token",
    ),
    Entity("JWT", "secret", r"eyJ[A-Za-z0-9_-]{5}[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]{5}", "JSON web token"),
    Entity("PRIVATE_KEY", "secret", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY", "PEM private key block"),
    # --- NER (only with an installed spaCy model) -------------------------------------------------
    Entity("PERSON", "ner", "", "person name (spaCy NER)"),
    Entity("LOCATION", "ner", "", "location (spaCy NER)"),
)
BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}
PATTERN_ENTITIES: tuple[str, ...] = tuple(e.name for e in ENTITIES if e.group != "ner")
NER_ENTITIES: tuple[str, ...] = tuple(e.name for e in ENTITIES if e.group == "ner")
STRUCTURED: tuple[str, ...] = tuple(e.name for e in ENTITIES if e.group == "pii")
SECRETS: tuple[str, ...] = tuple(e.name for e in ENTITIES if e.group == "secret")
