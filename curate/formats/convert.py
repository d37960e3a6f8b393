"""`curate convert`: read files in any supported format, write one file in another.

Every input record ends either in the output or in ``<out stem>.rejects.jsonl`` (with its stage and
reason): records the readers could not read, records that do not fit their detected format, and records
the target cannot express. Records are converted in memory (convert is for files, `clean` for datasets).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import InputError, UsageError
from curate.formats.common import HINT_KEY, with_hints
from curate.formats.detect import FORMATS, Detection, detect
from curate.formats.export import records_and_refusals
from curate.formats.normalise import normalise

OUT_TYPES = (".json", ".jsonl", ".parquet")


@dataclass
class ConvertSummary:
    out: Path
    to: str
    files: list[dict] = field(default_factory=list)  # {"file", "format", "kind", "rows"}
    skipped: list[dict] = field(default_factory=list)  # {"file", "note"}
    converted: int = 0
    rejects: list[dict] = field(default_factory=list)  # {"file", "index", "id", "stage", "reason", "raw"}
    rejects_path: Path | None = None

    @property
    def reasons(self) -> Counter:
        return Counter(r["reason"] for r in self.rejects)


def recover_conflicts(rejects: pa.Table, detection: Detection, file_rel: str) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Re-read the reader's 'type conflict' rejects (free-form JSON such as tool schemas that Arrow cannot
    type) from their raw text: (canonical rows, schema rejects, the reader rejects that remain)."""
    conflict = pc.starts_with(rejects["reason"], "type conflict")
    found, rest = rejects.filter(conflict), rejects.filter(pc.invert(conflict))
    stub = pa.table({"_": pa.nulls(found.num_rows)})  # no columns: every row takes the per-row path
    canonical, schema_rejects = normalise(stub, detection, file_rel=file_rel, raw=found["raw"],
                                          index=found["source_index"])
    return canonical, schema_rejects, rest


def _read(file, summary: ConvertSummary) -> tuple[pa.Table | None, str | None]:
    """Canonical rows of one file (sorted by position) and its kind; rejects go to the summary."""
    from curate.io.readers import read_file

    batches = list(read_file(file))
    usable = [b for b in batches if b.table.num_rows and b.table.num_columns]
    first = next((b for b in usable if not getattr(b, "loose", False)), usable[0] if usable else None)
    detection = detect(first.table, file.rel) if first else None
    tables = []
    for b in batches:
        reader_rejects = b.rejects
        if detection is not None and b.table.num_rows:
            canonical, schema_rejects = normalise(b.table, detection, file_rel=file.rel, raw=b.raw, index=b.index,
                                                  exact=getattr(b, "loose", False))
            tables.append(canonical)
            _add_rejects(summary, file.rel, schema_rejects)
        if detection is not None and reader_rejects.num_rows:
            canonical, schema_rejects, reader_rejects = recover_conflicts(reader_rejects, detection, file.rel)
            tables.append(canonical)
            _add_rejects(summary, file.rel, schema_rejects)
        _add_rejects(summary, file.rel, reader_rejects)
    if detection is None:
        summary.files.append({"file": file.rel, "format": None, "kind": None, "rows": 0})
        return None, None
    table = pa.concat_tables(tables)
    order = pc.sort_indices(pc.struct_field(table["source"], "index"))
    summary.files.append({"file": file.rel, "format": detection.format, "kind": detection.kind, "rows": table.num_rows})
    return table.take(order), detection.kind


def _add_rejects(summary: ConvertSummary, file_rel: str, rejects: pa.Table) -> None:
    for r in rejects.to_pylist():
        summary.rejects.append({"file": file_rel, "index": r["source_index"], "id": r.get("id"),
                                "stage": r["stage"], "reason": r["reason"], "raw": r["raw"]})


def convert(inputs: list[Path], to: str, out: Path) -> ConvertSummary:
    """Convert every record of ``inputs`` to format ``to`` and write ``out`` (.json, .jsonl or .parquet)."""
    from curate.io.discover import discover

    if to not in FORMATS:
        raise UsageError(f"unknown target format {to!r}", hint=f"use one of {', '.join(FORMATS)}")
    if out.suffix.lower() not in OUT_TYPES:
        raise UsageError(f"cannot write {out.name}: unknown file type", hint="end --out with .json, .jsonl or .parquet")
    files, skipped = discover(inputs)
    summary = ConvertSummary(out=out, to=to, skipped=skipped)
    if not files:
        raise InputError(f"no data files in {', '.join(str(p) for p in inputs)}",
                         hint="give .json, .jsonl, .csv, .tsv or .parquet files or folders holding them")
    records, kinds = [], set()
    for file in files:
        table, kind = _read(file, summary)
        if table is None:
            continue
        kinds.add(kind)
        if len(kinds) > 1:
            raise UsageError(f"inputs mix kinds {sorted(kinds)}", hint="convert each kind to its own file")
        converted, refused = records_and_refusals(table, to)
        records += converted
        index, raw = pc.struct_field(table["source"], "index").to_pylist(), table["raw"].to_pylist()
        for pos, own_id, reason in refused:
            summary.rejects.append({"file": file.rel, "index": index[pos], "id": own_id, "stage": "export",
                                    "reason": reason, "raw": raw[pos]})
    summary.converted = len(records)
    _write(records, out, to)
    summary.rejects_path = _write_rejects(summary.rejects, out)
    return summary


def _write(records: list[dict], out: Path, to: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        pq.write_table(_parquet_table([_tools_as_text(r, to) for r in records]), tmp)
    elif suffix == ".json":
        tmp.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    else:
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    os.replace(tmp, out)


_TOOLS_DEFAULT = {"openai": "json", "trl": "json", "sharegpt": "text", "alpaca": "text"}


def _tools_as_text(record: dict, fmt: str) -> dict:
    """Parquet holds tools as JSON text; when the record spelled them the other way, say so in a hint
    (the reader cannot tell from the text)."""
    tools = record.get("tools")
    if tools is None or fmt not in _TOOLS_DEFAULT:
        return record
    spelled = "text" if isinstance(tools, str) else "json"
    record = {**record, "tools": tools if isinstance(tools, str) else json.dumps(tools, ensure_ascii=False)}
    if spelled != _TOOLS_DEFAULT[fmt]:
        carried = {HINT_KEY: record[HINT_KEY]} if HINT_KEY in record else {}
        record = {**record, **with_hints(carried, fmt, {"tools": spelled})}
    return record


def _parquet_table(records: list[dict]) -> pa.Table:
    """Records as a table; a field whose type differs between records is stored as JSON text."""
    names = list(dict.fromkeys(k for r in records for k in r))
    columns = {}
    for name in names:
        values = [r.get(name) for r in records]
        if name == "tools":  # free-form JSON schemas: one Arrow type cannot hold them
            values = [v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in values],
                                     pa.string())
    return pa.table(columns) if columns else pa.table({})


def _write_rejects(rejects: list[dict], out: Path) -> Path | None:
    path = out.with_name(f"{out.stem}.rejects.jsonl")
    if not rejects:
        if path.exists():
            path.unlink()  # a stale list from an earlier run would be misleading
        return None
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects), encoding="utf-8")
    return path
