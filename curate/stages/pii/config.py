"""`PiiConfig`: the options of ``curate clean --pii …`` (each field documented once, the CLI reuses it)."""

from __future__ import annotations

import importlib.util
import secrets as _random
from dataclasses import dataclass, field
from functools import lru_cache

from curate.errors import ConfigError
from curate.stages.pii.actions import ACTIONS, Action
from curate.stages.pii.entities import BY_NAME, NER_ENTITIES, PATTERN_ENTITIES

NER_MODELS = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")


@lru_cache(maxsize=1)
def _installed_model() -> str | None:
    """The first installed spaCy English model package (looked up once per process)."""
    return next((m for m in NER_MODELS if importlib.util.find_spec(m) is not None), None)


@dataclass
class PiiConfig:
    """How the PII stage detects and what it does with what it finds."""

    action: Action = "redact"
    """redact: ``<TYPE>`` placeholders; mask: ``*`` per character; hash: salted pseudonym
    ``<TYPE_xxxxxxxxxx>`` (stable across the dataset); drop: reject the row; off: no PII stage."""
    salt: str | None = None
    """Key of the hash action. Unset: a random salt for this run (pseudonyms are stable within the run
    only). The salt is never written to the manifest."""
    entities: tuple[str, ...] | None = None
    """Entity types to look for (default: all; see `curate.stages.pii.entities`)."""
    exclude: tuple[str, ...] = ()
    """Entity types to leave alone."""
    threshold: float = 0.4
    """Minimum Presidio score (after validation and context words) for a detection to count."""
    ner: bool | None = None
    """Detect PERSON and LOCATION with a spaCy NER model. None: on if one is installed."""
    spacy_model: str | None = None
    """spaCy model name or path for NER (default: the first installed of en_core_web_sm/md/lg/trf)."""
    salt_source: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ConfigError(f"pii action {self.action!r} is not one of {', '.join(ACTIONS)}", hint="use --pii redact")
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise ConfigError(f"pii threshold {self.threshold} is outside [0, 1]", hint="use a score such as 0.4")
        known = set(BY_NAME)
        for name in (*(self.entities or ()), *self.exclude):
            if name not in known:
                raise ConfigError(
                    f"unknown PII entity type {name!r}", hint=f"choose from {', '.join(sorted(known))}"
                )
        if self.action == "hash":
            self.salt_source = "given" if self.salt else "random"
            if not self.salt:
                self.salt = _random.token_hex(16)  # chosen once, then pickled to every worker

    def ner_model(self) -> str | None:
        """The spaCy model NER will use, or None when names are not covered."""
        if self.ner is False:
            return None
        if self.spacy_model:
            return self.spacy_model
        found = _installed_model()
        if self.ner and found is None:
            raise ConfigError(
                "NER was requested but no spaCy English model is installed",
                hint="pip install an en_core_web_* model package, or pass spacy_model=PATH",
            )
        return found

    def pattern_entities(self) -> tuple[str, ...]:
        chosen = self.entities or PATTERN_ENTITIES
        return tuple(e for e in PATTERN_ENTITIES if e in chosen and e not in self.exclude)

    def ner_entities(self) -> tuple[str, ...]:
        if self.ner_model() is None:
            return ()
        chosen = self.entities or NER_ENTITIES
        return tuple(e for e in NER_ENTITIES if e in chosen and e not in self.exclude)

    def to_json(self) -> dict:
        """For the manifest: every option except the salt itself."""
        return {
            "action": self.action,
            "salt": self.salt_source or None,
            "entities": list(self.pattern_entities() + self.ner_entities()),
            "threshold": self.threshold,
            "ner_model": self.ner_model(),
        }
