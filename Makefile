# One entry point: every command the README and CI use is a target here.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install codegen codegen-check lint typecheck check test test-only bench dist clean demo serve

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0  # first: the CPU build on disk, never a plain `torch`
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,server]'
	touch $(STAMP)

install: $(STAMP)  ## venv + editable install with the dev tools

codegen: $(STAMP)  ## regenerate src/typed_inference's generated modules from schemas/
	$(PY) -m codegen

codegen-check: $(STAMP)  ## fail with a diff when the committed generated code is stale
	$(PY) -m codegen --check

lint: $(STAMP)
	$(PY) -m ruff check src codegen tests
	$(PY) -m ruff format --check src codegen tests

typecheck: $(STAMP)
	$(PY) -m mypy

check: codegen-check lint typecheck  ## everything but the tests

test-only: $(STAMP)
	$(PY) -m pytest

test: check test-only  ## all set-up from nothing, then every check and test (what CI runs)

bench: $(STAMP)  ## benchmarks, written to docs/benchmarks.md
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m tests.bench

demo: $(STAMP)  ## offline: builds the demo models, starts the local server, runs examples/demo.py, stops it
	$(PY) examples/demo.py

DEMO_MODELS := $(VENV)/demo-models
PORT ?= 8080
serve: $(STAMP)  ## the local server on 127.0.0.1:$(PORT): the demo models and the embedded all-MiniLM-L6-v2
	test -f $(DEMO_MODELS)/typed-inference-models.json || $(VENV)/bin/typed-inference demo-models $(DEMO_MODELS)
	$(VENV)/bin/typed-inference serve --port $(PORT) --models-dir $(DEMO_MODELS)

dist: $(STAMP)  ## wheel and sdist under dist/
	rm -rf dist
	$(PY) -m build --quiet --outdir dist .

clean:
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache
