"""Generated inputs for the work-unit and executor tests: messy enough to exercise every reader path
(blank lines, CRLF, invalid JSON, invalid UTF-8, type conflicts, a BOM, duplicates across spans)."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def chat(i: int, rng: random.Random) -> dict:
    words = "alpha beta gamma delta river stone cloud paper music light".split()
    q = f"question {i}: " + " ".join(rng.choice(words) for _ in range(12))
    a = " ".join(rng.choice(words) for _ in range(30))
    return {"conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}]}


def jsonl_lines(n: int, seed: int = 0, *, start: int = 0) -> list[bytes]:
    """n lines: mostly ShareGPT records, with duplicates of earlier lines and every kind of bad line."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    for i in range(start, start + n):
        roll = rng.random()
        if lines and roll < 0.08:
            lines.append(rng.choice(lines[: max(1, len(lines) // 2)]))  # a duplicate of an earlier line
        elif roll < 0.10:
            lines.append(b'{"conversations": [')  # invalid JSON
        elif roll < 0.11:
            lines.append(b"")  # blank line
        elif roll < 0.12:
            lines.append(b'{"conversations": "\xff\xfe"}')  # invalid UTF-8
        elif roll < 0.15:
            record = chat(i, rng)
            record["meta"] = {"n": i} if i % 2 else f"text {i}"  # a type conflict within a block
            lines.append(json.dumps(record).encode())
        else:
            lines.append(json.dumps(chat(i, rng)).encode())
    return lines


def write_jsonl(path: Path, lines: list[bytes], *, bom: bool = False, crlf_every: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = b"".join(line + (b"\r\n" if crlf_every and k % crlf_every == 0 else b"\n")
                    for k, line in enumerate(lines))
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body)
    return path


def write_parquet(path: Path, n: int, *, row_group_rows: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    rows = [chat(i, rng) for i in range(n)]
    rows[n // 2] = rows[3]  # a duplicate across row groups
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_rows)
    return path


def messy_folder(root: Path, *, big_lines: int = 1500) -> Path:
    """raw/: one JSONL big enough to split, a gzip JSONL, a Parquet of many row groups, tiny files."""
    raw = root / "raw"
    write_jsonl(raw / "a_big.jsonl", jsonl_lines(big_lines, 0), bom=True, crlf_every=7)
    gz = b"".join(line + b"\n" for line in jsonl_lines(200, 2, start=10_000))
    (raw / "b_small.jsonl.gz").write_bytes(gzip.compress(gz, mtime=0))
    write_parquet(raw / "c_groups.parquet", 600, row_group_rows=50)
    for k in range(4):
        write_jsonl(raw / "tiny" / f"t{k}.jsonl", jsonl_lines(10, 10 + k, start=20_000 + 100 * k))
    return raw
