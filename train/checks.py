"""The template gate: is this data safe to train with this tokenizer's chat template?

The manifest's ``templates`` entry (written when ``curate clean --tokenizer`` ran) is reused when its
template fingerprint (sha256 of the template text) is the template this run trains with; otherwise the
check runs now (`curate.templates.check_dataset`). An ``unsafe`` verdict is refused with exit 1 and the
failing checks, unless ``skip_checks`` (then it is a loud warning, recorded in curate_train.json).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from curate.errors import CheckFailed
from train.data import Curated, Warn, warn_stderr


@dataclass
class TemplateVerdict:
    verdict: str  # safe | unsafe
    source: str  # manifest | check
    sha256: str
    errors: list[str]  # "check: n rows (e.g. ids)" lines of the failing checks
    report: dict  # the TemplateReport JSON

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "source": self.source, "sha256": self.sha256, "errors": self.errors,
                "fingerprint": self.report.get("fingerprint")}


def template_sha256(template: str) -> str:
    return hashlib.sha256(template.encode("utf-8")).hexdigest()


def _errors(report: dict) -> list[str]:
    lines = []
    for name, finding in (report.get("checks") or {}).items():
        if finding.get("severity") != "error":
            continue
        line = name
        if finding.get("scope") == "row":
            line += f": {finding.get('count')} rows"
            if finding.get("examples"):
                line += f" (e.g. {', '.join(map(str, finding['examples'][:3]))})"
        if finding.get("detail"):
            line += f" - {finding['detail']}"
        lines.append(line)
    return lines


def template_verdict(curated: Curated, tokenizer_dir: str, template: str, max_length: int | None) -> TemplateVerdict:
    """The verdict for ``template``: from the manifest when it checked this template, else checked now."""
    digest = template_sha256(template)
    recorded = curated.manifest.get("templates")
    fingerprint = (recorded or {}).get("fingerprint") or {}
    if recorded and recorded.get("verdict") in ("safe", "unsafe") and fingerprint.get("sha256") == digest:
        return TemplateVerdict(recorded["verdict"], "manifest", digest, _errors(recorded), recorded)
    from curate.templates.check import check_dataset
    from curate.templates.tokenizer import LocalTokenizer

    tokenizer = LocalTokenizer.load(tokenizer_dir)
    tokenizer.chat_template = template  # the template this run trains with
    report = check_dataset(curated.table(), tokenizer, max_length).to_json()
    return TemplateVerdict(report["verdict"], "check", digest, _errors(report), report)


def require_safe(verdict: TemplateVerdict, curated: Curated, tokenizer_dir: str, *, skip_checks: bool,
                 warn: Warn = warn_stderr) -> None:
    """Refuse an unsafe verdict (exit 1) unless ``skip_checks``; then warn loudly and record it."""
    if verdict.verdict == "safe":
        return
    where = "recorded in the manifest" if verdict.source == "manifest" else "run now"
    reasons = "; ".join(verdict.errors) or "unsafe"
    message = f"{curated.root} fails the chat-template check for {tokenizer_dir} ({where}): {reasons}"
    if not skip_checks:
        raise CheckFailed(message, hint=f"see `curate templates check {curated.root} --tokenizer {tokenizer_dir}`; "
                                        "fix the data or the template (or --skip-checks to train anyway)")
    warn(f"--skip-checks: {message}")
    curated.skipped.append(f"template: {reasons}")
