"""`curate clean` end to end through the CLI: counts, rejects, manifest, determinism, errors."""

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from curate.cli import app

SAMPLE = Path(__file__).parents[1] / "sample_data" / "raw"
runner = CliRunner()


def clean(*args):
    return runner.invoke(app, ["clean", *map(str, args)])


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def chat(q, a):
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "out"
    result = clean(SAMPLE, "--out", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    return out, result.output


def test_sample_summary_and_counts(sample_out):
    out, output = sample_out
    manifest = json.loads((out / "manifest.json").read_text())
    counts = manifest["counts"]
    assert (counts["read"], counts["kept"], counts["rejected"]) == (25, 17, 8)
    assert counts["read"] == counts["kept"] + counts["rejected"]
    assert counts["rejects_by_reason"] == {
        "dedup/duplicate": 4, "parse/invalid JSON": 1, "validate/empty turn": 2, "validate/role order": 1}
    assert output.splitlines()[0].startswith("read 25 records from 4 files: 17 kept, 8 rejected")
    assert "  skipped raw/README.md: not a data file" in output
    assert [(i["file"], i["format"], i["rows"]) for i in manifest["inputs"]] == [
        ("raw/alpaca_instructions.json", "alpaca", 8), ("raw/more/support_faq.csv", "alpaca", 4),
        ("raw/openai_messages.jsonl.gz", "openai", 6), ("raw/sharegpt_chats.jsonl", "sharegpt", 7)]


def test_every_record_is_in_data_or_rejects_exactly_once(sample_out):
    out, _ = sample_out
    data = pq.read_table(out / "data")
    rejects = pq.read_table(out / "rejects")
    placed = sorted(zip(data["source"].combine_chunks().field("file").to_pylist(),
                        data["source"].combine_chunks().field("index").to_pylist()))
    placed += sorted(zip(rejects["source_file"].to_pylist(), rejects["source_index"].to_pylist()))
    assert len(placed) == len(set(placed)) == 25


def test_rejects_carry_raw_stage_reason_and_duplicate_of(sample_out):
    out, _ = sample_out
    rejects = {(r["source_file"], r["source_index"]): r for r in pq.read_table(out / "rejects").to_pylist()}
    broken = rejects[("raw/sharegpt_chats.jsonl", 4)]
    assert broken["stage"] == "parse"
    assert broken["reason"] == "invalid JSON: line 5 column 60: unexpected end of data"
    assert broken["raw"] == '{"conversations": [{"from": "human", "value": "unterminated'
    cross_format = rejects[("raw/sharegpt_chats.jsonl", 0)]
    assert (cross_format["stage"], cross_format["duplicate_of"]) == ("dedup", "chat-006")
    assert rejects[("raw/openai_messages.jsonl.gz", 4)]["reason"] == "empty turn: turn 2 (assistant)"
    assert json.loads(rejects[("raw/alpaca_instructions.json", 5)]["raw"])["instruction"] == \
        "Give three tips for staying healthy."


def test_openai_output_shape(sample_out):
    out, _ = sample_out
    data = pq.read_table(out / "data")
    rows = {r["id"]: r for r in data.to_pylist()}
    call = rows["chat-003"]["messages"][1]["tool_calls"][0]
    assert call["function"] == {"name": "book_table", "arguments": '{"people": 2, "time": "19:00"}'}
    assert json.loads(rows["ffc39bd1:6"]["extra"]) == {"category": "poetry"}
    # nested fields no row uses are not in the schema at all
    names = [f.name for f in data.schema.field("messages").type.value_type]
    assert "reasoning" not in names and "name" not in names


def test_verify_passes_then_names_a_tampered_shard(sample_out, tmp_path):
    out, _ = sample_out
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    ok = runner.invoke(app, ["verify", str(copy)])
    assert (ok.exit_code, ok.output) == (0, f"ok: 2 shards match {copy / 'manifest.json'}\n")
    with open(copy / "data/part-00000.parquet", "ab") as handle:
        handle.write(b"x")
    bad = runner.invoke(app, ["verify", str(copy)])
    assert bad.exit_code == 1
    assert "FAIL data/part-00000.parquet: size" in bad.output


def test_same_input_and_config_give_byte_identical_shards(tmp_path, sample_out):
    out, _ = sample_out
    again = tmp_path / "again"
    assert clean(SAMPLE, "--out", again, "--workers", "2").exit_code == 0
    for rel in ("data/part-00000.parquet", "rejects/part-00000.parquet"):
        assert (out / rel).read_bytes() == (again / rel).read_bytes()


def test_rerun_into_same_out_replaces_dataset(tmp_path):
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat("q1", "a1"), chat("q2", "a2")])
    out = tmp_path / "out"
    assert clean(src, "--out", out).exit_code == 0
    write_jsonl(src, [chat("q1", "a1")])
    assert clean(src, "--out", out).exit_code == 0
    assert pq.read_table(out / "data").num_rows == 1
    assert not (out / ".staging").exists()


