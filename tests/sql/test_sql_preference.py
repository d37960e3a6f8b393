"""Contracts and the report on a preference dataset (prompt / chosen / rejected)."""

from __future__ import annotations

from pathlib import Path

from curate.report import build_report
from curate.sql import check


def pref(builder, row_id: str, prompt, chosen, rejected) -> dict:
    lists = {k: [builder.msg(r, c) for r, c in v] for k, v in (("prompt", prompt), ("chosen", chosen), ("rejected", rejected))}
    return {"id": row_id, **lists, "tools": None, "extra": None, "source": {"file": "p.jsonl", "index": 0, "format": "trl"}}


def test_preference_role_grammar_and_empty_turns(tmp_path: Path, builder):
    rows = [
        pref(builder, "good", [("system", "s"), ("user", "q")], [("assistant", "yes")], [("assistant", "no")]),
        pref(builder, "prompt-ends-on-assistant", [("user", "q"), ("assistant", "a")], [("assistant", "x")], [("assistant", "y")]),
        pref(builder, "chosen-by-user", [("user", "q")], [("user", "x")], [("assistant", "y")]),
        pref(builder, "empty-rejected", [("user", "q")], [("assistant", "x")], [("assistant", " ")]),
    ]
    out = builder.write_dataset(tmp_path / "out", rows, [], kind="preference")
    results = {r.name: r for r in check(out)}
    assert results["schema-valid"].status == "ok"
    assert (results["role-grammar"].count, sorted(results["role-grammar"].examples)) == (2, ["chosen-by-user", "prompt-ends-on-assistant"])
    assert (results["no-empty-turns"].count, results["no-empty-turns"].examples) == (1, ["empty-rejected"])


def test_preference_report(tmp_path: Path, builder):
    rows = [pref(builder, "p1", [("user", "Which is larger, 3 or 5?")], [("assistant", "5")], [("assistant", "3")])]
    html = build_report(builder.write_dataset(tmp_path / "out", rows, [], kind="preference"))
    assert 'data-chart="lengths"' in html and "Prompt turns per pair" in html
    assert "<dt>prompt/user</dt><dd>Which is larger, 3 or 5?</dd>" in html
    assert "<dt>chosen/assistant</dt><dd>5</dd><dt>rejected/assistant</dt><dd>3</dd>" in html
    assert "max 26 (characters)" in html  # 24 + 1 + 1
