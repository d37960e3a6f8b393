"""Scale and faults, end to end: identical shards whatever the workers, span sizes and executor;
a run killed with SIGKILL leaves no partial shard and its rerun finishes the work with identical
output; a changed option never reuses an interrupted run's units."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "executors"))
from scale_fixtures import jsonl_lines, messy_folder, write_jsonl  # noqa: E402

from curate.config import CleanConfig  # noqa: E402
from curate.pipeline import run_clean  # noqa: E402

KB = 1024
SMALL_BATCHES = {"CURATE_BATCH_BYTES": str(16 * KB)}


def shards(out: Path) -> dict[str, bytes]:
    """Every output shard's bytes by its path under OUT (data/ and rejects/)."""
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for folder in ("data", "rejects") for p in sorted((out / folder).iterdir())}


def clean(raw: Path, out: Path, monkeypatch, *, unit_bytes: int, **options):
    monkeypatch.setenv("CURATE_UNIT_BYTES", str(unit_bytes))
    for key, value in SMALL_BATCHES.items():
        monkeypatch.setenv(key, value)
    result = run_clean([raw], out, CleanConfig(report=False, **options))
    return result.manifest


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """The messy folder and its reference output: one worker, no file split, small files grouped."""
    root = tmp_path_factory.mktemp("scale")
    raw = messy_folder(root)
    with pytest.MonkeyPatch.context() as mp:
        manifest = clean(raw, root / "reference", mp, unit_bytes=1 << 30, workers=1)
    return raw, root / "reference", manifest


def test_reference_run_accounts_for_every_record(messy):
    _, out, manifest = messy
    counts = manifest["counts"]
    assert counts["read"] == counts["kept"] + counts["rejected"] == 2321
    assert counts["rejects_by_reason"]["dedup/duplicate"] > 50  # duplicates across spans and files
    assert manifest["resumed_units"] == 0
    assert [i["file"] for i in manifest["inputs"]] == [
        "raw/a_big.jsonl", "raw/b_small.jsonl.gz", "raw/c_groups.parquet", "raw/tiny/t0.jsonl",
        "raw/tiny/t1.jsonl", "raw/tiny/t2.jsonl", "raw/tiny/t3.jsonl"]


@pytest.mark.parametrize("workers,unit_kb", [(1, 40), (2, 25)])
def test_shards_are_identical_whatever_the_workers_and_span_size(messy, tmp_path, monkeypatch, workers, unit_kb):
    raw, reference, expected = messy
    manifest = clean(raw, tmp_path / "out", monkeypatch, unit_bytes=unit_kb * KB, workers=workers)
    assert shards(tmp_path / "out") == shards(reference)
    assert manifest["inputs"] == expected["inputs"]  # split files are listed once, with all their rows
    assert manifest["counts"]["rejects_by_reason"] == expected["counts"]["rejects_by_reason"]


def test_ray_local_mode_gives_the_local_executors_shards(messy, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    raw, reference, expected = messy
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    manifest = clean(raw, tmp_path / "out", monkeypatch, unit_bytes=40 * KB, workers=2, executor="ray")
    assert shards(tmp_path / "out") == shards(reference)
    assert manifest["counts"] == {**expected["counts"], "by_stage": manifest["counts"]["by_stage"]}
    assert manifest["config"]["executor"] == "ray"


def test_data_rows_follow_input_order(messy):
    import pyarrow.parquet as pq

    _, reference, manifest = messy
    source = pq.read_table(reference / "data")["source"].combine_chunks()
    files = [i["file"] for i in manifest["inputs"]]
    position = [(files.index(f), i) for f, i in zip(source.field("file").to_pylist(), source.field("index").to_pylist())]
    assert position == sorted(position) and len(set(position)) == len(position)


# ---------------------------------------------------------------- kill and resume (a real process)

CURATE = [sys.executable, "-c", "from curate.cli import main; main()"]
UNIT_ENV = {"CURATE_UNIT_BYTES": str(64 * KB), **SMALL_BATCHES, "RAY_AUTH_MODE": "disabled"}


def direct(raw: Path, out: Path, **options) -> dict:
    """The same run as `cli`, in this process (no interpreter start-up)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in UNIT_ENV.items():
            mp.setenv(key, value)
        return run_clean([raw], out, CleanConfig(report=False, workers=1, **options)).manifest


def cli(raw: Path, out: Path, *options: str) -> dict:
    run = subprocess.run([*CURATE, "clean", str(raw), "--out", str(out), "--workers", "1", "--no-report",
                          *options], env={**os.environ, **UNIT_ENV}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads((out / "manifest.json").read_text())


def kill_after_first_unit(raw: Path, out: Path, *options: str) -> None:
    """Start `curate clean`, SIGKILL it as soon as one unit's completion record exists."""
    proc = subprocess.Popen([*CURATE, "clean", str(raw), "--out", str(out), "--workers", "1", "--no-report",
                             *options], env={**os.environ, **UNIT_ENV},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not list((out / ".staging").glob("unit-*.done")) and time.monotonic() < deadline:
        assert proc.poll() is None, "curate clean ended before any unit finished"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed in the middle, not finished


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    raw = root / "raw"
    for k in range(3):
        write_jsonl(raw / f"part-{k}.jsonl", jsonl_lines(2000, 20 + k, start=k * 10_000))
    return root, raw


@pytest.fixture(scope="module")
def interrupted(big):
    """OUT after `curate clean` was SIGKILLed over a previous finished dataset (kept pristine: each test
    works on a copy), with that previous manifest."""
    root, raw = big
    out = root / "killed"
    previous = direct(raw, out, dedup="off")  # a finished dataset the killed run would replace
    kill_after_first_unit(raw, out)
    return out, previous


def test_sigkill_leaves_no_partial_shard_and_the_rerun_resumes(big, interrupted):
    root, raw = big
    killed, previous = interrupted
    out = root / "resumed"
    shutil.copytree(killed, out)
    reference = direct(raw, root / "reference")
    done = sorted(p.name for p in (out / ".staging").glob("unit-*.done"))
    units = len(list((out / ".staging").glob("unit-?????")))
    assert done and len(done) < 24  # 3 files of ~620 KB in 64 KB units: most were still to do
    # OUT still holds exactly the previous dataset, every shard whole (its sha256 matches)
    listed = {s["path"]: s["sha256"] for kind in ("data", "rejects") for s in previous["shards"][kind]}
    on_disk = {p.relative_to(out).as_posix() for folder in ("data", "rejects") for p in (out / folder).iterdir()}
    assert on_disk == set(listed)
    assert all(hashlib.sha256((out / path).read_bytes()).hexdigest() == sha for path, sha in listed.items())
    manifest = cli(raw, out)
    assert manifest["resumed_units"] == len(done) >= 1 and units >= len(done)
    assert shards(out) == shards(root / "reference")
    assert manifest["counts"] == {**reference["counts"], "by_stage": manifest["counts"]["by_stage"]}
    assert not (out / ".staging").exists()


def test_a_changed_option_reuses_nothing_from_an_interrupted_run(big, interrupted):
    root, raw = big
    stale = root / "stale"
    shutil.copytree(interrupted[0], stale)
    assert list((stale / ".staging").glob("unit-*.done"))
    manifest = cli(raw, stale, "--format", "sharegpt")
    fresh = direct(raw, root / "fresh-sharegpt", format="sharegpt")
    assert manifest["resumed_units"] == 0
    assert shards(stale) == shards(root / "fresh-sharegpt")
    assert manifest["counts"] == {**fresh["counts"], "by_stage": manifest["counts"]["by_stage"]}
