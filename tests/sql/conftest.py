"""A small cleaned dataset (5 kept rows over 2 shards, 3 rejects) written the way `curate clean` writes it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _load_builder():
    name = "curate_tests_make_dataset"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("make_dataset.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


md = _load_builder()


@pytest.fixture
def builder():
    return md


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return md.write_standard(tmp_path / "out")
