"""Read-only DuckDB over a cleaned dataset folder.

`open_dataset(OUT)` gives a connection with three views:
- ``data``: the kept records (every ``OUT/data/*.parquet`` shard the manifest lists);
- ``rejects``: the rejected records (``id, raw, source_file, source_index, stage, reason, duplicate_of``);
- ``manifest``: the manifest flattened to one row per count, shard, stage and dropped label
  (see `manifest_table`).

Two independent guards keep it read-only. `guard` accepts only SELECT statements (so COPY, CREATE,
INSERT, ATTACH, INSTALL/LOAD, SET, PRAGMA ... are refused before DuckDB sees them), and the connection
itself is sandboxed: external access is off, only the dataset folder (and a private spill folder) may be
read, and the configuration is locked so a query cannot switch the sandbox off again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from curate.errors import InputError, UsageError
from curate.records import KINDS, REJECT_SCHEMA, SCHEMAS

# The manifest view: one row per entry, columns filled where they apply to the entry's section.
MANIFEST_SCHEMA = pa.schema(
    [
        ("section", pa.string()),  # meta | input | skipped | count | shard | stage | dropped
        ("name", pa.string()),  # meta key, input file, count name, shard path, stage, or "<stage>/<label>"
        ("value", pa.string()),  # meta value (kind, format, ...), input format, skipped note
        ("part", pa.string()),  # shard: data | rejects
        ("stage", pa.string()),  # stage, dropped
        ("label", pa.string()),  # dropped: the reject label
        ("rows", pa.int64()),  # count: the count; input, shard: rows; stage: rows_out; dropped: rows dropped
        ("rows_in", pa.int64()),  # stage
        ("bytes", pa.int64()),  # input, shard
        ("sha256", pa.string()),  # input, shard
        ("seconds", pa.float64()),  # stage
    ]
)
_META_KEYS = ("schema_version", "kind", "format")


def load_manifest(out_dir: str | Path) -> dict:
    """The parsed ``OUT/manifest.json``; an `InputError` naming the file when missing or not JSON."""
    path = Path(out_dir) / "manifest.json"
    if not Path(out_dir).is_dir():
        raise InputError(f"{out_dir}: not a folder", hint="pass the OUT folder written by `curate clean`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no manifest.json", hint="pass the OUT folder written by `curate clean`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: unreadable manifest ({error})", hint="re-run `curate clean`") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{path}: the manifest is not a JSON object", hint="re-run `curate clean`")
    return manifest


def shard_paths(out_dir: str | Path, manifest: dict, part: str) -> list[Path]:
    """Absolute paths of the ``data`` or ``rejects`` shards: the manifest's list when it has one, else a glob.

    A listed path that is absolute or climbs out of OUT is refused: manifests only name files inside it.
    """
    root = Path(out_dir).resolve()
    listed = (manifest.get("shards") or {}).get(part)
    if listed is None:
        return sorted((root / part).glob("*.parquet"))
    paths = []
    for entry in listed:
        rel = entry.get("path", "") if isinstance(entry, dict) else str(entry)
        path = (root / rel).resolve()
        if Path(rel).is_absolute() or not path.is_relative_to(root):
            raise InputError(
                f"{root / 'manifest.json'}: shard path {rel!r} is outside the dataset folder",
                hint="manifest paths are relative to OUT",
            )
        paths.append(path)
    return paths


def manifest_table(manifest: dict) -> pa.Table:
    """The manifest as rows: ``meta`` (kind, format, schema_version), ``input`` (file, value = format,
    rows, bytes, sha256), ``skipped`` (file, value = note), ``count`` (read, kept, rejected),
    ``shard`` (path, part, rows, bytes, sha256), ``stage`` (rows_in, rows = rows_out, seconds) and
    ``dropped`` (stage, label, rows)."""
    rows: list[dict[str, Any]] = []
    for key in _META_KEYS:
        if key in manifest:
            rows.append({"section": "meta", "name": key, "value": str(manifest[key])})
    for item in manifest.get("inputs") or []:
        rows.append({"section": "input", "name": item.get("file"), "value": item.get("format"), "rows": item.get("rows"),
                     "bytes": item.get("bytes"), "sha256": item.get("sha256")})
    for item in manifest.get("skipped") or []:
        rows.append({"section": "skipped", "name": item.get("file"), "value": item.get("note")})
    counts = manifest.get("counts") or {}
    for key in ("read", "kept", "rejected"):
        if key in counts:
            rows.append({"section": "count", "name": key, "rows": counts[key]})
    for part, shards in (manifest.get("shards") or {}).items():
        for shard in shards or []:
            rows.append({"section": "shard", "name": shard.get("path"), "part": part, "rows": shard.get("rows"),
                         "bytes": shard.get("bytes"), "sha256": shard.get("sha256")})
    for stage, info in (counts.get("by_stage") or {}).items():
        rows.append({"section": "stage", "name": stage, "stage": stage, "rows": info.get("rows_out"),
                     "rows_in": info.get("rows_in"), "seconds": info.get("seconds")})
        for label, n in (info.get("dropped") or {}).items():
            rows.append({"section": "dropped", "name": f"{stage}/{label}", "stage": stage, "label": label, "rows": n})
    return pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)


def _parquet_view(paths: list[Path]) -> str:
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"SELECT * FROM read_parquet([{files}], union_by_name = true)"


def _check_no_escaping_links(root: Path) -> None:
    """A symlink inside OUT pointing outside it would defeat the allowed-directories sandbox."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                raise InputError(
                    f"{path}: a link to a file outside the dataset folder",
                    hint="curate sql reads only files inside OUT; replace the link with a copy",
                )


