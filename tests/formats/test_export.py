import json

import pyarrow as pa

from curate.formats import export, to_records
from formats_fixtures import ALPACA, OPENAI, SHAREGPT, norm


def test_export_gives_target_columns_then_carries_everything_else():
    _, canonical, _ = norm(ALPACA[:2], "raw/a.jsonl")
    canonical = canonical.append_column("lang", pa.array(["fr", "en"])).append_column("quality_score", pa.array([0.5, 0.9]))
    table, refused = export(canonical, "sharegpt")
    assert table.column_names == ["id", "conversations", "system", "extra", "source", "lang", "quality_score"]
    assert refused.num_rows == 0 and refused.schema.names == ["id", "reason"]
    assert table["conversations"].to_pylist()[1][-1] == {"from": "gpt", "value": "Sure."}
    assert table["system"].to_pylist() == ["Tu es poli.", None]
    assert [json.loads(e) if e else None for e in table["extra"].to_pylist()] == [{"_curate": {"alpaca": {"input_chars": 16}}}, None]
    assert table["lang"].to_pylist() == ["fr", "en"]
    assert table["source"].to_pylist() == canonical["source"].to_pylist()


def test_export_refuses_what_the_target_cannot_express_and_drops_those_rows():
    _, canonical, _ = norm(SHAREGPT, "raw/s.jsonl")
    table, refused = export(canonical, "alpaca")
    assert refused.to_pylist() == [{"id": canonical["id"][0].as_py(), "reason": "cannot express: tool calls in alpaca"},
                                   {"id": canonical["id"][3].as_py(), "reason": "cannot express: tool calls in alpaca"}]
    assert table.num_rows == 2
    assert table["instruction"].to_pylist() == ["Hi", "tag user"]


def test_openai_export_keeps_tools_as_json_text_and_can_drop_hints():
    _, canonical, _ = norm(OPENAI[:2])
    table, _ = export(canonical, "openai", hints=False)
    assert json.loads(table["tools"][0].as_py()) == OPENAI[0]["tools"]
    second = table["messages"][1].as_py()
    # without hints every row takes openai's default spelling: string content, reasoning_content
    assert (second[1]["content"], second[1]["reasoning_content"]) == ("answer", "think")
    assert "_curate" not in json.dumps(table.to_pylist())


def test_records_omit_derived_ids_and_keep_own_ones():
    _, canonical, _ = norm(ALPACA)
    records, _ = to_records(canonical, "alpaca")
    assert [r.get("id") for r in records] == [None, None, "a-3", None, None]


def _plain_rows(table):
    return [{k: v for k, v in row.items()} for row in table.to_pylist()]


def test_vectorised_openai_export_equals_the_per_row_writer(monkeypatch):
    from curate.formats import fast_export

    records = ALPACA[:3] + [{"instruction": "x", "output": "y", "system": "s"}]
    _, canonical, _ = norm(records)
    canonical = canonical.append_column("lang", pa.array(["fr", "en", "en", "de"]))
    for hints in (True, False):
        fast_table, _ = export(canonical, "openai", hints=hints)
        monkeypatch.setattr(fast_export, "openai_columns", lambda table: None)
        slow_table, _ = export(canonical, "openai", hints=hints)
        monkeypatch.undo()
        assert fast_table.column_names == slow_table.column_names
        assert fast_table.to_pylist() == slow_table.to_pylist()
    assert json.loads(fast_table["extra"][2].as_py()) == {"meta": {"source": "web", "score": 0.5}}


def test_an_edited_tool_call_drops_the_original_wording_hint():
    from curate.records import map_texts

    record = {"conversations": [{"from": "human", "value": "mail me"},
                                {"from": "function_call", "value": '{"name":"send","arguments":{"to":"a@b.test"}}'}]}
    _, canonical, _ = norm([record])
    assert "a@b.test" in canonical["messages"][0].as_py()[1]["extra"]  # compact original kept as a hint
    redacted = map_texts(canonical.drop_columns(["raw"]), lambda a: pa.array([None if v is None else v.replace("a@b.test", "<EMAIL>")
                                                                              for v in a.to_pylist()], pa.string()))
    for fmt in ("openai", "sharegpt"):
        assert "a@b.test" not in json.dumps(to_records(redacted, fmt)[0])
    unchanged, _ = to_records(canonical, "sharegpt")
    assert unchanged == [record]


def test_reading_curate_output_again_restores_the_source_spelling():
    _, canonical, _ = norm(ALPACA, "raw/a.jsonl")
    table, _ = export(canonical, "openai")  # what `clean` writes: id, messages, extra, source, ...
    rows = table.to_pylist()
    _, again, rejects = norm(rows, "out/data/part-00000.jsonl")
    assert rejects.num_rows == 0
    back, _ = to_records(again, "alpaca")
    # derived ids of the first read are now the records' own ids; everything else is the source record
    assert [{k: v for k, v in r.items() if k != "id"} for r in back] == [{k: v for k, v in r.items() if k != "id"} for r in ALPACA]
