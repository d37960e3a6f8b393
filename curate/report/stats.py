"""The numbers behind the report, computed with DuckDB over the dataset (no per-row Python), except the
token lengths, which need the tokenizer and are taken on a sample of at most ``TOKEN_SAMPLE`` rows.

Each function returns ``None`` (or an empty list) when the dataset lacks what it needs, so the report
shows a chart only for what exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from curate.records import MESSAGE_COLUMNS
from curate.report.charts import fmt

TOKEN_SAMPLE = 20_000
LENGTH_BINS = 30
SCORE_BINS = 20
TOP = 12  # categories shown before "other"


@dataclass
class Hist:
    """Counts per bin, the bins' labels, and a few summary figures (count, median, p90, max ...)."""

    labels: list[str]
    counts: list[int]
    summary: dict[str, float] = field(default_factory=dict)


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def columns(ds) -> dict[str, str]:
    """Data column name -> DuckDB type text."""
    relation = ds.relation("SELECT * FROM data")
    return {n: str(t) for n, t in zip(relation.columns, relation.types)}


def _rows(ds, sql: str) -> list[tuple]:
    return ds.execute(sql).fetchall()


def removals(ds) -> tuple[int, list[tuple[str, int]], int]:
    """(rows read, [(\"stage: label\", rows removed)] in stage order, rows kept), from the manifest's
    counts, or from the rejects themselves when the manifest has none."""
    counts = ds.manifest.get("counts") or {}
    found = [(stage, label, n) for stage, info in (counts.get("by_stage") or {}).items()
             for label, n in sorted((info.get("dropped") or {}).items(), key=lambda kv: -kv[1]) if n]
    if not found:
        found = _rows(ds, "SELECT stage, split_part(reason, ': ', 1) AS label, count(*) AS n FROM rejects "
                          "GROUP BY ALL ORDER BY n DESC, stage, label")
    # "pii: EMAIL" under stage "pii" reads better than "pii: pii: EMAIL"
    drops = [(str(label) if str(label).startswith(str(stage)) else f"{stage}: {label}", int(n)) for stage, label, n in found]
    kept = counts.get("kept", _rows(ds, "SELECT count(*) FROM data")[0][0])
    read = counts.get("read", kept + sum(n for _, n in drops))
    return int(read), drops, int(kept)


def _layout(lo: float, hi: float, top: float, bins: int, integer: bool) -> tuple[float, float, list[str]]:
    """Bin width, the upper edge, and bin labels; the last bin is open ("≥ x") when values pass ``hi``."""
    if hi <= lo:
        hi = lo + 1
    width = (hi - lo) / bins
    if integer:
        width = max(1.0, math.ceil(width))
        hi = lo + width * bins
    labels = [f"{fmt(round(lo + i * width, 3))}–{fmt(round(lo + (i + 1) * width, 3))}" for i in range(bins)]
    if top > hi or (integer and top >= hi):
        labels[-1] = f"≥ {fmt(round(lo + (bins - 1) * width, 3))}"
    return width, hi, labels


def sql_hist(ds, expr: str, *, source: str = "data", bins: int = LENGTH_BINS, integer: bool = True,
             from_zero: bool = True, clip_quantile: float = 0.99) -> Hist | None:
    """Histogram of ``expr`` over ``source``: bins from 0 (or the minimum) to the 99th percentile, the
    rest in the last bin."""
    stats_sql = (f"WITH v AS (SELECT ({expr})::DOUBLE AS x FROM {source}) SELECT count(x), min(x), max(x), "
                 f"quantile_cont(x, 0.5), quantile_cont(x, 0.9), quantile_cont(x, {clip_quantile}), avg(x) FROM v")
    n, low, top, p50, p90, clip, mean = _rows(ds, stats_sql)[0]
    if not n:
        return None
    lo = 0.0 if from_zero and low >= 0 else float(low)
    width, hi, labels = _layout(lo, float(clip if clip > lo else top), float(top), bins, integer)
    bin_sql = (f"WITH v AS (SELECT ({expr})::DOUBLE AS x FROM {source}) SELECT least(greatest(floor((x - {lo!r}) / {width!r}), 0), "
               f"{bins - 1})::INTEGER AS b, count(*) FROM v WHERE x IS NOT NULL GROUP BY b")
    counts = [0] * bins
    for b, c in _rows(ds, bin_sql):
        counts[b] = c
    summary = {"rows": n, "mean": mean, "median": p50, "p90": p90, "max": top}
    return Hist(labels, counts, summary)


