"""Language ID: lid.176 plus script, letter and stop-word evidence; the columns and the --lang rule."""

import pyarrow as pa
from quality_helpers import conversations, run, texts

from curate.stages.quality import LanguageAnnotator, QualityConfig, build_stages
from curate.stages.quality.langid import detect


def langs(values):
    return detect(pa.array(values, pa.string()))[0].to_pylist()


def test_paragraphs_in_several_languages():
    assert langs([
        "The committee met on Tuesday to discuss the budget for next year and agreed on most of the items.",
        "Der Ausschuss traf sich am Dienstag, um den Haushalt für das nächste Jahr zu besprechen.",
        "Le comité s'est réuni mardi pour discuter du budget de l'année prochaine.",
        "El comité se reunió el martes para discutir el presupuesto del próximo año.",
        "委员会周二开会讨论明年的预算，并就大部分项目达成了一致。",
        "委員会は火曜日に来年度の予算について話し合い、ほとんどの項目で合意した。",
        "위원회는 화요일에 내년 예산을 논의하기 위해 모였다.",
        "Комитет собрался во вторник, чтобы обсудить бюджет на следующий год.",
    ]) == ["en", "de", "fr", "es", "zh", "ja", "ko", "ru"]


def test_scripts_and_letters_settle_short_lines():
    # Hangul is Korean, kana is Japanese, "ї"/"є" are Ukrainian only, Han without kana is Chinese.
    assert langs(["안녕하세요", "ありがとう", "Дякуємо за їжу", "谢谢你", "Ευχαριστώ πολύ"]) == ["ko", "ja", "uk", "zh", "el"]


def test_rows_without_letters_have_no_language():
    lang, score = detect(pa.array(["12345 + 678", "", None], pa.string()))
    assert lang.to_pylist() == [None, None, None]
    assert score.null_count == 3


def test_text_rows_get_lang_and_score():
    batch = LanguageAnnotator().annotate(texts(["Das ist ein ganz normaler deutscher Satz über das Wetter."]))
    assert batch.column("lang").to_pylist() == ["de"]
    assert 0.5 < batch.column("lang_score").to_pylist()[0] <= 1.0
    assert "lang_prompt" not in batch.column_names


def test_role_prefixes_do_not_make_short_turns_english():
    batch = LanguageAnnotator().annotate(conversations([("你好吗", "我很好，谢谢")]))
    assert batch.column("lang_prompt").to_pylist() == ["zh"]
    assert batch.column("lang_response").to_pylist() == ["zh"]
    assert batch.column("lang").to_pylist() == ["zh"]


def test_lang_option_keeps_listed_languages_and_names_the_others():
    batch = texts(["Dies ist ein Text auf Deutsch über die Geschichte der Stadt Berlin.",
                   "This is an English text about the history of the city of Berlin.",
                   "这是一篇关于柏林城市历史的中文文章。", "2024-01-01"])
    config = QualityConfig.from_options(quality="off", lang="en,zh")
    _, reasons = run(build_stages(config), batch)
    assert reasons == ["lang: de not in en,zh", None, None, None]


def test_lang_any_annotates_only():
    config = QualityConfig.from_options(quality="off", lang="any")
    assert build_stages(config) == []
    config = QualityConfig.from_options(quality="off", lang="any", keep_where="lang = 'en'")
    _, reasons = run(build_stages(config), texts(["Ceci est une phrase en français.", "This is English."]))
    assert reasons == ["keep-where", None]


def test_translation_requests_are_not_language_mismatches():
    import pyarrow as pa

    from curate.records import MESSAGES
    from curate.stages.quality import LanguageAnnotator

    def m(role, content):
        return {"role": role, "content": content, "name": None, "tool_calls": None, "tool_call_id": None,
                "reasoning": None, "extra": None}

    answer = "La bibliothèque municipale ouvre ses portes à neuf heures tous les matins de la semaine."
    table = pa.table({"id": ["t", "q"], "messages": pa.array([
        [m("user", "Translate this sentence into French: the city library opens at nine every weekday morning."),
         m("assistant", answer)],
        [m("user", "When does the city library open in the morning on a normal weekday?"), m("assistant", answer)],
    ], MESSAGES)})
    out = LanguageAnnotator().annotate(table)
    assert out["lang_response"].to_pylist() == ["fr", "fr"]
    assert out["quality_lang_mismatch"].to_pylist() == [False, True]
