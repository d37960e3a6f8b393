"""Byte streams of (possibly compressed) files, and line-aligned chunks of them.

gzip and zstd are decompressed with incremental decompressor objects instead of `gzip.open`, so a
truncated stream still hands over every byte decoded before the cut and the cut is reported, not
raised from the middle of a read.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_READ = 4 << 20  # compressed bytes read per call


@dataclass
class StreamEnd:
    """How a stream ended: `error` is None when it ended cleanly, else a reject reason."""

    error: str | None = None


def byte_chunks(path: Path, compression: str | None, end: StreamEnd,
                byte_range: tuple[int, int] | None = None) -> Iterator[bytes]:
    """Decompressed bytes of the file, in pieces; a truncated/corrupt stream sets `end.error`.

    `byte_range` (start, stop) reads only those bytes of an uncompressed file (a work unit's span)."""
    with open(path, "rb") as fh:
        if byte_range is not None:
            if compression is not None:
                raise ValueError("a compressed stream cannot be read from a byte offset")
            start, stop = byte_range
            fh.seek(start)
            left = stop - start
            while left > 0 and (piece := fh.read(min(_READ, left))):
                left -= len(piece)
                yield piece
        elif compression is None:
            while piece := fh.read(_READ):
                yield piece
        elif compression == "gzip":
            yield from _gzip(fh, end)
        else:
            yield from _zstd(fh, end)


def _gzip(fh, end: StreamEnd) -> Iterator[bytes]:
    dec = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    fed = started = False
    while raw := fh.read(_READ):
        while raw:
            try:
                out = dec.decompress(raw)
            except zlib.error as err:
                end.error = (f"unreadable file: corrupt gzip stream ({err})" if started
                             else "unreadable file: not a gzip file")
                return
            fed = started = True
            if out:
                yield out
            raw = b""
            if dec.eof:  # a member ended; what follows may be another member (concatenated gzip)
                raw = dec.unused_data
                dec = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
                fed = False
                if not raw.strip(b"\0"):  # trailing zero padding is allowed
                    raw = b""
    if fed and not dec.eof:
        end.error = "truncated file: gzip stream ended early"


def _zstd(fh, end: StreamEnd) -> Iterator[bytes]:
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    dec = dctx.decompressobj()
    fed = False
    while raw := fh.read(_READ):
        while raw:
            try:
                out = dec.decompress(raw)
            except zstandard.ZstdError as err:
                end.error = (f"unreadable file: corrupt zstd stream ({err})" if fed
                             else "unreadable file: not a zstd file")
                return
            fed = True
            if out:
                yield out
            if dec.eof:
                raw = dec.unused_data
                dec = dctx.decompressobj()
                fed = False
            else:
                raw = b""
    if fed and not dec.eof:
        end.error = "truncated file: zstd stream ended early"


def peek(path: Path, compression: str | None, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` decompressed bytes from the start; the flag says whether that is all of it."""
    end = StreamEnd()
    buf = bytearray()
    gen = byte_chunks(path, compression, end)
    try:
        for piece in gen:
            buf += piece
            if len(buf) >= limit:
                return bytes(buf[:limit]), False
    finally:
        gen.close()
    return bytes(buf), end.error is None


def line_chunks(path: Path, compression: str | None, batch_bytes: int, end: StreamEnd,
                byte_range: tuple[int, int] | None = None) -> Iterator[tuple[bytes | memoryview, bool]]:
    """Chunks of about `batch_bytes` that end on a line boundary; a UTF-8 BOM at the start is dropped.

    Yields (chunk, is_tail): is_tail marks the bytes after the last newline once the stream ended;
    when `end.error` is set afterwards those bytes are the record the truncation cut.

    A chunk ends at the last newline within `batch_bytes` of its start (or at the first one after, for
    a longer line), so chunks depend only on where reading starts: reading a `byte_range` that starts
    and stops at chunk boundaries of the whole file (see `curate.io.units.jsonl_spans`) yields exactly
    the whole file's chunks of that range.
    """
    pending: list[bytes] = []
    size = 0
    # the first bytes, held back until a BOM can be told apart (only at the start of the file)
    head: bytes | None = b"" if byte_range is None or byte_range[0] == 0 else None
    for piece in byte_chunks(path, compression, end, byte_range):
        if head is not None:
            head += piece
            if len(head) < 3:
                continue
            piece, head = head.removeprefix(b"\xef\xbb\xbf"), None
        pending.append(piece)
        size += len(piece)
        if size < batch_bytes:
            continue
        buf = b"".join(pending)
        view = memoryview(buf)  # chunks are views of buf: no second copy of a batch
        start = 0
        while len(buf) - start >= batch_bytes:
            cut = buf.rfind(b"\n", start, start + batch_bytes) + 1
            if cut <= start:  # a line longer than a batch: up to its end, once that was read
                cut = buf.find(b"\n", start + batch_bytes) + 1
                if cut == 0:
                    break
            yield view[start:cut], False
            start = cut
        pending = [buf[start:]]
        size = len(pending[0])
    if head:
        pending.append(head.removeprefix(b"\xef\xbb\xbf"))
    buf = b"".join(pending)
    if end.error is None:  # a last line without a newline is an ordinary record
        if buf:
            yield buf, False
        return
    cut = buf.rfind(b"\n") + 1
    if cut:
        yield buf[:cut], False
    if buf[cut:]:
        yield buf[cut:], True


class LineSafeReader(io.RawIOBase):
    """A readable file over the decompressed bytes, for parsers that take a file object (CSV).

    When the stream turns out truncated, the bytes after the last newline (a record the cut split)
    are held back instead of being handed over as if the record were complete; `end.error` says why.
    """

    def __init__(self, path: Path, compression: str | None, end: StreamEnd):
        super().__init__()
        self._pieces = _whole_lines(byte_chunks(path, compression, end), end)
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buf:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._buf = memoryview(piece)
        n = min(len(target), len(self._buf))
        target[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _whole_lines(pieces: Iterator[bytes], end: StreamEnd) -> Iterator[bytes]:
    tail = b""
    for piece in pieces:
        data = tail + piece
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        if cut:
            yield data[:cut]
    if tail and end.error is None:
        yield tail
