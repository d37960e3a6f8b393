"""Verified shards → TRL columns: hashes, refusal of tampered folders, the Arrow reshaping of messages."""

from __future__ import annotations

import hashlib
import json
import shutil

import pyarrow as pa
import pytest

from curate.errors import CheckFailed, InputError
from curate.records import MESSAGES
from train import toy
from train.data import hf_dataset, open_curated, trl_messages


def test_open_curated_reads_manifest_and_hashes_it(world):
    curated = open_curated(world["conversations"])
    assert curated.kind == "conversation"
    assert curated.rows == 12
    assert [p.name for p in curated.files] == ["part-00000.parquet"]
    manifest_bytes = (world["conversations"] / "manifest.json").read_bytes()
    assert curated.manifest_sha256 == hashlib.sha256(manifest_bytes).hexdigest()
    assert curated.skipped == []


def test_tampered_shard_is_refused_with_the_file_named(world, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(world["conversations"], out)
    shard = out / "data" / "part-00000.parquet"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF  # same size, different bytes
    shard.write_bytes(bytes(data))
    with pytest.raises(CheckFailed) as caught:
        open_curated(out)
    assert str(caught.value) == (
        f"{out} failed verification against its manifest: data/part-00000.parquet: sha256 differs from the "
        "manifest (the file was changed) (hint: re-run `curate clean` to rebuild it (or --skip-checks to "
        "train anyway))"
    )
    assert caught.value.exit_code == 1


def test_skip_checks_warns_and_records(world, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(world["conversations"], out)
    (out / "data" / "part-00001.parquet").write_bytes(b"not listed")
    warnings: list[str] = []
    curated = open_curated(out, skip_checks=True, warn=warnings.append)
    assert warnings == [f"--skip-checks: training on {out} although it fails verification: "
                        "data/part-00001.parquet: not listed in the manifest"]
    assert curated.skipped == ["verify: data/part-00001.parquet: not listed in the manifest"]
    assert [p.name for p in curated.files] == ["part-00000.parquet"]  # only listed shards are read


def test_not_a_curated_folder(tmp_path):
    with pytest.raises(InputError, match="no manifest.json"):
        open_curated(tmp_path)


def test_conversations_load_in_trl_columns(world):
    dataset = hf_dataset(open_curated(world["conversations"]))
    assert dataset.column_names == ["messages", "tools"]
    assert len(dataset) == 12
    first = toy.conversation_rows(12)[0]["messages"]
    assert [(m["role"], m["content"]) for m in dataset[0]["messages"]] == [(m["role"], m["content"]) for m in first]
    assert set(dataset[0]["messages"][0]) == {"role", "content", "name", "tool_calls", "tool_call_id",
                                              "reasoning_content"}


def test_rlhf_prompts_stop_before_the_last_answer(world):
    dataset = hf_dataset(open_curated(world["conversations"]), prompts_only=True)
    assert dataset.column_names == ["prompt"]
    rows = toy.conversation_rows(12)
    for row, prompt in zip(rows, dataset["prompt"]):
        last = max(i for i, m in enumerate(row["messages"]) if m["role"] == "assistant")
        assert [m["content"] for m in prompt] == [m["content"] for m in row["messages"][:last]]


def test_preferences_load_in_trl_columns(world):
    dataset = hf_dataset(open_curated(world["preferences"]))
    assert dataset.column_names == ["prompt", "chosen", "rejected", "tools"]
    row = toy.preference_rows(8)[3]
    assert dataset[3]["chosen"][0]["content"] == row["chosen"][0]["content"]
    assert dataset[3]["rejected"][0]["role"] == "assistant"


def test_messages_take_the_shape_templates_read():
    call = {"id": "call_1", "type": None, "name": "lookup", "arguments": '{"q": "x"}'}
    rows = [[toy.message("user", "hi", extra='{"lang": "en"}'),
             toy.message("assistant", None, tool_calls=[call], reasoning="think first")],
            None,
            [toy.message("tool", "42", tool_call_id="call_1")]]
    out = trl_messages(pa.array(rows, type=MESSAGES)).to_pylist()
    assert out[1] is None
    assert out[0][0] == {"role": "user", "content": "hi", "name": None, "tool_calls": None, "tool_call_id": None,
                         "reasoning_content": None}
    assert out[0][1]["tool_calls"] == [{"id": "call_1", "type": "function",
                                        "function": {"name": "lookup", "arguments": '{"q": "x"}'}}]
    assert out[0][1]["reasoning_content"] == "think first"
    assert out[2][0]["tool_call_id"] == "call_1"


def test_manifest_pointing_outside_is_refused(world, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(world["preferences"], out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["shards"]["data"][0]["path"] = "../elsewhere.parquet"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckFailed, match=r"\.\./elsewhere\.parquet: path escapes the dataset folder"):
        open_curated(out)
