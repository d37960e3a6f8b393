"""`curate quality train` and --quality-model: a fastText classifier trained here, on crafted examples."""

import json

import pytest
from quality_helpers import conversations, run
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import UsageError
from curate.stages.quality import QualityConfig, build_stages
from curate.stages.quality.classifier import ClassifierAnnotator, load, positive_label, train

GOOD = ["Explain how photosynthesis converts light energy into chemical energy in plant cells, step by step.",
        "Write a clear summary of the causes of the French Revolution for a history student.",
        "Describe how a binary search works and analyse its time complexity with an example.",
        "Give three tips for writing readable Python code, each with a short explanation."]
BAD = ["click here buy cheap pills now best price free shipping casino bonus",
       "home about contact login register cart 0 items copyright all rights reserved",
       "lol ok whatever idk brb ttyl", "cookie policy accept all cookies privacy settings menu"]


def write(tmp_path):
    pos = tmp_path / "good.jsonl"
    pos.write_text("\n".join(json.dumps({"instruction": g, "output": "Sure."}) for g in GOOD * 10) + "\n")
    neg = tmp_path / "bad.txt"
    neg.write_text("\n".join(BAD * 10) + "\n")
    return pos, neg


def test_cli_trains_a_model_that_scores_rows(tmp_path):
    pos, neg = write(tmp_path)
    out = tmp_path / "model.bin"
    result = CliRunner().invoke(app, ["quality", "train", "--positive", str(pos), "--negative", str(neg),
                                      "--out", str(out), "--epoch", "25"])
    assert result.exit_code == 0, result.output
    assert result.output == (f"trained {out} on 40 positive and 40 negative examples; "
                             "held-out accuracy 1.000 on 8 examples\n")
    config = QualityConfig.from_options(quality="off", quality_model=str(out))
    rows = [(GOOD[0], "Plants use chlorophyll to capture light."), ("buy cheap pills", "click here casino bonus")]
    batch, reasons = run(build_stages(config), conversations(rows))
    scores = batch.column("quality_score").to_pylist()
    assert scores[0] > 0.5 > scores[1]
    assert reasons == [None, "quality model: score below 0.5"]


def test_missing_examples_fail_with_exit_2(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    result = CliRunner().invoke(app, ["quality", "train", "--positive", str(empty), "--negative", str(empty),
                                      "--out", str(tmp_path / "m.bin")])
    assert result.exit_code == 2
    assert "error: training needs both kinds of examples (got 0 positive, 0 negative)" in result.output


def test_any_fasttext_model_works_with_its_own_labels(tmp_path):
    model_path = tmp_path / "other.bin"
    report = train(GOOD * 5, BAD * 5, str(model_path), epoch=20)
    assert (report.positives, report.negatives, report.held_out) == (20, 20, 4)
    model = load(str(model_path))
    assert positive_label(model, None) == "hq"
    assert positive_label(model, "__label__lq") == "lq"
    with pytest.raises(UsageError, match="the quality model has no label 'good'"):
        positive_label(model, "good")
    batch = ClassifierAnnotator(str(model_path), "lq").annotate(conversations([(BAD[0], BAD[1])]))
    assert batch.column("quality_score").to_pylist()[0] > 0.5
