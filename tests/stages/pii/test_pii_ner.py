"""NER with a user-provided spaCy pipeline: PERSON and LOCATION are found and names are covered.

The pipeline is built here (a blank English pipeline with an entity ruler, saved to a temp folder),
standing in for an installed model such as en_core_web_sm; nothing is downloaded.
"""

from __future__ import annotations

import pytest
from conftest import conversation_table, message

from curate.stages.pii import PiiConfig, PiiRedactor, coverage_note


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Ada Lovelace"}, {"label": "GPE", "pattern": "London"}])
    path = tmp_path_factory.mktemp("ner_model")
    nlp.to_disk(path)
    return str(path)


def test_ner_entities_redacted_with_a_model(model_dir):
    cfg = PiiConfig(spacy_model=model_dir)
    stage = PiiRedactor(cfg)
    table = conversation_table([[message("user", "Ada Lovelace lives in London, mail ada@example.com")]])
    out = stage.annotate(table)
    assert out["messages"].to_pylist()[0][0]["content"] == "<PERSON> lives in <LOCATION>, mail <EMAIL>"
    assert out["pii_types"].to_pylist() == [["EMAIL", "LOCATION", "PERSON"]]
    info = stage.manifest_info()
    assert info["names_covered"] is True and info["ner_model"] == model_dir
    assert coverage_note(cfg) is None


def test_ner_off_leaves_names():
    out = PiiRedactor(PiiConfig(ner=False)).annotate(conversation_table([[message("user", "Ada Lovelace lives in London")]]))
    assert out["messages"].to_pylist()[0][0]["content"] == "Ada Lovelace lives in London"
    assert out["pii_count"].to_pylist() == [0]