def test_jsonl_output_and_sharegpt_format(tmp_path):
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat("q1", "a1")])
    out = tmp_path / "out"
    assert clean(src, "--out", out, "--to", "jsonl", "--format", "sharegpt").exit_code == 0
    [line] = (out / "data/part-00000.jsonl").read_text().splitlines()
    row = json.loads(line)
    assert row["conversations"] == [{"from": "human", "value": "q1"}, {"from": "gpt", "value": "a1"}]
    assert json.loads((out / "manifest.json").read_text())["format"] == "sharegpt"


def test_alpaca_output_refuses_tool_calls_into_rejects(tmp_path):
    tool_chat = {"messages": [
        {"role": "user", "content": "book"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "book", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        {"role": "assistant", "content": "done"}]}
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat("q", "a"), tool_chat])
    out = tmp_path / "out"
    assert clean(src, "--out", out, "--format", "alpaca").exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["kept"] == 1
    [reject] = pq.read_table(out / "rejects").to_pylist()
    assert reject["stage"] == "export"
    assert reject["reason"].startswith("cannot express")


def test_mixed_kinds_keep_the_majority_and_reject_the_rest_with_a_hint(tmp_path):
    write_jsonl(tmp_path / "in" / "chats.jsonl", [chat("q1", "a1"), chat("q2", "a2")])
    write_jsonl(tmp_path / "in" / "pairs.jsonl", [{"prompt": "p", "chosen": "good", "rejected": "bad"}])
    out = tmp_path / "out"
    assert clean(tmp_path / "in", "--out", out).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "conversation"
    [reject] = pq.read_table(out / "rejects").to_pylist()
    assert reject["stage"] == "kind"
    assert manifest["counts"]["by_stage"]["kind"] == {"rows_in": 3, "rows_out": 2, "dropped": {"kind mismatch": 1},
                                                      "seconds": 0.0}
    assert reject["reason"] == ("kind mismatch: file holds preference records, the dataset is conversation "
                                "(use --kind preference or clean the files separately)")
    pref_out = tmp_path / "pref"
    assert clean(tmp_path / "in" / "pairs.jsonl", "--out", pref_out).exit_code == 0
    data = pq.read_table(pref_out / "data")
    assert data.column_names[:4] == ["id", "prompt", "chosen", "rejected"]


def test_unknown_format_file_goes_to_rejects(tmp_path):
    src = write_jsonl(tmp_path / "in" / "odd.jsonl", [{"foo": 1}, {"foo": 2}])
    write_jsonl(tmp_path / "in" / "ok.jsonl", [chat("q", "a")])
    out = tmp_path / "out"
    result = clean(tmp_path / "in", "--out", out)
    assert result.exit_code == 0, result.output
    rejects = pq.read_table(out / "rejects").to_pylist()
    assert [r["source_file"] for r in rejects] == ["in/odd.jsonl", "in/odd.jsonl"]
    assert all(r["stage"] == "schema" and r["reason"].startswith("unknown format: ") for r in rejects)
    assert src.exists()


