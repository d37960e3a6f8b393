"""Every check, broken and sound, through `check_dataset`."""

import pyarrow as pa

from curate.templates import check_dataset


def conv(row_id, *turns, **extra):
    roles = {"s": "system", "u": "user", "a": "assistant", "t": "tool"}
    messages = []
    for turn in turns:
        role, _, content = turn.partition(":")
        messages.append({"role": roles.get(role, role), "content": content})
    return {"id": row_id, "messages": messages, **extra}


SOUND = [conv("ok:0", "u:Hello there", "a:I am fine"), conv("ok:1", "u:Two plus two", "a:is four", "u:And?", "a:The sea")]


def checks(report):
    return {name: (f.count, f.examples) for name, f in report.findings.items()}


def test_sound_data_is_safe_with_every_family(tokenizer_dir):
    for name, family in [("llama3", "llama3"), ("chatml", "chatml"), ("qwen2.5", "chatml"), ("qwen3", "chatml"),
                         ("qwen3-2507", "chatml"), ("gemma", "gemma"), ("gemma3", "gemma"), ("mistral-v1", "mistral"),
                         ("mistral-v3", "mistral"), ("phi3", "phi3"), ("phi3.5", "phi3"), ("deepseek-v3", "deepseek"),
                         ("deepseek-r1-distill", "deepseek"), ("llama3.1", "llama3"), ("llama3.2", "llama3"),
                         ("qwen2", "chatml")]:
        report = check_dataset(SOUND, tokenizer_dir(name, family), 4096)
        errors = [f.check for f in report.errors]
        assert report.verdict == "safe" and errors == [], (name, errors)
        assert report.row_problems == []
        assert report.fingerprint["name"] == name and report.fingerprint["match"] == "exact"


def test_template_raises_on_system_role(tokenizer_dir):
    rows = [*SOUND, conv("sys:0", "s:Be brief", "u:Hi", "a:Hello")]
    report = check_dataset(rows, tokenizer_dir("gemma", "gemma"))
    assert checks(report) == {"template raises": (1, ["sys:0"])}
    assert report.findings["template raises"].detail == "System role not supported"
    assert report.row_problems == [("sys:0", "template: template raises")]
    assert report.verdict == "unsafe"
    assert check_dataset(SOUND, tokenizer_dir("gemma", "gemma")).verdict == "safe"


def test_roles_not_alternating_raise(tokenizer_dir):
    report = check_dataset([conv("x", "u:Hi", "u:Hi again", "a:Hello")], tokenizer_dir("mistral-v1", "mistral"))
    assert checks(report) == {"template raises": (1, ["x"])}


def test_unknown_sharegpt_roles(tokenizer_dir):
    rows = [conv("sg:0", "human:Hello there", "gpt:I am fine"), *SOUND]
    report = check_dataset(rows, tokenizer_dir("chatml", "chatml"))
    assert checks(report) == {"unknown role": (1, ["sg:0"]), "no trained tokens": (1, ["sg:0"])}
    assert report.row_problems == [("sg:0", "template: unknown role")]


DROPS_SYSTEM = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}<|start_header_id|>user<|end_header_id|>"
                "\n\n{{ m['content'] }}<|eot_id|>{% elif m['role'] == 'assistant' %}<|start_header_id|>assistant"
                "<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endif %}{% endfor %}")


def test_turn_rendered_to_nothing(tokenizer_dir):
    folder = tokenizer_dir(DROPS_SYSTEM, "llama3")
    report = check_dataset([conv("d:0", "s:Be brief", "u:Hi", "a:Hello"), *SOUND], folder)
    assert checks(report) == {"turn dropped": (1, ["d:0"])}
    assert report.findings["turn dropped"].detail == "a system turn renders to nothing"
    assert check_dataset(SOUND, folder).verdict == "safe"


def test_no_chat_template_and_template_option(tokenizer_dir):
    folder = tokenizer_dir(None, "chatml")
    report = check_dataset(SOUND, folder)
    assert checks(report) == {"no chat template": (1, [])}
    assert report.verdict == "unsafe" and report.fingerprint["match"] == "none"
    given = check_dataset(SOUND, folder, template="chatml")
    assert given.verdict == "safe" and given.fingerprint["name"] == "chatml"


