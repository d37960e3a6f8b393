"""Inline SVG charts as strings: horizontal bars, histograms, and a removal waterfall.

No JavaScript and nothing fetched: each chart is an ``<svg class="chart" data-chart=NAME>`` whose marks
are ``<rect class="bar">`` elements with a ``<title>`` (the browser's tooltip). Every label is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

WIDTH = 640
BAR = 18  # height of one horizontal bar
GAP = 6
LABEL_W = 190  # room for labels left of horizontal bars
VALUE_W = 80  # room for the value right of the bar
COLORS = {"total": "#4C78A8", "drop": "#E45756", "kept": "#54A24B", "bar": "#4C78A8", "other": "#9AA5B1"}


def fmt(value: float) -> str:
    """1234 -> "1,234"; 0.123456 -> "0.123"; 1234.5 -> "1,234.5"."""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def _svg(name: str, title: str, width: int, height: int, body: list[str]) -> str:
    label = escape(title, quote=True)
    return (
        f'<svg class="chart" data-chart="{escape(name, quote=True)}" role="img" aria-label="{label}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">' + "".join(body) + "</svg>"
    )


def _cut(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hbars(name: str, title: str, items: Sequence[tuple[str, float]], *, unit: str = "rows",
          color: str = COLORS["bar"]) -> str:
    """One horizontal bar per (label, value), longest scale first as given."""
    top = max((v for _, v in items), default=0) or 1
    span = WIDTH - LABEL_W - VALUE_W
    body = []
    for i, (label, value) in enumerate(items):
        y = i * (BAR + GAP)
        w = max(1.0, span * value / top) if value else 0.0
        tip = escape(f"{label}: {fmt(value)} {unit}")
        body.append(f'<text class="label" x="{LABEL_W - 8}" y="{y + BAR - 5}" text-anchor="end">{escape(_cut(label))}</text>')
        body.append(f'<rect class="bar" x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR}" fill="{color}"><title>{tip}</title></rect>')
        body.append(f'<text class="value" x="{LABEL_W + w + 6:.1f}" y="{y + BAR - 5}">{fmt(value)}</text>')
    return _svg(name, title, WIDTH, max(len(items), 1) * (BAR + GAP), body)


def histogram(name: str, title: str, labels: Sequence[str], counts: Sequence[int], *, unit: str = "rows",
              x_label: str = "", height: int = 200) -> str:
    """Vertical bars, one per bin; ``labels[i]`` names bin i (tooltips; a few shown under the axis)."""
    left, bottom, top_pad = 48, 36, 12
    plot_w, plot_h = WIDTH - left - 12, height - bottom - top_pad
    top = max(counts, default=0) or 1
    step = min(plot_w / max(len(counts), 1), 48.0)  # a few bins stay bars, not slabs
    body = [
        f'<line class="axis" x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}"/>',
        f'<text class="tick" x="{left - 6}" y="{top_pad + 8}" text-anchor="end">{fmt(top)}</text>',
        f'<text class="tick" x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    every = max(1, len(labels) // 6)
    for i, (label, count) in enumerate(zip(labels, counts)):
        h = plot_h * count / top
        if count:
            h = max(h, 1.0)
        x = left + i * step
        tip = escape(f"{label}: {fmt(count)} {unit}")
        body.append(f'<rect class="bar" x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(step - 2, 1):.1f}" '
                    f'height="{h:.1f}" fill="{COLORS["bar"]}"><title>{tip}</title></rect>')
        if i % every == 0:
            body.append(f'<text class="tick" x="{x + step / 2:.1f}" y="{top_pad + plot_h + 14}" '
                        f'text-anchor="middle">{escape(_cut(label, 12))}</text>')
    if x_label:
        body.append(f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">{escape(x_label)}</text>')
    return _svg(name, title, WIDTH, height, body)


def waterfall(name: str, title: str, read: int, drops: Sequence[tuple[str, int]], kept: int) -> str:
    """Rows read, then one floating bar per (stage/reason, rows removed), then rows kept."""
    span = WIDTH - LABEL_W - VALUE_W
    scale = span / (read or 1)
    steps = [("read", 0, read, "total")]
    remaining = read
    for label, n in drops:
        steps.append((label, remaining - n, n, "drop"))
        remaining -= n
    steps.append(("kept", 0, kept, "kept"))
    body = []
    for i, (label, start, n, kind) in enumerate(steps):
        y = i * (BAR + GAP)
        x, w = LABEL_W + start * scale, max(n * scale, 1.0 if n else 0.0)
        shown = f"−{fmt(n)}" if kind == "drop" else fmt(n)
        tip = escape(f"{label}: {shown} rows")
        body.append(f'<text class="label" x="{LABEL_W - 8}" y="{y + BAR - 5}" text-anchor="end">{escape(_cut(label))}</text>')
        body.append(f'<rect class="bar {kind}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR}" fill="{COLORS[kind]}"><title>{tip}</title></rect>')
        body.append(f'<text class="value" x="{x + w + 6:.1f}" y="{y + BAR - 5}">{shown}</text>')
    return _svg(name, title, WIDTH, len(steps) * (BAR + GAP), body)
