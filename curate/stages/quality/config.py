"""`QualityConfig`: the quality options of ``curate clean`` (documented once), and the stages they run."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from curate.errors import ConfigError
from curate.stages.quality.rules import InstructionThresholds, TextThresholds

_LANG_CODE = re.compile(r"^[a-z]{2,3}$")


@dataclass
class QualityConfig:
    """What the quality stages annotate, and the rule that decides which rows stay."""

    rules: str = "default"
    """default: annotate Gopher/C4/FineWeb signals (text) or instruction-data signals (conversations,
    preferences) and drop by their published thresholds; off: no heuristic signals or rules."""
    lang: tuple[str, ...] | None = None
    """Languages to keep (lid.176 codes such as en, zh). None (``--lang any``): annotate only."""
    annotate_only: bool = False
    """Write every row with its annotation columns; drop nothing for quality reasons."""
    keep_where: str | None = None
    """A DuckDB predicate over the batch's columns (lang, lang_score, quality_*, …) that replaces every
    default rule: rows where it is true are kept, the others get the reason ``keep-where``."""
    quality_model: str | None = None
    """A fastText classifier (``curate quality train`` or any .bin/.ftz): its score becomes ``quality_score``."""
    quality_label: str | None = None
    """The model's label whose probability is the score (default: ``hq`` if the model has it, else its first)."""
    min_quality_score: float = 0.5
    """With a model and the default rules: rows scoring below this are dropped ("quality model")."""
    decontaminate: tuple[str, ...] = ()
    """Evaluation-set files (JSONL/JSON/CSV/Parquet/TXT): rows sharing a long n-gram with one are dropped."""
    ngram: int = 13
    """Words per n-gram for decontamination."""
    text: TextThresholds = field(default_factory=TextThresholds)
    instruction: InstructionThresholds = field(default_factory=InstructionThresholds)

    def __post_init__(self) -> None:
        if self.rules not in ("default", "off"):
            raise ConfigError(f"--quality is {self.rules!r}", hint="use --quality default or --quality off")
        for code in self.lang or ():
            if not _LANG_CODE.match(code):
                raise ConfigError(f"--lang has {code!r}, not a language code", hint="use ISO codes: --lang en,zh")
        for path in (*self.decontaminate, *([self.quality_model] if self.quality_model else [])):
            if not os.path.isfile(path):
                raise ConfigError(f"file not found: {path}", hint="check the path given to --decontaminate/--quality-model")
        if self.ngram < 3:
            raise ConfigError(f"--ngram is {self.ngram}", hint="use at least 3 words (13 is the usual choice)")

    @classmethod
    def from_options(cls, *, quality: str = "default", lang: str = "any", annotate_only: bool = False,
                     keep_where: str | None = None, quality_model: str | None = None,
                     decontaminate: tuple[str, ...] | list[str] = (), ngram: int = 13) -> "QualityConfig":
        """From the ``curate clean`` option strings (``--lang en,zh`` or ``any``)."""
        codes = tuple(c.strip().lower() for c in lang.split(",") if c.strip()) if lang else ()
        return cls(rules=quality, lang=None if codes in ((), ("any",)) else codes, annotate_only=annotate_only,
                   keep_where=keep_where, quality_model=quality_model, decontaminate=tuple(decontaminate),
                   ngram=ngram)

    def active(self) -> bool:
        """Whether any quality stage runs at all."""
        return (self.rules == "default" or self.lang is not None or self.quality_model is not None
                or bool(self.decontaminate) or self.keep_where is not None)


def build_stages(config: QualityConfig) -> list:
    """The quality map stages in order: language → heuristics → model → decontamination → the filter."""
    from curate.stages.quality.annotator import QualityAnnotator
    from curate.stages.quality.classifier import ClassifierAnnotator
    from curate.stages.quality.decontaminate import Decontaminator
    from curate.stages.quality.filter import QualityFilter
    from curate.stages.quality.langid import LanguageAnnotator

    if not config.active():
        return []
    stages: list = [LanguageAnnotator()]
    if config.rules == "default":
        stages.append(QualityAnnotator(config.text.min_c4_sentences))
    if config.quality_model:
        stages.append(ClassifierAnnotator(config.quality_model, config.quality_label))
    if config.decontaminate:
        stages.append(Decontaminator(config.decontaminate, config.ngram))
    stages.append(QualityFilter(config))
    return stages