@pytest.mark.parametrize("args, message", [
    (["/nonexistent/raw"], "error: input not found: /nonexistent/raw"),
    (["{src}", "--dedup", "fuzzy"], "error: --dedup is 'fuzzy' (hint: choose one of exact, minhash, off)"),
    (["{src}", "--threshold", "1.5"], "error: --threshold is 1.5 (hint: use a Jaccard similarity in (0, 1])"),
])
def test_usage_errors_are_one_line_exit_2(tmp_path, args, message):
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat("q", "a")])
    result = clean(*[a.format(src=src) for a in args], "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output.splitlines()[0].startswith(message)
    assert "Traceback" not in result.output


def test_out_must_not_overlap_input_or_clobber_other_folders(tmp_path):
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat("q", "a")])
    inside = clean(tmp_path / "in", "--out", tmp_path / "in" / "out")
    assert inside.exit_code == 2 and "overlaps the input" in inside.output
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    refused = clean(src, "--out", other)
    assert refused.exit_code == 2
    assert refused.output == f"error: --out {other} exists and is not a curate dataset (hint: choose an empty or new folder (curate only replaces its own datasets))\n"
    assert (other / "notes.txt").read_text() == "keep me"


def test_config_file_and_flags(tmp_path):
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat("q", "a"), chat("q", "a")])
    toml = tmp_path / "curate.toml"
    toml.write_text('[clean]\ndedup = "off"\nshard-rows = 5\n')
    out = tmp_path / "out"
    assert clean(src, "--out", out, "--config", toml).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["config"]["dedup"], manifest["config"]["shard_rows"], manifest["counts"]["kept"]) == ("off", 5, 2)
    assert clean(src, "--out", out, "--config", toml, "--dedup", "exact").exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["counts"]["kept"] == 1
    toml.write_text('[clean]\ncolour = "red"\n')
    bad = clean(src, "--out", out, "--config", toml)
    assert bad.exit_code == 2
    assert f"error: {toml}: unknown option 'colour'" in bad.output


def test_type_mixes_are_judged_by_the_format_not_the_reader(tmp_path):
    rows = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(5)]
    rows[2] = {"instruction": "q2", "output": 42}  # not text: the alpaca format refuses it
    src = write_jsonl(tmp_path / "in" / "a.jsonl", rows)
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
                          {"role": "assistant", "content": "hello"}]}  # string and parts in one record
    mixed = write_jsonl(tmp_path / "in2" / "b.jsonl", [chat("q", "a"), parts])
    out = tmp_path / "out"
    assert clean(src, "--out", out).exit_code == 0
    [reject] = pq.read_table(out / "rejects").to_pylist()
    assert (reject["source_index"], reject["stage"]) == (2, "schema")
    assert reject["reason"].startswith("wrong type")
    assert clean(mixed, "--out", tmp_path / "out2").exit_code == 0
    kept = pq.read_table(tmp_path / "out2" / "data").to_pylist()
    assert [m["content"] for m in kept[1]["messages"]] == ["hi", "hello"]


def test_manifest_validates_against_its_schema(sample_out):
    import jsonschema

    out, _ = sample_out
    schema = json.loads((Path(__file__).parents[1] / "schemas" / "manifest.json").read_text())
    jsonschema.validate(json.loads((out / "manifest.json").read_text()), schema)
    broken = json.loads((out / "manifest.json").read_text())
    broken["shards"]["data"][0]["path"] = "../escape.parquet"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_text_kind_for_continued_pretraining(tmp_path):
    src = write_jsonl(tmp_path / "in" / "web.jsonl", [{"text": "A page about rivers."}, {"text": "  "},
                                                      {"text": "A page about rivers."}, {"text": "Mountains."}])
    out = tmp_path / "out"
    assert clean(src, "--out", out).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["kind"], manifest["format"]) == ("text", "text")
    assert pq.read_table(out / "data").select(["id", "text"]).to_pylist() == [
        {"id": manifest_id(src, 0), "text": "A page about rivers."}, {"id": manifest_id(src, 3), "text": "Mountains."}]
    assert manifest["counts"]["rejects_by_reason"] == {"dedup/duplicate": 1, "validate/empty text": 1}


def manifest_id(path: Path, index: int) -> str:
    """The derived id of a record of a file given directly on the command line."""
    from curate.records import file_key

    return f"{file_key(path.name)}:{index}"


