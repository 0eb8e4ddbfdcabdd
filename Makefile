# The quick start is two commands: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
# Every file of every pinned release is hashed; the dev lock takes the tool's versions where they overlap.
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
              --no-emit-find-links --upgrade

.PHONY: demo test lint bench clean install lock ci-base ci-roundtrip ci-plan ci-prod ci-manual ci-scheduled

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

PIP := $(BIN)/pip --disable-pip-version-check -q

# Exactly the versions in the lock files, every file checked against its hash; then the project itself.
# Stamps, so that a second `make` installs nothing unless a lock file changed.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r requirements.lock
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r requirements-dev.lock
	$(PIP) install --no-deps -e .
	touch $@ $(VENV)/.installed

## lock: refresh requirements.lock and requirements-dev.lock from pyproject.toml's ranges (needs the index)
lock: | $(BIN)/python
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock && $(VENV)-lock/bin/pip install -q pip-tools==7.6.2
	$(VENV)-lock/bin/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(VENV)-lock/bin/pip-compile $(LOCK_FLAGS) --extra dev -c requirements.lock -o requirements-dev.lock pyproject.toml
	rm -rf $(VENV)-lock

install: $(VENV)/.installed

## demo: the embedded PostgreSQL, every migration applied, the demo data set, the status
demo: $(VENV)/.installed
	$(BIN)/mandala-db migrate deploy
	$(BIN)/mandala-db seed demo
	$(BIN)/mandala-db data check
	$(BIN)/mandala-db migrate status

## test: the whole suite against a real PostgreSQL (TEST_DATABASE_URL, else the embedded server)
# Prisma's schema parser for the tests of `prisma schema` (npm registry, exact versions from the lock file);
# without Node.js those tests say so and skip.
tests/prisma/node_modules/.installed: tests/prisma/package.json tests/prisma/package-lock.json
	@if command -v npm >/dev/null; then cd tests/prisma && npm ci --no-audit --no-fund --loglevel=error \
		&& touch node_modules/.installed; else echo "npm not found: the schema.prisma tests will skip"; fi

test: $(VENV)/.installed-dev tests/prisma/node_modules/.installed
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## bench: the four benchmarks, each against the raw tool in one run (BENCH_DATABASE_URL, else TEST_DATABASE_URL)
bench: $(VENV)/.installed
	$(BIN)/python bench/migrate_bench.py
	$(BIN)/python bench/lock_bench.py
	$(BIN)/python bench/backup_bench.py
	$(BIN)/python bench/seed_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## CI steps of .github/workflows/database-migration.yml (the suite runs them too)
MDB := $(BIN)/mandala-db
# The newest revision on the base branch: the schema production has before this change.
BASE_HEAD = $(shell git ls-tree --name-only $(BASE_REF) src/mandala_db/migrations/versions/ 2>/dev/null \
              | sed -n 's|.*/\([0-9]*_[a-z0-9_]*\)\.py$$|\1|p' | sort | tail -1)

ci-base: $(VENV)/.installed
	$(MDB) migrate deploy
	$(MDB) seed test
	$(if $(BASE_HEAD),$(MDB) --yes migrate rollback to $(BASE_HEAD),@echo "no base revisions: the history starts here")

ci-roundtrip: $(VENV)/.installed
	$(MDB) migrate deploy
	$(if $(BASE_HEAD),$(MDB) --yes migrate rollback to $(BASE_HEAD),$(MDB) --yes migrate rollback to base)
	$(MDB) migrate deploy
	$(MDB) migrate validate

# The plan against the target, with its sha256 and whether it needs a reviewer, as step outputs.
PLAN_FILE ?= plan.json
# In GitHub Actions the tool also writes the step outputs sha256 and needs_review.
ci-plan: $(VENV)/.installed
	$(MDB) migrate plan --check --out $(PLAN_FILE)

ci-prod: $(VENV)/.installed
	$(MDB) --yes migrate prod --expect-plan "$(PLAN_SHA256)"

ci-manual: $(VENV)/.installed
	$(MDB) security check --fail-on high
	@case "$(ACTION)" in \
	  status) $(MDB) migrate status all ;; \
	  backup) $(MDB) backup full ;; \
	  drill) $(DRILL) --report drill-report.md ;; \
	  rollback) name=$$($(MDB) --json migrate status test | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["connection"]["database"])'); \
	    [ "$$name" = "$(CONFIRM)" ] || { echo "refused: the confirmation must be the database's name ($$name)" >&2; exit 3; }; \
	    $(MDB) --yes migrate rollback to "$(REVISION)" ;; \
	  *) echo "unknown action $(ACTION): use status, backup, rollback or drill" >&2; exit 2 ;; \
	esac

# The drill restores into a server of its own, never beside production: DRILL_DATABASE_URL, required.
DRILL = [ -n "$$DRILL_DATABASE_URL" ] || { echo "set DRILL_DATABASE_URL: the drill restores into a server of its own, never beside production" >&2; exit 2; }; \
	DATABASE_URL="$$DRILL_DATABASE_URL" $(MDB) drill

# The workflow's schedule: the weekly cron runs the drill, the nightly one the backup.
ci-scheduled: $(VENV)/.installed
	@case "$(SCHEDULE)" in \
	  "0 4 * * 0") $(DRILL) --max-backup-age 26h --report drill-report.md ;; \
	  *) $(MDB) backup full ;; \
	esac
