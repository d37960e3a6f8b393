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

_MIN_BLOCK = 4 << 20
_ARROW_COLUMN = re.compile(r"Column\((?P<path>[^)]*)\) changed from (?P<a>\w+) to (?P<b>\w+)")
_ARROW_TWICE = re.compile(r"Column\((?P<path>[^)]*)\) was specified twice")


@dataclass
class Lines:
    """Record lines inside one buffer: line k is buf[starts[k]:ends[k]] (no line ending)."""

    buf: bytes
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    index: np.ndarray  # int64, source index of each line (for messages)
    unit: str = "line"  # how messages name a record: "line 7" (1-based) or "element 6" (0-based)


@dataclass
class Parsed:
    table: pa.Table  # one row per good line, in order
    good: np.ndarray  # bool per line
    rejects: list[tuple[int, str]]  # (line position, reason), every line not good


def parse_lines(lines: Lines) -> Parsed:
    """Parse every line; good lines land in `table` (aligned with `good`), the rest in `rejects`."""
    n = len(lines.starts)
    if n == 0:
        return Parsed(pa.table({}), np.zeros(0, bool), [])
    ctx = _Ctx(lines)
    pieces: list[tuple[int, int, pa.Table]] = []
    bad: list[tuple[int, str]] = []
    ctx.bisect(0, n, None, pieces, bad)
    if len(pieces) > 1:
        pieces = ctx.reconcile(pieces, bad)
    good = np.zeros(n, bool)
    for i, j, _ in pieces:
        good[i:j] = True
    tables = [t for _, _, t in pieces]
    table = pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})
    return Parsed(table, good, sorted(bad))


class _Ctx:
    def __init__(self, lines: Lines):
        self.lines = lines
        longest = int((lines.ends - lines.starts).max())
        # a line longer than Arrow's block size fails as "straddling"; size blocks above the longest
        self.block = max(_MIN_BLOCK, 2 * longest + 64)

    def read(self, i: int, j: int, schema: pa.Schema | None) -> pa.Table:
        start, stop = int(self.lines.starts[i]), int(self.lines.ends[j - 1])
        view = memoryview(self.lines.buf)[start:stop]
        opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        ropts = pj.ReadOptions(block_size=self.block, use_threads=stop - start > _MIN_BLOCK)
        return pj.read_json(pa.BufferReader(pa.py_buffer(view)), read_options=ropts,
                            parse_options=opts)

    def bisect(self, i, j, schema, pieces, bad) -> None:
        """Parse lines [i, j); append good (i, j, table) pieces and bad (line, reason) in order."""
        try:
            table = self.read(i, j, schema)
            if table.num_rows == j - i:
                pieces.append((i, j, table))
                return
            err = None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            err = e
        if j - i == 1:
            bad.append((i, self.explain(i, err, schema)))
            return
        mid = (i + j) // 2
        self.bisect(i, mid, schema, pieces, bad)
        self.bisect(mid, j, schema, pieces, bad)

    def reconcile(self, pieces, bad):
        """Fix conflicting field types by majority; re-parse the minority pieces with them fixed."""
        target = _majority_types(pieces)
        if not target:
            return pieces
        schema = pa.schema(list(target.items()))
        out = []
        for i, j, table in pieces:
            if all(_fits(table, name, typ) for name, typ in target.items()):
                out.append((i, j, table))
            else:
                self.bisect(i, j, schema, out, bad)
        return out

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


def _majority_types(pieces) -> dict[str, pa.DataType]:
    """For every field whose types across pieces cannot be unified: the type most values have."""
    seen: dict[str, list[tuple[pa.DataType, int]]] = {}
    for _, _, table in pieces:
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
