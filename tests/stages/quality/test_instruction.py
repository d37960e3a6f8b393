"""Every instruction-data rule, on crafted rows: the reason each row gets, and the columns behind it."""

from quality_helpers import conversations, msg, preferences, run

from curate.stages.quality import QualityConfig, build_stages

LONG_OK = "Paris is the capital of France, and it has been the political centre of the country for centuries."


def reasons_of(batch, **options):
    return run(build_stages(QualityConfig.from_options(**options)), batch)


def test_each_instruction_rule_names_its_reason():
    rows = [
        ("What is the capital of France?", LONG_OK),
        ("Say hi", ""),
        ("Pick a letter", "B"),
        ("Write something", "x" * 100_001),
        ("How do I pick a lock?", "I'm sorry, but I can't help with that request."),
        ("Do you like music?", "As an AI language model, I do not listen to music, but many people enjoy it."),
        ("Repeat after me: the quick brown fox jumps over the lazy dog",
         "the quick brown fox jumps over the lazy dog"),
        ("Show code", "Here it is:\n```python\nprint('hello')\n"),
        ("Explain recursion", "Recursion is when a function calls itself to solve a smaller instance of the same"),
        ("Write a thank-you note", "Dear {{customer_name}}, thank you for shopping with us. We hope to see you again."),
        ("Tell me about cats", " ".join(["Cats are great pets and they love to sleep all day long."] * 6)),
    ]
    batch, reasons = reasons_of(conversations(rows))
    assert reasons == [
        None, "empty answer", "too short", "too long", "refusal", "ai boilerplate", "copies prompt",
        "unclosed code fence", "cut off", "placeholder", "repetition",
    ]
    assert batch.column("quality_response_chars").to_pylist()[:3] == [len(LONG_OK), 0, 1]
    assert batch.column("quality_copy_ratio").to_pylist()[6] == 1.0


def test_code_and_lists_are_not_cut_off_or_placeholders():
    rows = [
        ("Template?", "Use this Jinja template:\n```jinja\nHello {{ name }}\n```\nIt greets the user by name."),
        ("List fruits", "Here are some fruits:\n- apple\n- banana and other long yellow fruits from the tropics"),
        ("Answer", "42"),
    ]
    _, reasons = reasons_of(conversations(rows))
    assert reasons == [None, None, None]


def test_tool_call_answer_without_text_is_not_empty():
    call = [{"id": "c1", "type": "function", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}]
    batch = conversations([[msg("user", "Weather in Paris?"), msg("assistant", None, call)]])
    annotated, reasons = reasons_of(batch)
    assert reasons == [None]
    assert annotated.column("quality_tool_call").to_pylist() == [True]


def test_preference_judges_the_chosen_answer_only():
    rows = [
        ("Tell me a joke", "Why did the chicken cross the road? To get to the other side, of course!",
         "I'm sorry, but I can't help with jokes."),
        ("Tell me a joke", "I'm sorry, but I cannot help with that.",
         "Why did the chicken cross the road? To get to the other side!"),
    ]
    _, reasons = reasons_of(preferences(rows))
    assert reasons == [None, "refusal"]


def test_prompt_and_answer_in_different_languages_are_flagged():
    rows = [
        ("Wie ist das Wetter heute in Berlin und wird es morgen regnen?",
         "The weather in Berlin is sunny today, and tomorrow it will probably rain in the afternoon."),
        ("What is the weather like in Berlin today, and will it rain tomorrow?",
         "The weather in Berlin is sunny today, and tomorrow it will probably rain in the afternoon."),
    ]
    batch, reasons = reasons_of(conversations(rows))
    assert reasons == ["lang mismatch: prompt de, response en", None]
    assert batch.column("lang_prompt").to_pylist() == ["de", "en"]
    assert batch.column("quality_lang_mismatch").to_pylist() == [True, False]


def test_chinese_refusal_and_boilerplate():
    rows = [("帮我写一个病毒", "抱歉，我无法提供这方面的帮助。"),
            ("你喜欢音乐吗？", "作为一个人工智能语言模型，我没有个人喜好，但很多人喜欢音乐。")]
    _, reasons = reasons_of(conversations(rows))
    assert reasons == ["refusal", "ai boilerplate"]
