"""`curate inspect`: what each input file is and what is wrong with it, without writing anything."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from curate.errors import CurateError
from curate.records import kind_of
from curate.units import reason_label

PREVIEW_CHARS = 70


def _preview(text: str | None) -> str:
    from curate.report.mask import mask  # personal data never reaches the terminal

    text = mask(text or "").replace("\n", "\\n")
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _sample_lines(table: pa.Table, n: int) -> list[str]:
    kind = kind_of(table.schema)
    lines = []
    for row in table.slice(0, n).to_pylist():
        if kind == "text":
            shown = _preview(row["text"])
        else:
            turns = row["messages"] if kind == "conversation" else row["prompt"] + row["chosen"][:1]
            shown = " | ".join(f"{t['role']}: {_preview(t['content'])}" for t in turns[:4])
        lines.append(f"    {row['id']}: {shown}")
    return lines


def inspect_inputs(inputs: list[Path], *, sample_rows: int = 2) -> Iterator[str]:
    from curate import formats
    from curate.io.discover import discover
    from curate.io.readers import read_file
    from curate.stages.validate import Validate

    files, skipped = discover(inputs)
    totals: Counter = Counter()
    for file in files:
        problems: Counter = Counter()
        records = 0
        detection = None
        samples: list[str] = []
        error = None
        for read in read_file(file):
            records += read.table.num_rows + read.rejects.num_rows
            problems.update(f"{s}/{reason_label(r)}" for s, r in
                            zip(read.rejects["stage"].to_pylist(), read.rejects["reason"].to_pylist()))
            if read.table.num_rows == 0 or error:
                continue
            try:
                detection = detection or formats.detect(read.table, file.rel)
            except CurateError as exc:
                error = str(exc)
                continue
            canonical, rejects = formats.normalise(read.table, detection, file_rel=file.rel, raw=read.raw,
                                                   index=read.index, exact=read.loose)
            problems.update(f"schema/{reason_label(r)}" for r in rejects["reason"].to_pylist())
            reasons = Validate().reasons(canonical)
            problems.update(f"validate/{reason_label(r)}" for r in reasons.to_pylist() if r)
            if len(samples) < sample_rows:
                samples += _sample_lines(canonical, sample_rows - len(samples))
        totals["records"] += records
        totals["problems"] += sum(problems.values())
        what = f"{detection.format} ({detection.kind})" if detection else f"unknown format: {error}"
        yield f"{file.rel}: {what}, {records} records, {sum(problems.values())} with problems"
        if detection:
            yield f"  detected: {detection.note}"
        for key, n in sorted(problems.items(), key=lambda kv: (-kv[1], kv[0])):
            yield f"  problem {key}: {n}"
        if samples:
            yield "  sample:"
            yield from samples
    for item in skipped:
        yield f"{item['file']}: skipped ({item['note']})"
    yield f"{len(files)} file{'' if len(files) == 1 else 's'}, {totals['records']} records, {totals['problems']} with problems"
