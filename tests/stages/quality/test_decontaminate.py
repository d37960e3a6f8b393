"""Decontamination: a shared 13-word n-gram (or a whole short evaluation item) drops the row."""

import json

from quality_helpers import conversations, run, texts

from curate.stages.quality import QualityConfig, build_stages

QUESTION = ("Which of the following best describes the primary function of the mitochondria in a eukaryotic "
            "cell during aerobic respiration?")


def write_eval(tmp_path):
    bench = tmp_path / "sciq_test.jsonl"
    items = [{"question": QUESTION, "choices": ["energy", "storage"], "answer": 0},
             {"question": "What gas do plants absorb from the air during photosynthesis?", "answer": "CO2"}]
    bench.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    other = tmp_path / "trivia.txt"
    other.write_text("The tallest mountain on the planet Earth measured from sea level is Mount Everest in Asia\n")
    return bench, other


def test_rows_sharing_an_ngram_name_the_benchmark(tmp_path):
    bench, other = write_eval(tmp_path)
    rows = [
        ("Q: " + QUESTION.upper(), "The mitochondria produce ATP."),                      # 13-gram, any case
        ("Tell me: what gas do plants absorb from the air during photosynthesis?", "CO2"),  # whole short item
        ("Which organelle makes energy in a cell?", "The mitochondria make most of the energy."),
        ("Fact?", "The tallest mountain on the planet Earth measured from sea level is Mount Everest."),
    ]
    config = QualityConfig.from_options(quality="off", decontaminate=[str(bench), str(other)])
    batch, reasons = run(build_stages(config), conversations(rows))
    assert reasons == ["contaminated: sciq_test.jsonl", "contaminated: sciq_test.jsonl", None,
                       "contaminated: trivia.txt"]
    assert batch.column("quality_contaminated").to_pylist()[2] is None


def test_ngram_size_is_an_option(tmp_path):
    bench, _ = write_eval(tmp_path)
    text = "primary function of the mitochondria in a eukaryotic cell is interesting"  # 9 shared words
    for ngram, expected in ((13, [None]), (9, ["contaminated: sciq_test.jsonl"])):
        config = QualityConfig.from_options(quality="off", decontaminate=[str(bench)], ngram=ngram)
        assert run(build_stages(config), texts([text]))[1] == expected