def test_markup_from_another_family_is_not_single_tokens(tokenizer_dir):
    # a Llama-3 vocabulary given a ChatML template: <|im_start|> is plain text there
    report = check_dataset(SOUND, tokenizer_dir("chatml", "llama3"))
    finding = report.findings["markup not single tokens"]
    assert finding.scope == "dataset" and report.verdict == "unsafe"
    assert finding.detail.startswith("<|im_start|> (") and "<|im_end|> (" in finding.detail
    assert "markup not single tokens" not in check_dataset(SOUND, tokenizer_dir("chatml", "chatml")).findings


def test_terminator_not_a_stop_token(tokenizer_dir):
    # a base model's config: EOS <|endoftext|>, while the template ends turns with <|im_end|>
    folder = tokenizer_dir("chatml", "chatml", eos="<|endoftext|>", generation_eos=["<|endoftext|>"])
    report = check_dataset(SOUND, folder)
    assert checks(report) == {"terminator not a stop token": (1, [])}
    assert report.findings["terminator not a stop token"].detail == (
        "turns end with '<|im_end|>', stop tokens are '<|endoftext|>': set eos_token or generation_config.json eos_token_id")
    # Gemma: EOS is <eos>, and generation_config.json lists <end_of_turn>: sound; without it: not
    assert check_dataset(SOUND, tokenizer_dir("gemma", "gemma")).verdict == "safe"
    bare = check_dataset(SOUND, tokenizer_dir("gemma", "gemma", generation_eos=[]))
    assert list(checks(bare)) == ["terminator not a stop token"]


def test_terminator_outside_generation_markers(tokenizer_dir):
    outside = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['role'] == 'assistant' %}{% generation %}"
               "{{ m['content'] }}{% endgeneration %}{% else %}{{ m['content'] }}{% endif %}<|im_end|>\n{% endfor %}"
               "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    inside = outside.replace("{% endgeneration %}{% else %}{{ m['content'] }}{% endif %}<|im_end|>\n",
                             "<|im_end|>\n{% endgeneration %}{% else %}{{ m['content'] }}<|im_end|>\n{% endif %}")
    report = check_dataset(SOUND, tokenizer_dir(outside, "chatml"))
    assert checks(report) == {"terminator not trained": (1, [])}
    assert check_dataset(SOUND, tokenizer_dir(inside, "chatml")).verdict == "safe"
    # the stop token inside, the newline after it outside: sound
    newline_out = inside.replace("<|im_end|>\n{% endgeneration %}", "<|im_end|>{% endgeneration %}\n")
    assert newline_out != inside
    assert check_dataset(SOUND, tokenizer_dir(newline_out, "chatml")).verdict == "safe"


def test_trimmed_answer_is_altered(tokenizer_dir):
    rows = [conv("t:0", "u:Hi", "a:  Hello\n"), *SOUND]
    report = check_dataset(rows, tokenizer_dir("gemma", "gemma"))
    assert checks(report) == {"answer altered": (1, ["t:0"])}
    assert report.findings["answer altered"].detail == "the template trims whitespace around assistant content"
    assert check_dataset(rows, tokenizer_dir("chatml", "chatml")).verdict == "safe"


def test_template_that_strips_reasoning_from_content(tokenizer_dir):
    rows = [conv("r:0", "u:Hi", "a:<think>add them</think>four"), *SOUND]
    report = check_dataset(rows, tokenizer_dir("deepseek-r1-distill", "deepseek"))
    assert checks(report) == {"answer altered": (1, ["r:0"])}
    assert report.findings["answer altered"].detail == "assistant content is not verbatim in the render (rewritten or cut)"


def test_reasoning_field_dropped_in_earlier_turns(tokenizer_dir):
    first = conv("q:0", "u:Hi", "a:Hello", "u:Again", "a:Hello again")
    first["messages"][1]["reasoning"] = "greet back"
    last = conv("q:1", "u:Hi", "a:Hello")
    last["messages"][1]["reasoning"] = "greet back"
    report = check_dataset([first, last], tokenizer_dir("qwen3", "chatml"))
    assert checks(report) == {"reasoning dropped": (1, ["q:0"])}


