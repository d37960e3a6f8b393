"""Lossless readers: data files -> Arrow batches of raw records, plus the records that could not be read.

Every record of a file appears in exactly one batch, either in `table` (with its original text in
`raw` and its position in `index`) or in `rejects` with a reason "<label>: <detail>". Labels:
"invalid JSON", "not a JSON object", "type conflict", "invalid UTF-8", "malformed CSV row" (stage
'parse' except invalid UTF-8, which is 'read'), "unreadable file" and "truncated file" (stage 'read').
A failure of the file itself (corrupt Parquet, a gzip stream cut short between records) is one reject
row with source_index -1; the records read before it are kept. read_file raises InputError only when the
file cannot be opened at all (vanished, permission denied).

JSONL, CSV/TSV and Parquet are streamed (memory bounded by `batch_bytes`, not by file size); a JSON array
file is parsed whole with orjson.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import InputError
from curate.io.discover import InputFile
from curate.io.jsonblock import Lines, json_name, parse_lines
from curate.io.streams import StreamEnd, byte_chunks, line_chunks

REJECT_SCHEMA = pa.schema([("raw", pa.large_string()), ("source_index", pa.int64()),
                           ("stage", pa.string()), ("reason", pa.string())])
_WS = b" \t\r\n"
_WINDOW = 4 << 20


@dataclass
class ReadBatch:
    """Records of one span of a file. `raw` and `index` are aligned with `table`'s rows."""

    file: InputFile
    table: pa.Table
    raw: pa.Array  # large_string: the original record as JSON text
    index: pa.Array  # int64: 0-based position of the record in the file
    rejects: pa.Table  # REJECT_SCHEMA: raw, source_index, stage ('read'|'parse'), reason
    # True for records whose field types did not fit their block's Arrow schema: `table` holds them as
    # CSV would (JSON text for nested values), and the format layer must parse them from `raw`
    loose: bool = False

    @property
    def num_records(self) -> int:
        """Records this batch accounts for (read + rejected; a file-level reject counts as one)."""
        return self.table.num_rows + self.rejects.num_rows


@dataclass(frozen=True)
class Span:
    """Part of a file that one work unit reads: bytes [start, stop) of plain JSON Lines (both on chunk
    boundaries, see `curate.io.units`) or row groups [start, stop) of Parquet. `first` is the file
    position of the span's first record (its line or row number), so `index` stays the file's own."""

    start: int
    stop: int
    first: int


def read_file(file: InputFile, *, batch_bytes: int = 32 << 20, span: Span | None = None) -> Iterator[ReadBatch]:
    """Stream the file (or one `span` of it) in batches of about `batch_bytes` of input. Blank lines
    are not records. A span's batches are exactly the whole file's batches of that span."""
    if span is not None and (file.kind not in ("jsonl", "parquet") or file.compression):
        raise ValueError(f"{file.rel}: only plain JSON Lines and Parquet files are read by spans")
    try:
        with open(file.path, "rb"):
            pass
    except OSError as err:
        raise InputError(f"cannot open {file.rel}: {err.strerror or err}",
                         hint="check that the file exists and is readable") from None
    if file.kind == "jsonl":
        yield from _read_jsonl(file, batch_bytes, span)
    elif file.kind == "json":
        yield from _read_json_array(file, batch_bytes)
    else:
        from curate.io import tabular

        if file.kind == "parquet":
            yield from tabular.read_parquet(file, batch_bytes, span)
        else:
            yield from tabular.read_csv(file, batch_bytes)


# ---------------------------------------------------------------- shared helpers


def rejects_table(rows: list[tuple[str, int, str, str]]) -> pa.Table:
    """Rejects from (raw, source_index, stage, reason) tuples."""
    cols = list(zip(*rows)) if rows else [[], [], [], []]
    return pa.table([pa.array(c, t) for c, t in zip(cols, REJECT_SCHEMA.types)], schema=REJECT_SCHEMA)


def file_failure(file: InputFile, reason: str, raw: str = "") -> ReadBatch:
    """A batch holding only the file-level reject (source_index -1)."""
    return empty_batch(file, rejects_table([(raw, -1, "read", reason)]))


def empty_batch(file: InputFile, rejects: pa.Table) -> ReadBatch:
    return ReadBatch(file, pa.table({}), pa.array([], pa.large_string()), pa.array([], pa.int64()),
                     rejects)


def text(data: bytes | memoryview) -> str:
    """Bytes as text for a reject's `raw`; undecodable bytes are kept visible as \\xNN escapes."""
    return bytes(data).decode("utf-8", "backslashreplace")


