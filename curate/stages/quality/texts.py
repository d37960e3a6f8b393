"""Plain text of records, for the models: a batch's rows (scoring) or a file's records (training a
classifier, reading evaluation sets for decontamination)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import polars as pl
import pyarrow as pa

from curate.errors import InputError
from curate.records import Scope, kind_of, text_view

DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".txt")
# Keys whose values are structure, not text a model or a benchmark reads.
_SKIP_KEYS = {"role", "from", "id", "type", "source", "format", "file", "index", "raw", "tool_call_id", "label"}


def plain_text(batch: pa.Table, scope: Scope = "all") -> pa.Array:
    """`records.text_view` without the ``role: `` line prefixes (they read as English on short turns)."""
    if kind_of(batch.schema) == "text":
        return batch.column("text").combine_chunks()
    view = pl.Series(values=text_view(batch, scope), dtype=pl.String)
    return view.str.replace_all(r"(?m)^(?:system|user|assistant|tool): ", "").to_arrow()


def _strings(value, key: str | None = None) -> Iterator[str]:
    if key in _SKIP_KEYS:
        return
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def record_text(record) -> str:
    """Every text value of a record (messages, instruction/output, question/choices/answer …), one per line."""
    return "\n".join(_strings(record))


def data_files(path: str | Path) -> list[Path]:
    """A file, or every data file under a folder (a curated OUT reads as its data/ shards)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{path}: no such file or folder", hint="give a data file or a folder of them")
    root = path / "data" if (path / "manifest.json").exists() else path
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(DATA_SUFFIXES))
    if not files:
        raise InputError(f"{path}: no data files", hint=f"expected files ending in {', '.join(DATA_SUFFIXES)}")
    return files


def file_texts(path: str | Path) -> list[str]:
    """One text per record of a JSONL/JSON/CSV/TSV/Parquet file, or per non-empty line of a .txt file."""
    path = Path(path)
    name = path.name
    try:
        if name.endswith(".txt"):
            return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if name.endswith(".jsonl"):
            with open(path, encoding="utf-8") as handle:
                return [record_text(json.loads(line)) for line in handle if line.strip()]
        if name.endswith(".json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            return [record_text(r) for r in (data if isinstance(data, list) else [data])]
        if name.endswith((".csv", ".tsv")):
            frame = pl.read_csv(path, separator="\t" if name.endswith(".tsv") else ",", infer_schema=False)
        elif name.endswith(".parquet"):
            frame = pl.read_parquet(path)
        else:
            raise InputError(f"{path}: not a data file", hint=f"use one of {', '.join(DATA_SUFFIXES)}")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, pl.exceptions.PolarsError) as error:
        raise InputError(f"{path}: cannot read: {str(error).splitlines()[0]}",
                         hint="give a readable JSONL/JSON/CSV/Parquet/TXT file") from None
    keep = [c for c in frame.columns if c not in _SKIP_KEYS]
    return [record_text(r) for r in frame.select(keep).to_dicts()]


def texts_of(paths: list[str] | tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for path in paths:
        for file in data_files(path):
            out += file_texts(file)
    return out


def one_line(texts: list[str]) -> list[str]:
    """fastText reads one example per line."""
    return [" ".join(t.split()) for t in texts]