def test_injected_text_is_a_note_not_an_error(tokenizer_dir):
    rows = [conv("n:0", "u:Hi", "a:Hello"), conv("n:1", "s:Be brief", "u:Hi", "a:Hello")]
    report = check_dataset(rows, tokenizer_dir("qwen2.5", "chatml"))
    assert checks(report) == {"template injects text": (1, [])}
    assert report.findings["template injects text"].detail == (
        "when a chat has no system turn: 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.'")
    assert report.verdict == "safe"
    dated = check_dataset(rows, tokenizer_dir("llama3.1", "llama3"))
    assert dated.findings["template injects text"].count == 2
    assert dated.findings["template injects text"].detail.startswith("in every chat: 'Cutting Knowledge Date: December 2023")
    assert checks(check_dataset(rows, tokenizer_dir("chatml", "chatml"))) == {}


def test_empty_assistant_turn_and_no_trained_tokens(tokenizer_dir):
    rows = [conv("e:0", "u:Hi", "a:"), conv("e:1", "u:Only a question"), *SOUND]
    report = check_dataset(rows, tokenizer_dir("chatml", "chatml"))
    assert checks(report) == {"empty assistant turn": (1, ["e:0"]), "no trained tokens": (1, ["e:1"])}
    assert report.row_problems == [("e:0", "template: empty assistant turn"), ("e:1", "template: no trained tokens")]


def test_truncation_cuts_answer_or_stop_token(tokenizer_dir):
    folder = tokenizer_dir("chatml", "chatml")
    from curate.templates.tokenizer import LocalTokenizer
    from curate.templates.mask import assistant_mask

    tok = LocalTokenizer.load(folder)
    ids, mask = assistant_mask(tok, SOUND[0]["messages"])
    n = len(ids)  # ends with <|im_end|> then "\n": cutting only the newline is harmless
    assert tok.backend.id_to_token(ids[-2]) == "<|im_end|>"
    assert check_dataset(SOUND[:1], folder, n).verdict == "safe"
    assert check_dataset(SOUND[:1], folder, n - 1).verdict == "safe"
    cut = check_dataset(SOUND[:1], folder, n - 2)
    assert checks(cut) == {"truncated answer": (1, ["ok:0"])}
    first_trained = mask.index(1)
    assert checks(check_dataset(SOUND[:1], folder, first_trained)) == {"no trained tokens": (1, ["ok:0"])}


def test_length_statistics(tokenizer_dir):
    folder = tokenizer_dir("chatml", "chatml")
    from curate.templates.mask import assistant_mask
    from curate.templates.tokenizer import LocalTokenizer

    tok = LocalTokenizer.load(folder)
    sizes = sorted(len(assistant_mask(tok, r["messages"])[0]) for r in SOUND)
    report = check_dataset(SOUND, folder, sizes[0])
    stats = report.lengths
    assert (stats["count"], stats["min"], stats["max"], stats["total"]) == (2, sizes[0], sizes[1], sum(sizes))
    assert stats["over_max_length"] == 1


def pref(row_id, prompt, chosen, rejected):
    return {"id": row_id, "prompt": [{"role": "user", "content": prompt}],
            "chosen": [{"role": "assistant", "content": chosen}], "rejected": [{"role": "assistant", "content": rejected}]}


def test_preference_prompt_prefix(tokenizer_dir):
    rows = [pref("p:0", "Two plus two?", "four", "five"), pref("p:1", "Hi", "Hello", "")]
    sound = check_dataset(rows, tokenizer_dir("chatml", "chatml"))
    assert checks(sound) == {"empty assistant turn": (1, ["p:1"])}
    # DeepSeek-R1's generation prompt opens <think>, which a finished answer does not start with
    broken = check_dataset(rows[:1], tokenizer_dir("deepseek-r1-distill", "deepseek"))
    assert checks(broken) == {"prompt not a prefix": (1, ["p:0"])}


def test_text_rows_double_bos_and_foreign_markup(tokenizer_dir):
    table = pa.table({"id": ["t:0", "t:1", "t:2"], "text": [
        "<|begin_of_text|>Hello there", "<|im_start|>user\nHi<|im_end|>", "Plain text about the sea."]})
    report = check_dataset(table, tokenizer_dir("llama3", "llama3"))
    assert checks(report) == {"double BOS": (1, ["t:0"]), "foreign markup": (1, ["t:1"])}
    assert report.row_problems == [("t:0", "template: double BOS"), ("t:1", "template: foreign markup")]
    # a tokenizer that adds no BOS, whose own markup is ChatML: nothing wrong with t:1
    chatml = check_dataset(table, tokenizer_dir("chatml", "chatml"))
    assert checks(chatml) == {"foreign markup": (1, ["t:0"])}


