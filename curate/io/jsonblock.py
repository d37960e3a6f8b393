"""Parse a block of JSON lines into one Arrow table; isolate the lines Arrow cannot take by bisection.

Fast path: one `pyarrow.json.read_json` over the whole block (vectorised, no dict per row). When it
fails, or yields a different number of rows than lines (two objects on one line), the block is split in
halves and each half re-parsed, recursively, so good lines stay on the fast path and a bad line ends up
alone, where it is explained. Halves that parse but disagree on a field's type (a string in most rows, a
number in one) are reconciled by majority: the type of most non-null values wins, and the pieces holding
the other type are re-parsed with that type fixed, which isolates the odd lines the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pj

_MIN_BLOCK = 4 << 20  # Arrow's block size (its unit of parallel parsing)
_MAX_BLOCK = (1 << 31) - 1  # Arrow keeps block sizes in an int32
_THREADS_ABOVE = 4 << 20  # parse with Arrow's thread pool only spans larger than this
_ARROW_COLUMN = re.compile(r"Column\((?P<path>[^)]*)\) changed from (?P<a>\w+) to (?P<b>\w+)")
_ARROW_TWICE = re.compile(r"Column\((?P<path>[^)]*)\) was specified twice")


@dataclass
class Lines:
    """Record lines inside one buffer: line k is buf[starts[k]:ends[k]] (no line ending)."""

    buf: bytes | memoryview
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    index: np.ndarray  # int64, source index of each line (for messages)
    unit: str = "line"  # how messages name a record: "line 7" (1-based) or "element 6" (0-based)


@dataclass
class Parsed:
    table: pa.Table  # one row per good line, in order
    good: np.ndarray  # bool per line
    rejects: list[tuple[int, str]]  # (line position, reason): lines that are not JSON objects
    loose: list[int]  # positions of valid JSON objects whose field types Arrow cannot fit in `table`


# a failing run of at most this many lines is screened line by line with orjson instead of being
# bisected further: bounds the number of Arrow calls when most lines are bad (a CSV named .jsonl)
_SCREEN_LINES = 128


def parse_lines(lines: Lines) -> Parsed:
    """Parse every line; good lines land in `table` (aligned with `good`), the rest in `rejects`."""
    n = len(lines.starts)
    if n == 0:
        return Parsed(pa.table({}), np.zeros(0, bool), [], [])
    ctx = _Ctx(lines, np.arange(n))
    pieces: list[tuple[_Ctx, int, int, pa.Table]] = []
    bad: list[tuple[int, str]] = []
    ctx.bisect(0, n, None, pieces, bad)
    if len(pieces) > 1:
        pieces = _reconcile(pieces, bad)
    try:
        table = _concat([p[3] for p in pieces])
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pieces, table = _concat_greedy(pieces, bad)
    good = np.zeros(n, bool)
    for piece_ctx, i, j, _ in pieces:
        good[piece_ctx.origin[i:j]] = True
    # A type conflict is no reason to reject: content given as a string in one turn and as a list of
    # parts in the next is valid chat data. Those lines go to the caller's loose path, and the format
    # layer, which knows what a field may hold, decides.
    loose = sorted(k for k, why in bad if why.startswith("type conflict"))
    return Parsed(table, good, sorted(b for b in bad if not b[1].startswith("type conflict")), loose)


def _concat_greedy(pieces, bad):
    """Safety net when the reconciled pieces still do not concatenate: take them in order and
    re-parse each one that does not fit with the schema gathered so far (its odd lines are rejected)."""
    kept = [pieces[0]]
    table = pieces[0][3]
    for piece in pieces[1:]:
        try:
            table = _concat([table, piece[3]])
            kept.append(piece)
            continue
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
        ctx, i, j, _ = piece
        redone: list = []
        ctx.bisect(i, j, table.schema, redone, bad)
        for sub in redone:
            try:
                table = _concat([table, sub[3]])
                kept.append(sub)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                for k in range(sub[1], sub[2]):
                    bad.append((int(sub[0].origin[k]), sub[0].explain(k, None, table.schema)))
    return kept, table


def _concat(tables: list[pa.Table]) -> pa.Table:
    rows = sum(t.num_rows for t in tables)
    if all(t.num_columns == 0 for t in tables):
        # concat_tables drops the row count of column-less tables (every record was `{}`)
        return pa.table({"_": pa.nulls(rows)}).drop_columns(["_"])
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="permissive")


def _reconcile(pieces, bad):
    """Fix conflicting field types by majority; re-parse the minority pieces with them fixed."""
    target = _majority_types([p[3] for p in pieces])
    if not target:
        return pieces
    schema = pa.schema(list(target.items()))
    out = []
    for ctx, i, j, table in pieces:
        if all(_fits(table, name, typ) for name, typ in target.items()):
            out.append((ctx, i, j, table))
        else:
            ctx.bisect(i, j, schema, out, bad)
    return out


class _Ctx:
    """Lines being parsed; `origin[k]` is line k's position in the block given to parse_lines."""

    def __init__(self, lines: Lines, origin: np.ndarray):
        self.lines = lines
        self.origin = origin
        longest = int((lines.ends - lines.starts).max())
        # a line longer than Arrow's block size fails as "straddling"; size blocks above the longest
        self.block = min(max(_MIN_BLOCK, 2 * longest + 64), _MAX_BLOCK)

    def read(self, i: int, j: int, schema: pa.Schema | None) -> pa.Table:
        start, stop = int(self.lines.starts[i]), int(self.lines.ends[j - 1])
        view = memoryview(self.lines.buf)[start:stop]
        opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        ropts = pj.ReadOptions(block_size=self.block, use_threads=stop - start > _THREADS_ABOVE)
        return pj.read_json(pa.BufferReader(pa.py_buffer(view)), read_options=ropts,
                            parse_options=opts)

    def bisect(self, i, j, schema, pieces, bad) -> None:
        """Parse lines [i, j); append good (ctx, i, j, table) pieces and bad (origin, reason)."""
        try:
            table = self.read(i, j, schema)
            if table.num_rows == j - i:
                pieces.append((self, i, j, table))
                return
            err = None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            err = e.with_traceback(None)  # a kept traceback would hold this frame (and the chunk) in a cycle
        if j - i == 1:
            bad.append((int(self.origin[i]), self.explain(i, err, schema)))
            return
        if j - i <= _SCREEN_LINES and self.screen(i, j, schema, pieces, bad):
            return
        mid = (i + j) // 2
        self.bisect(i, mid, schema, pieces, bad)
        self.bisect(mid, j, schema, pieces, bad)

    def screen(self, i, j, schema, pieces, bad) -> bool:
        """Reject the lines orjson refuses or that are not objects, then parse the rest together.

        Returns False when every line is a JSON object (the failure is Arrow's: bisect further).
        """
        keep = []
        for k in range(i, j):
            span = self.lines.buf[int(self.lines.starts[k]):int(self.lines.ends[k])]
            try:
                ok = isinstance(orjson.loads(span), dict)
            except orjson.JSONDecodeError:
                ok = False
            if ok:
                keep.append(k)
            else:
                bad.append((int(self.origin[k]), self.explain(k, None, schema)))
        if len(keep) == j - i:
            return False
        if keep:
            sub = self.subset(np.array(keep))
            sub.bisect(0, len(keep), schema, pieces, bad)
        return True

    def subset(self, rows: np.ndarray) -> _Ctx:
        """A context over some of these lines, copied next to each other in a new buffer."""
        src = self.lines
        parts = [src.buf[int(src.starts[k]):int(src.ends[k])] for k in rows]
        lens = np.array([len(p) for p in parts], np.int64)
        ends = np.cumsum(lens + 1) - 1
        lines = Lines(b"\n".join(parts), ends - lens, ends, src.index[rows], src.unit)
        return _Ctx(lines, self.origin[rows])

    def explain(self, k: int, err: Exception | None, schema: pa.Schema | None) -> str:
        """The reject reason of one line, which Arrow refused (`err`) or read as several rows."""
        line = self.lines.buf[int(self.lines.starts[k]):int(self.lines.ends[k])]
        pos = int(self.lines.index[k])
        where = f"line {pos + 1}" if self.lines.unit == "line" else f"{self.lines.unit} {pos}"
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            col = f" column {e.colno}" if self.lines.unit == "line" else ""
            return f"invalid JSON: {where}{col}: {e.msg}"
        if not isinstance(value, dict):
            return f"not a JSON object: {where} is {json_name(value)}"
        if schema is not None:
            conflict = self._conflict_with(k, schema)
            if conflict:
                return conflict
        msg = str(err) if err is not None else "more than one JSON value"
        if m := _ARROW_COLUMN.search(msg):
            return (f"type conflict: field '{_path(m['path'])}' mixes {m['a']} and {m['b']}"
                    f" within {where}")
        if m := _ARROW_TWICE.search(msg):
            return f"invalid JSON: {where}: duplicate key '{_path(m['path'])}'"
        return f"invalid JSON: {where}: {msg.removeprefix('JSON parse error: ')}"

    def _conflict_with(self, k: int, schema: pa.Schema) -> str | None:
        try:
            own = self.read(k, k + 1, None).schema
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
        for field in schema:
            if field.name in own.names:
                found = _diff(own.field(field.name).type, field.type, field.name)
                if found:
                    path, got, want = found
                    return f"type conflict: field '{path}' is {got}, expected {want}"
        return None


