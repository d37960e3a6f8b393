"""ORPO and KTO: preference methods without a separate SFT stage (ORPO) or without pairs (KTO).

- ``orpo``: TRL's ORPOTrainer, from ``trl.experimental.orpo`` (experimental in TRL 1.16: its API may
  change between TRL releases), on preference pairs; no reference model.
- ``kto``: TRL's KTOTrainer (stable in TRL 1.16) on preference pairs, which TRL unpairs itself (each
  pair → a desirable and an undesirable completion), or on *unpaired* conversations: rows whose
  ``extra`` holds a boolean ``label`` (TRL's unpaired ``prompt``/``completion``/``label`` files) or
  ``kto_tag`` (LLaMA-Factory's column name). The spine keeps that unknown top-level field in ``extra``,
  so `curate clean` needs no new kind; this module turns such rows into TRL's unpaired columns:
  ``prompt`` (the turns before the last assistant turn), ``completion`` (that turn), ``label``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from curate.errors import InputError
from train.data import Curated, answer_positions, trl_messages
from train.methods import Setup

LABEL_KEYS = ("label", "kto_tag")  # TRL's unpaired column, LLaMA-Factory's kto_tag


def build_orpo(setup: Setup) -> Any:
    from trl.experimental.orpo import ORPOTrainer

    return ORPOTrainer(model=setup.model, args=setup.args, train_dataset=setup.dataset,
                       processing_class=setup.tokenizer, peft_config=setup.peft_config)


def build_kto(setup: Setup) -> Any:
    from trl import KTOTrainer

    return KTOTrainer(model=setup.model, args=setup.args, train_dataset=setup.dataset,
                      processing_class=setup.tokenizer, peft_config=setup.peft_config)


def kto_labels(extra: pa.Array | pa.ChunkedArray, root: str) -> pa.Array:
    """The boolean KTO label of each row from its ``extra`` JSON (``label`` or ``kto_tag``)."""
    frame = pl.DataFrame({"extra": pl.from_arrow(extra)}).with_columns(pl.col("extra").fill_null("{}"))
    exprs = [pl.col("extra").str.json_path_match(f"$.{key}").str.to_lowercase().alias(key) for key in LABEL_KEYS]
    values = frame.select(pl.coalesce(exprs).alias("label")).to_series()
    bad = ~values.is_in(["true", "false", "1", "0"]).fill_null(False)
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InputError(f"{root}: row {row} has no boolean `label` (or `kto_tag`) in its extra field",
                         hint="KTO on conversations needs a desirable/undesirable label on every row; "
                              "or train it on preference pairs")
    return values.is_in(["true", "1"]).to_arrow()


def _last_assistant(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(prompt, completion) message lists: the turns before the last assistant turn, and that turn."""
    items, lengths, parents, position, last = answer_positions(array)
    if (last < 0).any():
        raise InputError(f"row {int(np.argmax(last < 0))} has no assistant turn to label",
                         hint="KTO needs a completion (the last assistant turn) in every conversation")
    before = position < last[parents]
    answer = position == last[parents]
    prompt = pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(last)]).astype(np.int32)),
                                      items.filter(pa.array(before)))
    completion = pa.ListArray.from_arrays(pa.array(np.arange(len(lengths) + 1, dtype=np.int32)),
                                          items.filter(pa.array(answer)))
    return prompt, completion


def unpaired_dataset(curated: Curated) -> Any:
    """Labelled conversations → a `datasets.Dataset` of TRL's unpaired ``prompt``/``completion``/``label``."""
    import datasets

    table = curated.table()
    if "extra" not in table.column_names or "messages" not in table.column_names:
        raise InputError(f"{curated.root}: conversations without `messages`/`extra` columns",
                         hint="clean the data with --format openai to keep the label in `extra`")
    labels = kto_labels(table.column("extra"), str(curated.root))
    prompt, completion = _last_assistant(table.column("messages").combine_chunks())
    reshaped = pa.table({"prompt": trl_messages(prompt), "completion": trl_messages(completion), "label": labels})
    return datasets.Dataset(reshaped)
