"""Verified shards → Hugging Face datasets in TRL's columns.

`open_curated` reads ``manifest.json`` and re-hashes every shard (`curate.io.manifest.verify`); a folder
that fails is refused with exit 1 unless ``skip_checks``. The ``data/`` shards listed in the manifest
load with `datasets.Dataset.from_parquet`; message columns are reshaped once, in Arrow, into what chat
templates read:

- conversation → ``messages`` (+ ``tools``, JSON text, when some row has tools)
- preference → ``prompt``, ``chosen``, ``rejected`` (+ ``tools``)
- prompts for online RL → ``prompt``: each conversation up to its last assistant turn

Message structs keep ``role``, ``content``, ``name``, ``tool_call_id``; ``reasoning`` becomes
``reasoning_content``; canonical tool calls ``{id, type, name, arguments}`` become OpenAI's
``{id, type, function: {name, arguments}}``; ``extra`` is dropped. The struct keeps one set of fields for
every row (Arrow has no ragged structs): a null field is dropped by transformers' chat rendering before
the template sees it (and by curate's own renderer for the masks).
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CheckFailed, InputError
from curate.io import manifest as manifest_io
from curate.records import MESSAGE_COLUMNS

Warn = Callable[[str], None]


def warn_stderr(message: str) -> None:
    print(f"WARNING: {message}", file=sys.stderr)


@dataclass
class Curated:
    """A verified curated folder: its manifest, the sha256 of manifest.json, its data shards."""

    root: Path
    manifest: dict
    manifest_sha256: str
    kind: str
    files: list[Path]
    skipped: list[str] = field(default_factory=list)  # checks that failed and were overridden

    @property
    def rows(self) -> int:
        return sum(int(s.get("rows", 0)) for s in self.manifest["shards"].get("data", []))

    def table(self) -> pa.Table:
        """Every data row as one Arrow table (what the template check reads)."""
        tables = [pq.read_table(path) for path in self.files]
        return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


def open_curated(path: str | Path, *, skip_checks: bool = False, warn: Warn = warn_stderr) -> Curated:
    """Load and verify a curated folder; raise `CheckFailed` when a shard is missing or changed."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"--data {root}: not a folder", hint="pass the OUT folder written by `curate clean`")
    manifest = manifest_io.load(root)
    problems = manifest_io.verify(root)
    skipped: list[str] = []
    if problems:
        listing = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        if not skip_checks:
            raise CheckFailed(f"{root} failed verification against its manifest: {listing}",
                              hint="re-run `curate clean` to rebuild it (or --skip-checks to train anyway)")
        warn(f"--skip-checks: training on {root} although it fails verification: {listing}")
        skipped.append(f"verify: {listing}")
    kind = manifest.get("kind")
    files = []
    for shard in manifest["shards"].get("data", []):
        rel = PurePosixPath(shard["path"])
        if rel.is_absolute() or ".." in rel.parts:  # never read outside the folder, even with --skip-checks
            continue
        shard_path = root / rel
        if shard_path.suffix != ".parquet":
            raise InputError(f"{root}: shard {shard['path']} is not Parquet",
                             hint="re-run `curate clean` with --to parquet")
        if shard_path.is_file():
            files.append(shard_path)
    if not files:
        raise InputError(f"{root}: the manifest lists no data shards", hint="re-run `curate clean`")
    digest = hashlib.sha256((root / manifest_io.MANIFEST).read_bytes()).hexdigest()
    return Curated(root, manifest, digest, str(kind), files, skipped)


# ---------------------------------------------------------------------------------------------------
# Arrow reshaping of message lists (vectorised: list offsets are kept, struct children rebuilt).


def _rebuild_list(array: pa.Array, fn: Callable[[pa.StructArray], pa.Array]) -> pa.Array:
    """Apply ``fn`` to the flattened items of a list array and rebuild the lists around the result."""
    lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    mask = array.is_null() if array.null_count else None
    return pa.ListArray.from_arrays(offsets, fn(array.flatten()), mask=mask)


