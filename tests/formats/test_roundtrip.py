"""A -> B -> A gives every record back exactly (JSON value equality) for every pair of formats and both
kinds, including tools and tool calls; what B cannot express is refused with a reason."""

import json

import pytest

from curate.formats import to_records
from formats_fixtures import (ALPACA, ALPACA_PREF, OPENAI, SHAREGPT, SHAREGPT_PREF, TEXT, TRL_COMPLETION,
                              TRL_IMPLICIT, TRL_PREF, norm)

SOURCES = {
    "alpaca": ALPACA, "alpaca-preference": ALPACA_PREF, "sharegpt": SHAREGPT, "sharegpt-preference": SHAREGPT_PREF,
    "openai": OPENAI, "trl-preference": TRL_PREF, "trl-implicit": TRL_IMPLICIT, "trl-completion": TRL_COMPLETION,
}
TARGETS = ("alpaca", "sharegpt", "openai", "trl")
TOOLS_IN_ALPACA = "cannot express: tool calls in alpaca"
REFUSED = {
    ("sharegpt", "alpaca"): {0: TOOLS_IN_ALPACA, 3: TOOLS_IN_ALPACA},
    ("openai", "alpaca"): {0: TOOLS_IN_ALPACA, 1: "cannot express: message fields ['loss_weight'] in alpaca",
                           2: "cannot express: reasoning in alpaca", 3: "cannot express: reasoning in alpaca"},
}


def round_trip(records: list[dict], target: str):
    detection, canonical, rejects = norm(records, "in/source.jsonl")
    assert rejects.num_rows == 0
    middle, refused = to_records(canonical, target)
    refused_at = {canonical["id"].to_pylist().index(i): r for i, r in zip(refused["id"].to_pylist(), refused["reason"].to_pylist())}
    if not middle:
        return middle, [], refused_at
    _, again, rejects = norm(json.loads(json.dumps(middle)), "in/middle.jsonl")
    assert rejects.to_pylist() == []
    back, refused_back = to_records(again, detection.format)
    assert refused_back.num_rows == 0
    return middle, back, refused_at


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", SOURCES)
def test_a_to_b_to_a_is_exact(source, target):
    records = SOURCES[source]
    middle, back, refused = round_trip(records, target)
    assert refused == REFUSED.get((source, target), {})
    assert back == [r for i, r in enumerate(records) if i not in refused]
    assert len(middle) == len(records) - len(refused)


def test_text_round_trip_and_refusal_across_kinds():
    middle, back, refused = round_trip(TEXT, "text")
    assert back == TEXT and middle == TEXT
    _, canonical, _ = norm(TEXT)
    assert to_records(canonical, "alpaca")[1]["reason"].to_pylist() == ["cannot express: text records in alpaca"] * 2


def test_a_format_written_to_itself_is_unchanged_and_carries_no_hints():
    for source in SOURCES:
        _, canonical, _ = norm(SOURCES[source])
        fmt = source.split("-")[0]
        assert to_records(canonical, fmt)[0] == SOURCES[source]


def test_sharegpt_to_openai_shape():
    middle, _, _ = round_trip(SHAREGPT[:1], "openai")
    assert middle == [{
        "messages": [
            {"role": "system", "content": "Use tools."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None,
             "tool_calls": [{"function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
            {"role": "tool", "content": '{"temp": 21}'},
            {"role": "assistant", "content": "It is 21°C."},
        ],
        "tools": json.loads(SHAREGPT[0]["tools"]),
    }]


def test_openai_tool_calls_to_sharegpt_keep_ids_and_names():
    middle, _, _ = round_trip(OPENAI[:1], "sharegpt")
    assert middle[0]["system"] == "Be brief."
    assert middle[0]["conversations"][1:3] == [
        # arguments that json.dumps would not write back byte for byte stay a string
        {"from": "function_call",
         "value": '{"id": "call_1", "type": "function", "name": "get_weather", "arguments": "{\\"city\\":\\"Oslo\\"}"}'},
        {"from": "observation", "value": "-3", "name": "get_weather", "tool_call_id": "call_1"},
    ]
    assert json.loads(middle[0]["tools"]) == OPENAI[0]["tools"]


def test_alpaca_to_sharegpt_shape_and_hint():
    middle, _, _ = round_trip(ALPACA[:1], "sharegpt")
    assert middle == [{"system": "Tu es poli.",
                       "conversations": [{"from": "human", "value": "Translate to French:\n  Good  morning\n"},
                                         {"from": "gpt", "value": "Bonjour ☀️"}],
                       "_curate": {"alpaca": {"input_chars": 16}}}]


EDGE = [
    {"messages": [{"role": "user", "content": "q", "name": "alice"},
                  {"role": "assistant", "content": "", "tool_calls": [{"id": "c", "type": "function",
                                                                       "function": {"name": "f", "arguments": {"k": [1, 2]}}}]},
                  {"role": "tool", "content": "r", "tool_call_id": "c"},
                  {"role": "system", "content": "late system"}, {"role": "assistant", "content": "a"}]},
    {"messages": [{"role": "system", "content": "s1"}, {"role": "system", "content": "s2"},
                  {"role": "user", "content": [{"type": "text", "text": "hi"}], "meta": {"x": None}},
                  {"role": "assistant", "content": [{"type": "text", "text": "yo"}],
                   "tool_calls": [{"function": {"name": "g", "arguments": "not json"}}]}]},
    {"messages": [{"role": "user", "content": "no content key next"}, {"role": "assistant", "tool_calls": []}]},
    {"messages": [], "tools": "[]"},
]


@pytest.mark.parametrize("target", ["sharegpt", "openai", "trl"])
def test_edge_openai_records_round_trip(target):
    _, back, refused = round_trip(EDGE, target)
    expected_refused = {3: "cannot express: a conversation without a completion in trl"} if target == "trl" else {}
    assert refused == expected_refused
    assert back == [r for i, r in enumerate(EDGE) if i not in refused]


def test_reasoning_given_twice_is_rejected():
    record = {"messages": [{"role": "assistant", "content": [{"type": "reasoning", "value": "a"}], "reasoning_content": "b"}]}
    _, _, rejects = norm([record])
    assert rejects["reason"].to_pylist() == ["unsupported content: reasoning parts and a reasoning key in turn 1"]
