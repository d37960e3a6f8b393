"""Load a tokenizer from a local folder, the way transformers would, without transformers.

Reads ``tokenizer.json`` with the ``tokenizers`` library, ``tokenizer_config.json`` (special tokens,
``add_bos_token``, the chat template), ``chat_template.jinja`` (where transformers 5 saves the template)
and ``generation_config.json`` (the stop tokens generation uses). Never touches the hub, never runs code
from the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import InputError, TemplateError

_SPECIAL_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def _token_text(value: Any) -> str | None:
    """A special token as saved in a config: a string, or an AddedToken dict with ``content``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise InputError(f"{path}: not valid JSON ({error})", hint="re-save the tokenizer with save_pretrained") from error
    return data if isinstance(data, dict) else {}


# Normalizers that never lengthen text beyond one added character per piece (Prepend adds "▁").
_NON_EXPANDING = {"NFC", "Lowercase", "Strip", "StripAccents", "Prepend"}


def _no_expansion(normalizer: Any) -> bool:
    """Whether a tokenizer.json normalizer keeps token count <= UTF-8 bytes + 1 (each added token, at least
    two bytes long and one token, pays for the marker a following piece may get)."""
    if normalizer is None:
        return True
    if not isinstance(normalizer, dict):
        return False
    kind = normalizer.get("type")
    if kind == "Sequence":
        return all(_no_expansion(n) for n in normalizer.get("normalizers", []))
    if kind == "Replace":
        pattern = normalizer.get("pattern", {})
        return isinstance(pattern.get("String"), str) and len(normalizer.get("content", "")) <= len(pattern["String"])
    return kind in _NON_EXPANDING


def _chat_template(folder: Path, config: dict) -> str | None:
    """The default chat template: ``chat_template.jinja`` first (transformers 5), then the config."""
    jinja_file = folder / "chat_template.jinja"
    if jinja_file.is_file():
        return jinja_file.read_text(encoding="utf-8")
    template = config.get("chat_template")
    if isinstance(template, list):  # named templates: [{"name": "default", "template": ...}, ...]
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    return template if isinstance(template, str) and template.strip() else None


@dataclass
class LocalTokenizer:
    """A fast tokenizer plus what chat templating and training need from its configs."""

    path: Path
    backend: Any  # tokenizers.Tokenizer
    chat_template: str | None
    special: dict[str, str]  # bos_token, eos_token, ... as strings: what templates see
    adds_bos: bool  # tokenising plain text with special tokens puts BOS in front
    stop_ids: frozenset[int]  # EOS plus generation_config's eos_token_id
    added: frozenset[str] = field(default_factory=frozenset)  # added (special) token strings
    bytes_bound: bool = False  # a text's UTF-8 size + 1 bounds its token count (no expanding normalizer)

    @classmethod
    def load(cls, path: str | Path) -> "LocalTokenizer":
        """Load from a local folder; raise `InputError` when it is not one."""
        from tokenizers import Tokenizer

        folder = Path(path)
        if not folder.is_dir():
            raise InputError(f"tokenizer {folder}: not a folder", hint="pass the local folder of a saved tokenizer")
        tokenizer_file = folder / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise InputError(
                f"tokenizer {folder}: no tokenizer.json (only fast tokenizers are supported)",
                hint="convert it once with transformers: AutoTokenizer.from_pretrained(dir).save_pretrained(dir)",
            )
        try:
            backend = Tokenizer.from_file(str(tokenizer_file))
        except Exception as error:  # the Rust side raises plain Exceptions
            raise InputError(f"{tokenizer_file}: cannot be loaded ({error})", hint="re-save the tokenizer") from error
        config = _read_json(folder / "tokenizer_config.json")
        special_map = _read_json(folder / "special_tokens_map.json")
        special: dict[str, str] = {}
        for name in _SPECIAL_NAMES:
            text = _token_text(config.get(name)) or _token_text(special_map.get(name))
            if text is not None:
                special[name] = text
        added = frozenset(t.content for t in backend.get_added_tokens_decoder().values())
        tokenizer = cls(folder, backend, _chat_template(folder, config), special, False, frozenset(), added)
        tokenizer.adds_bos = tokenizer._adds_bos(config)
        tokenizer.bytes_bound = _no_expansion(json.loads(tokenizer_file.read_text(encoding="utf-8")).get("normalizer"))
        tokenizer.stop_ids = tokenizer._stop_ids(_read_json(folder / "generation_config.json"))
        return tokenizer

    def token_id(self, text: str | None) -> int | None:
        return None if text is None else self.backend.token_to_id(text)

    @property
    def bos_token(self) -> str | None:
        return self.special.get("bos_token")

    @property
    def eos_token(self) -> str | None:
        return self.special.get("eos_token")

    def _adds_bos(self, config: dict) -> bool:
        # transformers rebuilds the post-processor when the config sets add_bos_token explicitly;
        # otherwise the tokenizer.json post-processor decides.
        bos_id = self.token_id(self.bos_token)
        if bos_id is None:
            return False
        if isinstance(config.get("add_bos_token"), bool):
            return config["add_bos_token"]
        with_special = self.backend.encode("a", add_special_tokens=True).ids
        return bool(with_special) and with_special[0] == bos_id

    def _stop_ids(self, generation_config: dict) -> frozenset[int]:
        ids = set()
        eos_id = self.token_id(self.eos_token)
        if eos_id is not None:
            ids.add(eos_id)
        configured = generation_config.get("eos_token_id")
        for value in configured if isinstance(configured, list) else [configured]:
            if isinstance(value, int):
                ids.add(value)
        return frozenset(ids)

    def encode(self, texts: list[str]) -> list:
        """Tokenise rendered chats as training does: no special tokens added (the template wrote them).

        Without character offsets (cheaper); `encode_offsets` re-encodes the few rows that need them."""
        return self.backend.encode_batch_fast(texts, add_special_tokens=False)

    def encode_offsets(self, texts: list[str]) -> list:
        return self.backend.encode_batch(texts, add_special_tokens=False)

    def single_token(self, text: str) -> bool:
        return len(self.backend.encode(text, add_special_tokens=False).ids) == 1

    def require_template(self, override: str | None = None) -> str:
        template = override or self.chat_template
        if template is None:
            raise TemplateError(
                f"tokenizer {self.path} has no chat template",
                hint="pass --template NAME (see `curate templates list`) to give it one",
            )
        return template