def test_inspect_reports_formats_problems_and_masked_samples():
    result = runner.invoke(app, ["inspect", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "raw/sharegpt_chats.jsonl: sharegpt (conversation), 7 records, 2 with problems" in lines
    assert "  problem parse/invalid JSON: 1" in lines
    assert "raw/README.md: skipped (not a data file)" in lines
    assert lines[-1] == "4 files, 25 records, 4 with problems"
    assert "jane.doe@example.com" not in result.output and "555 0132" not in result.output


NEAR_BASE = ("The river flows past the old mill and under the stone bridge before it reaches the quiet "
             "harbour town where fishing boats wait for the morning tide to carry them out to sea again")


def test_near_duplicates_through_the_cli_and_against_a_previous_dataset(tmp_path):
    edited = NEAR_BASE.replace("quiet", "calm")  # one word of 33 changed
    other = "Completely different text about baking bread with flour water salt and a slow overnight rise"
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat("Tell me about the river.", NEAR_BASE),
                                                    chat("Tell me about the river.", edited),
                                                    chat("How do I bake bread?", other)])
    out = tmp_path / "out"
    result = clean(src, "--out", out, "--dedup", "minhash", "--threshold", "0.7")
    assert result.exit_code == 0, result.output
    [reject] = pq.read_table(out / "rejects").to_pylist()
    assert (reject["stage"], reject["source_index"], reject["duplicate_of"]) == ("near-dedup", 1, manifest_id(src, 0))
    assert reject["reason"].startswith("near-duplicate: similarity 0.")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["near-dedup"]["clusters"] == 1
    assert (out / "index" / "minhash" / "params.json").is_file()
    new = write_jsonl(tmp_path / "new" / "b.jsonl", [chat("Tell me about the river!", NEAR_BASE + "!"),
                                                     chat("What is a prime?", "A number with two divisors.")])
    out2 = tmp_path / "out2"
    assert clean(new, "--out", out2, "--dedup", "minhash", "--threshold", "0.7", "--against", out).exit_code == 0
    assert [r["source_index"] for r in pq.read_table(out2 / "rejects").to_pylist()] == [0]
    assert pq.read_table(out2 / "data").num_rows == 1


def test_template_gate_in_clean(tmp_path):
    toy = pytest.importorskip("train.toy")
    pytest.importorskip("transformers")
    tok = toy.make_tokenizer(tmp_path / "tok")
    long_answer = " ".join(["the model reads data"] * 60)
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat("hello there", "i am fine thank you"),
                                                    chat("how are you", long_answer)])
    out = tmp_path / "out"
    result = clean(src, "--out", out, "--tokenizer", tok, "--max-length", "64", "--no-report")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["templates"]["verdict_after_rejects"] == "safe"
    [reject] = pq.read_table(out / "rejects").to_pylist()
    assert (reject["stage"], reject["source_index"]) == ("template", 1)
    assert reject["reason"] == "truncated answer"
    assert "verdict safe, 1 rows rejected" in result.output

    bare = toy.make_tokenizer(tmp_path / "bare", template=None)
    failed = clean(src, "--out", tmp_path / "out2", "--tokenizer", bare, "--no-report")
    assert failed.exit_code == 1
    assert "error: the chat template and this data disagree" in failed.output
    assert json.loads((tmp_path / "out2" / "manifest.json").read_text())["templates"]["verdict_after_rejects"] == "unsafe"


