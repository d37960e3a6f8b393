import pyarrow as pa
import pyarrow.compute as pc

from curate.records import MESSAGES, derived_ids, file_key, map_texts, text_view


def msg(role, content, calls=None, reasoning=None):
    return {"role": role, "content": content, "name": None, "tool_calls": calls, "tool_call_id": None,
            "reasoning": reasoning, "extra": None}


def test_text_view_scopes_for_conversations():
    table = pa.table({"id": ["0", "1"], "messages": pa.array([
        [msg("system", "S"), msg("user", "Q1"), msg("assistant", "A1"), msg("user", "Q2"), msg("assistant", "A2")],
        [msg("user", "only question")],
    ], MESSAGES)})
    assert text_view(table, "all").to_pylist() == [
        "system: S\nuser: Q1\nassistant: A1\nuser: Q2\nassistant: A2", "user: only question"]
    assert text_view(table, "prompt").to_pylist() == ["system: S\nuser: Q1\nassistant: A1\nuser: Q2", ""]
    assert text_view(table, "response").to_pylist() == ["A2", ""]


def test_text_view_preference_and_text():
    pref = pa.table({"id": ["0"], "prompt": pa.array([[msg("user", "Q")]], MESSAGES),
                     "chosen": pa.array([[msg("assistant", "good")]], MESSAGES),
                     "rejected": pa.array([[msg("assistant", "bad")]], MESSAGES)})
    assert text_view(pref, "all").to_pylist() == ["user: Q\n\nassistant: good\n\nassistant: bad"]
    assert text_view(pref, "response").to_pylist() == ["good\n\nbad"]
    text = pa.table({"id": ["0"], "text": ["plain"]})
    assert text_view(text, "prompt").to_pylist() == ["plain"]


def test_map_texts_rewrites_content_reasoning_and_tool_arguments_only():
    calls = [{"id": "c", "type": "function", "name": "lookup", "arguments": '{"q": "x"}'}]
    table = pa.table({"id": ["0", "1"], "messages": pa.array([
        [msg("user", "hi"), msg("assistant", None, calls, reasoning="think")],
        None,
    ], MESSAGES)})
    upper = map_texts(table, lambda a: pc.utf8_upper(a))
    rows = upper["messages"].to_pylist()
    assert rows[0][0]["content"] == "HI"
    assert rows[0][1]["content"] is None
    assert rows[0][1]["reasoning"] == "THINK"
    assert rows[0][1]["tool_calls"] == [{"id": "c", "type": "function", "name": "lookup", "arguments": '{"Q": "X"}'}]
    assert rows[0][1]["role"] == "assistant"
    assert rows[1] is None


def test_derived_ids_are_stable_and_readable():
    key = file_key("raw/a.jsonl")
    assert key == file_key("raw/a.jsonl") and len(key) == 8 and key != file_key("raw/b.jsonl")
    assert derived_ids(key, pa.array([0, 17], pa.int64())).to_pylist() == [f"{key}:0", f"{key}:17"]


def test_map_texts_on_a_sliced_table_keeps_rows_aligned():
    calls = [{"id": "c", "type": "function", "name": "f", "arguments": "a1"}]
    table = pa.table({"id": ["0", "1", "2"], "messages": pa.array([
        [msg("user", "first")],
        [msg("user", "second"), msg("assistant", None, calls)],
        [msg("user", "third")],
    ], MESSAGES)})
    out = map_texts(table.slice(1, 2), lambda a: pc.utf8_upper(a))
    rows = out["messages"].to_pylist()
    assert [[m["content"] for m in r] for r in rows] == [["SECOND", None], ["THIRD"]]
    assert rows[0][1]["tool_calls"][0]["arguments"] == "A1"
