"""`TemplateReport`: the verdict of a template check, per-check counts with example row ids, token stats.

Every check has a stable name (the label of a reject reason is ``template: <check>``), a severity
(``error`` makes the verdict unsafe, ``note`` does not) and a scope (``row``: the rows named go to
rejects in ``clean``; ``dataset``: the whole run fails).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Severity = Literal["error", "note"]
Scope = Literal["row", "dataset"]
EXAMPLES = 5
ROW_COUNTED = ("template injects text", "markup not single tokens")  # dataset-level, counted in rows

# check name -> (severity, scope, what it means)
CHECKS: dict[str, tuple[Severity, Scope, str]] = {
    "no chat template": ("error", "dataset", "the tokenizer has no chat template and none was given"),
    "template probe failed": ("error", "dataset", "the template raises on a plain user/assistant chat"),
    "markup not single tokens": ("error", "dataset", "the template's markup splits into several tokens in this vocabulary"),
    "terminator not a stop token": ("error", "dataset", "the end of an assistant turn is not EOS nor in generation_config eos_token_id"),
    "terminator not trained": ("error", "dataset", "the end-of-turn token is outside the {% generation %} span"),
    "template injects text": ("note", "dataset", "the template writes text that no message holds"),
    "template raises": ("error", "row", "rendering the row raises"),
    "unknown role": ("error", "row", "a role other than system/user/assistant/tool"),
    "turn dropped": ("error", "row", "a non-empty turn does not appear in the render"),
    "answer altered": ("error", "row", "assistant content does not appear verbatim in the render"),
    "reasoning dropped": ("error", "row", "assistant reasoning does not appear in the render"),
    "empty assistant turn": ("error", "row", "an assistant turn with no content and no tool calls"),
    "no trained tokens": ("error", "row", "no token of the row is trained (after truncation)"),
    "truncated answer": ("error", "row", "--max-length cuts the answer or its stop token"),
    "prompt not a prefix": ("error", "row", "prompt + generation prompt is not a token prefix of prompt + answer"),
    "double BOS": ("error", "row", "pre-rendered text starts with BOS and the tokenizer adds another"),
    "foreign markup": ("error", "row", "text carries another template family's markup"),
    "truncated text": ("note", "row", "--max-length cuts a text row (continued pre-training splits it)"),
}


@dataclass
class Finding:
    check: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    detail: str | None = None

    @property
    def severity(self) -> Severity:
        return CHECKS[self.check][0]

    @property
    def scope(self) -> Scope:
        return CHECKS[self.check][1]

    def to_json(self) -> dict:
        return {"check": self.check, "severity": self.severity, "scope": self.scope, "count": self.count,
                "examples": self.examples, "detail": self.detail}


@dataclass
class TemplateReport:
    """What `check_dataset` found. ``row_problems``: (row id, ``template: <check>``), first error per row."""

    tokenizer: str
    kind: str
    rows: int
    max_length: int | None
    fingerprint: dict
    findings: dict[str, Finding] = field(default_factory=dict)
    row_problems: list[tuple[str, str]] = field(default_factory=list)
    lengths: dict = field(default_factory=dict)
    seconds: float = 0.0

    token_lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def merge(self, other: "TemplateReport") -> "TemplateReport":
        """Combine the reports of two parts of one dataset (shards checked one by one)."""
        merged = TemplateReport(self.tokenizer, self.kind, self.rows + other.rows, self.max_length, self.fingerprint)
        for report in (self, other):
            for finding in report.findings.values():
                # counts of rows add up; a finding about the template itself is counted once
                template_wide = finding.scope == "dataset" and finding.check not in ROW_COUNTED
                seen = merged.findings.get(finding.check)
                count = finding.count if not template_wide else max(0, finding.count - (seen.count if seen else 0))
                merged.add(finding.check, None, finding.detail, count=count)
                target = merged.findings[finding.check]
                target.examples.extend(finding.examples[: EXAMPLES - len(target.examples)])
            merged.row_problems.extend(report.row_problems)
        merged.token_lengths = np.concatenate([self.token_lengths, other.token_lengths])
        merged.lengths = length_stats(merged.token_lengths, self.max_length)
        for key in ("over_max_length", "sampled_rows"):  # exact counts of sampled reports add up
            if key in self.lengths or key in other.lengths:
                merged.lengths[key] = sum(r.lengths.get(key, r.lengths.get("count", 0)) for r in (self, other))
        merged.seconds = self.seconds + other.seconds
        return merged

    def add(self, check: str, row_id: str | None = None, detail: str | None = None, count: int = 1) -> None:
        finding = self.findings.setdefault(check, Finding(check))
        finding.count += count
        if row_id is not None and len(finding.examples) < EXAMPLES:
            finding.examples.append(row_id)
        if detail and finding.detail is None:
            finding.detail = detail

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings.values() if f.severity == "error"]

    @property
    def dataset_errors(self) -> list[Finding]:
        return [f for f in self.errors if f.scope == "dataset"]

    @property
    def verdict(self) -> str:
        return "unsafe" if self.errors else "safe"

    @property
    def verdict_after_rejects(self) -> str:
        """The gate's verdict: row-level errors go to rejects, so only dataset-level errors remain."""
        return "unsafe" if self.dataset_errors else "safe"

    def to_json(self) -> dict:
        """The manifest's ``templates`` value (and ``--json`` output)."""
        order = list(CHECKS)
        findings = sorted(self.findings.values(), key=lambda f: order.index(f.check))
        return {
            "verdict": self.verdict,
            "verdict_after_rejects": self.verdict_after_rejects,
            "tokenizer": self.tokenizer,
            "fingerprint": self.fingerprint,
            "kind": self.kind,
            "rows": self.rows,
            "max_length": self.max_length,
            "rows_with_errors": len(self.row_problems),
            "checks": {f.check: f.to_json() for f in findings},
            "lengths": self.lengths,
            "seconds": round(self.seconds, 3),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)

    def to_text(self) -> str:
        fp = self.fingerprint
        if fp["match"] == "exact":
            which = f"{fp['family']} {fp['revision']} (exact match to templates/{fp['name']})"
        elif fp["match"] == "family":
            which = f"{fp['family']} (edited or unknown revision)"
        else:
            which = "none" if fp["match"] == "none" else "unknown family"
        lines = [f"template: {which}" + (f", sha256 {fp['sha256'][:12]}" if fp.get("sha256") else ""),
                 f"rows: {self.rows} {self.kind}" + (f", max length {self.max_length}" if self.max_length else "")]
        if self.lengths.get("count"):
            s = self.lengths
            sample = f" (sample of {s['sampled_rows']} rows)" if "sampled_rows" in s else ""
            lines.append(f"tokens{sample}: min {s['min']}, median {s['median']}, p95 {s['p95']}, max {s['max']}"
                         + (f"; {s['over_max_length']} rows over {self.max_length}" if self.max_length else ""))
        order = list(CHECKS)
        for f in sorted(self.findings.values(), key=lambda f: (f.severity != "error", order.index(f.check))):
            count = f"{f.count} row{'s' if f.count != 1 else ''}" if f.scope == "row" else ""
            line = f"{f.severity:<5}  {f.check}"
            if count:
                line += f": {count}"
            if f.examples:
                line += f" (e.g. {', '.join(f.examples)})"
            if f.detail:
                line += f" - {f.detail}"
            lines.append(line)
        lines.append(f"verdict: {self.verdict}")
        return "\n".join(lines)


def length_stats(lengths: np.ndarray, max_length: int | None) -> dict:
    if lengths.size == 0:
        return {"count": 0}
    stats = {
        "count": int(lengths.size),
        "min": int(lengths.min()),
        "median": int(np.median(lengths)),
        "mean": round(float(lengths.mean()), 1),
        "p95": int(np.percentile(lengths, 95)),
        "max": int(lengths.max()),
        "total": int(lengths.sum()),
    }
    if max_length:
        stats["over_max_length"] = int((lengths > max_length).sum())
    return stats