def test_foreign_markup_inside_messages(tokenizer_dir):
    rows = [conv("f:0", "u:[INST] Hi [/INST]", "a:Hello"), *SOUND]
    report = check_dataset(rows, tokenizer_dir("chatml", "chatml"))
    assert checks(report) == {"foreign markup": (1, ["f:0"])}
    assert check_dataset(rows, tokenizer_dir("mistral-v1", "mistral")).verdict == "safe"


def test_report_json_shape(tokenizer_dir):
    report = check_dataset([conv("e:0", "u:Hi", "a:"), *SOUND], tokenizer_dir("chatml", "chatml"), 512)
    data = report.to_json()
    assert data["verdict"] == "unsafe" and data["rows"] == 3 and data["rows_with_errors"] == 1
    assert data["fingerprint"]["family"] == "chatml" and len(data["fingerprint"]["sha256"]) == 64
    assert data["checks"]["empty assistant turn"] == {
        "check": "empty assistant turn", "severity": "error", "scope": "row", "count": 1, "examples": ["e:0"],
        "detail": None}


def tool_chat(row_id):
    call = {"id": "call12345", "type": "function", "name": "add", "arguments": '{"a": 2, "b": 2}'}
    return {"id": row_id, "tools": '[{"type": "function", "function": {"name": "add", "description": "Add two numbers", '
                                   '"parameters": {"type": "object", "properties": {"a": {"type": "integer"}, '
                                   '"b": {"type": "integer"}}}}}]',
            "messages": [{"role": "user", "content": "Two plus two?"},
                         {"role": "assistant", "content": "", "tool_calls": [call]},
                         {"role": "tool", "content": '{"sum": 4}', "tool_call_id": "call12345"},
                         {"role": "assistant", "content": "It is 4."}]}


def test_tool_calls_are_sound_with_tool_templates(tokenizer_dir):
    rows = [tool_chat("tc:0"), *SOUND]
    for name, family in [("qwen2.5", "chatml"), ("qwen3", "chatml"), ("llama3.1", "llama3"), ("mistral-v3", "mistral")]:
        report = check_dataset(rows, tokenizer_dir(name, family), 4096)
        assert [f.check for f in report.errors] == [], name
    from curate.templates.mask import assistant_mask
    from curate.templates.render import chat_messages, parse_tools
    from curate.templates.tokenizer import LocalTokenizer

    tok = LocalTokenizer.load(tokenizer_dir("qwen2.5", "chatml"))
    row = tool_chat("tc:0")
    ids, mask = assistant_mask(tok, chat_messages(row["messages"]), tools=parse_tools(row["tools"]))
    trained = tok.backend.decode([i for i, m in zip(ids, mask) if m], skip_special_tokens=False)
    assert trained == ('<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 2}}\n</tool_call><|im_end|>\n'
                       "It is 4.<|im_end|>\n")


SYSTEM_IN_LAST_USER = (
    "{%- if messages[0]['role'] == 'system' %}{%- set system = messages[0]['content'] %}"
    "{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}"
    "{{- bos_token }}{%- for m in loop_messages %}{%- if m['role'] == 'user' %}"
    "{%- if loop.last and system is defined %}{{- '[INST] ' + system + '\\n\\n' + m['content'] + '[/INST]' }}"
    "{%- else %}{{- '[INST] ' + m['content'] + '[/INST]' }}{%- endif %}"
    "{%- else %}{{- ' ' + m['content'] + eos_token }}{%- endif %}{%- endfor %}"
)


def test_system_prompt_moved_by_the_template_is_not_dropped(tokenizer_dir):
    row = conv("m:0", "s:Be brief", "u:Hello there", "a:I am fine", "u:Two plus two", "a:is four", "u:Bye")
    report = check_dataset([row], tokenizer_dir(SYSTEM_IN_LAST_USER, "mistral"))
    assert report.verdict == "safe" and checks(report) == {}


