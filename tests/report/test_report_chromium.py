"""Render the report in headless Chromium and check that every chart is laid out and painted.

The report has no scripts; the test renders a copy with a probe script appended, which measures each
chart and asks the browser which element is painted at the centre of every bar, then writes the
result into the DOM that ``--dump-dom`` prints. Skipped where no Chromium is installed
(Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from curate.report import build_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

PROBE = """<script>
window.addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
    svg.scrollIntoView();
    const box = svg.getBoundingClientRect();
    let painted = 0, bars = 0;
    for (const bar of svg.querySelectorAll('rect.bar')) {
      const r = bar.getBoundingClientRect();
      if (r.width <= 0 || r.height <= 0) continue;
      bars += 1;
      bar.scrollIntoView({block: 'center'});
      const s = bar.getBoundingClientRect();
      const hit = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
      if (hit === bar || (hit && hit.parentNode === bar)) painted += 1;
    }
    return {name: svg.dataset.chart, width: box.width, height: box.height, bars, painted,
            fill: bars ? getComputedStyle(svg.querySelector('rect.bar')).fill : ''};
  });
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(charts);
  document.body.appendChild(out);
});
</script>"""


def _browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def render(html: str, tmp_path: Path) -> list[dict]:
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium)")
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--window-size=900,1200", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert match, f"Chromium printed no probe result (exit {done.returncode}): {done.stderr[-500:]}"
    return json.loads(htmllib.unescape(match.group(1)))


def test_every_chart_is_drawn(dataset: Path, tmp_path: Path):
    charts = render(build_report(dataset), tmp_path)
    assert [c["name"] for c in charts] == ["waterfall", "lengths", "turns", "languages", "pii", "pii-dropped",
                                            "duplicates", "quality-quality_score"]
    expected_bars = {"waterfall": 5, "turns": 3, "languages": 3, "pii": 2, "pii-dropped": 1, "duplicates": 1,
                     "quality-quality_score": 5, "lengths": 5}
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 20, chart
        assert chart["bars"] == expected_bars[chart["name"]], chart
        assert chart["painted"] == chart["bars"], chart  # nothing covers a bar: the browser paints it on top
        assert chart["fill"].startswith("rgb("), chart


def test_a_report_without_annotations_still_draws(tmp_path: Path, builder):
    out = builder.write_dataset(tmp_path / "out", [builder.conv("x", ("user", "q"), ("assistant", "answer"))], [])
    charts = render(build_report(out), tmp_path)
    assert [(c["name"], c["bars"], c["painted"]) for c in charts] == [("waterfall", 2, 2), ("lengths", 1, 1), ("turns", 1, 1)]
