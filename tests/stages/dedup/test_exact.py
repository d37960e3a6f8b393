import polars as pl
import pyarrow as pa

from curate.records import MESSAGES
from curate.stages.dedup.exact import ExactDedup


def msg(role, content):
    return {"role": role, "content": content, "name": None, "tool_calls": None, "tool_call_id": None,
            "reasoning": None, "extra": None}


def conv(ids, pairs):
    return pa.table({"id": ids, "messages": pa.array([[msg("user", q), msg("assistant", a)] for q, a in pairs], MESSAGES)})


def decide(stage, *tables):
    keys = []
    offset = 0
    for t in tables:
        k = stage.keys(t)
        keys.append(k.append_column("order", pa.array(range(offset, offset + t.num_rows), pa.int64())))
        offset += t.num_rows
    return stage.decide(pl.from_arrow(pa.concat_tables(keys)).lazy())


def test_exact_duplicates_across_batches_keep_first_seen():
    a = conv(["a0", "a1", "a2"], [("Hi", "Hello there"), ("What is 2+2?", "4"), ("hi ", "hello  THERE")])
    b = conv(["b0", "b1"], [("What is 2+2?", "4"), ("What is 2+2?", "Four")])
    drops = decide(ExactDedup("all"), a, b)
    assert drops.select("order", "id", "duplicate_of").rows() == [(2, "a2", "a0"), (3, "b0", "a1")]
    assert drops["reason"].to_list() == ["duplicate: same normalised content (scope all)"] * 2


def test_scope_prompt_and_response():
    t = conv(["x", "y", "z"], [("Q1", "A"), ("Q1", "B"), ("Q2", "A")])
    assert decide(ExactDedup("prompt"), t).select("id", "duplicate_of").rows() == [("y", "x")]
    assert decide(ExactDedup("response"), t).select("id", "duplicate_of").rows() == [("z", "x")]


def test_same_id_twice_is_still_deduplicated_by_position():
    t = conv(["same", "same"], [("q", "a"), ("q", "a")])
    assert decide(ExactDedup(), t).select("order", "duplicate_of").rows() == [(1, "same")]


def test_unicode_normalisation_nfkc():
    t = conv(["p", "q"], [("ｆｕｌｌ width", "ok"), ("full width", "ok")])
    assert decide(ExactDedup(), t)["id"].to_list() == ["q"]


def test_normalisation_equals_nfkc_casefold_and_regex_whitespace():
    import polars as pl

    from curate.stages.dedup.exact import normalised

    texts = ["  Hello\tWORLD \n\n again  ", "a\u00a0b\u3000c\u2028d\x85e\u2003f", "ｆｕｌｌ\r\nwidth", "", "x" + " " * 37 + "y"]
    expected = (pl.Series(texts).str.normalize("NFKC").str.to_lowercase()
                .str.replace_all(r"\s+", " ").str.strip_chars().to_list())
    assert normalised(pa.array(texts)).to_list() == expected
    assert expected[1] == "a b c d e f"
