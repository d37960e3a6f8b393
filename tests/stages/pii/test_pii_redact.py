"""PiiRedactor / PiiDropFilter over canonical tables: rewritten fields, columns, reasons, manifest."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys

import pyarrow as pa
import pytest
from conftest import call, conversation_table, message

from curate.errors import ConfigError
from curate.records import SCHEMAS
from curate.stages.pii import PiiConfig, PiiDropFilter, PiiRedactor, coverage_note, pii_stages
from curate.stages.pii.actions import pseudonym

EMAIL, PHONE, CARD = "jane.doe@example.com", "(212) 555-0147", "4111 1111 1111 1111"
KEY = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56"


def _table():
    return conversation_table([
        [message("user", f"mail {EMAIL} or call {PHONE}"), message("assistant", "Noted, v2.14.3 on 2024-03-15.")],
        [message("user", "nothing personal here")],
        [message("user", "pay", reasoning=f"card {CARD}"),
         message("assistant", None, [call('{"api_key": "' + KEY + '", "to": "' + EMAIL + '"}')])],
    ])


def _contents(table, column="messages"):
    return [[(m["content"], m["reasoning"], [c["arguments"] for c in (m["tool_calls"] or [])]) for m in row]
            for row in table[column].to_pylist()]


def test_redact_exact_output_and_columns():
    stage = PiiRedactor(PiiConfig(action="redact"))
    out = stage.annotate(_table())
    assert _contents(out) == [
        [("mail <EMAIL> or call <PHONE_NUMBER>", None, []), ("Noted, v2.14.3 on 2024-03-15.", None, [])],
        [("nothing personal here", None, [])],
        [("pay", "card <CREDIT_CARD>", []), (None, None, ['{"api_key": "<API_KEY>", "to": "<EMAIL>"}'])],
    ]
    assert out["pii_types"].to_pylist() == [["EMAIL", "PHONE_NUMBER"], [], ["API_KEY", "CREDIT_CARD", "EMAIL"]]
    assert out["pii_count"].to_pylist() == [2, 0, 3]
    assert out.schema.field("pii_count").type == pa.int32()
    assert out.schema.field("pii_types").type == pa.list_(pa.string())
    assert out.select(SCHEMAS["conversation"].names).schema == SCHEMAS["conversation"]
    info = stage.manifest_info()
    assert info["totals"] == {"API_KEY": 1, "CREDIT_CARD": 1, "EMAIL": 2, "PHONE_NUMBER": 1}
    assert info["rows"] == 3 and info["rows_with_pii"] == 2 and info["names_covered"] is False
    assert info["action"] == "redact" and info["salt"] is None


def test_mask_and_hash_exact_output():
    masked = PiiRedactor(PiiConfig(action="mask")).annotate(_table())
    assert _contents(masked)[0][0][0] == f"mail {'*' * len(EMAIL)} or call {'*' * 5} {'*' * 8}"
    hashed = PiiRedactor(PiiConfig(action="hash", salt="k")).annotate(_table())
    assert _contents(hashed)[0][0][0] == f"mail {pseudonym(EMAIL, 'EMAIL', 'k')} or call {pseudonym(PHONE, 'PHONE_NUMBER', 'k')}"
    # the same e-mail in another row gets the same pseudonym (stable across the dataset)
    assert pseudonym(EMAIL, "EMAIL", "k") in _contents(hashed)[2][1][2][0]


@pytest.mark.parametrize("action", ["redact", "mask", "hash"])
def test_idempotent(action):
    stage = PiiRedactor(PiiConfig(action=action, salt="k"))
    once = stage.annotate(_table())
    twice = stage.annotate(once.drop_columns(["pii_types", "pii_count"]))
    assert twice["messages"].to_pylist() == once["messages"].to_pylist()
    assert twice["pii_count"].to_pylist() == [0, 0, 0]


def test_drop_filter_reasons_and_untouched_text():
    cfg = PiiConfig(action="drop")
    redactor, dropper = pii_stages(cfg)
    annotated = redactor.annotate(_table())
    assert annotated["messages"].to_pylist() == _table()["messages"].to_pylist()
    assert dropper.reasons(annotated).to_pylist() == ["pii: EMAIL, PHONE_NUMBER", None, "pii: API_KEY, CREDIT_CARD, EMAIL"]
    kept, dropped = dropper.split(annotated)
    assert kept["id"].to_pylist() == ["r1"] and dropped["id"].to_pylist() == ["r0", "r2"]
    # without the annotation columns the filter detects on its own
    assert PiiDropFilter(cfg).reasons(_table()).to_pylist() == ["pii: EMAIL, PHONE_NUMBER", None, "pii: API_KEY, CREDIT_CARD, EMAIL"]


def test_pii_stages_by_action():
    assert pii_stages(PiiConfig(action="off")) == []
    assert [type(s) for s in pii_stages(PiiConfig(action="mask"))] == [PiiRedactor]
    assert [type(s).__name__ for s in pii_stages(PiiConfig(action="drop"))] == ["PiiRedactor", "PiiDropFilter"]


def test_entities_include_exclude_and_threshold():
    out = PiiRedactor(PiiConfig(entities=("EMAIL",))).annotate(_table())
    assert out["pii_types"].to_pylist() == [["EMAIL"], [], ["EMAIL"]]
    out = PiiRedactor(PiiConfig(exclude=("EMAIL", "API_KEY"))).annotate(_table())
    assert out["pii_types"].to_pylist() == [["PHONE_NUMBER"], [], ["CREDIT_CARD"]]
    # phone numbers score 0.4 without a context word
    out = PiiRedactor(PiiConfig(threshold=0.5)).annotate(_table())
    assert out["pii_types"].to_pylist()[0] == ["EMAIL"]


def test_preference_and_text_kinds():
    pref = pa.Table.from_pylist(
        [{"id": "p", "prompt": [message("user", f"my mail is {EMAIL}")], "chosen": [message("assistant", "ok")],
          "rejected": [message("assistant", f"call {PHONE}")], "tools": None, "extra": None, "source": None}],
        schema=SCHEMAS["preference"],
    )
    out = PiiRedactor().annotate(pref)
    assert out["prompt"].to_pylist()[0][0]["content"] == "my mail is <EMAIL>"
    assert out["rejected"].to_pylist()[0][0]["content"] == "call <PHONE_NUMBER>"
    assert out["pii_types"].to_pylist() == [["EMAIL", "PHONE_NUMBER"]]
    text = pa.Table.from_pylist([{"id": "t", "text": f"key {KEY}", "extra": None, "source": None}], schema=SCHEMAS["text"])
    out = PiiRedactor().annotate(text)
    assert out["text"].to_pylist() == ["key <API_KEY>"] and out["pii_count"].to_pylist() == [1]


def test_sliced_batch_and_empty_batch():
    out = PiiRedactor().annotate(_table().slice(2, 1))
    assert out["pii_types"].to_pylist() == [["API_KEY", "CREDIT_CARD", "EMAIL"]]
    empty = PiiRedactor().annotate(_table().slice(0, 0))
    assert empty.num_rows == 0 and "pii_count" in empty.column_names


def test_no_pii_in_logs(caplog):
    caplog.set_level(logging.DEBUG)
    stage = PiiRedactor()
    stage.annotate(_table())
    logged = caplog.text + repr(stage.manifest_info()) + str(coverage_note(stage.config))
    for secret in (EMAIL, PHONE, CARD, KEY, "jane", "4111"):
        assert secret not in logged


def test_config_errors_name_the_value_and_never_echo_text():
    with pytest.raises(ConfigError, match=r"pii action 'scrub' is not one of redact, mask, hash, drop, off"):
        PiiConfig(action="scrub")
    with pytest.raises(ConfigError, match=r"unknown PII entity type 'EMAIL_ADDRESS'"):
        PiiConfig(entities=("EMAIL_ADDRESS",))
    with pytest.raises(ConfigError, match=r"pii threshold 1.5 is outside \[0, 1\]"):
        PiiConfig(threshold=1.5)


def test_hash_salt_random_when_unset_and_never_in_manifest():
    cfg = PiiConfig(action="hash")
    assert cfg.salt and len(cfg.salt) == 32
    info = PiiRedactor(cfg).manifest_info()
    assert info["salt"] == "random" and cfg.salt not in repr(info)
    assert PiiConfig(action="hash", salt="given").to_json()["salt"] == "given"


def test_pickle_and_merge_manifest_info():
    stage = PiiRedactor(PiiConfig(action="mask"))
    copy = pickle.loads(pickle.dumps(stage))
    copy.annotate(_table())
    stage.annotate(_table().slice(0, 1))
    merged = PiiRedactor.merge_manifest_info([copy.manifest_info(), stage.manifest_info()])
    assert merged["totals"] == {"API_KEY": 1, "CREDIT_CARD": 1, "EMAIL": 3, "PHONE_NUMBER": 2}
    assert merged["rows"] == 4 and merged["rows_with_pii"] == 3 and merged["action"] == "mask"


def test_coverage_note():
    assert coverage_note(PiiConfig(ner=False)) is None
    assert coverage_note(PiiConfig(action="off")) is None
    note = coverage_note(PiiConfig())
    assert note == ("pii: person names and locations are not covered (no spaCy NER model installed); "
                    "install one, e.g. en_core_web_sm, to detect PERSON and LOCATION")


def test_importing_curate_stage_does_not_import_presidio():
    code = "import sys, curate.stages.pii; print('presidio_analyzer' in sys.modules, 'spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_redact_array_for_raw_json():
    raw = pa.array(['{"messages": [{"role": "user", "content": "mail ' + EMAIL + '"}]}', '{"x": 1}', None])
    out = PiiRedactor().redact_array(raw).to_pylist()
    assert out == ['{"messages": [{"role": "user", "content": "mail <EMAIL>"}]}', '{"x": 1}', None]
    assert PiiRedactor(PiiConfig(action="drop")).redact_array(raw).to_pylist() == raw.to_pylist()
