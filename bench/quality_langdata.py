"""Real multilingual text available offline, for the language-ID benchmark (bench only, never tests).

Three sources, all human-written:
- spaCy's per-language example sentences (``spacy/lang/<code>/examples.py``): short news-like one-liners;
- the gettext catalogs of this machine's system software (``/usr/share/locale/<lang>/LC_MESSAGES/*.mo``):
  translated messages; the short ones are one-liners, the long prose ones are paragraphs;
- LLaMA-Factory's Alpaca demo sets (../shared/reference/llamafactory, English and Chinese answers).

Labels are normalised to lid.176's codes; a few pairs that even humans read as one written standard are
scored as one class (see ``EQUIVALENT``), and the README says so.
"""

from __future__ import annotations

import gettext
import glob
import importlib
import json
import os
import random
import re

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference", "llamafactory")
# Scored as one class: Norwegian Bokmål/Nynorsk/"no", Serbo-Croatian standards, Malay/Indonesian.
EQUIVALENT = {"nb": "no", "nn": "no", "hr": "sh", "bs": "sh", "sr": "sh", "id": "ms", "zsm": "ms"}
LOCALE_ALIASES = {"zh_CN": "zh", "zh_TW": "zh", "zh_HK": "zh", "zh_Hans": "zh", "zh_Hant": "zh", "pt_BR": "pt",
                  "pt_PT": "pt", "sr@latin": "sr", "sr@Latn": "sr", "nb_NO": "nb", "de_CH": "de",
                  "en_GB": "en", "en_AU": "en", "en_CA": "en", "ca@valencia": "ca"}
DOMAINS = ("coreutils", "glib20", "gtk30", "Linux-PAM", "PackageKit", "grep", "libapt-pkg6.0", "apt",
           "software-properties", "gdk-pixbuf", "at-spi2-core", "python-apt", "appstream", "dpkg",
           "shared-mime-info", "debconf", "tar", "sed", "findutils", "diffutils", "gettext-runtime")
PLACEHOLDER = re.compile(r"%[-+ #0-9.]*[a-zA-Z]|\{[^}]*\}|<[^>]+>|[_&]")


def canonical(code: str) -> str:
    code = LOCALE_ALIASES.get(code, code)
    return EQUIVALENT.get(code, code)


def _lid_labels() -> set[str]:
    from curate.stages.quality.langid import model_labels

    return set(model_labels())


def spacy_sentences() -> list[tuple[str, str]]:
    """(label, sentence) from spaCy's example sentences."""
    import spacy.lang as lang_pkg

    out = []
    for path in sorted(glob.glob(os.path.join(os.path.dirname(lang_pkg.__file__), "*", "examples.py"))):
        code = os.path.basename(os.path.dirname(path))
        if code == "xx":  # multi-language examples, no single label
            continue
        try:
            sentences = importlib.import_module(f"spacy.lang.{code}.examples").sentences
        except Exception:
            continue
        out += [(code, s) for s in sentences if isinstance(s, str) and len(s.strip()) >= 3]
    return out


def gettext_messages() -> list[tuple[str, str]]:
    """(label, translated message) from the system's gettext catalogs, untranslated ones skipped."""
    out = []
    for locale_dir in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES")):
        code = locale_dir.split("/")[-2]
        for domain in DOMAINS:
            path = os.path.join(locale_dir, domain + ".mo")
            if not os.path.exists(path):
                continue
            with open(path, "rb") as handle:
                try:
                    catalog = gettext.GNUTranslations(handle)._catalog
                except Exception:
                    continue
            for key, value in catalog.items():
                if not isinstance(value, str) or not key or value == (key if isinstance(key, str) else key[0]):
                    continue
                out.append((code, PLACEHOLDER.sub("", value).strip()))
    return out


def alpaca_answers() -> list[tuple[str, str]]:
    out = []
    for name, code in (("alpaca_en_demo.json", "en"), ("alpaca_zh_demo.json", "zh")):
        path = os.path.join(SHARED, name)
        if os.path.exists(path):
            out += [(code, r["output"]) for r in json.load(open(path, encoding="utf-8"))]
    return out


def _is_prose(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    return letters >= 0.6 * len(text) and not re.search(r"^\s*-", text, re.M) and "  " not in text


def datasets(per_lang: int = 40, seed: int = 0) -> dict[str, list[tuple[str, str]]]:
    """{"one-liners": [...], "paragraphs": [...]}: (label, text), at most ``per_lang`` per language and set."""
    labels = _lid_labels()
    rng = random.Random(seed)
    lines: dict[str, list[str]] = {}
    paras: dict[str, list[str]] = {}
    for code, text in spacy_sentences() + gettext_messages() + alpaca_answers():
        code = canonical(code)
        if code not in labels and code not in ("sh", "ms", "no"):
            continue
        text = text.strip()
        if "\n" not in text and 20 <= len(text) <= 200 and _is_prose(text):
            lines.setdefault(code, []).append(text)
        elif len(text) >= 250 and _is_prose(text):
            paras.setdefault(code, []).append(re.sub(r"\s*\n\s*", " ", text))
    out = {}
    for name, pool in (("one-liners", lines), ("paragraphs", paras)):
        rows = []
        for code in sorted(pool):
            unique = sorted(set(pool[code]))
            rng.shuffle(unique)
            rows += [(code, t) for t in unique[:per_lang]]
        out[name] = rows
    return out
