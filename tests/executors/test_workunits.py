"""Work units: span planning, span reading (same batches as the whole file), grouping, and the
completion records that make a rerun reuse finished units and only those."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from curate.config import CleanConfig
from curate.io.discover import discover
from curate.io.readers import Span, read_file
from curate.io.units import jsonl_spans, parquet_spans, plan_units

from curate.workunits import merge_results, plan, record_path, run_unit
from scale_fixtures import jsonl_lines, write_jsonl, write_parquet

KB = 1024


def batches_of(file, **kw) -> list[tuple]:
    """Every batch as (raw, index, rejects, loose), comparable across reads."""
    return [(b.raw.to_pylist(), b.index.to_pylist(), b.rejects.to_pylist(), b.loose)
            for b in read_file(file, **kw)]


def one_file(path: Path):
    files, _ = discover([path])
    return files[0]


@pytest.mark.parametrize("bom", [False, True])
def test_jsonl_spans_read_exactly_the_whole_files_batches(tmp_path, bom):
    lines = jsonl_lines(900, 3)
    lines[400] = b'{"conversations": [], "long": "' + b"x" * 20 * KB + b'"}'  # longer than a batch
    path = write_jsonl(tmp_path / "a.jsonl", lines, bom=bom, crlf_every=5)
    file = one_file(path)
    spans, sha = jsonl_spans(path, unit_bytes=40 * KB, batch_bytes=8 * KB)
    assert len(spans) >= 5
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    data = path.read_bytes()
    assert spans[0][0].start == 0 and spans[-1][0].stop == len(data)
    for (span, size), (after, _) in zip(spans, spans[1:]):
        assert span.stop == after.start and size == span.stop - span.start
        assert data[after.start - 1:after.start] == b"\n"
        assert after.first == data[:after.start].count(b"\n")  # the true line number of its first line
    whole = batches_of(file, batch_bytes=8 * KB)
    split = [b for span, _ in spans for b in batches_of(file, batch_bytes=8 * KB, span=span)]
    assert split == whole
    assert sum(len(b[1]) + len(b[2]) for b in whole) == 900 - sum(1 for x in lines if not x.strip())


def test_span_cuts_are_the_readers_chunk_ends_after_a_bom(tmp_path):
    from curate.io.streams import StreamEnd, line_chunks

    # the second line ends 2 bytes past the first 1 KB window counted from byte 0, but inside the
    # window the reader sees (it starts after the 3-byte BOM): only a BOM-aware planner cuts there
    first = b'{"text": "' + b"a" * 480 + b'"}'
    second = b'{"text": "' + b"b" * (1025 - 3 - len(first) - 1 - 12) + b'"}'
    lines = [first, second] + [b'{"text": "' + b"c" * 300 + b'"}'] * 40
    path = write_jsonl(tmp_path / "a.jsonl", lines, bom=True)
    assert path.read_bytes().index(second) + len(second) == 1025
    ends, at = set(), 3
    for chunk, _ in line_chunks(path, None, 1024, StreamEnd()):
        at += len(chunk)
        ends.add(at)
    spans, _ = jsonl_spans(path, unit_bytes=1024, batch_bytes=1024)
    assert 1026 in ends and len(spans) >= 5
    assert all(span.start in ends for span, _ in spans[1:])
    file = one_file(path)
    assert [b for span, _ in spans for b in batches_of(file, batch_bytes=1024, span=span)] == \
        batches_of(file, batch_bytes=1024)


def test_jsonl_small_file_and_last_sliver_are_not_split(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", jsonl_lines(100, 1))
    assert jsonl_spans(path, unit_bytes=1 << 20, batch_bytes=8 * KB)[0] is None
    size = path.stat().st_size
    spans, _ = jsonl_spans(path, unit_bytes=size - 100, batch_bytes=1 * KB)
    assert spans is None  # a second span of ~100 bytes would be a sliver: the file stays whole


def test_parquet_spans_are_row_group_ranges(tmp_path):
    path = write_parquet(tmp_path / "p.parquet", 500, row_group_rows=40)
    file = one_file(path)
    spans, sha = parquet_spans(path, unit_bytes=12 * KB)
    assert len(spans) >= 3 and sha is not None
    groups = [(s.start, s.stop, s.first) for s, _ in spans]
    assert groups[0][:1] == (0,) and groups[-1][1] == 13  # 500 rows / 40 = 13 row groups
    for (start, stop, first), (after, _, after_first) in zip(groups, groups[1:]):
        assert after == stop and after_first == first + 40 * (stop - start)
    whole = batches_of(file, batch_bytes=4 * KB)
    split = [b for span, _ in spans for b in batches_of(file, batch_bytes=4 * KB, span=span)]
    assert split == whole and [i for b in whole for i in b[1]] == list(range(500))


def test_spans_of_compressed_csv_and_json_files_are_refused(tmp_path):
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(gzip.compress(b'{"text": "x"}\n'))
    with pytest.raises(ValueError, match="only plain JSON Lines and Parquet"):
        next(read_file(one_file(gz), span=Span(0, 5, 0)))


def test_plan_splits_big_files_keeps_streams_whole_and_groups_small_files(tmp_path):
    raw = tmp_path / "raw"
    write_jsonl(raw / "a.jsonl", jsonl_lines(600, 0))  # ~190 KB: split
    (raw / "b.jsonl.gz").write_bytes(gzip.compress(b"".join(x + b"\n" for x in jsonl_lines(600, 1))))
    write_jsonl(raw / "c.jsonl", jsonl_lines(600, 2))
    (raw / "c.jsonl").rename(raw / "c.json")  # JSON Lines saved as .json: still JSONL, split too
    for k in range(5):
        write_jsonl(raw / f"d{k}.jsonl", jsonl_lines(20, 3 + k))  # ~6 KB each: grouped
    (raw / "e.csv").write_text("instruction,output\n" + "q,a\n" * 8000)  # 32 KB CSV: whole
    files, _ = discover([raw])
    units = plan_units(files, unit_bytes=48 * KB, batch_bytes=8 * KB, group_bytes=20 * KB)
    layout = [[(p.file.rel.split("/")[-1], p.span is not None) for p in u.pieces] for u in units]
    a_spans = sum(1 for u in layout if u == [("a.jsonl", True)])
    c_spans = sum(1 for u in layout if u == [("c.json", True)])
    assert a_spans >= 3 and c_spans >= 3
    rest = [u for u in layout if u not in ([("a.jsonl", True)], [("c.json", True)])]
    assert rest == [[("b.jsonl.gz", False)],
                    [("d0.jsonl", False), ("d1.jsonl", False), ("d2.jsonl", False)],  # 19.2 KB
                    [("d3.jsonl", False), ("d4.jsonl", False)], [("e.csv", False)]]
    # by default groups hold up to a quarter of a unit (12 KB): no two of these files fit together
    assert [u.bytes for u in plan_units(files, unit_bytes=48 * KB, batch_bytes=8 * KB)][-6:-1] == [
        6188, 6169, 6834, 6163, 6468]
    assert [u.bytes for u in plan_units(files, unit_bytes=52 * KB, batch_bytes=8 * KB)][-4:-1] == [
        6188 + 6169, 6834 + 6163, 6468]
    assert [u.index for u in units] == list(range(len(units)))
    numbers = [p.number for u in units for p in u.pieces]
    assert numbers == sorted(numbers)  # pieces follow the input order


def _config(**kw) -> CleanConfig:
    return CleanConfig(workers=1, report=False, **kw)


def test_rerun_reuses_finished_units_and_merges_pieces_per_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_UNIT_BYTES", str(40 * KB))
    monkeypatch.setenv("CURATE_BATCH_BYTES", str(8 * KB))
    write_jsonl(tmp_path / "raw" / "a.jsonl", jsonl_lines(600, 0))
    files, _ = discover([tmp_path / "raw"])
    units = plan(files, _config())
    assert len(units) >= 3
    staging = tmp_path / "staging"
    staging.mkdir()
    first = [r for u in units for r in run_unit(u, _config(), staging)]
    assert [r.resumed for r in first] == [0] * len(units)
    assert all(record_path(staging, u.index).is_file() for u in units)
    again = [r for u in units for r in run_unit(u, _config(), staging)]
    assert [r.resumed for r in again] == [1] * len(units)
    assert [r.batches for r in again] == [r.batches for r in first]
    merged = merge_results(again)
    assert len(merged) == 1 and merged[0].resumed == len(units)
    assert merged[0].rows == sum(r.rows for r in first) == 600 - sum(1 for x in jsonl_lines(600, 0) if not x.strip())


def test_a_changed_option_or_input_never_reuses_a_unit(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_UNIT_BYTES", str(40 * KB))
    monkeypatch.setenv("CURATE_BATCH_BYTES", str(8 * KB))
    path = write_jsonl(tmp_path / "raw" / "a.jsonl", jsonl_lines(600, 0))
    staging = tmp_path / "staging"
    staging.mkdir()
    files, _ = discover([tmp_path / "raw"])
    units = plan(files, _config())
    for u in units:
        run_unit(u, _config(), staging)
    # another output format: every unit is redone, and its record now holds the new key
    redone = [r for u in units for r in run_unit(u, _config(format="sharegpt"), staging)]
    assert sum(r.resumed for r in redone) == 0
    assert [r.resumed for u in units for r in run_unit(u, _config(format="sharegpt"), staging)] == [1] * len(units)
    # workers and executor do not change what is written: reused
    assert sum(r.resumed for u in units for r in run_unit(u, _config(format="sharegpt", executor="ray"),
                                                              staging)) == len(units)
    # the same bytes edited in place (same size, same spans): the file's hash differs, nothing reused
    data = path.read_bytes()
    path.write_bytes(data.replace(b"question 5:", b"question 6:", 1))
    files, _ = discover([tmp_path / "raw"])
    units = plan(files, _config())
    assert sum(r.resumed for u in units for r in run_unit(u, _config(format="sharegpt"), staging)) == 0


def test_a_broken_record_or_a_missing_staged_file_means_redo(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_UNIT_BYTES", str(40 * KB))
    monkeypatch.setenv("CURATE_BATCH_BYTES", str(8 * KB))
    write_jsonl(tmp_path / "raw" / "a.jsonl", jsonl_lines(600, 0))
    staging = tmp_path / "staging"
    staging.mkdir()
    files, _ = discover([tmp_path / "raw"])
    units = plan(files, _config())
    results = [run_unit(u, _config(), staging) for u in units]
    record_path(staging, units[0].index).write_bytes(b"not a pickle")
    Path(results[1][0].batches[0]).unlink()
    again = [run_unit(u, _config(), staging)[0].resumed for u in units]
    assert again == [0, 0] + [1] * (len(units) - 2)
    assert Path(results[1][0].batches[0]).is_file()


def test_records_survive_moving_the_staging_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_BATCH_BYTES", str(8 * KB))
    write_jsonl(tmp_path / "raw" / "a.jsonl", jsonl_lines(50, 0))
    files, _ = discover([tmp_path / "raw"])
    units = plan(files, _config())
    run_unit(units[0], _config(), tmp_path / "s1")
    (tmp_path / "s1").rename(tmp_path / "s2")
    result = run_unit(units[0], _config(), tmp_path / "s2")[0]
    assert result.resumed == 1
    assert all(p.startswith(str(tmp_path / "s2")) and Path(p).is_file() for p in result.batches + result.rejects)


def test_a_file_that_vanished_after_discovery_is_an_input_error(tmp_path):
    from curate.errors import InputError
    from curate.executors.local import map_units

    write_jsonl(tmp_path / "raw" / "a.jsonl", jsonl_lines(5, 0))
    gone = write_jsonl(tmp_path / "raw" / "b.jsonl", jsonl_lines(5, 1))
    files, _ = discover([tmp_path / "raw"])
    gone.unlink()
    (tmp_path / "staging").mkdir()
    with pytest.raises(InputError, match=r"^cannot open raw/b.jsonl: No such file or directory \(hint: "):
        map_units(files, _config(), tmp_path / "staging")