def _majority_types(tables: list[pa.Table]) -> dict[str, pa.DataType]:
    """For every field whose types across tables cannot be unified: the type most values have."""
    seen: dict[str, list[tuple[pa.DataType, int]]] = {}
    for table in tables:
        for field, col in zip(table.schema, table.columns):
            seen.setdefault(field.name, []).append((field.type, len(col) - col.null_count))
    target = {}
    for name, types in seen.items():
        clusters: list[list] = []  # [unified type, non-null count]
        for typ, count in sorted(types, key=lambda tc: -tc[1]):
            for cluster in clusters:
                merged = _unify(cluster[0], typ)
                if merged is not None:
                    cluster[0], cluster[1] = merged, cluster[1] + count
                    break
            else:
                clusters.append([typ, count])
        if len(clusters) > 1:
            target[name] = max(clusters, key=lambda c: c[1])[0]
    return target


def _unify(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    if a == b:
        return a
    try:
        merged = pa.unify_schemas([pa.schema([("f", a)]), pa.schema([("f", b)])],
                                  promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    typ = merged.field("f").type
    # permissive promotion may turn number-vs-string into string; JSON types must match instead
    if _diff(a, typ, "f") or _diff(b, typ, "f"):
        return None
    return typ


def _fits(table: pa.Table, name: str, typ: pa.DataType) -> bool:
    if name not in table.column_names:
        return True
    return _unify(table.schema.field(name).type, typ) == typ


def _diff(own: pa.DataType, want: pa.DataType, path: str):
    """The first place where `own` has a JSON type other than `want`: (path, got, expected)."""
    kind_own, kind_want = _json_kind(own), _json_kind(want)
    if kind_own == "null" or kind_want == "null":
        return None
    if kind_own != kind_want:
        return path, kind_own, kind_want
    if kind_own == "object":
        for child in own:
            idx = want.get_field_index(child.name)
            if idx >= 0:
                found = _diff(child.type, want.field(idx).type, f"{path}.{child.name}")
                if found:
                    return found
    if kind_own == "array":
        return _diff(own.value_type, want.value_type, f"{path}[]")
    return None


def _json_kind(typ: pa.DataType) -> str:
    if pa.types.is_null(typ):
        return "null"
    if pa.types.is_boolean(typ):
        return "boolean"
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return "number"
    if pa.types.is_struct(typ):
        return "object"
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return "array"
    return "string"


def json_name(value) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _path(arrow_path: str) -> str:
    """Arrow's '/c/[]/v' as 'c[].v'."""
    out = ""
    for part in arrow_path.strip("/").split("/"):
        out += part if part == "[]" or not out else f".{part}"
    return out or "(top level)"
