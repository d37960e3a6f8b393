"""The JSON Schemas in schemas/ accept the fixtures and everything curate writes, and reject bad shapes."""

import json
from pathlib import Path

import jsonschema
import pytest

from curate.formats import to_records
from formats_fixtures import (ALPACA, ALPACA_PREF, OPENAI, SHAREGPT, SHAREGPT_PREF, TEXT, TRL_COMPLETION,
                              TRL_IMPLICIT, TRL_PREF, norm)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SOURCES = [(ALPACA, "alpaca"), (ALPACA_PREF, "alpaca_preference"), (SHAREGPT, "sharegpt"),
           (SHAREGPT_PREF, "sharegpt_preference"), (OPENAI, "openai"), (TRL_PREF, "trl_preference"),
           (TRL_IMPLICIT, "trl_preference"), (TRL_COMPLETION, "trl"), (TEXT, "text")]
TARGET_SCHEMA = {("alpaca", "conversation"): "alpaca", ("alpaca", "preference"): "alpaca_preference",
                 ("sharegpt", "conversation"): "sharegpt", ("sharegpt", "preference"): "sharegpt_preference",
                 ("openai", "conversation"): "openai", ("openai", "preference"): "trl_preference",
                 ("trl", "conversation"): "trl", ("trl", "preference"): "trl_preference", ("text", "text"): "text"}


def validator(name: str):
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_schema_is_listed_in_the_readme():
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    for path in SCHEMAS.glob("*.json"):
        assert f"`{path.name}`" in readme


@pytest.mark.parametrize("records, name", SOURCES)
def test_fixtures_validate(records, name):
    check = validator(name)
    for record in records:
        check.validate(record)


@pytest.mark.parametrize("records, name", SOURCES)
@pytest.mark.parametrize("target", ["alpaca", "sharegpt", "openai", "trl", "text"])
def test_everything_written_validates(records, name, target):
    detection, canonical, _ = norm(records)
    written, _ = to_records(canonical, target)
    check = validator(TARGET_SCHEMA.get((target, detection.kind), "text"))
    for record in written:
        check.validate(record)


@pytest.mark.parametrize(
    "name, record",
    [
        ("alpaca", {"instruction": "x"}),
        ("alpaca", {"instruction": "x", "output": "y", "history": [["only one"]]}),
        ("sharegpt", {"conversations": [{"from": "bot", "value": "x"}]}),
        ("sharegpt_preference", {"conversations": [], "chosen": {"from": "gpt", "value": "x"}}),
        ("openai", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}),
        ("trl_preference", {"prompt": "p", "chosen": 3, "rejected": "r"}),
        ("text", {"body": "x"}),
    ],
)
def test_bad_shapes_fail(name, record):
    assert not validator(name).is_valid(record)