def _tool_calls(calls: pa.StructArray) -> pa.StructArray:
    """Canonical ``{id, type, name, arguments}`` → OpenAI ``{id, type, function: {name, arguments}}``."""
    names = [f.name for f in calls.type]
    if "function" in names:
        return calls
    get = {n: pc.struct_field(calls, n) for n in names}
    kind = pc.fill_null(get["type"], "function") if "type" in get else pa.array(["function"] * len(calls))
    function = pa.StructArray.from_arrays([get.get("name", pa.nulls(len(calls), pa.string())),
                                           get.get("arguments", pa.nulls(len(calls), pa.string()))],
                                          names=["name", "arguments"])
    fields = ([get["id"]] if "id" in get else []) + [kind, function]
    return pa.StructArray.from_arrays(fields, names=(["id"] if "id" in get else []) + ["type", "function"],
                                      mask=calls.is_null() if calls.null_count else None)


def _messages(items: pa.StructArray) -> pa.StructArray:
    arrays, names = [], []
    for field_ in items.type:
        child = pc.struct_field(items, field_.name)
        if field_.name == "extra":
            continue
        if field_.name == "tool_calls":
            child = _rebuild_list(child, _tool_calls)
        arrays.append(child)
        names.append("reasoning_content" if field_.name == "reasoning" else field_.name)
    return pa.StructArray.from_arrays(arrays, names=names)


def trl_messages(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A message-list column in the shape chat templates read (see the module docstring)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return _rebuild_list(array, _messages)


def answer_positions(array: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For a list array of messages: (flattened messages, turns per row, each message's row, its position
    in its row, and each row's last assistant position or -1). Vectorised; shared by RL prompts and KTO."""
    lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    items = array.flatten()
    parents = pc.list_parent_indices(array).to_numpy()
    position = np.arange(len(items)) - starts[parents]
    is_answer = pc.fill_null(pc.equal(pc.struct_field(items, "role"), "assistant"), False).to_numpy(zero_copy_only=False)
    last = np.full(len(lengths), -1)
    np.maximum.at(last, parents[is_answer], position[is_answer])
    return items, lengths, parents, position, last


def _prompts(array: pa.Array) -> pa.Array:
    """Each conversation cut before its last assistant turn (the prompt an online-RL policy answers)."""
    items, lengths, parents, position, last = answer_positions(array)
    cut = lengths.copy()  # rows without an answer keep every turn
    cut[last >= 0] = last[last >= 0]
    keep = position < cut[parents]
    offsets = pa.array(np.concatenate([[0], np.cumsum(cut)]).astype(np.int32))
    return pa.ListArray.from_arrays(offsets, items.filter(pa.array(keep)))


def _reshape(table: pa.Table, kind: str, prompts_only: bool) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    if prompts_only:
        columns["prompt"] = trl_messages(_prompts(table.column("messages").combine_chunks()))
    else:
        for name in MESSAGE_COLUMNS[kind]:  # type: ignore[index]
            columns[name] = trl_messages(table.column(name))
    if "tools" in table.column_names and not prompts_only:
        columns["tools"] = table.column("tools").combine_chunks()
    return pa.table(columns)


def hf_dataset(curated: Curated, *, prompts_only: bool = False) -> Any:
    """The data shards as a `datasets.Dataset` in TRL's columns (``prompts_only``: online-RL prompts)."""
    import datasets

    needed = list(MESSAGE_COLUMNS.get(curated.kind, ()))  # type: ignore[call-overload]
    schema = pq.read_schema(curated.files[0])
    if not needed or not all(c in schema.names for c in needed):
        raise InputError(f"{curated.root}: {curated.kind} data without the columns {needed or ['messages']}",
                         hint="clean it with --format openai (conversations) or --format trl (preference pairs)")
    present = needed + (["tools"] if "tools" in schema.names else [])
    raw = datasets.Dataset.from_parquet([str(p) for p in curated.files], columns=present).with_format("arrow")
    reshaped = raw.map(lambda batch: _reshape(batch, curated.kind, prompts_only), batched=True,
                       batch_size=10_000, remove_columns=present, desc="Reading curated shards")
    return reshaped.with_format(None)