class Dataset:
    """A sandboxed, read-only DuckDB connection over one OUT folder. Use as a context manager."""

    def __init__(self, out_dir: str | Path, *, require_manifest: bool = False):
        self.root = Path(out_dir).resolve()
        if not self.root.is_dir():
            raise InputError(f"{out_dir}: not a folder", hint="pass the OUT folder written by `curate clean`")
        if (self.root / "manifest.json").exists() or require_manifest:
            self.manifest = load_manifest(self.root)
        elif (self.root / "data").is_dir():
            self.manifest = {}
        else:
            raise InputError(f"{out_dir}: not a dataset folder (no manifest.json, no data/)",
                             hint="pass the OUT folder written by `curate clean`")
        _check_no_escaping_links(self.root)
        self._spill = tempfile.mkdtemp(prefix="curate-sql-")
        try:
            self.con = self._connect()
        except BaseException:
            shutil.rmtree(self._spill, ignore_errors=True)
            raise

    def _connect(self):
        import duckdb

        con = duckdb.connect(":memory:")
        kind = self.manifest.get("kind")
        empty_data = SCHEMAS[kind if kind in KINDS else "conversation"].empty_table()
        for part, empty in (("data", empty_data), ("rejects", REJECT_SCHEMA.empty_table())):
            paths = shard_paths(self.root, self.manifest, part)
            missing = [p for p in paths if not p.is_file()]
            if missing:
                raise InputError(f"{missing[0]}: shard listed in the manifest is missing",
                                 hint="run `curate verify OUT`, or re-run `curate clean`")
            if paths:
                try:
                    con.execute(f"CREATE VIEW {part} AS {_parquet_view(paths)}")
                except duckdb.Error as error:  # DuckDB reads the shards' schemas here
                    raise InputError(f"{self.root / part}: shards cannot be read ({_first_line(error)})",
                                     hint="run `curate verify OUT`, or re-run `curate clean`") from None
            else:
                con.register(f"_{part}_empty", empty)
                con.execute(f"CREATE VIEW {part} AS SELECT * FROM _{part}_empty")
        try:
            manifest = manifest_table(self.manifest)
        except (pa.ArrowException, TypeError, AttributeError, ValueError) as error:
            raise InputError(f"{self.root / 'manifest.json'}: unexpected structure ({error.__class__.__name__})",
                             hint="re-run `curate clean`, or check the file against schemas/") from None
        con.register("_manifest", manifest)
        con.execute("CREATE VIEW manifest AS SELECT * FROM _manifest")
        spill = self._spill.replace("'", "''")
        root = (str(self.root) + "/").replace("'", "''")
        con.execute(f"SET temp_directory = '{spill}'")
        con.execute(f"SET allowed_directories = ['{root}']")
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET lock_configuration = true")
        return con

    def execute(self, sql: str):
        """Run one guarded SELECT; returns the DuckDB result (fetch from it). DuckDB errors become
        `UsageError` with DuckDB's first message line."""
        return self._run(guard(sql))

    def _run(self, sql: str):
        import duckdb

        try:
            return self.con.execute(sql)
        except duckdb.Error as error:
            raise query_error(error) from None

    def relation(self, sql: str):
        """One guarded SELECT as a lazy DuckDB relation (stream it with ``to_arrow_reader``); errors
        while binding become `UsageError`, errors while fetching stay ``duckdb.Error``."""
        import duckdb

        guard(sql)
        try:
            return self.con.sql(sql)
        except duckdb.Error as error:
            raise query_error(error) from None

    def table(self, sql: str) -> pa.Table:
        """The result of one guarded SELECT as an Arrow table."""
        import duckdb

        relation = self.relation(sql)
        try:
            return relation.to_arrow_table()
        except duckdb.Error as error:
            raise query_error(error) from None

    def rows(self, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple], bool]:
        """(column names, rows as tuples, whether more rows exist beyond ``limit``) of one guarded SELECT."""
        import duckdb

        result = self.execute(sql)
        try:
            columns = [d[0] for d in result.description]
            if limit is None:
                return columns, result.fetchall(), False
            rows = result.fetchmany(limit + 1)
            return columns, rows[:limit], len(rows) > limit
        except duckdb.Error as error:
            raise query_error(error) from None

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._spill, ignore_errors=True)

    def __enter__(self) -> "Dataset":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def query_error(error: Exception) -> UsageError:
    """A DuckDB error as a one-line `UsageError` (exit code 2) with a hint where one helps."""
    first = _first_line(error)
    return UsageError(f"query failed: {first}", hint=_hint_for(first))


