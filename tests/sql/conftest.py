"""A small cleaned dataset (5 kept rows over 2 shards, 3 rejects) written the way `curate clean` writes it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pyarrow as pa
import pytest


def _load_builder():
    name = "curate_tests_make_dataset"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("make_dataset.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


md = _load_builder()

TOOL_CALL = {"id": "call_1", "type": "function", "name": "weather", "arguments": '{"city": "Paris"}'}
ROWS = [
    md.conv("a:0", ("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!")),
    md.conv("a:1", ("user", "Weather in Paris?"), md.msg("assistant", None, tool_calls=[TOOL_CALL]),
            md.msg("tool", "sunny", tool_call_id="call_1"), ("assistant", "It is sunny."), index=1),
    md.conv("a:2", ("user", "Mail bob@example.com or call +1 415 555 0199"), ("assistant", "Done."), index=2),
    md.conv("b:0", ("user", "1+1?"), ("assistant", "2"), ("user", "2+2?"), ("assistant", "4"), file="raw/b.json"),
    md.conv("b:1", ("user", "Translate 'cat'"), ("assistant", "chat"), file="raw/b.json", index=1),
]
REJECTS = [
    md.reject("a:3", "validate", "empty turn", index=3),
    md.reject("a:4", "dedup", "duplicate", duplicate_of="a:0", index=4),
    md.reject("b:2", "pii", "pii: EMAIL", index=2),
]
BY_STAGE = {
    "validate": {"rows_in": 8, "rows_out": 7, "dropped": {"empty turn": 1}, "seconds": 0.5},
    "dedup": {"rows_in": 7, "rows_out": 6, "dropped": {"duplicate": 1}, "seconds": 0.25},
    "pii": {"rows_in": 6, "rows_out": 5, "dropped": {"pii: EMAIL": 1}, "seconds": 1.0},
}
ANNOTATIONS = {
    "lang": (pa.string(), ["en", "en", "de", "zh", "en"]),
    "quality_score": (pa.float64(), [0.9, 0.75, 0.5, 0.25, 0.05]),
    "pii_types": (pa.list_(pa.string()), [[], [], ["EMAIL", "PHONE"], None, ["EMAIL"]]),
}


@pytest.fixture
def builder():
    return md


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return md.write_dataset(tmp_path / "out", ROWS, REJECTS, annotations=ANNOTATIONS, data_shards=2, by_stage=BY_STAGE)