def array_hist(values: np.ndarray, *, bins: int = LENGTH_BINS) -> Hist | None:
    """The same histogram as `sql_hist` for values computed in Python (token counts of a sample)."""
    if not len(values):
        return None
    values = values.astype(np.float64)
    p50, p90, clip = np.quantile(values, [0.5, 0.9, 0.99])
    top = float(values.max())
    width, hi, labels = _layout(0.0, float(clip if clip > 0 else top), top, bins, True)
    idx = np.clip(np.floor(values / width), 0, bins - 1).astype(np.int64)
    counts = np.bincount(idx, minlength=bins).tolist()
    summary = {"rows": len(values), "mean": float(values.mean()), "median": float(p50), "p90": float(p90), "max": top}
    return Hist(labels, counts, summary)


def value_hist(ds, expr: str, *, source: str = "data", cap: int = 20) -> Hist | None:
    """One bin per integer value 0..cap-1, then "cap+" (turns per conversation, cluster sizes)."""
    rows = _rows(ds, f"SELECT least(({expr})::BIGINT, {cap}) AS v, count(*) FROM {source} WHERE ({expr}) IS NOT NULL GROUP BY v ORDER BY v")
    if not rows:
        return None
    low = int(rows[0][0])
    high = int(rows[-1][0])
    labels = [str(v) if v < cap else f"{cap}+" for v in range(low, high + 1)]
    found = dict(rows)
    counts = [int(found.get(v, 0)) for v in range(low, high + 1)]
    return Hist(labels, counts, {"rows": sum(counts)})


def _chars_expr(kind: str, cols: dict[str, str]) -> str | None:
    if kind == "text":
        return "length(coalesce(text, ''))" if "text" in cols else None
    parts = [f"coalesce(list_sum(list_transform({q(c)}, lambda m: length(coalesce(m.content, '')))), 0)"
             for c in MESSAGE_COLUMNS[kind] if cols.get(c, "").endswith("[]")]
    return " + ".join(parts) or None


def _text_expr(kind: str, cols: dict[str, str]) -> str | None:
    if kind == "text":
        return "coalesce(text, '')" if "text" in cols else None
    parts = [f"array_to_string(list_transform({q(c)}, lambda m: coalesce(m.content, '')), '\n')"
             for c in MESSAGE_COLUMNS[kind] if cols.get(c, "").endswith("[]")]
    return " || '\n' || ".join(parts) or None


def _token_column(cols: dict[str, str]) -> str | None:
    for name, dtype in cols.items():
        lowered = name.lower()
        if dtype in ("BIGINT", "INTEGER", "UBIGINT", "UINTEGER") and (
            lowered in ("tokens", "num_tokens", "n_tokens", "token_count") or lowered.endswith("_tokens")
        ):
            return name
    return None


def _load_tokenizer(manifest: dict):
    """The ``tokenizers`` tokenizer the manifest's config names (a tokenizer.json or a folder holding
    one), or None when there is none or it cannot be loaded."""
    config = manifest.get("config") or {}
    path = config.get("tokenizer")
    if not isinstance(path, str) or not path:
        return None
    file = Path(path) / "tokenizer.json" if Path(path).is_dir() else Path(path)
    try:
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(file))
    except Exception:  # any failure (missing file, bad JSON, no package) falls back to characters
        return None


def lengths(ds, kind: str, cols: dict[str, str]) -> tuple[str, Hist | None]:
    """("tokens" or "characters", histogram of the length of each row's text)."""
    token_col = _token_column(cols)
    if token_col:
        return "tokens", sql_hist(ds, q(token_col))
    tokenizer = _load_tokenizer(ds.manifest)
    text = _text_expr(kind, cols)
    if tokenizer is not None and text:
        sample = [r[0] for r in _rows(ds, f"SELECT {text} FROM data USING SAMPLE reservoir({TOKEN_SAMPLE} ROWS) REPEATABLE (7)")]
        encoded = tokenizer.encode_batch(sample, add_special_tokens=False)
        return "tokens", array_hist(np.array([len(e.ids) for e in encoded]))
    chars = _chars_expr(kind, cols)
    return "characters", sql_hist(ds, chars) if chars else None


