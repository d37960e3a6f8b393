"""The PII stage: find personal data and secrets in every text field and redact, mask, hash or drop.

`PiiRedactor` (an Annotator, stage ``pii``)
    reads:  every text field of the kind: ``messages`` / ``prompt`` / ``chosen`` / ``rejected``
            (each message's ``content``, ``reasoning`` and tool-call ``arguments``) or ``text``
    writes: the same fields rewritten per ``PiiConfig.action`` (unchanged for ``drop``), and
            ``pii_types`` (list<string>: sorted unique entity types found in the row),
            ``pii_count`` (int32: entities found in the row)
`PiiDropFilter` (a Filter, stage ``pii``)
    reads:  ``pii_types`` (written by `PiiRedactor`; detected on the fly if absent)
    drops:  rows with any entity, reason ``pii: EMAIL, PHONE_NUMBER`` (label ``pii``)

Only counts and entity type names are ever logged or reported, never the text.
Objects pickle as their config; the Presidio engine is built lazily, once per worker process.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.stages.base import Annotator, Filter, Stage
from curate.stages.pii.actions import apply
from curate.stages.pii.config import PiiConfig
from curate.stages.pii.fields import TextFields
from curate.stages.pii.imports import load_recognizers
from curate.stages.pii.scan import detect, prefilter

log = logging.getLogger(__name__)
TYPES = "pii_types"
COUNT = "pii_count"
_SUMMED = ("rows", "rows_with_pii", "texts", "texts_checked", "texts_changed")


def coverage_note(config: PiiConfig) -> str | None:
    """The line the CLI prints once when person names and locations are not detected (else None)."""
    if config.action == "off" or config.ner_model() is not None or config.ner is False:
        return None
    return (
        "pii: person names and locations are not covered (no spaCy NER model installed); "
        "install one, e.g. en_core_web_sm, to detect PERSON and LOCATION"
    )


class PiiRedactor(Annotator):
    """Detects PII and secrets and rewrites text per ``config.action``; see the module docstring."""

    name = "pii"

    def __init__(self, config: PiiConfig | None = None):
        self.config = config or PiiConfig()
        self.totals: Counter = Counter()
        self.stats: Counter = Counter()
        self.seconds_presidio = 0.0

    def annotate(self, batch: pa.Table) -> pa.Table:
        fields = TextFields.of(batch)
        cfg = self.config
        index, hits = prefilter(fields.texts, cfg.pattern_entities(), cfg.ner_entities())
        texts = fields.texts.take(pa.array(index, pa.int64())).to_pylist() if len(index) else []
        started = time.perf_counter()
        spans = detect(self._engine(), texts, hits, cfg.threshold) if texts else []
        self.seconds_presidio += time.perf_counter() - started

        found = [i for i, s in enumerate(spans) if s]
        out = batch
        if found and cfg.action in ("redact", "mask", "hash"):
            changed = np.zeros(len(fields.texts), dtype=bool)
            changed[index[found]] = True
            new = pa.array([apply(texts[i], spans[i], cfg.action, cfg.salt or "") for i in found], pa.string())
            out = fields.rebuild(pc.replace_with_mask(fields.texts, pa.array(changed), new))
        types, counts = self._per_row(batch.num_rows, fields.rows[index[found]] if found else [], [spans[i] for i in found])
        self.stats.update(
            rows=batch.num_rows, texts=len(fields.texts), texts_checked=len(index),
            texts_changed=len(found) if cfg.action in ("redact", "mask", "hash") else 0,
            rows_with_pii=int((counts > 0).sum()),
        )  # fmt: skip
        log.debug("pii: %d texts, %d checked by presidio, %d with entities", len(fields.texts), len(index), len(found))
        return out.append_column(TYPES, types).append_column(COUNT, pa.array(counts, pa.int32()))

    def redact_array(self, texts: pa.Array) -> pa.Array:
        """Any string array rewritten per the action (redact/mask/hash; else unchanged), uncounted.

        For columns outside the canonical text fields, e.g. ``raw`` before it is written to rejects.
        A span that ends inside a JSON escape (``\\"``) would leave JSON text unbalanced; the
        recognizers' character classes exclude quotes, so this needs a backslash at a value's end.
        """
        cfg = self.config
        texts = pc.cast(texts, pa.string())
        if cfg.action not in ("redact", "mask", "hash"):
            return texts
        index, hits = prefilter(texts, cfg.pattern_entities(), cfg.ner_entities())
        if not len(index):
            return texts
        chosen = texts.take(pa.array(index, pa.int64())).to_pylist()
        spans = detect(self._engine(), chosen, hits, cfg.threshold)
        changed = np.zeros(len(texts), dtype=bool)
        changed[index] = True
        new = pa.array([apply(t, s, cfg.action, cfg.salt or "") for t, s in zip(chosen, spans)], pa.string())
        return pc.replace_with_mask(texts, pa.array(changed), new)

    def _per_row(self, num_rows: int, rows, spans) -> tuple[pa.Array, np.ndarray]:
        """``pii_types`` (list array built from offsets) and ``pii_count`` per row; updates totals."""
        counts = np.zeros(num_rows, dtype=np.int32)
        per_row: dict[int, set[str]] = {}
        for row, text_spans in zip(rows, spans):
            counts[row] += len(text_spans)
            per_row.setdefault(int(row), set()).update(s.entity for s in text_spans)
            self.totals.update(s.entity for s in text_spans)
        lengths = np.zeros(num_rows, dtype=np.int32)
        values: list[str] = []
        for row in sorted(per_row):
            lengths[row] = len(per_row[row])
            values.extend(sorted(per_row[row]))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        types = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.string()), type=pa.list_(pa.string()))
        return types, counts

    def _engine(self):
        model = self.config.ner_model()
        return load_recognizers(model).analyzer(model, float(self.config.threshold))

    def manifest_info(self) -> dict:
        """Options, totals per entity type, and whether names were covered (no text, no salt)."""
        ner_model = self.config.ner_model()
        return {
            **self.config.to_json(),
            "names_covered": ner_model is not None,
            "totals": dict(sorted(self.totals.items())),
            **{k: int(self.stats[k]) for k in _SUMMED},
            "seconds_presidio": round(self.seconds_presidio, 3),
        }

    @staticmethod
    def merge_manifest_info(infos: list[dict]) -> dict:
        """Combine the `manifest_info()` of the copies that ran in different workers."""
        if not infos:
            return {}
        merged = dict(infos[0])
        totals: Counter = Counter()
        for info in infos:
            totals.update(info.get("totals", {}))
        merged["totals"] = dict(sorted(totals.items()))
        for key in (*_SUMMED, "seconds_presidio"):
            merged[key] = sum(info.get(key, 0) for info in infos)
        merged["seconds_presidio"] = round(merged["seconds_presidio"], 3)
        return merged

    def coverage_note(self) -> str | None:
        return coverage_note(self.config)

    def take_reports(self) -> list[dict]:
        """This copy's `manifest_info()` since the last call, then counters reset: a worker reports per
        unit, and the pipeline sums the units with `merge_manifest_info`."""
        info = self.manifest_info()
        self.totals, self.stats, self.seconds_presidio = Counter(), Counter(), 0.0
        return [info]


class PiiDropFilter(Filter):
    """Drops rows that contain PII (action ``drop``); reason ``pii: <sorted entity types>``."""

    name = "pii-drop"

    def __init__(self, config: PiiConfig | None = None):
        self.config = config or PiiConfig(action="drop")
        self._redactor: PiiRedactor | None = None

    def reasons(self, batch: pa.Table) -> pa.Array:
        if TYPES not in batch.column_names:
            if self._redactor is None:
                self._redactor = PiiRedactor(self.config)
            batch = self._redactor.annotate(batch)
        frame = pl.from_arrow(batch.select([TYPES]))
        assert isinstance(frame, pl.DataFrame)
        reason = (
            pl.when(pl.col(TYPES).list.len() > 0)
            .then(pl.lit("pii: ") + pl.col(TYPES).list.join(", "))
            .otherwise(None)
        )
        return pc.cast(frame.select(reason.alias("reason")).to_series().to_arrow(), pa.string())

    def manifest_info(self) -> dict:
        return self._redactor.manifest_info() if self._redactor else {}


def pii_stages(config: PiiConfig) -> list[Stage]:
    """The stages for ``--pii ACTION``: none for off; redactor (+ drop filter for drop)."""
    if config.action == "off":
        return []
    if config.action == "drop":
        return [PiiRedactor(config), PiiDropFilter(config)]
    return [PiiRedactor(config)]
