"""Importing presidio fast: keep its optional Hugging Face engine from importing torch/transformers.

``presidio_analyzer`` imports its transformers NLP engine at package import, which imports torch and
transformers when they are installed (they are, with ``curate[train]``): ~10 s per worker process,
for an engine the PII stage never uses. Marking both as absent while presidio (and spaCy/thinc) are
first imported makes those optional imports fail fast; the marks are removed afterwards, so any later
``import torch`` elsewhere in the process works as usual. A spaCy transformer model (``*_trf``)
needs torch through thinc, so NER with such a model imports normally.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

HEAVY = ("torch", "transformers")


@contextmanager
def without(names: tuple[str, ...] = HEAVY) -> Iterator[None]:
    """Within the block, ``import NAME`` raises ImportError for each NAME not imported yet."""
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system reads None as "absent"
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def load_recognizers(ner_model: str | None):
    """The `curate.stages.pii.recognizers` module, imported without torch unless NER needs it."""
    if "curate.stages.pii.recognizers" in sys.modules:
        return sys.modules["curate.stages.pii.recognizers"]
    with without(() if ner_model and "trf" in ner_model else HEAVY):
        from curate.stages.pii import recognizers
    return recognizers
