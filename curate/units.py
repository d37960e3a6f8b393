"""The map phase of one work unit: for each piece (a file or a span of one, see `curate.io.units`):
read → normalise → map stages → keys → export → stage.

Runs in a worker process. Everything it produces goes to Arrow files under the staging folder; what it
returns (one `UnitResult` per piece) is small: paths, counts and schemas. `curate.workunits.run_unit`
adds the completion records that let a rerun skip finished units.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from curate.config import CleanConfig
from curate.errors import CurateError, InputError
from curate.io import staging as staging_io
from curate.io.conform import used_paths
from curate.io.units import Piece, WorkUnit
from curate.io.writers import sha256_of
from curate.records import REJECT_SCHEMA, SCHEMAS, derived_ids, file_key, kind_of
from curate.stages.base import Annotator, Filter, StageCounts

ORDER_BITS = 40  # record positions per file; the file's number among the inputs sits above them


@lru_cache(maxsize=64)
def _sha256_cached(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_of(path)


def file_sha256(file) -> str:
    try:
        stat = file.path.stat()
        return _sha256_cached(file.path, stat.st_size, stat.st_mtime_ns)
    except OSError as err:
        raise InputError(f"cannot open {file.rel}: {err.strerror or err}",
                         hint="check that the file exists and is readable (it may have moved since the run started)") from None


def piece_sha256(piece: Piece) -> str:
    return piece.sha256 or file_sha256(piece.file)


def unit_dir(staging: Path, index: int) -> Path:
    return staging / f"unit-{index:05d}"


def reason_label(reason: str | None) -> str:
    """The stable part of a reject reason: the text before the first ': '."""
    return (reason or "").split(": ", 1)[0]


@dataclass
class UnitResult:
    """What the map phase made of one piece; `merge_results` joins the pieces of a file into one.
    `index` is the file's number among the inputs (the high bits of `order`)."""

    index: int
    file: str
    bytes: int
    sha256: str
    format: str | None = None
    kind: str | None = None
    note: str = ""
    rows: int = 0
    counts: dict[str, StageCounts] = field(default_factory=dict)
    batches: list[str] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)
    schemas: list[pa.Schema] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    reports: dict[str, list] = field(default_factory=dict)  # per-batch reports of stages that make them
    key: str = ""
    resumed: int = 0  # work units reused from an interrupted run (counted on a unit's first piece)

    def input_info(self) -> dict:
        return {"file": self.file, "format": self.format, "kind": self.kind, "rows": self.rows,
                "bytes": self.bytes, "sha256": self.sha256, "note": self.note}

    def count(self, stage: str) -> StageCounts:
        return self.counts.setdefault(stage, StageCounts())


def _reject_table(ids, raw, file_rel: str, index, stage, reasons) -> pa.Table:
    """Rejects in the output schema; ``stage`` is one name or an array of names."""
    n = len(raw)
    stages = pa.array([stage] * n, pa.string()) if isinstance(stage, str) else pc.cast(stage, pa.string())
    return pa.table(
        {
            "id": ids, "raw": pc.cast(raw, pa.large_string()), "source_file": pa.array([file_rel] * n, pa.string()),
            "source_index": pc.cast(index, pa.int64()), "stage": stages,
            "reason": pc.cast(reasons, pa.string()), "duplicate_of": pa.nulls(n, pa.string()),
        },
        schema=REJECT_SCHEMA,
    )


def _batch_rejects(batch: pa.Table, stage: str, reasons) -> pa.Table:
    source = batch["source"].combine_chunks()
    n = batch.num_rows
    return pa.table(
        {
            "id": batch["id"], "raw": pc.cast(batch["raw"], pa.large_string()), "source_file": source.field("file"),
            "source_index": source.field("index"), "stage": pa.array([stage] * n, pa.string()),
            "reason": pc.cast(reasons, pa.string()), "duplicate_of": pa.nulls(n, pa.string()),
        },
        schema=REJECT_SCHEMA,
    )


