"""Rendering and tokenising match transformers' apply_chat_template, byte for byte and id for id."""

import pytest

from curate.templates.registry import load_registry
from curate.templates.render import ChatRenderer, chat_message, parse_tools
from curate.templates.tokenizer import LocalTokenizer

CASES = [(e.name, e.family) for e in load_registry().entries]
CHATS = [
    [{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "I am fine"}],
    [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Two plus two"},
     {"role": "assistant", "content": "is four"}, {"role": "user", "content": "And the sea?"},
     {"role": "assistant", "content": "The sea is blue"}],
]


@pytest.mark.parametrize("name,family", CASES)
def test_render_and_ids_equal_transformers(tokenizer_dir, name, family):
    transformers = pytest.importorskip("transformers")
    folder = tokenizer_dir(name, family)
    theirs = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    ours = LocalTokenizer.load(folder)
    renderer = ChatRenderer(ours.chat_template, ours.special)
    compared = 0
    for chat in CHATS:
        for gp in (False, True):
            try:
                expected = theirs.apply_chat_template(chat, tokenize=False, add_generation_prompt=gp)
            except Exception as error:  # templates without a system role raise in both
                with pytest.raises(type(error)):
                    renderer.render(chat, add_generation_prompt=gp)
                continue
            text, _ = renderer.render(chat, add_generation_prompt=gp)
            assert text == expected
            ids = theirs.apply_chat_template(chat, tokenize=True, add_generation_prompt=gp, return_dict=True)["input_ids"]
            assert ours.encode([text])[0].ids == list(ids)
            compared += 1
    assert compared >= 2
    assert ours.adds_bos == (theirs("a")["input_ids"][0] == theirs.bos_token_id and theirs.bos_token_id is not None)


def test_chat_message_drops_nulls_and_shapes_tool_calls_and_reasoning():
    message = {"role": "assistant", "content": None, "name": None, "tool_call_id": None, "extra": "{}",
               "reasoning": "think first",
               "tool_calls": [{"id": "call_1", "type": None, "name": "add", "arguments": '{"a": 1}'}]}
    assert chat_message(message) == {
        "thinking": "think first", "role": "assistant", "reasoning": "think first", "reasoning_content": "think first",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "add", "arguments": {"a": 1}}}],
    }
    assert parse_tools('[{"type": "function", "function": {"name": "add"}}]') == [
        {"type": "function", "function": {"name": "add"}}]
    assert parse_tools("") is None and parse_tools("not json") is None and parse_tools("[]") is None


def test_generation_markers_give_spans_and_vanish_from_the_text():
    template = ("{% for m in messages %}{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}<E>"
                "{% endgeneration %}{% else %}[{{ m['content'] }}]{% endif %}{% endfor %}")
    renderer = ChatRenderer(template, {})
    text, spans = renderer.render([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"},
                                   {"role": "user", "content": "r"}, {"role": "assistant", "content": "bb"}])
    assert text == "[q]a<E>[r]bb<E>"
    assert spans == [(3, 7), (10, 15)]
    assert [text[s:e] for s, e in spans] == ["a<E>", "bb<E>"]


def test_sandbox_blocks_attribute_escapes():
    renderer = ChatRenderer("{{ messages.__class__.__mro__ }}", {})
    with pytest.raises(Exception, match="unsafe|not safely|access"):
        renderer.render([{"role": "user", "content": "x"}])


def test_loading_a_folder_without_tokenizer_json_is_an_input_error(tmp_path):
    from curate.errors import InputError

    with pytest.raises(InputError, match="no tokenizer.json"):
        LocalTokenizer.load(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        LocalTokenizer.load(tmp_path / "missing")


def test_bytes_bound_only_without_expanding_normalizers():
    from curate.templates.tokenizer import _no_expansion

    assert _no_expansion(None) and _no_expansion({"type": "NFC"})
    assert _no_expansion({"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})
    assert not _no_expansion({"type": "NFKC"}) and not _no_expansion({"type": "NFD"})
    assert not _no_expansion({"type": "Replace", "pattern": {"String": " "}, "content": "  "})
    assert not _no_expansion({"type": "Replace", "pattern": {"Regex": " +"}, "content": " "})
