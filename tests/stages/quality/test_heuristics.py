"""Every Gopher, C4 and FineWeb rule on crafted texts: the first failing rule names the reason."""

import polars as pl
from quality_helpers import run, texts
from text_docs import text_cases, unique_words

from curate.stages.quality import QualityConfig, build_stages
from curate.stages.quality.heuristics import TEXT_COLUMNS, text_signals
from curate.stages.quality.rules import TextThresholds, first_reason, text_rules


def test_each_text_rule_names_its_reason():
    cases = text_cases()
    batch, reasons = run(build_stages(QualityConfig.from_options()), texts([t for _, t in cases]))
    assert reasons == [expected for expected, _ in cases]
    assert [c for c in batch.column_names if c.startswith("quality_")] == list(TEXT_COLUMNS)


def test_fineweb_empty_for_whitespace_only_lines():
    frame = text_signals(["  \n \t\n"]).with_columns(text=pl.Series(["  \n \t\n"]))
    fineweb = [r for r in text_rules(TextThresholds()) if r[0].startswith("fineweb")]
    assert first_reason(frame, fineweb).to_list() == ["fineweb: empty"]


def test_signals_are_exact_on_a_small_text():
    text = "The cat and the dog.\n\nThe cat and the dog.\n#tag ..."
    row = text_signals([text]).row(0, named=True)
    # words: The cat and the dog . The cat and the dog . # tag ... -> 15 tokens, 10 non-symbol + 'tag'
    assert row["quality_words"] == 11
    assert row["quality_stop_words"] == 2  # "the", "and" ("The" is not lower case)
    assert row["quality_hash_ratio"] == 1 / 15
    assert row["quality_dup_para_frac"] == 0.0  # paragraphs: "The cat and the dog." and "The cat ... ..."
    assert row["quality_dup_line_frac"] == 1 / 3
    assert row["quality_dup_line_char_frac"] == len("The cat and the dog.") / len(text)


def test_thresholds_change_the_decision():
    text = " ".join(unique_words(30)) + " the and."
    strict = text_rules(TextThresholds())
    loose = text_rules(TextThresholds(min_words=5, min_c4_sentences=1, max_short_line_ratio=1.0))
    frame = text_signals([text]).with_columns(text=pl.Series([text]))
    assert first_reason(frame, strict).to_list() == ["gopher: word count"]
    assert first_reason(frame, loose).to_list() == [None]


def test_tokens_are_spacys_tokens():
    import spacy

    from curate.stages.quality.tokens import tokenize

    text = ("U.S. ABC. word. Word, R. e.g. don't cannot CANNOT 10km 5.5 (hello) isn’t a-b "
            "\"quoted\" http://x.org/a?b=1 #tag ... …  tab\there\n\nnew line 1,000 3rd")
    expected = [t.text for t in spacy.blank("en")(text) if t.text.strip()]
    tokens = tokenize([text, ""])
    assert list(tokens.offsets) == [0, len(expected), len(expected)]
    assert list(tokens.length) == [len(t) for t in expected]
    assert [bool(s) for s in tokens.symbol] == [all(not c.isalnum() for c in t) for t in expected]