def turns(ds, kind: str, cols: dict[str, str]) -> Hist | None:
    column = "messages" if kind == "conversation" else "prompt" if kind == "preference" else None
    if column is None or not cols.get(column, "").endswith("[]"):
        return None
    return value_hist(ds, f"len({q(column)})")


def categories(ds, expr: str, *, source: str = "data") -> list[tuple[str, int]]:
    """Counts per value, largest first: the top ``TOP`` values, then "other"."""
    rows = _rows(ds, f"SELECT coalesce(({expr})::VARCHAR, '(none)') AS v, count(*) AS n FROM {source} GROUP BY v ORDER BY n DESC, v")
    head = [(v, int(n)) for v, n in rows[:TOP]]
    rest = sum(int(n) for _, n in rows[TOP:])
    return head + ([("other", rest)] if rest else [])


def pii(ds, cols: dict[str, str]) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(PII found in kept rows per type, rows dropped for PII per reason).

    Kept-row counts come from ``pii_*`` columns: a list of type names, a list of structs with a
    ``type``/``entity_type`` field, or integer columns ``pii_<type>``."""
    found: dict[str, int] = {}
    for name, dtype in cols.items():
        if not name.lower().startswith("pii_"):
            continue
        if dtype == "VARCHAR[]":
            sql = f"SELECT t, count(*) FROM (SELECT unnest({q(name)}) AS t FROM data) GROUP BY t"
        elif dtype.startswith("STRUCT(") and dtype.endswith("[]") and ("entity_type " in dtype or "type " in dtype):
            fieldname = "entity_type" if "entity_type " in dtype else "type"
            sql = f"SELECT s.{fieldname}, count(*) FROM (SELECT unnest({q(name)}) AS s FROM data) GROUP BY 1"
        elif dtype in ("BIGINT", "INTEGER", "SMALLINT", "UBIGINT", "UINTEGER") and name.lower() not in ("pii_count", "pii_total"):
            sql = f"SELECT '{name[4:].upper()}', coalesce(sum({q(name)}), 0) FROM data"
        else:
            continue
        for label, n in _rows(ds, sql):
            if label is not None and n:
                found[str(label)] = found.get(str(label), 0) + int(n)
    kept = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    dropped = [(r, int(n)) for r, n in _rows(ds, "SELECT reason, count(*) FROM rejects WHERE lower(reason) LIKE 'pii%' "
                                              "GROUP BY reason ORDER BY count(*) DESC, reason")]
    return kept, dropped


def duplicate_clusters(ds) -> Hist | None:
    """Sizes of duplicate clusters: the kept row plus the rejects whose ``duplicate_of`` names it."""
    source = "(SELECT count(*) + 1 AS size FROM rejects WHERE duplicate_of IS NOT NULL GROUP BY duplicate_of)"
    return value_hist(ds, "size", source=source)


def quality(ds, cols: dict[str, str]) -> dict[str, Hist]:
    """A histogram per numeric ``quality_*`` column."""
    numeric = ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "DECIMAL")
    out = {}
    for name, dtype in cols.items():
        if name.lower().startswith("quality_") and dtype.startswith(numeric):
            hist = sql_hist(ds, q(name), bins=SCORE_BINS, integer=False, from_zero=False, clip_quantile=1.0)
            if hist is not None:
                out[name] = hist
    return out


def samples(ds, kind: str, cols: dict[str, str], n: int = 5) -> list[tuple[str, list[tuple[str, str]]]]:
    """A few rows (stable choice: smallest hash of id) as (id, [(role, text)]) for display."""
    picked = [c for c in (MESSAGE_COLUMNS[kind] or ("text",)) if c in cols]
    if not picked:
        return []
    rows = _rows(ds, f"SELECT id, {', '.join(q(c) for c in picked)} FROM data ORDER BY hash(id), id LIMIT {n}")
    out = []
    for row in rows:
        turns_: list[tuple[str, str]] = []
        for column, value in zip(picked, row[1:]):
            if column == "text":
                turns_.append(("text", value or ""))
                continue
            prefix = f"{column}/" if kind == "preference" else ""
            for m in value or []:
                text = m.get("content") or ""
                if not text and m.get("tool_calls"):
                    text = "tool call: " + ", ".join(f"{c.get('name')}({c.get('arguments')})" for c in m["tool_calls"])
                turns_.append((prefix + str(m.get("role")), text))
        out.append((str(row[0]), turns_))
    return out