def test_quality_annotate_only_then_keep_where(tmp_path):
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [
        chat("What is the capital of France?", "The capital of France is Paris, on the river Seine."),
        chat("Write a poem about the sea.", "As an AI language model, I cannot write poems."),
        chat("Quelle est la capitale de l'Italie ?", "La capitale de l'Italie est Rome, une ville très ancienne."),
    ])
    out = tmp_path / "out"
    assert clean(src, "--out", out, "--quality", "default", "--annotate-only", "--no-report").exit_code == 0
    data = pq.read_table(out / "data")
    assert data.num_rows == 3
    assert data["lang"].to_pylist() == ["en", "en", "fr"]
    assert {"lang_score", "lang_prompt", "lang_response", "quality_refusal"} <= set(data.column_names)
    assert data["quality_refusal"].to_pylist() == [False, True, False]
    default = clean(src, "--out", tmp_path / "d", "--quality", "default", "--lang", "en", "--no-report")
    assert default.exit_code == 0
    reasons = sorted(r["reason"] for r in pq.read_table(tmp_path / "d" / "rejects").to_pylist())
    assert reasons[0].startswith("lang: fr not in en") and reasons[1].startswith("refusal")
    where = clean(src, "--out", tmp_path / "w", "--quality", "default", "--keep-where", "lang = 'fr'", "--no-report")
    assert where.exit_code == 0
    assert pq.read_table(tmp_path / "w" / "data")["lang"].to_pylist() == ["fr"]
    bad = clean(src, "--out", tmp_path / "b", "--keep-where", "lang = = 'fr'", "--no-report")
    assert bad.exit_code == 2 and "keep-where" in bad.output


def test_pii_redacted_in_data_and_in_rejects_raw_and_drop_mode(tmp_path):
    leaky = chat("Mail me at jane.doe@example.com please", "Sure, I will write to you.")
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [leaky, leaky, chat("hi", "hello")])
    out = tmp_path / "out"
    result = clean(src, "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    data = pq.read_table(out / "data").to_pylist()
    assert data[0]["messages"][0]["content"] == "Mail me at <EMAIL> please"
    assert (data[0]["pii_types"], data[0]["pii_count"]) == (["EMAIL"], 1)
    [dup] = pq.read_table(out / "rejects").to_pylist()
    assert dup["stage"] == "dedup" and "jane.doe" not in dup["raw"] and "<EMAIL>" in dup["raw"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["pii"]["totals"] == {"EMAIL": 2}
    assert "jane.doe" not in (out / "manifest.json").read_text()

    dropped = clean(src, "--out", tmp_path / "drop", "--pii", "drop", "--dedup", "off", "--no-report")
    assert dropped.exit_code == 0
    rejects = pq.read_table(tmp_path / "drop" / "rejects").to_pylist()
    assert [(r["stage"], r["reason"]) for r in rejects] == [("pii-drop", "pii: EMAIL")] * 2
    no_salt = clean(src, "--out", tmp_path / "hash", "--pii", "hash")
    assert no_salt.exit_code == 2 and "--pii hash needs --pii-salt" in no_salt.output
    hashed = clean(src, "--out", tmp_path / "hash", "--pii", "hash", "--pii-salt", "s3cret", "--no-report")
    assert hashed.exit_code == 0
    manifest = (tmp_path / "hash" / "manifest.json").read_text()
    assert "s3cret" not in manifest and json.loads(manifest)["config"]["pii_salt"] == "given"


def test_decontaminate_and_keep_longest_through_the_cli(tmp_path):
    bench_q = "Natalia sold clips to forty eight of her friends in April and then she sold half as many clips in May"
    evalset = write_jsonl(tmp_path / "eval" / "gsm8k_test.jsonl", [{"question": bench_q, "answer": "72"}])
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [chat(bench_q + ". How many altogether?", "72"),
                                                    chat("Name a colour.", "Blue.")])
    out = tmp_path / "out"
    result = clean(src, "--out", out, "--decontaminate", evalset, "--no-report")
    assert result.exit_code == 0, result.output
    [reject] = pq.read_table(out / "rejects").to_pylist()
    assert (reject["stage"], reject["source_index"]) == ("quality", 0)
    assert reject["reason"].startswith("contaminated: ") and "gsm8k_test.jsonl" in reject["reason"]

    short, longer = NEAR_BASE, NEAR_BASE + " and the gulls follow them far out over the grey water"
    dups = write_jsonl(tmp_path / "in2" / "b.jsonl", [chat("Tell me about the river.", short),
                                                      chat("Tell me about the river.", longer)])
    kept = clean(dups, "--out", tmp_path / "o2", "--dedup", "minhash", "--threshold", "0.6",
                 "--dedup-keep", "longest", "--unit-mb", "1", "--no-report")
    assert kept.exit_code == 0, kept.output
    [row] = pq.read_table(tmp_path / "o2" / "data").to_pylist()
    assert row["messages"][1]["content"] == longer
