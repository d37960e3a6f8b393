import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from builders import make_tokenizer  # noqa: E402


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory):
    """tokenizer_dir(template, family, **options) -> folder of a saved tokenizer, built once per arguments."""
    built: dict = {}

    def build(template, family, **options):
        key = (template, family, tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items())))
        if key not in built:
            folder = tmp_path_factory.mktemp("tok")
            built[key] = make_tokenizer(folder, template, family, **options)
        return built[key]

    return build
