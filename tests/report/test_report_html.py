"""`curate report` / `write_report`: which charts exist, what their bars say, masking, escaping, size."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from curate.cli import app
from curate.report import build_report, write_report

runner = CliRunner()


class Charts(HTMLParser):
    """Collects each chart's bar tooltips (``<rect class="bar"><title>``), plus tags and attributes seen."""

    def __init__(self):
        super().__init__()
        self.charts: dict[str, list[str]] = {}
        self.current: str | None = None
        self.in_bar_title = False
        self.in_bar = False
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.attrs.update(a)
        if tag == "svg":
            self.current = a["data-chart"]
            self.charts[self.current] = []
        elif tag == "rect" and "bar" in a.get("class", "").split():
            self.in_bar = True
        elif tag == "title" and self.in_bar:
            self.in_bar_title = True

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_bar_title = False
        elif tag == "rect":
            self.in_bar = False
        elif tag == "svg":
            self.current = None

    def handle_data(self, data):
        if self.in_bar_title and self.current:
            self.charts[self.current].append(data)


def parse(html: str) -> Charts:
    parser = Charts()
    parser.feed(html)
    return parser


def test_charts_of_the_standard_dataset(dataset: Path):
    charts = parse(build_report(dataset)).charts
    assert list(charts) == ["waterfall", "lengths", "turns", "languages", "pii", "pii-dropped", "duplicates", "quality-quality_score"]
    assert charts["waterfall"] == ["read: 8 rows", "validate: empty turn: −1 rows", "dedup: duplicate: −1 rows",
                                   "pii: EMAIL: −1 rows", "kept: 5 rows"]
    assert charts["turns"] == ["2: 2 rows", "3: 1 rows", "4: 2 rows"]
    assert charts["languages"] == ["en: 3 rows", "de: 1 rows", "zh: 1 rows"]
    assert charts["pii"] == ["EMAIL: 2 entities", "PHONE: 1 entities"]
    assert charts["pii-dropped"] == ["pii: EMAIL: 1 rows"]
    assert charts["duplicates"] == ["2: 1 clusters"]
    scores = charts["quality-quality_score"]
    assert len(scores) == 20 and sum(int(t.rsplit(": ", 1)[1].split()[0]) for t in scores) == 5


def test_waterfall_from_rejects_when_the_manifest_has_no_stage_counts(tmp_path: Path, builder):
    out = builder.write_standard(tmp_path / "out", by_stage={})
    assert parse(build_report(out)).charts["waterfall"] == [
        "read: 8 rows", "dedup: duplicate: −1 rows", "pii: −1 rows", "validate: empty turn: −1 rows", "kept: 5 rows"]


def test_length_histogram_counts_characters_of_every_row(dataset: Path):
    rows = pq.read_table(dataset / "data").to_pylist()
    chars = sorted(sum(len(m["content"] or "") for m in r["messages"]) for r in rows)
    html = build_report(dataset)
    bars = parse(html).charts["lengths"]
    assert sum(int(t.rsplit(": ", 1)[1].split()[0]) for t in bars) == len(rows) == 5
    assert f"max {chars[-1]} (characters)" in html
    assert "Length per row (characters)" in html


def test_no_scripts_no_network_and_masked_samples(dataset: Path):
    html = build_report(dataset)
    parsed = parse(html)
    assert not parsed.tags & {"script", "img", "link", "iframe", "object", "embed"}
    assert not parsed.attrs & {"src", "href", "onload", "onclick"}
    assert "url(" not in html and "@import" not in html and "http" not in html
    assert "bob@example.com" not in html and "555 0199" not in html
    assert "Mail &lt;EMAIL&gt; or call &lt;NUMBER&gt;" in html
    assert "tool call: weather({&quot;city&quot;: &quot;Paris&quot;})" in html


