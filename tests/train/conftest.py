"""Tiny offline fixtures for the trainer tests, built once per session: tokenizers (ChatML with and
without generation markers), a 2-layer Llama, a reward model, curated folders of both kinds."""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="curate-train-tests-"))  # not ~/.cache

from train import toy  # noqa: E402


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """Paths of everything the tests share (never modified by a test: copy before tampering)."""
    root = tmp_path_factory.mktemp("train")
    paths = {
        "plain_tok": toy.make_tokenizer(root / "plain_tok", toy.CHATML_PLAIN),
        "gen_tok": toy.make_tokenizer(root / "gen_tok", toy.CHATML_GENERATION),
    }
    paths["model"] = toy.make_model(root / "model", paths["plain_tok"])  # plain template
    paths["gen_model"] = toy.make_model(root / "gen_model", paths["gen_tok"])  # template with markers
    paths["reward_model"] = toy.make_model(root / "reward_model", paths["plain_tok"], head="reward", seed=1)
    paths["conversations"] = toy.make_dataset(root / "conversations", "conversation", 12)
    paths["preferences"] = toy.make_dataset(root / "preferences", "preference", 8)
    return paths
