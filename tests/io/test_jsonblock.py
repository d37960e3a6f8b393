"""parse_lines: the block parser under the JSONL and JSON-array readers."""

from __future__ import annotations

import numpy as np

import curate.io.jsonblock as jb


def lines_of(*records: bytes) -> jb.Lines:
    lens = np.array([len(r) for r in records], np.int64)
    ends = np.cumsum(lens + 1) - 1
    return jb.Lines(b"\n".join(records), ends - lens, ends, np.arange(len(records)))


def test_fast_path_is_one_piece():
    parsed = jb.parse_lines(lines_of(b'{"a":1}', b'{"a":2,"b":"x"}'))
    assert parsed.table.to_pylist() == [{"a": 1, "b": None}, {"a": 2, "b": "x"}]
    assert parsed.good.tolist() == [True, True] and parsed.rejects == []


def test_majority_wins_even_when_the_minority_comes_first():
    parsed = jb.parse_lines(lines_of(b'{"a":1}', b'{"a":2}', b'{"a":"x"}', b'{"a":"y"}',
                                     b'{"a":"z"}', b'{"a":null}'))
    assert parsed.good.tolist() == [False, False, True, True, True, True]
    assert parsed.rejects == []
    assert parsed.loose == [0, 1]  # valid objects whose types do not fit: the caller's loose path
    assert parsed.table.column("a").to_pylist() == ["x", "y", "z", None]


def test_int_and_float_are_one_json_type():
    parsed = jb.parse_lines(lines_of(b'{"a":1}', b"{bad", b'{"a":1.5}'))
    assert parsed.table.column("a").to_pylist() == [1.0, 1.5]
    assert [k for k, _ in parsed.rejects] == [1]


def test_safety_net_when_pieces_do_not_concatenate(monkeypatch):
    monkeypatch.setattr(jb, "_reconcile", lambda pieces, bad: pieces)  # as if it missed a conflict
    parsed = jb.parse_lines(lines_of(b'{"a":"x"}', b'{"a":"y"}', b'{"a":1}', b'{"a":"z"}'))
    assert parsed.table.to_pylist() == [{"a": "x"}, {"a": "y"}, {"a": "z"}]
    assert parsed.good.tolist() == [True, True, False, True]
    assert (parsed.rejects, parsed.loose) == ([], [2])


def test_elements_are_named_by_index():
    lines = lines_of(b'{"a":"x"}', b'{"a":[1]}', b'{"a":"y"}')
    lines.unit = "element"
    parsed = jb.parse_lines(lines)
    assert (parsed.rejects, parsed.loose) == ([], [1])
