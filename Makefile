# The quick start is two commands: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps, so that a second `make` installs nothing unless pyproject.toml changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

## demo: the embedded PostgreSQL, every migration applied, the demo data set, the status
demo: $(VENV)/.installed
	$(BIN)/mandala-db migrate deploy
	$(BIN)/mandala-db seed demo
	$(BIN)/mandala-db data check
	$(BIN)/mandala-db migrate status

## test: the whole suite against a real PostgreSQL (TEST_DATABASE_URL, else the embedded server)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python bench/migrate_bench.py
	$(BIN)/python bench/seed_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
