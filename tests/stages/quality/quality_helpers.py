"""Small batches of each kind, built in the tests (no shared fixtures)."""

from __future__ import annotations

import pyarrow as pa

from curate.records import SCHEMAS


def msg(role, content, calls=None):
    return {"role": role, "content": content, "name": None, "tool_calls": calls or [], "tool_call_id": None,
            "reasoning": None, "extra": None}


def _common(n):
    return {"id": [str(i) for i in range(n)], "extra": [None] * n,
            "source": [{"file": "t.jsonl", "index": i, "format": "test"} for i in range(n)]}


def conversations(rows):
    """rows: list of message lists, or (prompt, answer) pairs."""
    rows = [[msg("user", r[0]), msg("assistant", r[1])] if isinstance(r, tuple) else r for r in rows]
    return pa.table({**_common(len(rows)), "messages": rows, "tools": [None] * len(rows)},
                    schema=SCHEMAS["conversation"])


def preferences(rows):
    """rows: (prompt, chosen, rejected) strings."""
    data = {"prompt": [[msg("user", p)] for p, _, _ in rows], "chosen": [[msg("assistant", c)] for _, c, _ in rows],
            "rejected": [[msg("assistant", r)] for _, _, r in rows], "tools": [None] * len(rows)}
    return pa.table({**_common(len(rows)), **data}, schema=SCHEMAS["preference"])


def texts(values):
    return pa.table({**_common(len(values)), "text": values}, schema=SCHEMAS["text"])


def run(stages, batch):
    """Annotate with every annotator, then return (annotated batch, reasons of the filter)."""
    reasons = None
    for stage in stages:
        if hasattr(stage, "annotate"):
            batch = stage.annotate(batch)
        else:
            reasons = stage.reasons(batch).to_pylist()
    return batch, reasons
