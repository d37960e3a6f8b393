"""Small records in every format, built to exercise what a round trip can lose: whitespace, unicode,
system prompts, multi-turn history, tools and tool calls, preference pairs, extra fields."""

from __future__ import annotations

import json

import pyarrow as pa

from curate.formats import detect, normalise

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
TOOLS_TEXT = json.dumps(TOOLS, ensure_ascii=False)

ALPACA = [
    {"instruction": "Translate to French:", "input": "  Good  morning\n", "output": "Bonjour ☀️", "system": "Tu es poli."},
    {"instruction": "Continue", "input": "", "output": "Sure.", "history": [["hi", "hello"], ["how are you?", "fine"]]},
    {"instruction": "No input key", "output": "ok", "meta": {"source": "web", "score": 0.5}, "id": "a-3"},
    {"instruction": "", "input": "only input", "output": "x", "history": []},
    {"instruction": "Weather tool available", "input": "", "output": "ok", "tools": TOOLS_TEXT},
]
ALPACA_PREF = [
    {"instruction": "Pick one", "input": "a or b", "chosen": "a", "rejected": "b", "system": "S"},
    {"instruction": "Again", "input": "", "chosen": "yes", "rejected": "no", "history": [["q", "r"]], "tools": TOOLS},
]
SHAREGPT = [
    {"conversations": [{"from": "human", "value": "Weather in Paris?"},
                       {"from": "function_call", "value": "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}"},
                       {"from": "observation", "value": "{\"temp\": 21}"},
                       {"from": "gpt", "value": "It is 21°C."}],
     "tools": TOOLS_TEXT, "system": "Use tools."},
    {"conversations": [{"from": "system", "value": "In-turn system"}, {"from": "human", "value": "Hi"},
                       {"from": "gpt", "value": "Hello!  "}], "lang": "en"},
    {"messages": [{"from": "user", "value": "tag user"}, {"from": "assistant", "value": "tag assistant"}]},
    {"conversations": [{"from": "human", "value": "two calls"},
                       {"from": "function_call", "value": "[{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": \"{\\\"x\\\":1}\"}]"},
                       {"from": "observation", "value": "r"}, {"from": "gpt", "value": "done"}]},
]
SHAREGPT_PREF = [
    {"conversations": [{"from": "human", "value": "Q?"}], "chosen": {"from": "gpt", "value": "good"},
     "rejected": {"from": "gpt", "value": "bad"}},
    {"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"},
                       {"from": "human", "value": "Q2"}],
     "chosen": {"from": "gpt", "value": "good"}, "rejected": {"from": "gpt", "value": "bad"}, "tools": TOOLS_TEXT},
]
OPENAI = [
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather?"},
                  {"role": "assistant", "content": None,
                   "tool_calls": [{"id": "call_1", "type": "function",
                                   "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
                  {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "-3"},
                  {"role": "assistant", "content": "Cold: -3°C."}],
     "tools": TOOLS},
    {"messages": [{"role": "user", "content": [{"type": "text", "value": "parts"}], "loss_weight": 0.0},
                  {"role": "assistant", "content": [{"type": "reasoning", "value": "think"}, {"type": "text", "value": "answer"}],
                   "loss_weight": 1.0}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                  {"role": "assistant", "content": "c", "reasoning": "r"}], "id": 7},
    {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "reasoning_content": "z"}],
     "tools": TOOLS_TEXT},
]
TRL_PREF = [
    {"prompt": "Standard prompt", "chosen": "good", "rejected": "bad"},
    {"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}],
     "chosen": [{"role": "assistant", "content": "good"}], "rejected": [{"role": "assistant", "content": "bad"}],
     "tools": TOOLS},
]
TRL_IMPLICIT = [
    {"chosen_messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}],
     "rejected_messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}]},
]
TRL_COMPLETION = [
    {"prompt": "p", "completion": "c"},
    {"prompt": [{"role": "user", "content": "p"}],
     "completion": [{"role": "assistant", "content": "c1"}, {"role": "user", "content": "more"},
                    {"role": "assistant", "content": "c2"}]},
]
TEXT = [{"text": "Plain text.\n\nSecond paragraph."}, {"text": "  spaced  ", "url": "http://example.test"}]


def table_of(records: list[dict]) -> pa.Table:
    """The batch a reader would hand over: Arrow-typed columns (all keys of all records), or JSON text for
    a column whose values Arrow cannot type together."""
    names = list(dict.fromkeys(k for r in records for k in r))
    columns = {}
    for name in names:
        values = [r.get(name) for r in records]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else json.dumps(v) for v in values], pa.string())
    return pa.table(columns)


def norm(records: list[dict], rel: str = "data/in.jsonl", detection=None):
    """(detection, canonical, rejects) of ``records`` as one batch of file ``rel``."""
    table = table_of(records)
    detection = detection or detect(table, rel)
    raw = pa.array([json.dumps(r, ensure_ascii=False) for r in records], pa.large_string())
    canonical, rejects = normalise(table, detection, file_rel=rel, raw=raw, index=pa.array(range(len(records)), pa.int64()))
    return detection, canonical, rejects


def msg(role: str, content: str | None, **fields) -> dict:
    """A canonical message with extras as a dict (as `rows` returns them)."""
    out = {"role": role, "content": content, "name": None, "tool_calls": None, "tool_call_id": None,
           "reasoning": None, "extra": None}
    out.update(fields)
    return out


def rows(canonical: pa.Table) -> list[dict]:
    """Canonical rows with ``extra`` (record and message level) decoded, without ``raw``."""
    out = canonical.drop_columns(["raw"]).to_pylist()
    for row in out:
        row["extra"] = json.loads(row["extra"]) if row["extra"] else None
        for name in ("messages", "prompt", "chosen", "rejected"):
            for m in row.get(name) or []:
                m["extra"] = json.loads(m["extra"]) if m["extra"] else None
    return out
