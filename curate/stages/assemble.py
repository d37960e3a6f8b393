"""Which stages a `CleanConfig` runs, in which order. The one place that knows the pipeline's shape.

Map stages run per batch in worker processes: validation first (no later stage sees an unusable
record), then PII (so scores and hashes see redacted text), then quality, then the template gate.
Global stages (deduplication) run after every batch has been mapped.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from curate.config import CleanConfig
from curate.stages.base import GlobalStage, Stage


def _key(config: CleanConfig) -> tuple:
    return tuple(sorted(config.values().items()))


@lru_cache(maxsize=4)
def _map_stages(key: tuple) -> tuple[Stage, ...]:
    from curate.stages.validate import Validate

    config = dict(key)
    stages: list[Stage] = [Validate()]
    stages += _pii_stages(config)
    stages += _quality_stages(config)
    if config["tokenizer"]:
        from curate.stages.template_gate import TemplateGate

        stages.append(TemplateGate(config["tokenizer"], config["max_length"]))
    return tuple(stages)


def _pii_stages(config: dict) -> list[Stage]:
    """Redaction (or masking, hashing, dropping) of personal data and secrets in every text field."""
    if config["pii"] == "off":
        return []
    from curate.stages.pii import PiiConfig, pii_stages

    return list(pii_stages(PiiConfig(action=config["pii"], salt=config["pii_salt"])))


def _quality_stages(config: dict) -> list[Stage]:
    """Language, heuristic, model and decontamination annotations, then the one quality filter."""
    from curate.stages.quality import QualityConfig, build_stages

    return list(build_stages(QualityConfig.from_options(
        quality=config["quality"], lang=config["lang"], annotate_only=config["annotate_only"],
        keep_where=config["keep_where"], quality_model=config["quality_model"],
        decontaminate=tuple(config["decontaminate"]), ngram=config["decontaminate_ngram"])))


def map_stages(config: CleanConfig) -> tuple[Stage, ...]:
    """Built once per process and config (models load lazily inside the stages)."""
    return _map_stages(_key(config))


def global_stages(config: CleanConfig, staging: Path) -> list[GlobalStage]:
    """``staging`` is the run's staging folder, shared by every worker (MinHash spills signatures there)."""
    if config.dedup == "exact":
        from curate.stages.dedup.exact import ExactDedup

        return [ExactDedup(config.dedup_scope)]  # type: ignore[arg-type]
    if config.dedup == "minhash":
        from curate.stages.dedup.minhash import MinHashConfig, MinHashDedup

        return [MinHashDedup(MinHashConfig(
            threshold=config.threshold, scope=config.dedup_scope, keep=config.dedup_keep,  # type: ignore[arg-type]
            against=Path(config.against) if config.against else None, spill_dir=staging))]
    return []
