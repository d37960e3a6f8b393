"""The chat-template gate of `curate clean --tokenizer PATH [--max-length N]`.

Reads the canonical message columns; writes none. Each row is rendered and tokenised as training will
(`curate.templates.check_dataset`); a row with a problem is dropped, stage ``template``, with the
check's name as the reason (e.g. ``truncated answer``). Dataset-level problems (no chat template, a
terminator that is not a stop token, …) cannot be fixed by dropping rows: the per-batch reports are
merged by the pipeline, written to the manifest's ``templates`` key, and fail the run (exit 1).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from curate.stages.base import Filter


class TemplateGate(Filter):
    name = "template"

    def __init__(self, tokenizer: str, max_length: int | None):
        self.tokenizer_path = tokenizer
        self.max_length = max_length
        self._tokenizer = None  # loaded in the worker, once
        self._reports: list = []

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_tokenizer": None, "_reports": []}

    def reasons(self, batch: pa.Table) -> pa.Array:
        from curate.templates import check_dataset
        from curate.templates.tokenizer import LocalTokenizer

        if self._tokenizer is None:
            self._tokenizer = LocalTokenizer.load(Path(self.tokenizer_path))
        report = check_dataset(batch, self._tokenizer, self.max_length, workers=1)
        self._reports.append(report)
        reason_of = {row_id: reason.removeprefix("template: ") for row_id, reason in report.row_problems}
        return pa.array([reason_of.get(i) for i in batch["id"].to_pylist()], pa.string())

    def take_reports(self) -> list:
        """The reports of the batches seen since the last call (the unit hands them to the pipeline)."""
        reports, self._reports = self._reports, []
        return reports
