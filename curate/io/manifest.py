"""manifest.json: what a dataset is, where it came from, and the hashes that prove its shards.

`verify` re-hashes every shard listed and reports each mismatch as one line naming the file; the
trainer refuses a dataset that fails it.
"""

from __future__ import annotations

import json
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

from curate.errors import InputError
from curate.io.writers import sha256_of

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


def tool_versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("curate", "pyarrow", "polars", "duckdb"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def write(out_dir: Path, manifest: dict) -> Path:
    path = out_dir / MANIFEST
    temp = out_dir / f".{MANIFEST}.tmp"
    temp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path


def load(out_dir: Path) -> dict:
    path = out_dir / MANIFEST
    if not path.is_file():
        raise InputError(f"{out_dir}: no {MANIFEST}", hint="pass a folder written by `curate clean`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error})", hint="re-run `curate clean` to rewrite it")
    if not isinstance(manifest, dict) or "shards" not in manifest:
        raise InputError(f"{path}: not a curate manifest (no 'shards')", hint="pass a folder written by `curate clean`")
    return manifest


def _inside(out_dir: Path, rel: str) -> Path | None:
    """The shard's path, or None when the manifest points outside the dataset folder."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts:
        return None
    return out_dir / pure


def verify(out_dir: Path) -> list[str]:
    """Every problem found, one line each: missing, changed, unlisted or escaping shards."""
    manifest = load(out_dir)
    problems: list[str] = []
    listed: set[str] = set()
    for folder in ("data", "rejects"):
        for shard in manifest["shards"].get(folder, []):
            rel = shard["path"]
            listed.add(rel)
            path = _inside(out_dir, rel)
            if path is None:
                problems.append(f"{rel}: path escapes the dataset folder")
            elif not path.is_file():
                problems.append(f"{rel}: missing")
            elif path.stat().st_size != shard["bytes"]:
                problems.append(f"{rel}: size {path.stat().st_size} bytes, manifest says {shard['bytes']}")
            elif sha256_of(path) != shard["sha256"]:
                problems.append(f"{rel}: sha256 differs from the manifest (the file was changed)")
        for path in sorted((out_dir / folder).glob("part-*")) if (out_dir / folder).is_dir() else []:
            rel = f"{folder}/{path.name}"
            if rel not in listed:
                problems.append(f"{rel}: not listed in the manifest")
    return problems
