"""Plain text for continued pre-training: ``{text}`` (or ``{content}``, hint ``key``='content')."""

from __future__ import annotations

from curate.formats.common import RowError, Unexpressible, expect_str, require, split_extra, with_hints

NS = "text"


def parse(rec: dict, kind: str, nulls_absent: bool = False) -> dict:
    key = "text" if "text" in rec else "content"
    if rec.get(key) is None:
        raise RowError("missing field", "'text'")
    hints = {"key": "content"} if key == "content" else {}
    return {"text": expect_str(require(rec, key), key),
            "extra": with_hints({k: v for k, v in rec.items() if k != key}, NS, hints)}


def build(row: dict, kind: str) -> tuple[dict, dict]:
    if kind != "text":
        raise Unexpressible(f"{kind} records in text")
    extra, hints = split_extra(row["extra"], NS)
    return {hints.get("key", "text"): row["text"]}, extra