def _gather(buf: bytes | memoryview, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """large_string array of buf[starts[k]:ends[k]] (sorted, disjoint spans of valid UTF-8).

    Built by masking out the gaps between spans (line endings, blank and rejected lines) and one
    boolean take over the buffer: cost grows with bytes, not with a Python step per line.
    """
    arr = np.frombuffer(buf, np.uint8)
    if len(starts):
        gap = int(len(arr) - ends[-1])
        if 0 < gap <= 2 and np.all(starts[1:] - ends[:-1] == gap):
            # the usual case: records back to back, each followed by "\n" (or "\r\n");
            # one Arrow kernel drops the line ending of every value
            spans = pa.Array.from_buffers(pa.large_binary(), len(starts), [
                None, pa.py_buffer(np.append(starts, len(arr))), pa.py_buffer(buf)])
            cut = pc.binary_slice(spans, 0, -gap)
            return pa.Array.from_buffers(pa.large_string(), len(cut), cut.buffers())
    offsets = np.zeros(len(starts) + 1, np.int64)
    np.cumsum(ends - starts, out=offsets[1:])
    if len(starts) == 0:
        data = arr[:0]
    elif offsets[-1] == len(arr):  # the spans cover the whole buffer: no copy
        data = arr
    else:
        keep = np.ones(len(arr), bool)
        gap_start = np.concatenate(([0], ends[:-1]))
        gap_len = starts - gap_start
        keep[gap_start[gap_len >= 1]] = False  # "\n"
        keep[gap_start[gap_len >= 2] + 1] = False  # "\r\n"
        for a, b in zip(gap_start[gap_len > 2].tolist(), starts[gap_len > 2].tolist()):
            keep[a:b] = False  # rare: blank or rejected lines in between
        keep[ends[-1]:] = False
        data = arr[keep]
    return pa.Array.from_buffers(pa.large_string(), len(starts),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])


# ---------------------------------------------------------------- JSON Lines


def _read_jsonl(file: InputFile, batch_bytes: int, span: Span | None) -> Iterator[ReadBatch]:
    end = StreamEnd()
    line0 = span.first if span else 0
    byte_range = (span.start, span.stop) if span else None
    cut_tail = False
    try:
        for chunk, is_tail in line_chunks(file.path, file.compression, batch_bytes, end, byte_range):
            if is_tail and end.error:
                cut_tail = True
                yield empty_batch(file, rejects_table(
                    [(text(chunk), line0, "read",
                      f"{end.error}; line {line0 + 1} is cut, nothing after it could be read")]))
                continue
            batches, line0 = _jsonl_batch(file, chunk, line0)
            yield from (b for b in batches if b.num_records)
    except OSError as err:
        yield file_failure(file, f"unreadable file: {err.strerror or err} after line {line0}")
        return
    if end.error and not cut_tail:
        yield file_failure(file, end.error)


def _split_lines(buf: bytes | memoryview) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (without \\n or \\r\\n) of every line in buf, from the newline positions."""
    arr = np.frombuffer(buf, np.uint8)
    # searched in windows: a mask as large as the chunk would be a fresh mmap (page faults) per batch
    nl = np.concatenate([np.flatnonzero(arr[at:at + _WINDOW] == 10) + at
                         for at in range(0, len(arr), _WINDOW)] or [np.zeros(0, np.int64)])
    starts = np.concatenate(([0], nl + 1)).astype(np.int64)
    ends = np.concatenate((nl, [len(arr)])).astype(np.int64)
    if len(arr) and arr[-1] == 10:  # nothing after the final newline: not a line
        starts, ends = starts[:-1], ends[:-1]
    has_cr = ends > starts
    has_cr[has_cr] = arr[ends[has_cr] - 1] == 13
    ends[has_cr] -= 1
    return starts, ends


def _blank(buf: bytes | memoryview, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines holding only JSON whitespace; only lines whose first byte is whitespace are checked."""
    arr = np.frombuffer(buf, np.uint8)
    empty = ends == starts
    first = arr[np.minimum(starts, max(len(arr) - 1, 0))] if len(arr) else np.zeros(0, np.uint8)
    maybe = empty | np.isin(first, np.frombuffer(_WS, np.uint8))
    blank = empty.copy()
    for k in np.flatnonzero(maybe & ~empty):  # rare: indented lines and whitespace-only lines
        blank[k] = not bytes(buf[starts[k]:ends[k]]).strip(_WS)
    return blank


def _bad_utf8(buf: bytes | memoryview, starts: np.ndarray) -> dict[int, str]:
    """{line position: detail} of lines with invalid UTF-8; one vectorised check when all is valid."""
    data = pa.py_buffer(buf)
    whole = pa.Array.from_buffers(pa.large_binary(), 1,
                                  [None, pa.py_buffer(np.array([0, len(buf)], np.int64)), data])
    try:
        whole.cast(pa.large_string())
        return {}
    except pa.ArrowInvalid:
        pass
    bad: dict[int, str] = {}
    view, pos = memoryview(buf), 0
    while pos < len(buf):  # each decode stops at the next bad byte: linear in the chunk
        try:
            codecs.utf_8_decode(view[pos:], "strict", True)
            break
        except UnicodeDecodeError as err:
            at = pos + err.start
            k = int(np.searchsorted(starts, at, "right")) - 1
            bad[k] = f"byte {at - int(starts[k]) + 1}: {err.reason}"
            pos = int(starts[k + 1]) if k + 1 < len(starts) else len(buf)
    return bad


