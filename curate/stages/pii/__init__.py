"""PII and secret detection with redact / mask / hash / drop actions (``curate clean --pii``).

Importing this package is cheap: presidio and spaCy load only when a stage first analyses a batch.
"""

from curate.stages.pii.config import PiiConfig
from curate.stages.pii.entities import ENTITIES, NER_ENTITIES, PATTERN_ENTITIES
from curate.stages.pii.redact import PiiDropFilter, PiiRedactor, coverage_note, pii_stages

__all__ = [
    "ENTITIES",
    "NER_ENTITIES",
    "PATTERN_ENTITIES",
    "PiiConfig",
    "PiiDropFilter",
    "PiiRedactor",
    "coverage_note",
    "pii_stages",
]
