"""Fixtures for the PII stage tests: canonical tables built here, one Presidio engine per session."""

from __future__ import annotations

import pyarrow as pa
import pytest

from curate.records import SCHEMAS


def message(role: str, content: str | None, calls: list[dict] | None = None, reasoning: str | None = None) -> dict:
    return {"role": role, "content": content, "name": None, "tool_calls": calls, "tool_call_id": None,
            "reasoning": reasoning, "extra": None}


def call(arguments: str) -> dict:
    return {"id": "call_1", "type": "function", "name": "lookup", "arguments": arguments}


def conversation_table(conversations: list[list[dict]]) -> pa.Table:
    rows = [{"id": f"r{i}", "messages": m, "tools": None, "extra": None,
             "source": {"file": "t.jsonl", "index": i, "format": "openai"}} for i, m in enumerate(conversations)]
    return pa.Table.from_pylist(rows, schema=SCHEMAS["conversation"])


@pytest.fixture(scope="session")
def find():
    """find(text) -> sorted [(TYPE, value)] as the stage decides them (pre-filter + Presidio)."""
    from curate.stages.pii import PiiConfig
    from curate.stages.pii.recognizers import analyzer
    from curate.stages.pii.scan import detect, prefilter

    cfg = PiiConfig()
    engine = analyzer(None, cfg.threshold)

    def run(text: str) -> list[tuple[str, str]]:
        index, hits = prefilter(pa.array([text]), cfg.pattern_entities())
        if not len(index):
            return []
        spans = detect(engine, [text], hits, cfg.threshold)[0]
        return sorted((s.entity, text[s.start : s.end]) for s in spans)

    return run
