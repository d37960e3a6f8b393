import pyarrow as pa
import pytest

from curate.errors import SchemaError
from curate.formats import detect
from formats_fixtures import (ALPACA, ALPACA_PREF, OPENAI, SHAREGPT, SHAREGPT_PREF, TEXT, TRL_COMPLETION,
                              TRL_IMPLICIT, TRL_PREF, table_of)


@pytest.mark.parametrize(
    "records, fmt, kind",
    [
        (ALPACA, "alpaca", "conversation"),
        (ALPACA_PREF, "alpaca", "preference"),
        (SHAREGPT[:2], "sharegpt", "conversation"),
        (SHAREGPT[2:3], "sharegpt", "conversation"),  # `messages` holding {from, value} turns
        (SHAREGPT_PREF, "sharegpt", "preference"),
        (OPENAI, "openai", "conversation"),
        (TRL_PREF, "trl", "preference"),
        (TRL_IMPLICIT, "trl", "preference"),
        (TRL_COMPLETION, "trl", "conversation"),
        (TEXT, "text", "text"),
        ([{"content": "pretraining text"}], "text", "text"),
    ],
)
def test_detects_each_format(records, fmt, kind):
    found = detect(table_of(records), "in.jsonl")
    assert (found.format, found.kind) == (fmt, kind)


def test_notes_say_how_the_format_was_recognised():
    assert detect(table_of(SHAREGPT[2:3]), "a.jsonl").note == "column 'messages' with turns {from, value}"
    assert detect(table_of(ALPACA), "a.jsonl").note == "columns 'instruction', 'output'"
    assert detect(table_of(TRL_IMPLICIT), "a.jsonl").note == "columns 'chosen_messages'/'rejected_messages' (implicit prompt)"


def test_csv_cells_holding_json_are_sampled():
    table = pa.table({"messages": ['[{"from": "human", "value": "hi"}]']})
    assert detect(table, "a.csv").format == "sharegpt"
    table = pa.table({"messages": ['[{"role": "user", "content": "hi"}]']})
    assert detect(table, "a.csv").format == "openai"


def test_unknown_shape_names_the_file_its_columns_and_the_expected_ones():
    with pytest.raises(SchemaError) as err:
        detect(pa.table({"question": ["q"], "answer": ["a"]}), "raw/qa.jsonl")
    assert str(err.value) == (
        "raw/qa.jsonl: unknown record shape with columns ['answer', 'question'] (hint: expected one of: "
        "alpaca: instruction, input, output (or chosen/rejected); sharegpt: conversations [{from, value}]; "
        "openai: messages [{role, content}]; trl: prompt + chosen/rejected or prompt + completion; text: text)"
    )
