"""`write_report`: one self-contained HTML file describing a cleaned dataset.

Inline CSS and inline SVG only: no scripts, no fonts, no images, nothing fetched when it is viewed. The
size does not grow with the dataset (charts hold counts per bin, and only a few sample rows are shown),
so a 100k-row dataset gives a report of a few tens of KiB. Sample rows are masked (`curate.report.mask`)
and every text is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from curate.errors import InputError
from curate.records import KINDS
from curate.report import charts, stats
from curate.report.mask import mask

SAMPLE_CHARS = 400  # per turn shown in the sample rows


def _section(key: str, title: str, *parts: str, note: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    return f'<section id="{key}"><h2>{escape(title)}</h2>{note_html}' + "".join(parts) + "</section>"


def _figure(svg: str, caption: str = "") -> str:
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{cap}</figure>"


def _summary(hist: stats.Hist, unit: str) -> str:
    parts = [f"{k} {charts.fmt(round(v, 2))}" for k, v in hist.summary.items() if v is not None and k != "rows"]
    return f"{charts.fmt(hist.summary.get('rows', 0))} rows · " + ", ".join(parts) + (f" ({unit})" if unit else "")


def _removed(ds) -> str:
    read, drops, kept = stats.removals(ds)
    svg = charts.waterfall("waterfall", "Rows removed per stage and reason", read, drops, kept)
    removed = sum(n for _, n in drops)
    return _section("removed", "Rows removed per stage and reason", _figure(svg),
                    note=f"{read:,} read, {removed:,} removed, {kept:,} kept")


def _lengths(ds, kind: str, cols: dict) -> str:
    unit, hist = stats.lengths(ds, kind, cols)
    if hist is None:
        return ""
    svg = charts.histogram("lengths", f"Length per row ({unit})", hist.labels, hist.counts, x_label=unit)
    return _section("lengths", f"Length per row ({unit})", _figure(svg, _summary(hist, unit)))


def _turns(ds, kind: str, cols: dict) -> str:
    hist = stats.turns(ds, kind, cols)
    if hist is None:
        return ""
    title = "Turns per conversation" if kind == "conversation" else "Prompt turns per pair"
    return _section("turns", title, _figure(charts.histogram("turns", title, hist.labels, hist.counts, x_label="turns")))


def _languages(ds, cols: dict) -> str:
    if "lang" not in cols:
        return ""
    items = stats.categories(ds, "lang")
    return _section("languages", "Language mix", _figure(charts.hbars("languages", "Language mix", items)))


def _pii(ds, cols: dict) -> str:
    kept, dropped = stats.pii(ds, cols)
    dropped = [(mask(reason), n) for reason, n in dropped]  # a reason's detail could quote the text
    parts = []
    if kept:
        parts.append(_figure(charts.hbars("pii", "PII found per type", kept, unit="entities"),
                             "entities found in kept rows (redacted or masked in data/)"))
    if dropped:
        parts.append(_figure(charts.hbars("pii-dropped", "Rows dropped for PII", dropped, color=charts.COLORS["drop"]),
                             "rows sent to rejects/ for PII"))
    return _section("pii", "PII per type", *parts) if parts else ""


def _duplicates(ds) -> str:
    hist = stats.duplicate_clusters(ds)
    if hist is None:
        return ""
    svg = charts.histogram("duplicates", "Duplicate cluster sizes", hist.labels, hist.counts, unit="clusters", x_label="rows per cluster")
    return _section("duplicates", "Duplicate cluster sizes", _figure(svg, f"{charts.fmt(hist.summary['rows'])} clusters"))


def _quality(ds, cols: dict) -> str:
    figures = [
        _figure(charts.histogram(f"quality-{name}", name, hist.labels, hist.counts, x_label=name), _summary(hist, ""))
        for name, hist in stats.quality(ds, cols).items()
    ]
    return _section("quality", "Quality scores", *figures) if figures else ""


def _templates(manifest: dict) -> str:
    verdict = manifest.get("templates")
    if not verdict:
        return _section("templates", "Chat-template check", note="not run (curate templates check OUT --tokenizer PATH)")
    label = str(verdict.get("verdict", "unknown"))
    fp = verdict.get("fingerprint") or {}
    rows = [("tokenizer", Path(str(verdict.get("tokenizer", ""))).name), ("template", " ".join(
        str(fp[k]) for k in ("family", "revision", "match") if fp.get(k))), ("rows checked", verdict.get("rows")),
        ("rows with errors", verdict.get("rows_with_errors"))]
    for name, finding in (verdict.get("checks") or {}).items():
        if isinstance(finding, dict):
            rows.append((name, f"{finding.get('count', 0)} ({finding.get('severity', '')})"))
    table = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows if v not in (None, ""))
    badge = f'<p class="verdict {"ok" if label == "safe" else "bad"}">verdict: {escape(label)}</p>'
    return _section("templates", "Chat-template check", badge, f"<table>{table}</table>")


def _samples(ds, kind: str, cols: dict) -> str:
    shown = []
    for row_id, turns in stats.samples(ds, kind, cols):
        items = []
        for role, text in turns:
            masked = mask(text)
            if len(masked) > SAMPLE_CHARS:
                masked = masked[:SAMPLE_CHARS] + "…"
            items.append(f"<dt>{escape(role)}</dt><dd>{escape(masked)}</dd>")
        shown.append(f'<article class="sample"><h3>{escape(mask(row_id))}</h3><dl>{"".join(items)}</dl></article>')
    if not shown:
        return ""
    return _section("samples", "Sample rows", *shown, note="personal data masked: e-mails, phones, keys, IPs")


def _header(ds, name: str) -> str:
    m = ds.manifest
    counts = m.get("counts") or {}
    cards = "".join(f'<div class="card"><span>{escape(k)}</span><b>{charts.fmt(counts[k])}</b></div>'
                    for k in ("read", "kept", "rejected") if isinstance(counts.get(k), int))
    meta = " · ".join(escape(str(v)) for v in (m.get("kind"), m.get("format"),
                                               f"curate {(m.get('created_by') or {}).get('curate', '?')}") if v)
    return f"<header><h1>{escape(name)}</h1><p class=\"meta\">{meta}</p><div class=\"cards\">{cards}</div></header>"


def build_report(out_dir: str | Path) -> str:
    """The report's HTML text for the dataset in ``out_dir``."""
    from curate.sql.query import Dataset

    with Dataset(out_dir, require_manifest=True) as ds:
        kind = ds.manifest.get("kind") if ds.manifest.get("kind") in KINDS else "conversation"
        cols = stats.columns(ds)
        body = [
            _header(ds, ds.root.name),
            _removed(ds),
            _lengths(ds, kind, cols),
            _turns(ds, kind, cols),
            _languages(ds, cols),
            _pii(ds, cols),
            _duplicates(ds),
            _quality(ds, cols),
            _templates(ds.manifest),
            _samples(ds, kind, cols),
        ]
    css = files("curate.report").joinpath("assets/report.css").read_text(encoding="utf-8")
    title = escape(f"curate report: {Path(out_dir).resolve().name}")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{title}</title><style>{css}</style></head><body><main>"
            + "".join(body)
            + "<footer>Written by curate. Self-contained: no scripts, nothing fetched.</footer></main></body></html>\n")


def write_report(out_dir: str | Path, html_path: str | Path | None = None) -> Path:
    """Write the report of ``out_dir`` to ``html_path`` (default ``OUT/report.html``) and return the path.

    Written to a temporary name first and renamed, so a reader never sees half a file."""
    target = Path(html_path) if html_path is not None else Path(out_dir) / "report.html"
    if html_path is not None and not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder", hint="create it, or pass another --html path")
    text = build_report(out_dir)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target