def test_only_charts_for_what_exists_and_escaping(tmp_path: Path, builder):
    rows = [builder.conv('<b id="x">', ("user", "<script>alert(1)</script>"), ("assistant", "ok & done"))]
    out = builder.write_dataset(tmp_path / "out", rows, [])
    html = build_report(out)
    parsed = parse(html)
    assert list(parsed.charts) == ["waterfall", "lengths", "turns"]
    assert "script" not in parsed.tags and '<b id="x">' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b id=&quot;x&quot;&gt;" in html
    assert "ok &amp; done" in html
    assert parsed.charts["waterfall"] == ["read: 1 rows", "kept: 1 rows"]


def test_token_lengths_when_the_manifest_names_a_tokenizer(tmp_path: Path, builder):
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "hello": 1, "world": 2}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    (tmp_path / "tok").mkdir()
    tokenizer.save(str(tmp_path / "tok" / "tokenizer.json"))
    rows = [builder.conv("a", ("user", "hello world"), ("assistant", "hello")),
            builder.conv("b", ("user", "hello " * 30), ("assistant", "world world"))]
    out = builder.write_dataset(tmp_path / "out", rows, [], config={"tokenizer": str(tmp_path / "tok")})
    html = build_report(out)
    assert "Length per row (tokens)" in html
    assert "max 32 (tokens)" in html  # 30 + 2 whitespace tokens in row b (turns joined by newlines)
    assert sum(int(t.rsplit(": ", 1)[1].split()[0]) for t in parse(html).charts["lengths"]) == 2


def test_template_verdict(tmp_path: Path, builder):
    verdict = {"verdict": "unsafe", "tokenizer": "/models/tiny", "fingerprint": {"family": "chatml", "match": "family"},
               "rows": 5, "rows_with_errors": 2,
               "checks": {"turn dropped": {"check": "turn dropped", "severity": "error", "count": 2, "examples": ["a:1"]}}}
    out = builder.write_standard(tmp_path / "out", templates=verdict)
    html = build_report(out)
    assert '<p class="verdict bad">verdict: unsafe</p>' in html
    assert "<tr><th>turn dropped</th><td>2 (error)</td></tr>" in html
    assert "<tr><th>template</th><td>chatml family</td></tr>" in html
    assert "not run (curate templates check" in build_report(builder.write_standard(tmp_path / "plain"))


def test_report_of_100k_rows_is_small(tmp_path: Path, builder):
    out = builder.write_large(tmp_path / "big", 100_000)
    path = write_report(out, tmp_path / "big.html")
    size = path.stat().st_size
    assert size < 2 * 1024 * 1024
    charts = parse(path.read_text()).charts
    assert charts["waterfall"] == ["read: 105,000 rows", "dedup: duplicate: −5,000 rows", "kept: 100,000 rows"]
    assert sum(int(t.rsplit(": ", 1)[1].split()[0].replace(",", "")) for t in charts["lengths"]) == 100_000
    assert charts["pii"] == ["EMAIL: 2,000 entities"]
    assert charts["duplicates"] == ["2: 5,000 clusters"]


def test_cli_report_default_and_explicit_path(dataset: Path, tmp_path: Path):
    result = runner.invoke(app, ["report", str(dataset)])
    assert result.exit_code == 0
    size = (dataset / "report.html").stat().st_size
    assert result.output == f"wrote {dataset / 'report.html'} ({size / 1024:.0f} KiB)\n"
    target = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(dataset), "--html", str(target)])
    assert result.exit_code == 0
    assert target.read_text() == (dataset / "report.html").read_text()


def test_cli_report_errors(tmp_path: Path, dataset: Path):
    result = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output == f"error: {tmp_path / 'nope'}: not a folder (hint: pass the OUT folder written by `curate clean`)\n"
    result = runner.invoke(app, ["report", str(dataset), "--html", str(tmp_path / "no" / "r.html")])
    assert result.exit_code == 2
    assert result.output == f"error: {tmp_path / 'no'}: no such folder (hint: create it, or pass another --html path)\n"
