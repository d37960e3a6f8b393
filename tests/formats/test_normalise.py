import json

import pyarrow as pa
import pytest

from curate.formats import Detection, detect, file_key, normalise
from curate.formats import fast
from curate.records import REJECT_SCHEMA, SCHEMAS
from formats_fixtures import ALPACA, OPENAI, SHAREGPT, TEXT, TRL_PREF, msg, norm, rows


def test_alpaca_rows_become_conversations_with_system_history_and_split_hints():
    _, canonical, rejects = norm(ALPACA, "raw/alpaca.json")
    assert rejects.num_rows == 0
    assert canonical.schema.names == SCHEMAS["conversation"].names + ["raw"]
    got = rows(canonical)
    key = file_key("raw/alpaca.json")
    assert [r["id"] for r in got] == [f"{key}:0", f"{key}:1", "a-3", f"{key}:3", f"{key}:4"]
    assert got[0]["messages"] == [msg("system", "Tu es poli."), msg("user", "Translate to French:\n  Good  morning\n"),
                                  msg("assistant", "Bonjour ☀️")]
    assert got[0]["extra"] == {"_curate": {"alpaca": {"input_chars": 16}}}
    assert [m["content"] for m in got[1]["messages"]] == ["hi", "hello", "how are you?", "fine", "Continue", "Sure."]
    assert got[1]["extra"] is None
    assert got[2]["extra"] == {"meta": {"source": "web", "score": 0.5}, "_curate": {"alpaca": {"no_input": True}}}
    assert got[3]["messages"][0] == msg("user", "only input")
    assert got[3]["extra"] == {"_curate": {"alpaca": {"input_chars": 10, "history": "empty"}}}
    assert got[0]["source"] == {"file": "raw/alpaca.json", "index": 0, "format": "alpaca"}
    assert json.loads(canonical["raw"][2].as_py()) == ALPACA[2]


def test_sharegpt_tool_calls_become_assistant_tool_calls_and_observations_tool_messages():
    _, canonical, _ = norm(SHAREGPT)
    first = rows(canonical)[0]
    assert first["messages"] == [
        msg("system", "Use tools."),
        msg("user", "Weather in Paris?"),
        msg("assistant", None, tool_calls=[{"id": None, "type": None, "name": "get_weather", "arguments": '{"city": "Paris"}'}]),
        msg("tool", '{"temp": 21}'),
        msg("assistant", "It is 21°C."),
    ]
    assert json.loads(first["tools"])[0]["function"]["name"] == "get_weather"
    second = rows(canonical)[1]
    assert second["extra"] == {"lang": "en", "_curate": {"sharegpt": {"system": "turn"}}}
    third = rows(canonical)[2]
    assert third["messages"][0]["extra"] == {"_curate": {"sharegpt": {"from": "user"}}}
    assert third["extra"] == {"_curate": {"sharegpt": {"key": "messages"}}}
    calls = rows(canonical)[3]["messages"][1]
    assert [c["arguments"] for c in calls["tool_calls"]] == ["{}", '{"x":1}']


def test_openai_parts_reasoning_and_unknown_message_keys():
    _, canonical, rejects = norm(OPENAI)
    assert rejects.num_rows == 0
    got = rows(canonical)
    assert got[0]["messages"][2]["tool_calls"] == [{"id": "call_1", "type": "function", "name": "get_weather",
                                                    "arguments": '{"city":"Oslo"}'}]
    assert got[0]["messages"][3] == msg("tool", "-3", name="get_weather", tool_call_id="call_1")
    assert got[1]["messages"][1] == msg("assistant", "answer", reasoning="think", extra={
        "loss_weight": 1.0, "_curate": {"openai": {"parts": ["reasoning", "text"], "part_key": "value"}}})
    assert got[2]["messages"][0]["content"] == "ab"
    assert got[2]["messages"][0]["extra"] == {"_curate": {"openai": {"parts": [["text", 1], "text"]}}}
    assert got[2]["id"] == "7" and got[2]["extra"] == {"id": 7}
    assert got[3]["messages"][1]["reasoning"] == "z"
    assert got[3]["extra"] == {"_curate": {"openai": {"tools": "text"}}}


def test_trl_standard_preference():
    _, canonical, _ = norm(TRL_PREF)
    got = rows(canonical)[0]
    assert (got["prompt"], got["chosen"], got["rejected"]) == ([msg("user", "Standard prompt")], [msg("assistant", "good")],
                                                             [msg("assistant", "bad")])
    assert got["extra"] == {"_curate": {"trl": {"standard": True}}}


def test_text_keeps_unknown_fields():
    _, canonical, _ = norm(TEXT)
    assert rows(canonical)[1]["text"] == "  spaced  "
    assert rows(canonical)[1]["extra"] == {"url": "http://example.test"}


