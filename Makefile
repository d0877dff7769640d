# The newcomer path: `make demo` and `make test`. Both create .venv/ on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint bench lock clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(STAMP_TEST): $(STAMP_RUN) requirements-test.lock
	$(BIN)/python -m pip install --quiet -r requirements-test.lock
	touch $@

demo: $(STAMP_RUN)
	$(BIN)/workmeter --db $(or $(DB),workmeter.duckdb) demo

test: $(STAMP_TEST)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: $(STAMP_TEST)
	$(BIN)/python bench/run_all.py

# Regenerate the lock files (needs uv in the venv: pip install uv).
lock:
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 -o requirements-test.lock

clean:
	rm -rf $(VENV) build *.egg-info
