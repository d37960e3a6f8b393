"""Model-based quality: a fastText classifier scores each row (DCLM-style: good instruction data vs
random text). `train` builds one from positive and negative examples; any fastText model works.

`ClassifierAnnotator` reads the row's plain text (``text``, or every turn without role prefixes) and
writes ``quality_score``: the model's probability of its positive label.
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from curate.errors import InputError, UsageError
from curate.stages.base import Annotator
from curate.stages.quality.texts import one_line, plain_text

POSITIVE, NEGATIVE = "hq", "lq"
_lock = threading.Lock()
_models: dict[str, object] = {}


def load(path: str):
    """A fastText model, loaded once per process and path."""
    with _lock:
        if path not in _models:
            import fasttext

            try:
                _models[path] = fasttext.load_model(path)
            except ValueError as error:
                raise InputError(f"{path}: not a fastText model ({error})",
                                 hint="give a .bin/.ftz file from `curate quality train` or fastText") from None
        return _models[path]


def positive_label(model, wanted: str | None) -> str:
    labels = [label.removeprefix("__label__") for label in model.get_labels()]
    if wanted is not None:
        if wanted.removeprefix("__label__") not in labels:
            raise UsageError(f"the quality model has no label {wanted!r}", hint=f"its labels: {', '.join(labels)}")
        return wanted.removeprefix("__label__")
    return POSITIVE if POSITIVE in labels else labels[0]


def score(model, texts: list[str], label: str) -> np.ndarray:
    """Probability of ``label`` for each text (fastText predicts all labels, we pick one column)."""
    if not texts:
        return np.zeros(0, dtype=np.float32)
    names, probs = model.predict(one_line(texts), k=-1)
    target = "__label__" + label
    return np.array([p[list(n).index(target)] if target in n else 0.0 for n, p in zip(names, probs)],
                    dtype=np.float32)


class ClassifierAnnotator(Annotator):
    name = "quality_model"

    def __init__(self, path: str, label: str | None = None):
        self.path = os.path.abspath(path)
        self.label = label

    def annotate(self, batch: pa.Table) -> pa.Table:
        model = load(self.path)
        label = positive_label(model, self.label)
        texts = [t or "" for t in plain_text(batch, "all").to_pylist()]
        column = pa.array(np.round(score(model, texts, label), 4), pa.float32())
        if "quality_score" in batch.column_names:
            return batch.set_column(batch.column_names.index("quality_score"), "quality_score", column)
        return batch.append_column("quality_score", column)

    def manifest_info(self) -> dict:
        return {"model": os.path.basename(self.path), "label": self.label or "auto"}


@dataclass
class TrainReport:
    out: str
    positives: int
    negatives: int
    accuracy: float  # on the held-out tenth
    held_out: int


def train(positives: list[str], negatives: list[str], out: str, *, epoch: int = 5, lr: float = 0.1,
          dim: int = 64, word_ngrams: int = 2, bucket: int = 100_000, seed: int = 0,
          quantize: bool = False) -> TrainReport:
    """Train a two-label fastText classifier (``hq`` vs ``lq``), hold out a tenth to report accuracy.

    ``bucket`` (hash slots for word n-grams) sets the model size: dim x bucket floats (100k x 64: 26 MB;
    fastText's own default of 2M makes a 0.5 GB file). ``quantize`` shrinks it about tenfold."""
    import fasttext

    positives = [t for t in one_line(positives) if t]
    negatives = [t for t in one_line(negatives) if t]
    if not positives or not negatives:
        raise UsageError(f"training needs both kinds of examples (got {len(positives)} positive, "
                         f"{len(negatives)} negative)", hint="point --positive and --negative at non-empty data")
    rows = [(POSITIVE, t) for t in positives] + [(NEGATIVE, t) for t in negatives]
    random.Random(seed).shuffle(rows)
    held = max(1, len(rows) // 10) if len(rows) >= 20 else 0
    test, fit = rows[:held], rows[held:]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines(f"__label__{label} {text}\n" for label, text in fit)
        model = fasttext.train_supervised(input=path, epoch=epoch, lr=lr, dim=dim, wordNgrams=word_ngrams,
                                          bucket=bucket, seed=seed, thread=1, verbose=0, minCount=1)
    if quantize:
        model.quantize(input=None, retrain=False)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    model.save_model(out)
    accuracy = float("nan")
    if test:
        predicted = model.predict([t for _, t in test])[0]
        accuracy = float(np.mean([p[0] == "__label__" + label for p, (label, _) in zip(predicted, test)]))
    return TrainReport(out, len(positives), len(negatives), accuracy, len(test))