def _jsonl_batch(file: InputFile, chunk: bytes | memoryview, line0: int) -> tuple[list[ReadBatch], int]:
    starts, ends = _split_lines(chunk)
    index = np.arange(line0, line0 + len(starts), dtype=np.int64)
    record = ~_blank(chunk, starts, ends)
    rejects: list[tuple[int, str, str, str]] = []
    for k, detail in _bad_utf8(chunk, starts).items():
        if record[k]:
            record[k] = False
            rejects.append((k, "read", f"invalid UTF-8: line {index[k] + 1} {detail}"))
    rec = np.flatnonzero(record)
    batches = _parse_block(file, chunk, starts[rec], ends[rec], index[rec], "line",
                         [(text(chunk[starts[k]:ends[k]]), int(index[k]), st, why)
                          for k, st, why in rejects])
    return batches, line0 + len(starts)


def _parse_block(file, buf, starts, ends, index, unit, extra_rejects) -> list[ReadBatch]:
    """Parse record spans of buf through the block path: the batch of the block, plus a loose batch
    for records whose field types do not fit the block's Arrow schema."""
    parsed = parse_lines(Lines(buf, starts, ends, index, unit))
    good = parsed.good
    rows = extra_rejects + [(text(buf[starts[k]:ends[k]]), int(index[k]), "parse", why)
                            for k, why in parsed.rejects]
    rows.sort(key=lambda r: r[1])
    batches = [ReadBatch(file, parsed.table, _gather(buf, starts[good], ends[good]),
                         pa.array(index[good], pa.int64()), rejects_table(rows))]
    if parsed.loose:
        loose = np.array(parsed.loose, np.int64)
        batches.append(ReadBatch(file, loose_table([bytes(buf[starts[k]:ends[k]]) for k in loose]),
                                 _gather(buf, starts[loose], ends[loose]), pa.array(index[loose], pa.int64()),
                                 rejects_table([]), loose=True))
    return batches


def loose_table(lines: list[bytes]) -> pa.Table:
    """Records whose types Arrow cannot unify, as CSV would give them: string fields as they are, any
    other value as its JSON text (the format layer parses JSON-in-text fields). Rare, so per row."""
    rows = [{k: v if isinstance(v, str) or v is None else orjson.dumps(v).decode()
             for k, v in orjson.loads(line).items()} for line in lines]
    names = list(dict.fromkeys(k for row in rows for k in row))
    return pa.table({n: pa.array([row.get(n) for row in rows], pa.string()) for n in names})


# ---------------------------------------------------------------- JSON arrays


def _read_json_array(file: InputFile, batch_bytes: int) -> Iterator[ReadBatch]:
    end = StreamEnd()
    try:
        data = b"".join(byte_chunks(file.path, file.compression, end))
    except OSError as err:
        yield file_failure(file, f"unreadable file: {err.strerror or err}")
        return
    if end.error:
        yield file_failure(file, f"{end.error}; a JSON array cannot be read in part")
        return
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data.strip(_WS):
        return
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        label = "invalid UTF-8" if "UTF-8" in err.msg else "invalid JSON"
        stage = "read" if label == "invalid UTF-8" else "parse"
        yield empty_batch(file, rejects_table([("", -1, stage, f"{label}: line {err.lineno} "
                                                f"column {err.colno}: {err.msg}")]))
        return
    del data
    if not isinstance(items, list):
        what = "JSON object" if isinstance(items, dict) else "JSON scalar"
        yield file_failure(file, f"unreadable file: not a dataset: {what}, not an array of records")
        return
    yield from _json_batches(file, items, batch_bytes)


def _json_batches(file: InputFile, items: list, batch_bytes: int) -> Iterator[ReadBatch]:
    """Elements re-serialised with orjson, grouped into batches of about batch_bytes."""
    pos = 0
    while pos < len(items):
        parts, size, rejects, keep = [], 0, [], []
        stop = pos
        while stop < len(items) and size < batch_bytes:
            item = items[stop]
            dumped = orjson.dumps(item)
            if isinstance(item, dict):
                parts.append(dumped)
                keep.append(stop)
                size += len(dumped) + 1
            else:
                rejects.append((dumped.decode(), stop, "parse",
                                f"not a JSON object: element {stop} is {json_name(item)}"))
            stop += 1
        buf = b"\n".join(parts)
        lens = np.fromiter((len(p) for p in parts), np.int64, len(parts))
        ends = np.cumsum(lens + 1) - 1
        starts = ends - lens
        yield from _parse_block(file, buf, starts, ends, np.array(keep, np.int64), "element", rejects)
        pos = stop
