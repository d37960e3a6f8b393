import pyarrow as pa

from curate.records import MESSAGES, SCHEMAS
from curate.stages.validate import Validate


def msg(role, content, calls=None):
    return {"role": role, "content": content, "name": None, "tool_calls": calls, "tool_call_id": None,
            "reasoning": None, "extra": None}


CALL = [{"id": "c1", "type": "function", "name": "f", "arguments": "{}"}]


def conversations(rows):
    return pa.table({"id": [str(i) for i in range(len(rows))], "messages": pa.array(rows, MESSAGES)})


def test_conversation_reasons_one_per_row_first_rule_wins():
    table = conversations([
        [msg("user", "hi"), msg("assistant", "hello")],
        [msg("user", "hi"), msg("assistant", " \n\t")],
        [msg("user", "hi")],
        [msg("assistant", "x"), msg("user", "hi"), msg("assistant", "y")],
        [msg("system", "s"), msg("system", "t"), msg("user", "hi"), msg("assistant", "y")],
        [msg("user", "hi"), msg("system", "t"), msg("assistant", "y")],
        [msg("user", "hi"), msg("tool", "r"), msg("assistant", "y")],
        [msg("user", "hi"), msg("assistant", None, CALL), msg("tool", "r"), msg("assistant", "y")],
        [msg("user", ""), msg("assistant", "")],
        [msg("system", "s"), msg("user", "q"), msg("assistant", "a"), msg("user", "q2"), msg("assistant", "a2")],
    ])
    assert Validate().reasons(table).to_pylist() == [
        None,
        "empty turn: turn 2 (assistant)",
        "no assistant turn",
        "role order: assistant turn before any user turn",
        "role order: two system messages",
        "role order: system message is not first",
        "role order: tool result without a tool call before it",
        None,
        "empty turn: turn 1 (user)",
        None,
    ]


def test_split_routes_rows_and_keeps_order():
    table = conversations([
        [msg("user", "a"), msg("assistant", "b")],
        [msg("user", "c")],
        [msg("user", "d"), msg("assistant", "e")],
    ])
    kept, dropped = Validate().split(table)
    assert kept["id"].to_pylist() == ["0", "2"]
    assert dropped["id"].to_pylist() == ["1"]
    assert dropped["reason"].to_pylist() == ["no assistant turn"]


def test_preference_and_text_reasons():
    pref = pa.table({
        "id": ["0", "1", "2", "3"],
        "prompt": pa.array([[msg("user", "q")], [], [msg("user", "q")], [msg("user", "q")]], MESSAGES),
        "chosen": pa.array([[msg("assistant", "good")], [msg("assistant", "x")], [msg("assistant", "  ")],
                            [msg("assistant", "same")]], MESSAGES),
        "rejected": pa.array([[msg("assistant", "bad")], [msg("assistant", "y")], [msg("assistant", "z")],
                              [msg("assistant", "same")]], MESSAGES),
    })
    assert Validate().reasons(pref).to_pylist() == [
        None, "empty prompt", "empty answer: chosen", "chosen equals rejected"]
    text = pa.table({"id": ["0", "1", "2"], "text": ["hello", "   ", None]})
    assert Validate().reasons(text).to_pylist() == [None, "empty text", "empty text"]