class _Piece:
    """State of one piece while it runs (kept out of the result so the result stays small).

    A span of a split file gets the file's format from `detected` (found by the planner on the file's
    first batch), so every span normalises exactly as a whole-file read would."""

    def __init__(self, piece: Piece, config: CleanConfig, folder: Path, report: Callable[[int], None] | None,
                 detected: tuple | None, batch_bytes: int):
        from curate.stages.assemble import global_stages, map_stages

        self.piece = piece
        self.file = piece.file
        self.config = config
        self.staging = folder
        self.staging.mkdir(parents=True, exist_ok=True)
        self.report = report
        self.batch_bytes = batch_bytes
        self.result = UnitResult(piece.number, self.file.rel, self.file.size, piece_sha256(piece))
        self.map_stages = map_stages(config)
        self.global_stages = global_stages(config, folder.parent.parent)  # the run's staging folder
        self.key = file_key(self.file.rel)
        self.detection, self.detect_error = detected or (None, None)
        if self.detection is not None:
            d = self.detection
            self.result.format, self.result.kind, self.result.note = d.format, d.kind, d.note
        elif self.detect_error is not None:
            self.result.note = self.detect_error
        self._rejects: list[pa.Table] = []
        self._held: tuple[str, pa.Table] | None = None  # (tag, exported rows) not staged yet

    def run(self) -> UnitResult:
        from curate.io.readers import read_file

        batches = read_file(self.file, batch_bytes=self.batch_bytes, span=self.piece.span)
        for number, read in enumerate(batches):
            if not read.loose:
                self._flush()
            self._process(number, read)
            if self.report:
                self.report(number)
        self._flush()
        if self._rejects:
            rejects = redact_raw(pa.concat_tables(self._rejects), self.map_stages)
            path = staging_io.write(rejects, self.staging / f"rejects{staging_io.SUFFIX}")
            self.result.rejects.append(str(path))
        for stage in self.map_stages:
            if hasattr(stage, "take_reports"):
                self.result.reports[stage.name] = stage.take_reports()
        return self.result

    def _process(self, number: int, read) -> None:
        r = self.result
        n_read = read.table.num_rows + read.rejects.num_rows
        r.rows += n_read
        # the reader rejects in two stages: 'read' (bytes) then 'parse' (JSON/CSV); count both in order
        stages = read.rejects["stage"].to_pylist()
        labels = [reason_label(x) for x in read.rejects["reason"].to_pylist()]
        remaining = n_read
        for name in ("read", "parse"):
            counts = r.count(name)
            counts.rows_in += remaining
            dropped = Counter(label for stage, label in zip(stages, labels) if stage == name)
            counts.dropped.update(dropped)
            remaining -= sum(dropped.values())
            counts.rows_out += remaining
        if read.rejects.num_rows:
            rj = read.rejects
            ids = derived_ids(self.key, rj["source_index"].combine_chunks())
            self._rejects.append(_reject_table(ids, rj["raw"], self.file.rel, rj["source_index"], rj["stage"],
                                               rj["reason"]))
        if read.table.num_rows == 0:
            return
        batch = self._normalise(read)
        if batch is None or batch.num_rows == 0:
            return
        batch = self._map(batch)
        if batch.num_rows == 0:
            return
        self._keys_and_stage(number, batch)

    def _normalise(self, read) -> pa.Table | None:
        from curate import formats

        counts = self.result.count("schema")
        counts.rows_in += read.table.num_rows
        t0 = time.perf_counter()
        if self.detection is None and self.detect_error is None:
            try:
                self.detection = formats.detect(read.table, self.file.rel)
                self.result.format, self.result.kind = self.detection.format, self.detection.kind
                self.result.note = self.detection.note
            except CurateError as error:
                self.detect_error = str(error)
                self.result.note = self.detect_error
        if self.detect_error is not None:
            ids = derived_ids(self.key, read.index)
            reasons = pa.array([f"unknown format: {self.detect_error}"] * read.table.num_rows, pa.string())
            self._rejects.append(_reject_table(ids, read.raw, self.file.rel, read.index, "schema", reasons))
            counts.dropped["unknown format"] += read.table.num_rows
            counts.seconds += time.perf_counter() - t0
            return None
        canonical, rejects = formats.normalise(read.table, self.detection, file_rel=self.file.rel,
                                               raw=read.raw, index=read.index, exact=read.loose)
        if rejects.num_rows:
            self._rejects.append(_reject_table(
                rejects["id"], rejects["raw"], self.file.rel, rejects["source_index"], "schema", rejects["reason"]))
            counts.dropped.update(Counter(reason_label(x) for x in rejects["reason"].to_pylist()))
        counts.rows_out += canonical.num_rows
        counts.seconds += time.perf_counter() - t0
        order = pc.add(pc.cast(canonical["source"].combine_chunks().field("index"), pa.int64()),
                       self.result.index << ORDER_BITS)
        return canonical.append_column("order", order)

    def _map(self, batch: pa.Table) -> pa.Table:
        for stage in self.map_stages:
            counts = self.result.count(stage.name)
            counts.rows_in += batch.num_rows
            t0 = time.perf_counter()
            try:
                if isinstance(stage, Filter):
                    batch, dropped = stage.split(batch)
                    if dropped.num_rows:
                        self._rejects.append(_batch_rejects(dropped, stage.name, dropped["reason"]))
                        counts.dropped.update(Counter(reason_label(x) for x in dropped["reason"].to_pylist()))
                elif isinstance(stage, Annotator):
                    batch = stage.annotate(batch)
            except CurateError:
                raise  # bad usage (a --keep-where that does not parse): stop the run with its message
            except Exception as error:  # a bug must not lose rows: they go to rejects, named
                reason = f"internal error: {type(error).__name__} in stage {stage.name} (please report)"
                self._rejects.append(_batch_rejects(batch, stage.name, pa.array([reason] * batch.num_rows)))
                counts.dropped["internal error"] += batch.num_rows
                batch = batch.slice(0, 0)
            counts.rows_out += batch.num_rows
            counts.seconds += time.perf_counter() - t0
            if batch.num_rows == 0:
                break
        return batch

    def _keys_and_stage(self, number: int, batch: pa.Table) -> None:
        tag = f"{number:05d}"
        for stage in self.global_stages:
            t0 = time.perf_counter()
            keys = stage.keys(batch)
            keys = keys.append_column("order", batch["order"]) if "order" not in keys.column_names else keys
            path = staging_io.write(keys, self.staging / f"keys-{stage.name}-{tag}{staging_io.SUFFIX}")
            self.result.keys.setdefault(stage.name, []).append(str(path))
            self.result.count(stage.name).seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        counts = self.result.count("export")
        counts.rows_in += batch.num_rows
        staged, rejects = _export(batch, self.config.format)
        if rejects.num_rows:
            self._rejects.append(_batch_rejects(rejects, "export", rejects["reason"]))
            counts.dropped.update(Counter(reason_label(x) for x in rejects["reason"].to_pylist()))
        counts.rows_out += staged.num_rows
        counts.seconds += time.perf_counter() - t0
        if staged.num_rows == 0:
            return
        if self._held is not None:  # `loose` rows of the held batch's chunk: merged back in file order
            staged = pa.concat_tables([self._held[1], staged], promote_options="permissive").sort_by("order")
            tag = self._held[0]
        self._held = (tag, staged)

    def _flush(self) -> None:
        """Stage the held batch. A read chunk gives a batch and sometimes a `loose` batch of the records
        whose types did not fit it; holding the first until the next one starts keeps data/ rows in input
        order, and the staged batches the same whatever the work units."""
        if self._held is None:
            return
        tag, staged = self._held
        self._held = None
        path = staging_io.write(staged, self.staging / f"batch-{tag}{staging_io.SUFFIX}")
        self.result.batches.append(str(path))
        self.result.schemas.append(staged.drop_columns(["order", "raw"]).schema)
        self.result.used |= used_paths(staged.drop_columns(["order", "raw"]))


