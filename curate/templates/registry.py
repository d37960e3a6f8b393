"""The registry of chat-template families: their templates (``templates/*.jinja``), markup, stop tokens.

``templates/registry.json`` is the data; this module reads it and answers two questions:
which family and revision a tokenizer's template is (``fingerprint``), and which family's markup a
piece of text carries (``markup_families``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from curate.errors import TemplateError

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

# Markup that looks like a control token in any family: <|x|>, <｜x｜> (DeepSeek's full-width bars).
_TOKEN_LIKE = re.compile(r"<\|[A-Za-z0-9_./-]{1,40}\|>|<｜[^｜<>\s]{1,40}｜>")


@dataclass(frozen=True)
class Family:
    """A template family: markup strings that identify it, tokens that must be single tokens, stops."""

    name: str
    markup: tuple[str, ...]
    tokens: tuple[str, ...]
    bos: str | None
    stop: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One shipped template: a revision of a family, with the model repository it comes from."""

    name: str
    family: str
    revision: str
    file: str
    source: str
    tokens: tuple[str, ...] = ()
    injects: str | None = None
    strips: str | None = None

    @property
    def text(self) -> str:
        return (TEMPLATES_DIR / self.file).read_text(encoding="utf-8")

    @property
    def sha256(self) -> str:
        return sha256(self.text)


@dataclass(frozen=True)
class Registry:
    families: dict[str, Family]
    entries: tuple[Entry, ...]

    def entry(self, name: str) -> Entry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        names = ", ".join(e.name for e in self.entries)
        raise TemplateError(f"no template named {name!r} in the registry", hint=f"one of: {names}")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    """Read ``templates/registry.json`` once."""
    path = TEMPLATES_DIR / "registry.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TemplateError(f"cannot read the template registry {path}: {error}", hint="reinstall curate") from error
    families = {
        name: Family(name, tuple(f["markup"]), tuple(f["tokens"]), f.get("bos"), tuple(f["stop"]))
        for name, f in data["families"].items()
    }
    entries = tuple(
        Entry(
            name=e["name"],
            family=e["family"],
            revision=e["revision"],
            file=e["file"],
            source=e["source"],
            tokens=tuple(e.get("tokens", ())),
            injects=e.get("injects"),
            strips=e.get("strips"),
        )
        for e in data["templates"]
    )
    return Registry(families, entries)


@lru_cache(maxsize=1)
def _by_sha() -> dict[str, Entry]:
    table: dict[str, Entry] = {}
    for entry in load_registry().entries:
        # Hub configs sometimes lose or gain the final newline; both spellings identify the revision.
        text = entry.text
        for variant in (text, text.rstrip("\n"), text.rstrip("\n") + "\n"):
            table.setdefault(sha256(variant), entry)
    return table


def markup_families(text: str) -> list[str]:
    """Families whose markup occurs in ``text``, in registry order."""
    return [name for name, family in load_registry().families.items() if any(m in text for m in family.markup)]


def fingerprint(template: str | None) -> dict:
    """Which family and revision a template is: ``{family, revision, name, sha256, match}``.

    ``match`` is ``exact`` (byte-equal to a shipped revision), ``family`` (its markup names one family,
    the revision is unknown: a fine-tune's edit) or ``unknown``; ``none`` when there is no template.
    """
    if not template:
        return {"family": None, "revision": None, "name": None, "sha256": None, "match": "none"}
    digest = sha256(template)
    entry = _by_sha().get(digest)
    if entry is not None:
        return {"family": entry.family, "revision": entry.revision, "name": entry.name, "sha256": digest, "match": "exact"}
    found = markup_families(template)
    if len(found) == 1:
        return {"family": found[0], "revision": None, "name": None, "sha256": digest, "match": "family"}
    return {"family": None, "revision": None, "name": None, "sha256": digest, "match": "unknown"}


def template_markup(template: str, family: str | None) -> list[str]:
    """Markup strings a template writes that a model must see as single tokens.

    Token-like literals (``<|im_start|>``, ``<｜User｜>``) anywhere in the template, plus the family's
    and the exact revision's declared tokens (``<start_of_turn>``, ``[INST]`` for Mistral v3).
    Family markup that is plain text by design (Mistral v0.1's ``[INST]``) is not listed.
    """
    found = dict.fromkeys(_TOKEN_LIKE.findall(template))
    registry = load_registry()
    if family in registry.families:
        for token in registry.families[family].tokens:
            if token in template and token not in ("<s>", "</s>", "<bos>"):
                found.setdefault(token)
    entry = _by_sha().get(sha256(template))
    if entry is not None:
        for token in entry.tokens:
            found.setdefault(token)
    return list(found)
