"""TextFields: flatten every text field with its row, rebuild with the same shape (sliced input too)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from conftest import call, conversation_table, message

from curate.records import SCHEMAS
from curate.stages.pii.fields import TextFields


def _table():
    return conversation_table([
        [message("user", "a0"), message("assistant", None, [call('{"x": "a1"}')], reasoning="r0")],
        [],
        [message("user", "b0"), message("assistant", "b1", [call('{"q": 1}'), call('{"q": 2}')])],
    ])


def test_flat_texts_and_rows():
    fields = TextFields.of(_table())
    assert fields.texts.to_pylist() == ["a0", None, "b0", "b1", None, "r0", None, None, '{"x": "a1"}', '{"q": 1}', '{"q": 2}']
    assert fields.rows.tolist() == [0, 0, 2, 2, 0, 0, 2, 2, 0, 2, 2]


def test_rebuild_upper_keeps_structure():
    table = _table()
    fields = TextFields.of(table)
    out = fields.rebuild(pc.utf8_upper(fields.texts))
    assert out.schema == table.schema
    rows = out.to_pylist()
    assert rows[0]["messages"][1]["tool_calls"][0]["arguments"] == '{"X": "A1"}'
    assert rows[0]["messages"][1]["reasoning"] == "R0"
    assert rows[1]["messages"] == []
    assert [c["arguments"] for c in rows[2]["messages"][1]["tool_calls"]] == ['{"Q": 1}', '{"Q": 2}']
    assert rows[2]["messages"][0]["role"] == "user"


def test_sliced_batch():
    table = _table().slice(2, 1)
    fields = TextFields.of(table)
    assert fields.texts.to_pylist() == ["b0", "b1", None, None, '{"q": 1}', '{"q": 2}']
    assert fields.rows.tolist() == [0, 0, 0, 0, 0, 0]
    out = fields.rebuild(pc.utf8_upper(fields.texts))
    assert out.to_pylist()[0]["messages"][1]["content"] == "B1"


def test_preference_and_text_kinds():
    pref = pa.Table.from_pylist(
        [{"id": "p", "prompt": [message("user", "q")], "chosen": [message("assistant", "c")],
          "rejected": [message("assistant", "r")], "tools": None, "extra": None, "source": None}],
        schema=SCHEMAS["preference"],
    )
    fields = TextFields.of(pref)
    assert [t for t in fields.texts.to_pylist() if t] == ["q", "c", "r"]
    assert fields.rebuild(pc.utf8_upper(fields.texts)).to_pylist()[0]["rejected"][0]["content"] == "R"
    text = pa.Table.from_pylist([{"id": "t", "text": "abc", "extra": None, "source": None}], schema=SCHEMAS["text"])
    fields = TextFields.of(text)
    assert fields.rebuild(pc.utf8_upper(fields.texts))["text"].to_pylist() == ["ABC"]