def _hint_for(message: str) -> str | None:
    if "file system operations are disabled" in message or "external extensions" in message:
        return "curate sql reads only the views data, rejects and manifest of this dataset"
    if "configuration has been locked" in message:
        return "settings cannot be changed in curate sql"
    if message.startswith(("Catalog Error", "Binder Error")):
        return "the views are data, rejects and manifest; `DESCRIBE data` lists the columns"
    return None


def guard(sql: str) -> str:
    """The statement if it is exactly one SELECT (WITH, VALUES, FROM-first, DESCRIBE, SUMMARIZE and
    SHOW parse as SELECT too); otherwise a `UsageError` naming the refused statement type."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise UsageError(f"query failed: {_first_line(error)}", hint="check the SQL syntax") from None
    if not statements:
        raise UsageError("empty query", hint='pass one SELECT statement, e.g. "SELECT count(*) FROM data"')
    if len(statements) > 1:
        raise UsageError(f"{len(statements)} statements given; curate sql runs exactly one",
                         hint="pass a single SELECT statement")
    kind = statements[0].type.name
    if kind != "SELECT":
        raise UsageError(f"curate sql is read-only: {kind} statements are refused",
                         hint="only SELECT queries over data, rejects and manifest are allowed")
    return sql


def run_query(out_dir: str | Path, sql: str) -> pa.Table:
    """Convenience: open OUT, run one SELECT, return an Arrow table."""
    with Dataset(out_dir) as ds:
        return ds.table(sql)