def redact_raw(rejects: pa.Table, stages) -> pa.Table:
    """With --pii on, the original records shown in rejects/ are redacted too: a reject keeps the record's
    shape and reason, never the personal data the run was asked to remove."""
    for stage in stages:
        if hasattr(stage, "redact_array") and rejects.num_rows:
            raw = stage.redact_array(rejects["raw"].combine_chunks())
            return rejects.set_column(rejects.schema.get_field_index("raw"), "raw", raw.cast(pa.large_string()))
    return rejects


CARRIED = ("id", "source", "order", "raw")


def _export(batch: pa.Table, fmt: str) -> tuple[pa.Table, pa.Table]:
    """(id + the format's columns + source + annotations + order + raw, rows the format cannot express
    with a ``reason`` column)."""
    from curate import formats

    kind = kind_of(batch.schema)
    canonical_names = SCHEMAS[kind].names
    fmt = "text" if kind == "text" else fmt  # plain text has one shape in every format
    annotations = [c for c in batch.column_names if c not in canonical_names and c not in CARRIED]
    exported, rejects = formats.export(batch.select(canonical_names), fmt, hints=False)  # uniform training rows
    if rejects.num_rows:
        refused = pc.is_in(batch["id"], value_set=rejects["id"].combine_chunks())
        refused_rows = batch.filter(refused)
        reason_of = dict(zip(rejects["id"].to_pylist(), rejects["reason"].to_pylist()))
        refused_rows = refused_rows.append_column(
            "reason", pa.array([reason_of[i] for i in refused_rows["id"].to_pylist()], pa.string()))
        batch = batch.filter(pc.invert(refused))
    else:
        refused_rows = batch.slice(0, 0).append_column("reason", pa.array([], pa.string()))
    format_columns = [c for c in exported.column_names if c not in CARRIED]
    columns = {"id": batch["id"]}
    columns.update({c: exported[c] for c in format_columns})
    columns["source"] = batch["source"]
    columns.update({c: batch[c] for c in annotations if c not in columns})
    columns["order"] = batch["order"]
    columns["raw"] = batch["raw"]
    return pa.table(columns), refused_rows


def process_unit(unit: WorkUnit, config: CleanConfig, staging: Path,
                 report: Callable[[int], None] | None = None) -> list[UnitResult]:
    """The map phase of every piece of the unit, in order; one result per piece."""
    folder = unit_dir(staging, unit.index)
    return [_Piece(piece, config, folder / f"piece-{k:04d}", report, unit.detected.get(piece.number),
                   unit.batch_bytes).run() for k, piece in enumerate(unit.pieces)]


def config_hash(config: CleanConfig) -> str:
    """Hash of the options that change what is written (not how many workers or which executor)."""
    relevant = {k: v for k, v in config.values().items() if k not in NOT_IN_OUTPUT}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


NOT_IN_OUTPUT = ("workers", "executor", "ray_address", "unit_mb", "report")
