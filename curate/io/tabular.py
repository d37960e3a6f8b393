"""Readers of tabular files: CSV/TSV (every column as text) and Parquet (by batches of row groups).

A row's `raw` is the row as a JSON object, encoded for the whole batch at once by polars.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import orjson
import pyarrow as pa

from curate.io.discover import InputFile
from curate.io.readers import ReadBatch, Span, empty_batch, file_failure, rejects_table, text
from curate.io.streams import LineSafeReader, StreamEnd


def rows_to_json(table: pa.Table) -> pa.Array:
    """large_string array: each row of `table` as a compact JSON object (columns in table order).

    Plain JSON-like types are encoded by polars for the whole table at once; other types (binary,
    dates, decimals, maps, duplicate column names) take an exact row-by-row orjson path.
    """
    if table.num_columns == 0:
        return pa.array(["{}"] * table.num_rows, pa.large_string())
    if len(set(table.column_names)) == table.num_columns and all(map(_plain, table.schema.types)):
        import polars as pl

        frame = pl.from_arrow(table)
        encoded = frame.select(pl.struct(pl.all()).struct.json_encode()).to_series().to_arrow()
        return encoded.cast(pa.large_string())
    rows = [dict(zip(table.column_names, values)) for values in
            zip(*(col.to_pylist() for col in table.columns))]
    return pa.array([orjson.dumps(r, default=_jsonable).decode() for r in rows], pa.large_string())


def _plain(typ: pa.DataType) -> bool:
    """Types that polars encodes to JSON exactly as the value reads."""
    t = pa.types
    if t.is_struct(typ):
        return typ.num_fields > 0 and all(_plain(f.type) for f in typ)
    if t.is_list(typ) or t.is_large_list(typ):
        return _plain(typ.value_type)
    return (t.is_string(typ) or t.is_large_string(typ) or t.is_integer(typ) or t.is_floating(typ)
            or t.is_boolean(typ) or t.is_null(typ))


def _jsonable(value):
    if isinstance(value, bytes):
        return text(value)
    if isinstance(value, list):  # a map column reads as a list of (key, value) pairs
        return value
    return str(value)


# ---------------------------------------------------------------- Parquet


def read_parquet(file: InputFile, batch_bytes: int, span: Span | None = None) -> Iterator[ReadBatch]:
    """Row batches of about batch_bytes (uncompressed), row group by row group; `index` is the row.

    A row group that cannot be decoded becomes one reject row (source_index -1) naming its rows; the
    row groups around it are still read. A `span` reads row groups [start, stop), from row `first`.
    """
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(file.path)
        meta = pf.metadata
        groups = [meta.row_group(g) for g in range(meta.num_row_groups)]
    except (OSError, pa.ArrowException) as err:
        yield file_failure(file, f"unreadable file: {_first_line(err)}")
        return
    pos = span.first if span else 0
    for g, group in enumerate(groups):
        if span and not span.start <= g < span.stop:
            continue
        per_row = max(group.total_byte_size, 1) / max(group.num_rows, 1)
        end = pos + group.num_rows
        try:
            for batch in pf.iter_batches(batch_size=max(1, int(batch_bytes / per_row)),
                                         row_groups=[g]):
                table = pa.Table.from_batches([batch])
                index = pa.array(np.arange(pos, pos + table.num_rows, dtype=np.int64))
                pos += table.num_rows
                yield ReadBatch(file, table, rows_to_json(table), index, rejects_table([]))
        except (OSError, pa.ArrowException) as err:
            yield file_failure(file, f"unreadable file: rows {pos} to {end - 1} (row group {g}) "
                                     f"could not be read ({_first_line(err)})")
        pos = end


def _first_line(err: Exception) -> str:
    """The first line of an error message, without control characters (they come from bad bytes)."""
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return "".join(ch if ch.isprintable() else "?" for ch in msg)


# ---------------------------------------------------------------- CSV / TSV


class _RowEvents:
    """Collects the rows pyarrow's CSV parser hands to the invalid-row handler.

    Row numbers are pyarrow's logical row numbers (1-based, header included, empty lines not
    counted). Whitespace-only rows are blank lines, not records; other rows with the wrong number of
    cells are rejects. The parser reads ahead, so events are matched to batches by row number.
    """

    def __init__(self) -> None:
        self.blank: list[int] = []
        self.bad: list[tuple[int, str, int, int]] = []  # (number, text, cells, expected)

    def __call__(self, row) -> str:
        number = row.number if row.number is not None else -1
        if not row.text.strip():
            self.blank.append(number)
        else:
            self.bad.append((number, row.text, row.actual_columns, row.expected_columns))
        return "skip"


def read_csv(file: InputFile, batch_bytes: int) -> Iterator[ReadBatch]:
    """Batches of rows with every column as a string; `index` is the data row index (0-based)."""
    import pyarrow.csv as pcsv

    delimiter = "\t" if file.kind == "tsv" else ","
    events = _RowEvents()
    end, head_end = StreamEnd(), StreamEnd()
    try:
        names = _header(file, delimiter, head_end)
        reader = pcsv.open_csv(
            _stream(file, end),
            read_options=pcsv.ReadOptions(use_threads=False, block_size=max(batch_bytes, 4096)),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                            invalid_row_handler=events),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.large_binary() for n in names}))
    except (OSError, pa.ArrowException) as err:
        if head_end.error or "Empty CSV file" not in str(err):  # an empty file has no records
            yield file_failure(file, head_end.error or f"unreadable file: {_first_line(err)}")
        return
    state = _Numbering()
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (OSError, pa.ArrowException) as err:
            yield from _flush(file, state, events)
            reason = end.error or f"unreadable file: {_first_line(err)}"
            yield file_failure(file, f"{reason}; nothing after data row {state.rows - 1} could be read")
            return
        yield _csv_batch(file, pa.Table.from_batches([batch]), state, events)
    yield from _flush(file, state, events)
    if end.error:
        yield file_failure(file, f"{end.error}; nothing after data row {state.rows - 1} could be read")


def _stream(file: InputFile, end: StreamEnd):
    return io.BufferedReader(LineSafeReader(file.path, file.compression, end), 1 << 20)


def _header(file: InputFile, delimiter: str, end: StreamEnd) -> list[str]:
    """Column names, from a first small read (pyarrow needs them to type every column as text)."""
    import pyarrow.csv as pcsv

    with _stream(file, end) as src:
        reader = pcsv.open_csv(src, read_options=pcsv.ReadOptions(use_threads=False,
                                                                  block_size=1 << 16),
                               parse_options=pcsv.ParseOptions(delimiter=delimiter,
                                                               newlines_in_values=True,
                                                               invalid_row_handler=lambda r: "skip"))
        return reader.schema.names


class _Numbering:
    """Which logical row numbers the good rows of each batch had."""

    def __init__(self) -> None:
        self.next = 2  # logical row 1 is the header
        self.rows = 0  # data rows accounted for

    def assign(self, m: int, events: _RowEvents) -> np.ndarray:
        taken = np.array(sorted([b[0] for b in events.bad if b[0] >= self.next]
                                + [n for n in events.blank if n >= self.next]), np.int64)
        cand = np.arange(self.next, self.next + m + len(taken), dtype=np.int64)
        numbers = cand[~np.isin(cand, taken)][:m]
        if m:
            self.next = int(numbers[-1]) + 1
        return numbers

    def data_index(self, numbers: np.ndarray, events: _RowEvents) -> np.ndarray:
        blank = np.array(sorted(events.blank), np.int64)
        return numbers - 2 - np.searchsorted(blank, numbers)


def _csv_batch(file, table: pa.Table, state: _Numbering, events: _RowEvents) -> ReadBatch:
    numbers = state.assign(table.num_rows, events)
    index = state.data_index(numbers, events)
    rows = _ragged_rejects(state, events, limit=state.next)
    bad = _bad_utf8_rows(table)
    if bad:
        keep = np.ones(table.num_rows, bool)
        keep[list(bad)] = False
        for k, col in sorted(bad.items()):
            record = {n: text(v) if v is not None else None
                      for n, v in zip(table.column_names, table.slice(k, 1).to_pylist()[0].values())}
            rows.append((orjson.dumps(record).decode(), int(index[k]), "read",
                         f"invalid UTF-8: data row {int(index[k])} column '{col}'"))
        table, index = table.filter(pa.array(keep)), index[keep]
    table = table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
    rows.sort(key=lambda r: r[1])
    state.rows += table.num_rows + len(rows)
    return ReadBatch(file, table, rows_to_json(table), pa.array(index, pa.int64()),
                     rejects_table(rows))


def _ragged_rejects(state: _Numbering, events: _RowEvents, limit: int | None) -> list[tuple]:
    """Reject rows for malformed rows numbered below `limit` (all when None), removed from events."""
    now = [b for b in events.bad if limit is None or b[0] < limit]
    events.bad = [b for b in events.bad if not (limit is None or b[0] < limit)]
    if not now:
        return []
    index = state.data_index(np.array([b[0] for b in now], np.int64), events)
    return [(line, int(i) if number >= 0 else -1, "parse",
             f"malformed CSV row: {cells} cells, expected {expected} (row {number} counting the header)")
            for (number, line, cells, expected), i in zip(now, index)]


def _flush(file, state: _Numbering, events: _RowEvents) -> Iterator[ReadBatch]:
    """The malformed rows after the last good row (the parser reports them after that batch)."""
    rows = _ragged_rejects(state, events, None)
    if rows:
        state.rows += len(rows)
        yield empty_batch(file, rejects_table(rows))


def _bad_utf8_rows(table: pa.Table) -> dict[int, str]:
    """{row: first column name} of cells that are not valid UTF-8 (checked per cell only on failure)."""
    bad: dict[int, str] = {}
    for name, col in zip(table.column_names, table.columns):
        try:
            col.cast(pa.large_string())
            continue
        except pa.ArrowInvalid:
            pass
        for k, value in enumerate(col.to_pylist()):
            if value is not None and k not in bad:
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    bad[k] = name
    return bad
