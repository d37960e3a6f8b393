"""QualityFilter: default rules, --annotate-only, --keep-where, and the stage list a config builds."""

import pickle

import pytest
from quality_helpers import conversations, run

from curate.errors import ConfigError, UsageError
from curate.stages.quality import (LanguageAnnotator, QualityAnnotator, QualityConfig, QualityFilter,
                                   build_stages)

ROWS = [("What is the capital of France?", "The capital of France is Paris, a city on the Seine river."),
        ("Help me", "I'm sorry, but I cannot help with that."),
        ("Say it", "")]


def test_default_rules_drop_with_reasons():
    _, reasons = run(build_stages(QualityConfig.from_options()), conversations(ROWS))
    assert reasons == [None, "refusal", "empty answer"]


def test_annotate_only_keeps_every_row_with_its_columns():
    batch, reasons = run(build_stages(QualityConfig.from_options(annotate_only=True)), conversations(ROWS))
    assert reasons == [None, None, None]
    assert batch.column("quality_refusal").to_pylist() == [False, True, False]
    assert batch.column("lang").to_pylist()[0] == "en"


def test_keep_where_replaces_the_default_rules():
    config = QualityConfig.from_options(keep_where="quality_response_chars > 0 AND lang = 'en'")
    _, reasons = run(build_stages(config), conversations(ROWS))
    assert reasons == [None, None, "keep-where"]


def test_keep_where_with_a_bad_column_names_it():
    config = QualityConfig.from_options(keep_where="no_such_column > 1")
    with pytest.raises(UsageError, match=r"^--keep-where 'no_such_column > 1' is not a valid predicate"):
        run(build_stages(config), conversations(ROWS))


def test_stage_order_and_pickling():
    stages = build_stages(QualityConfig.from_options())
    assert [type(s) for s in stages] == [LanguageAnnotator, QualityAnnotator, QualityFilter]
    assert QualityFilter.name == "quality"
    run(stages, conversations(ROWS))  # models loaded in this process; the stages still pickle
    assert [type(s) for s in pickle.loads(pickle.dumps(stages))] == [type(s) for s in stages]


def test_quality_off_runs_nothing_unless_asked():
    assert build_stages(QualityConfig.from_options(quality="off")) == []


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="--lang has 'english', not a language code"):
        QualityConfig.from_options(lang="english")
    with pytest.raises(ConfigError, match="file not found: nope.jsonl"):
        QualityConfig.from_options(decontaminate=["nope.jsonl"])
    with pytest.raises(ConfigError, match="--quality is 'strict'"):
        QualityConfig.from_options(quality="strict")
