"""`QualityFilter`: the one keep/drop decision over the quality annotation columns.

Reads: ``lang``, ``lang_*``, ``quality_*`` (and ``text`` for the text kind); with ``--keep-where`` any
column of the batch. Writes nothing; a dropped row's reason names the rule, e.g. ``refusal``,
``gopher: word count``, ``c4: too few sentences``, ``fineweb: line punctuation``,
``lang: de not in en,zh``, ``contaminated: mmlu.jsonl``, ``keep-where``. With ``annotate_only`` every
row is kept.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.records import kind_of
from curate.stages.base import Filter
from curate.stages.quality import rules as R
from curate.stages.quality.config import QualityConfig


class QualityFilter(Filter):
    name = "quality"

    def __init__(self, config: QualityConfig):
        self.config = config

    def rules(self, kind: str, columns: list[str]) -> list[R.Rule]:
        """The default rules that apply to a batch of ``kind`` with these annotation columns, in order."""
        c = self.config
        out: list[R.Rule] = []
        if "quality_contaminated" in columns:
            out.append(("__expr__", pl.when(pl.col("quality_contaminated").is_not_null())
                        .then(pl.format("contaminated: {}", pl.col("quality_contaminated")))))
        if c.lang is not None and "lang" in columns:
            out.append(R.lang_rule(c.lang))
        if c.rules == "default" and "quality_lang_mismatch" in columns:
            out.append(R.lang_mismatch_rule())
        if c.rules == "default" and kind == "text" and "quality_words" in columns:
            out += R.text_rules(c.text)
        elif c.rules == "default" and "quality_response_chars" in columns:
            out += R.instruction_rules(c.instruction)
        if "quality_score" in columns:
            out.append((f"quality model: score below {c.min_quality_score:g}",
                        pl.col("quality_score") < c.min_quality_score))
        return out

    def reasons(self, batch: pa.Table) -> pa.Array:
        if self.config.annotate_only:
            return pa.nulls(batch.num_rows, pa.string())
        if self.config.keep_where:
            keep = R.keep_where(batch.drop_columns([c for c in ("raw",) if c in batch.column_names]),
                                self.config.keep_where)
            return pc.if_else(keep, pa.scalar(None, pa.string()), pa.scalar("keep-where"))
        kind = kind_of(batch.schema)
        wanted = [n for n in batch.column_names if n.startswith(("quality_", "lang")) or n == "text"]
        if not wanted:
            return pa.nulls(batch.num_rows, pa.string())
        frame = pl.from_arrow(batch.select(wanted))
        assert isinstance(frame, pl.DataFrame)
        reason = R.first_reason(frame, self.rules(kind, wanted))
        return reason.to_arrow().cast(pa.string())

    def manifest_info(self) -> dict:
        c = self.config
        return {"rules": "keep-where" if c.keep_where else c.rules, "keep_where": c.keep_where,
                "lang": list(c.lang) if c.lang else "any", "annotate_only": c.annotate_only,
                "min_quality_score": c.min_quality_score if c.quality_model else None}
