"""Work units: the inputs cut into tasks of about `unit_bytes`, whatever the files' sizes.

A unit is a list of *pieces*; a piece is one file, or one span of it:
- plain JSON Lines larger than `unit_bytes`: byte ranges made of whole reader chunks (see below);
- Parquet larger than `unit_bytes` with several row groups: ranges of row groups;
- everything else (compressed streams, JSON arrays, CSV/TSV) is read whole: a gzip or zstd stream cannot
  be entered in the middle, a JSON array is one document, and a CSV row may span lines;
- consecutive small whole files are grouped into one unit of up to `unit_bytes / 4`.

Span cuts fall on the reader's own chunk boundaries (`curate.io.streams.line_chunks` with the same
`batch_bytes`), so a split file is read as exactly the same batches as the whole file: the output does
not depend on the span size. Planning reads each split file once (newline count for the first line
number of every span, and the file's sha256); other files are only stat'ed here.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import hashlib
import mmap
from dataclasses import dataclass, field
from pathlib import Path

from curate.io.discover import InputFile
from curate.io.readers import Span

UNIT_BYTES = 64 << 20  # input bytes per work unit (a split span, or a group of small files)
_BOM = b"\xef\xbb\xbf"
_HASH_BLOCK = 8 << 20


@dataclass(frozen=True)
class Piece:
    """One file, or one span of it. `number` is the file's position among the inputs (the high bits of
    every row's `order`); `sha256` is set when planning already read the file."""

    number: int
    file: InputFile
    span: Span | None = None
    sha256: str | None = None
    span_bytes: int = 0  # on-disk bytes of the span (for a Parquet span, its row groups' compressed size)

    @property
    def bytes(self) -> int:
        return self.file.size if self.span is None else self.span_bytes


@dataclass
class WorkUnit:
    index: int
    pieces: list[Piece] = field(default_factory=list)
    batch_bytes: int = 8 << 20  # the read batch size its spans were cut for (the worker reads with it)
    # file number → (format detection, detection error) of a split file, found once by the planner
    detected: dict[int, tuple] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.pieces)


def plan_units(files: list[InputFile], *, unit_bytes: int = UNIT_BYTES, batch_bytes: int,
               group_bytes: int | None = None) -> list[WorkUnit]:
    """Units in input order: pieces of a unit, and units, follow the files' order and each file's spans
    in position order. `batch_bytes` must be the reader's batch size (span cuts sit on its chunks).
    Whole files are grouped up to `group_bytes` (a quarter of a unit: small inputs keep some
    parallelism, thousands of tiny files do not become thousands of tasks)."""
    group_bytes = unit_bytes // 4 if group_bytes is None else group_bytes
    units: list[WorkUnit] = []
    group: WorkUnit | None = None
    # hashing and newline counting release the GIL: big files are measured side by side
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        splits = list(pool.map(lambda f: split(f, unit_bytes=unit_bytes, batch_bytes=batch_bytes), files))
    for number, (file, (spans, sha)) in enumerate(zip(files, splits)):
        if spans is None:
            if group is None or group.bytes + file.size > group_bytes:
                group = WorkUnit(len(units), batch_bytes=batch_bytes)
                units.append(group)
            group.pieces.append(Piece(number, file))
            continue
        group = None  # a split file's spans are units of their own; no group runs across them
        for span, size in spans:
            units.append(WorkUnit(len(units), [Piece(number, file, span, sha, span_bytes=size)],
                                  batch_bytes=batch_bytes))
    return units


def split(file: InputFile, *, unit_bytes: int, batch_bytes: int) -> tuple[list[tuple[Span, int]] | None, str | None]:
    """([(span, bytes)], sha256) for a file worth splitting into two or more spans, else (None, None)."""
    if file.size <= unit_bytes or file.compression:
        return None, None
    try:
        if file.kind == "jsonl":
            return jsonl_spans(file.path, unit_bytes=unit_bytes, batch_bytes=batch_bytes)
        if file.kind == "parquet":
            return parquet_spans(file.path, unit_bytes=unit_bytes)
    except OSError:
        pass  # read whole: the reader reports a file it cannot open, with its own message
    return None, None


def jsonl_spans(path: Path, *, unit_bytes: int, batch_bytes: int) -> tuple[list[tuple[Span, int]] | None, str]:
    """Byte spans of about `unit_bytes`, each made of whole reader chunks, and the file's sha256.

    Chunk cuts follow `line_chunks` exactly: the last newline within `batch_bytes` of the chunk start, or
    the first newline after it for a longer line; the rest of the file is the last chunk."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size = len(mm)
        cuts = [0]
        at = 3 if mm[:3] == _BOM else 0  # the reader drops a BOM before it starts cutting
        while size - at >= batch_bytes:
            cut = mm.rfind(b"\n", at, at + batch_bytes) + 1
            if cut <= at:
                cut = mm.find(b"\n", at + batch_bytes) + 1
                if cut == 0:
                    break
            at = cut
            if at - cuts[-1] >= unit_bytes and size - at >= unit_bytes // 4:  # no sliver of a last span
                cuts.append(at)
        cuts.append(size)
        digest = hashlib.sha256()
        spans, lines = [], 0
        for start, stop in zip(cuts, cuts[1:]):
            spans.append((Span(start, stop, lines), stop - start))
            for block in range(start, stop, _HASH_BLOCK):
                data = mm[block:min(block + _HASH_BLOCK, stop)]
                digest.update(data)
                lines += data.count(b"\n")
    return (spans if len(spans) > 1 else None), digest.hexdigest()


def parquet_spans(path: Path, *, unit_bytes: int) -> tuple[list[tuple[Span, int]] | None, str | None]:
    """Row-group ranges of about `unit_bytes` on disk, and the file's sha256 (None: not split)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException):
        return None, None  # the reader reports the broken file; it is read whole
    spans: list[tuple[Span, int]] = []
    start = first = rows = size = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        size += sum(group.column(c).total_compressed_size for c in range(group.num_columns))
        rows += group.num_rows
        if size >= unit_bytes or g == meta.num_row_groups - 1:
            spans.append((Span(start, g + 1, first), size))
            start, first, size = g + 1, first + rows, 0
            rows = 0
    if len(spans) < 2:
        return None, None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_HASH_BLOCK), b""):
            digest.update(block)
    return spans, digest.hexdigest()
