"""Printing query results: an aligned text table, CSV, or JSON (an array of row objects).

Nested values (message lists, structs) are shown as JSON text in the table and CSV, and stay nested in
JSON. The table truncates long cells and stops after ``max_rows`` rows, saying so.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Literal, Sequence

OutputFormat = Literal["table", "csv", "json"]


def _plain(value: Any) -> Any:
    """A JSON-compatible version of a value DuckDB returns."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_plain(value), ensure_ascii=False)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(_plain(value))


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, more: bool = False,
                 width: int = 60) -> str:
    """Columns padded to their widest cell (cells cut at ``width`` characters with "…")."""
    def cut(text: str) -> str:
        text = text.replace("\n", "\\n")
        return text if len(text) <= width else text[: width - 1] + "…"

    cells = [[cut(_cell(v)) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    noun = "row" if len(rows) == 1 else "rows"
    tail = f"({len(rows)} {noun} shown; more not shown: add LIMIT or use --format csv)" if more else f"({len(rows)} {noun})"
    return "\n".join(lines + [tail])


def format_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().rstrip("\n")


def format_json(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    records = [dict(zip(columns, (_plain(v) for v in row))) for row in rows]
    return json.dumps(records, ensure_ascii=False, indent=1, default=str)