def test_reports_of_shards_merge_into_the_whole(tokenizer_dir):
    folder = tokenizer_dir("qwen2.5", "chatml")
    rows = [conv("w:0", "u:Hi", "a:"), *SOUND, conv("w:1", "u:Hi", "a:"), conv("w:2", "s:Be brief", "u:Hi", "a:Hello")]
    whole = check_dataset(rows, folder, 64)
    merged = check_dataset(rows[:2], folder, 64).merge(check_dataset(rows[2:], folder, 64))
    assert merged.to_json() | {"seconds": 0} == whole.to_json() | {"seconds": 0}
    assert merged.row_problems == whole.row_problems == [
        ("w:0", "template: empty assistant turn"), ("ok:1", "template: truncated answer"),
        ("w:1", "template: empty assistant turn")]
    assert merged.verdict_after_rejects == "safe" and merged.verdict == "unsafe"


def test_template_that_needs_a_system_turn_is_probed_with_one(tokenizer_dir):
    needs_system = ("{% if messages[0]['role'] != 'system' %}{{ raise_exception('A system turn is required') }}{% endif %}"
                    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    folder = tokenizer_dir(needs_system, "chatml")
    report = check_dataset([conv("s:0", "s:Be brief", "u:Hi", "a:Hello")], folder)
    assert report.verdict == "safe" and checks(report) == {}
    report = check_dataset([conv("s:1", "u:Hi", "a:Hello")], folder)
    assert checks(report) == {"template raises": (1, ["s:1"])}
    broken = check_dataset([conv("s:2", "u:Hi", "a:Hello")], tokenizer_dir("{{ raise_exception('no') }}", "chatml"))
    assert checks(broken) == {"template probe failed": (1, []), "template raises": (1, ["s:2"])}
    assert broken.findings["template probe failed"].detail == "TemplateError: no"


def test_length_sample_keeps_every_check_exact(tokenizer_dir):
    folder = tokenizer_dir("chatml", "chatml")
    from curate.templates.mask import assistant_mask
    from curate.templates.tokenizer import LocalTokenizer

    tok = LocalTokenizer.load(folder)
    long_answer = "Hello there, how are you today? " * 6
    rows = [conv(f"s:{i}", "u:Hi", "a:Hello") for i in range(6)] + [conv("s:long", "u:Hi", "a:" + long_answer)]
    long_length = len(assistant_mask(tok, rows[-1]["messages"])[0])
    short_length = len(assistant_mask(tok, rows[0]["messages"])[0])
    limit = long_length - 5
    assert short_length < limit < long_length
    sampled = check_dataset(rows, folder, limit, length_sample=3)
    # 7 rows, sample 3: every third row (0, 3 and 6, the long one) is measured
    assert checks(sampled) == {"truncated answer": (1, ["s:long"])}
    assert sampled.lengths["over_max_length"] == 1
    assert sampled.lengths["sampled_rows"] == 3 and sampled.lengths["count"] == 3
    everything = check_dataset(rows, folder, limit, length_sample=0)
    assert "sampled_rows" not in everything.lengths and everything.lengths["count"] == 7
    assert everything.lengths["max"] == long_length and everything.lengths["over_max_length"] == 1
    skipped = check_dataset(rows[1:], folder, limit, length_sample=3)  # 6 rows: 0 and 3 measured, not the long one
    assert skipped.lengths["max"] == short_length and checks(skipped) == {"truncated answer": (1, ["s:long"])}


def test_parallel_parts_give_the_serial_report(tokenizer_dir, monkeypatch):
    import curate.templates.check as check_module

    folder = tokenizer_dir("qwen2.5", "chatml")
    rows = [conv(f"p:{i}", "u:Hi", "a:" + ("" if i % 5 == 0 else "Hello")) for i in range(12)]
    rows[7] = conv("p:7", "s:Be brief", "u:Hi", "a:Hello there, how are you today? " * 3)
    serial = check_dataset(rows, folder, 40, length_sample=4, workers=1)
    monkeypatch.setattr(check_module, "PARALLEL_ROWS", 4)
    parallel = check_dataset(rows, folder, 40, length_sample=4, workers=2)
    assert parallel.row_problems == serial.row_problems
    assert parallel.to_json()["checks"] == serial.to_json()["checks"]
    exact = check_dataset(rows, folder, 40, length_sample=0, workers=1)
    assert exact.lengths["count"] == 12 and exact.lengths["over_max_length"] == 12  # Qwen's default system prompt
    assert parallel.lengths["over_max_length"] == serial.lengths["over_max_length"] == 12
    assert parallel.lengths["sampled_rows"] == 4 and parallel.rows == 12
    assert checks(parallel)["empty assistant turn"] == (3, ["p:0", "p:5", "p:10"])
