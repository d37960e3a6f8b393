"""Odd rows are rejected (or kept) but never crash normalise or export."""

import pyarrow as pa
import pytest

from curate.formats import Detection, export, normalise, to_records
from formats_fixtures import norm

ODD = [
    None, 1, "x", [], {}, [1, 2], {"a": None}, {"_curate": "not an object"}, {"_curate": {"openai": 3}},
    {"role": None}, {"role": "user", "content": None, "tool_calls": {"a": 1}},
    {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": [1, 2]}}]},
    {"role": "assistant", "content": [{"type": "tool_call", "value": "{\"name\": \"f\"}"}]},
    {"from": "function_call", "value": "[]"}, {"from": "gpt", "value": "", "_curate": {"sharegpt": {"from": "bot"}}},
]
SHAPES = {
    "openai": lambda v: {"messages": [v]},
    "sharegpt": lambda v: {"conversations": [v]},
    "alpaca": lambda v: {"instruction": v, "output": "o", "history": v},
    "trl": lambda v: {"prompt": [v], "completion": v},
    "text": lambda v: {"text": v},
}


@pytest.mark.parametrize("fmt", SHAPES)
def test_odd_values_never_crash(fmt):
    records = [SHAPES[fmt](v) for v in ODD]
    kind = "text" if fmt == "text" else "conversation"
    _, canonical, rejects = norm(records, "odd.jsonl", Detection(fmt, kind, ""))
    assert canonical.num_rows + rejects.num_rows == len(records)
    for target in ("alpaca", "sharegpt", "openai", "trl", "text"):
        table, refused = export(canonical, target)
        assert table.num_rows + refused.num_rows == canonical.num_rows
        records_out, refused = to_records(canonical, target)
        assert len(records_out) + refused.num_rows == canonical.num_rows


def test_empty_batch():
    table = pa.table({"instruction": pa.array([], pa.string()), "output": pa.array([], pa.string())})
    canonical, rejects = normalise(table, Detection("alpaca", "conversation", ""), file_rel="e.jsonl",
                                   raw=pa.array([], pa.large_string()), index=pa.array([], pa.int64()))
    assert (canonical.num_rows, rejects.num_rows) == (0, 0)
    assert export(canonical, "openai")[0].num_rows == 0
