"""Quality stages: every signal is an annotation column first, and one filter makes the decision.

Order (see `build_stages`): `LanguageAnnotator` → `QualityAnnotator` (heuristics) → `ClassifierAnnotator`
(a fastText quality model) → `Decontaminator` → `QualityFilter` (default rules, or ``--keep-where``).
"""

from curate.stages.quality.annotator import QualityAnnotator
from curate.stages.quality.classifier import ClassifierAnnotator
from curate.stages.quality.config import QualityConfig, build_stages
from curate.stages.quality.decontaminate import Decontaminator
from curate.stages.quality.filter import QualityFilter
from curate.stages.quality.langid import LanguageAnnotator

__all__ = [
    "ClassifierAnnotator",
    "Decontaminator",
    "LanguageAnnotator",
    "QualityAnnotator",
    "QualityConfig",
    "QualityFilter",
    "build_stages",
]
