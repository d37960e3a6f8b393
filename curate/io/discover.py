"""Expand input paths into data files, in a deterministic order, with a note for every file skipped.

`discover` never reads a whole file: it classifies by extension and, for `.json`, peeks at the first
bytes to tell a JSON array of records, JSON Lines saved as `.json`, and a single JSON object (a config
such as `dataset_info.json`, which is not a dataset).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from curate.errors import InputError

KINDS = ("jsonl", "json", "csv", "tsv", "parquet")
_EXT_KIND = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
             ".parquet": "parquet", ".pq": "parquet"}
_EXT_COMPRESSION = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
# how many decompressed bytes discover looks at to classify a .json file
_PEEK_BYTES = 1 << 20
_WS = b" \t\r\n"


@dataclass(frozen=True)
class InputFile:
    """One data file to read.

    `rel` is the path shown in manifests and rejects: relative to the parent of the folder argument
    (`raw/sub/a.jsonl`) or just the file name when the argument is a file.
    """

    path: Path
    rel: str
    kind: str
    compression: str | None
    size: int


def discover(inputs: list[Path]) -> tuple[list[InputFile], list[dict]]:
    """Expand files and folders into data files and notes on skipped files.

    Folders are walked recursively in sorted order; hidden files and folders (`.*`) are skipped
    silently; a file reached twice is read once. Returns (files, skipped) where skipped rows are
    `{"file": rel, "note": "..."}`. A missing input raises InputError.
    """
    files: list[InputFile] = []
    skipped: list[dict] = []
    seen: set[Path] = set()
    for given in inputs:
        path = Path(given)
        if not path.exists():
            raise InputError(f"input not found: {given}",
                             hint="check the path; give data files or folders that hold them")
        if path.is_dir():
            root = path.resolve()
            candidates = [(p, p.relative_to(root.parent).as_posix()) for p in _walk(root)]
        else:
            candidates = [(path, path.name)]
        for file, rel in candidates:
            real = file.resolve()
            if real in seen:
                skipped.append({"file": rel, "note": "listed twice: read once"})
                continue
            seen.add(real)
            entry, note = classify(real, rel)
            if entry is not None:
                files.append(entry)
            else:
                skipped.append({"file": rel, "note": note})
    return files, skipped


def _walk(root: Path) -> list[Path]:
    """Every regular file under root, depth-first in sorted name order, hidden entries left out."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        # sorting in place fixes the walk order; removing hidden dirs prunes them
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(dirpath)
        out.extend(base / f for f in sorted(filenames) if not f.startswith("."))
    return sorted(out, key=lambda p: p.relative_to(root).parts)


def classify(path: Path, rel: str) -> tuple[InputFile | None, str]:
    """(InputFile, "") for a data file, or (None, note) saying why the file is skipped."""
    name = path.name.lower()
    stem, ext = os.path.splitext(name)
    compression = _EXT_COMPRESSION.get(ext)
    if compression:
        ext = os.path.splitext(stem)[1]
    kind = _EXT_KIND.get(ext)
    if kind is None:
        return None, "not a data file"
    if kind == "parquet" and compression:
        return None, "not a data file: compressed Parquet is not supported (Parquet compresses inside)"
    try:
        size = path.stat().st_size
        if kind == "json":
            kind, note = _peek_json(path, compression)
            if kind is None:
                return None, note
        elif kind == "jsonl" and _is_json_array(path, compression):
            kind = "json"  # a JSON array saved as .jsonl
    except OSError as err:
        return None, f"unreadable file: {err.strerror or err}"
    return InputFile(path=path, rel=rel, kind=kind, compression=compression, size=size), ""


def _peek_json(path: Path, compression: str | None) -> tuple[str | None, str]:
    """Tell a JSON array ('json') from JSON Lines ('jsonl') from a single object (None, note)."""
    from curate.io.streams import peek

    head, complete = peek(path, compression, _PEEK_BYTES)
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip(_WS)
    if not body or body[:1] == b"[":
        return "json", ""
    if body[:1] != b"{":
        return None, "not a dataset: JSON scalar, not an array of records"
    first, _, rest = body.partition(b"\n")
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        # a pretty-printed document: one object spread over many lines
        if complete and _is_one_object(body):
            return None, "not a dataset: JSON object, not an array of records"
        if first.strip(_WS) == b"{":
            return None, "not a dataset: JSON object, not an array of records"
        return "jsonl", ""  # JSON Lines with a broken first line: the reader rejects that line
    if rest.strip(_WS):
        return "jsonl", ""
    if complete:
        return None, "not a dataset: JSON object, not an array of records"
    return "jsonl", ""


def _is_one_object(body: bytes) -> bool:
    try:
        return isinstance(orjson.loads(body), dict)
    except orjson.JSONDecodeError:
        return False


def _is_json_array(path: Path, compression: str | None) -> bool:
    """A .jsonl file that holds one JSON array (pretty-printed or on one line), not JSON Lines."""
    from curate.io.streams import peek

    head, complete = peek(path, compression, _PEEK_BYTES)
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip(_WS)
    if body[:1] != b"[":
        return False
    first, _, rest = body.partition(b"\n")
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return True  # the array goes on over the next lines
    return not rest.strip(_WS)  # one line holding one array
