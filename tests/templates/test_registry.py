import re

import pytest

from curate.templates.registry import TEMPLATES_DIR, fingerprint, load_registry, markup_families, template_markup
from curate.templates.render import ChatRenderer, has_generation_markers

ENTRIES = load_registry().entries


def test_every_template_file_is_registered_and_documented():
    files = sorted(p.name for p in TEMPLATES_DIR.glob("*.jinja"))
    assert files == sorted(e.file for e in ENTRIES)
    readme = (TEMPLATES_DIR / "README.md").read_text(encoding="utf-8")
    for entry in ENTRIES:
        assert f"`{entry.file}`" in readme, entry.file
        assert entry.source.split(" ")[0] in readme, entry.source


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_fingerprint_of_each_shipped_template_is_exact(entry):
    fp = fingerprint(entry.text)
    assert (fp["family"], fp["revision"], fp["name"], fp["match"]) == (entry.family, entry.revision, entry.name, "exact")
    # a hub config that dropped the final newline still matches
    assert fingerprint(entry.text.rstrip("\n"))["name"] == entry.name


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_each_template_renders_a_chat_and_is_prefix_preserving_for_plain_turns(entry):
    special = {"bos_token": load_registry().families[entry.family].bos or "", "eos_token": "</s>"}
    renderer = ChatRenderer(entry.text, special)
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Bye"}]
    first, _ = renderer.render(chat[:1])
    full, _ = renderer.render(chat)
    assert "Hi" in first and "Hello" in full and "Bye" in full
    assert full.startswith(first.split("Hi")[0])
    assert not has_generation_markers(entry.text)  # shipped as published: no training markers


def test_edited_template_matches_family_only_and_unknown_template():
    text = load_registry().entry("chatml").text.replace("message['role']", "message.role")
    assert fingerprint(text)["match"] == "family" and fingerprint(text)["family"] == "chatml"
    unknown = fingerprint("{{ messages[0]['content'] }}")
    assert (unknown["family"], unknown["revision"], unknown["match"]) == (None, None, "unknown")
    assert re.fullmatch(r"[0-9a-f]{64}", unknown["sha256"])
    assert fingerprint(None)["match"] == "none"


def test_markup_families_and_template_markup():
    assert markup_families("<|im_start|>user\nhi<|im_end|>") == ["chatml"]
    assert markup_families("[INST] hi [/INST]") == ["mistral"]
    assert markup_families("plain text") == []
    assert template_markup(load_registry().entry("gemma").text, "gemma") == ["<start_of_turn>", "<end_of_turn>"]
    assert template_markup(load_registry().entry("chatml").text, "chatml") == ["<|im_start|>", "<|im_end|>"]
    assert "[INST]" not in template_markup(load_registry().entry("mistral-v1").text, "mistral")
    assert "[INST]" in template_markup(load_registry().entry("mistral-v3").text, "mistral")