@pytest.mark.parametrize(
    "records, reason",
    [
        ([{"instruction": "x", "input": ""}], "missing field: 'output'"),
        ([{"instruction": ["x"], "output": "y"}], "wrong type: field 'instruction' is list, expected string"),
        ([{"instruction": "x", "output": "y", "history": [["a"]]}], "wrong type: history item 1 is not a [user, assistant] pair"),
        ([{"conversations": [{"from": "human", "value": "a"}, {"from": "bot", "value": "b"}]}], "unknown role: 'bot' in turn 2"),
        ([{"conversations": [{"from": "human", "value": 3}]}], "wrong type: field 'value' in turn 1 is number, expected string"),
        ([{"conversations": [{"from": "human"}]}], "missing field: 'value' in turn 1"),
        ([{"conversations": [{"from": "function_call", "value": "not json"}]}],
         "invalid tool call: function_call in turn 1: Expecting value: line 1 column 1 (char 0)"),
        ([{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}],
         "unsupported content: part type 'image_url' in turn 1"),
        ([{"messages": [{"role": "user", "content": {"a": 1}}]}], "wrong type: field 'content' in turn 1 is object, expected string"),
        ([{"messages": [{"content": "x"}]}], "missing field: 'role' in turn 1"),
        ([{"prompt": "p", "chosen": ["c"], "rejected": "r"}], "wrong type: field 'chosen' is list, expected string like 'prompt'"),
        ([{"text": 5}], "wrong type: field 'text' is number, expected string"),
    ],
)
def test_rows_that_do_not_fit_are_rejected_with_a_reason(records, reason):
    fmt = {"instruction": "alpaca", "conversations": "sharegpt", "messages": "openai", "prompt": "trl", "text": "text"}
    name = next(iter(records[0]))
    detection = Detection(fmt[name], "preference" if "chosen" in records[0] else "text" if name == "text" else "conversation", "")
    _, canonical, rejects = norm([records[0], records[0]], "raw/bad.jsonl", detection)
    assert canonical.num_rows == 0
    assert rejects.schema == REJECT_SCHEMA
    got = rejects.to_pylist()[1]
    assert got["reason"] == reason
    assert (got["stage"], got["source_file"], got["source_index"]) == ("schema", "raw/bad.jsonl", 1)
    assert got["id"] == f"{file_key('raw/bad.jsonl')}:1"
    assert json.loads(got["raw"]) == records[0]


def test_good_rows_are_kept_in_order_around_rejected_ones():
    records = [{"instruction": "a", "output": "1"}, {"instruction": "b"}, {"instruction": "c", "output": "3"}]
    _, canonical, rejects = norm(records)
    assert canonical["source"].to_pylist()[1]["index"] == 2
    assert [r["messages"][0]["content"] for r in rows(canonical)] == ["a", "c"]
    assert rejects["source_index"].to_pylist() == [1]


def test_csv_cells_holding_json_are_parsed_and_bad_ones_rejected():
    cells = ['[{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]', '[{"from": "human", ']
    table = pa.table({"conversations": cells, "system": ["S", None]})
    raw = pa.array([json.dumps({"conversations": c, "system": s}) for c, s in zip(cells, ["S", None])], pa.large_string())
    canonical, rejects = normalise(table, detect(table, "a.csv"), file_rel="a.csv", raw=raw, index=pa.array([0, 1], pa.int64()))
    assert [m["content"] for m in rows(canonical)[0]["messages"]] == ["S", "hi", "yo"]
    assert rejects["reason"].to_pylist() == [
        "invalid JSON in field 'conversations': Expecting property name enclosed in double quotes: line 1 column 20 (char 19)"]


@pytest.mark.parametrize("records", [ALPACA[:1] * 3 + ALPACA[2:3], SHAREGPT[1:3], OPENAI[:0] + [
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "label": True}], TEXT])
def test_vectorised_path_equals_the_per_row_path(records, monkeypatch):
    _, with_fast, _ = norm(records)
    monkeypatch.setattr(fast, "FAST", {})
    _, per_row, _ = norm(records)
    assert rows(with_fast) == rows(per_row)


def test_vectorised_path_takes_the_common_rows():
    records = [{"instruction": "a", "input": "b", "output": "c"}] * 3
    table = pa.Table.from_pylist(records)
    handled, _ = fast.FAST["alpaca"](table, "conversation")
    assert handled.tolist() == [True, True, True]


def test_empty_optional_csv_cells_mean_not_given():
    table = pa.table({"instruction": ["a"], "output": ["b"], "system": [""], "input": [""]})
    raw = pa.array([json.dumps({"instruction": "a", "output": "b", "system": "", "input": ""})], pa.large_string())
    canonical, _ = normalise(table, detect(table, "x.csv"), file_rel="x.csv", raw=raw, index=pa.array([0], pa.int64()))
    assert rows(canonical)[0]["messages"] == [msg("user", "a"), msg("assistant", "b")]
