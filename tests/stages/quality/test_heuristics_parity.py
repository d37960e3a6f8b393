"""Same keep/drop decisions (and the same first reason) as datatrove's Gopher, C4 and FineWeb filters.

The corpus is real English prose every Python install carries (the standard library's docstrings, a few
hundred documents of every length and shape) plus the crafted texts of test_heuristics. datatrove is
the reference implementation; it is an optional (bench) dependency, so without it this module is skipped.
"""

import importlib
import inspect

import polars as pl
import pytest
from text_docs import text_cases

from curate.stages.quality.heuristics import text_signals
from curate.stages.quality.rules import TextThresholds, first_reason, text_rules

filters = pytest.importorskip("datatrove.pipeline.filters")
Document = pytest.importorskip("datatrove.data").Document

MODULES = ("argparse", "asyncio", "base64", "bisect", "calendar", "collections", "contextlib", "csv",
           "dataclasses", "datetime", "decimal", "difflib", "email", "enum", "fractions", "ftplib", "functools",
           "gettext", "glob", "gzip", "heapq", "hmac", "html", "http.client", "imaplib", "inspect",
           "ipaddress", "itertools", "json", "locale", "logging", "mailbox", "math", "mimetypes",
           "multiprocessing", "netrc", "numbers", "operator", "optparse", "pathlib", "pickle", "pprint",
           "queue", "random", "re", "sched", "secrets", "selectors", "shelve", "shlex", "shutil", "smtplib",
           "socket", "statistics", "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading",
           "timeit", "tokenize", "traceback", "turtle", "typing", "unittest", "urllib.parse", "uuid",
           "warnings", "wave", "weakref", "xml.dom.minidom", "zipfile", "zoneinfo")
LABELS = {"gopher repetition": "GopherRepetitionFilter", "gopher": "GopherQualityFilter",
          "c4": "C4QualityFilter", "fineweb": "FineWebQualityFilter"}
THEIRS = {  # datatrove's reason names -> ours
    "empty": "empty", "dup_para_frac": "duplicate paragraphs", "dup_para_char_frac": "duplicate paragraph characters",
    "dup_line_frac": "duplicate lines", "dup_line_char_frac": "duplicate line characters",
    **{f"top_{n}_gram": f"top {n}-gram" for n in (2, 3, 4)},
    **{f"duplicated_{n}_n_grams": f"duplicate {n}-grams" for n in range(5, 11)},
    "gopher_short_doc": "word count", "gopher_long_doc": "word count",
    "gopher_below_avg_threshold": "mean word length", "gopher_above_avg_threshold": "mean word length",
    "gopher_too_many_hashes": "hashes", "gopher_too_many_ellipsis": "ellipses",
    "gopher_too_many_bullets": "bullet lines", "gopher_too_many_end_ellipsis": "ellipsis lines",
    "gopher_below_alpha_threshold": "alphabetic words", "gopher_enough_stop_words": "stop words",
    "lorem_ipsum": "lorem ipsum", "curly_bracket": "curly bracket", "too_few_sentences": "too few sentences",
    "line_punct_ratio": "line punctuation", "short_line_ratio": "short lines",
    "char_dup_ratio": "duplicate line characters", "list_ratio": "list-like",
}


def corpus() -> list[str]:
    docs = []
    for name in MODULES:
        module = importlib.import_module(name)
        docs.append(inspect.getdoc(module) or "")
        for _, member in sorted(vars(module).items())[:40]:
            if inspect.isclass(member) or inspect.isfunction(member):
                docs.append(inspect.getdoc(member) or "")
    docs = [d for d in dict.fromkeys(docs) if d.strip()]
    return docs + [text for _, text in text_cases() if text]


def reference(label: str, docs: list[str]) -> list[str | None]:
    flt = getattr(filters, LABELS[label])()
    out = []
    for i, text in enumerate(docs):
        verdict = flt.filter(Document(text=text, id=str(i)))
        out.append(None if verdict is True else f"{label}: {THEIRS[verdict[1]]}")
    return out


@pytest.mark.parametrize("label", list(LABELS))
def test_same_decisions_as_datatrove(label):
    docs = corpus()
    assert len(docs) > 500
    frame = text_signals(docs).with_columns(text=pl.Series(docs))
    rules = [r for r in text_rules(TextThresholds()) if r[0].split(": ")[0] == label]
    ours = first_reason(frame, rules).to_list()
    theirs = reference(label, docs)
    assert sum(r is not None for r in theirs) >= 5  # the corpus exercises the filter
    mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    assert mismatches == []
