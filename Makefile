# Mostrador: two commands for a fresh machine.
#
#   make run    set up .venv, migrate, seed the demo desk (once), serve on 127.0.0.1:8000
#   make test   lint, then the whole suite on SQLite, then again on PostgreSQL + Redis
#
# Also: make check (lint only), make bench (bench/*.py), make clean (.venv, caches; not var/).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers; 2 matches the two cores the project's machines have.
JOBS ?= 2
PYTEST_ARGS ?=
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mostrador
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
CHROMIUM := /usr/bin/chromium

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test check bench clean venv venv-test chromium test-sqlite test-postgres

help:
	@echo "make run     set up, seed the demo desk and serve it on http://$(HOST):$(PORT)"
	@echo "make test    lint, then the test suite on SQLite and on PostgreSQL + Redis"
	@echo "make check   lint only (scripts/check)"
	@echo "make bench   run the benchmark scripts in bench/"
	@echo "make clean   remove .venv and caches (the data in var/ stays)"

# --- the virtual environment --------------------------------------------------------------
#
# Built once with the Python that scripts/find-python finds, and rebuilt only when its
# interpreter is gone or too old. `pip install` runs again only when pyproject.toml (or the
# folder the checkout lives in) changed since the last install: the stamp files keep a hash.

define ensure_venv
	if ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  python="$$(scripts/find-python)"; \
	  echo "==> creating $(VENV) with $$python"; \
	  rm -rf $(VENV); \
	  "$$python" -m venv $(VENV); \
	fi
endef

# $(call ensure_installed,EXTRAS,STAMP,ALSO): pip install -e ".EXTRAS" unless STAMP (or the
# stamp ALSO, left by an install that is a superset) holds the current hash.
define ensure_installed
	want="$$( (cat pyproject.toml; pwd) | sha256sum | cut -d' ' -f1)"; \
	if [ "$$(cat $(VENV)/$(2) 2>/dev/null)" != "$$want" ] \
	    && [ "$$(cat $(VENV)/$(3) 2>/dev/null)" != "$$want" ]; then \
	  echo "==> installing Mostrador$(1) into $(VENV) (pip, takes a minute the first time)"; \
	  $(PY) -m pip install --quiet --quiet --upgrade pip || true; \
	  $(PY) -m pip install --quiet --quiet -e ".$(1)"; \
	  echo "$$want" > $(VENV)/$(2); \
	fi
endef

venv:
	@$(ensure_venv); $(call ensure_installed,,.installed,.installed-test)

venv-test:
	@$(ensure_venv); $(call ensure_installed,[test],.installed-test,)

# --- make run -------------------------------------------------------------------------------

run: venv
	$(VENV)/bin/mostrador demo --host $(HOST) --port $(PORT)

# --- make check / make test -----------------------------------------------------------------

check: venv-test
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" scripts/check

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
# Installed when missing and possible; otherwise the browser tests are skipped, loudly.
chromium:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else \
	  echo "!! $(CHROMIUM) is missing and installing it needs root (sudo without a password)."; \
	  echo "!! Browser tests will be skipped. To run them: sudo apt-get install -y chromium"; \
	  exit 0; \
	fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "!! $(CHROMIUM) is missing and this is not a Debian-like system (no apt-get)."; \
	  echo "!! Browser tests will be skipped; install Chromium at $(CHROMIUM) to run them."; \
	  exit 0; \
	fi; \
	echo "==> installing Debian's chromium for the browser tests"; \
	export DEBIAN_FRONTEND=noninteractive; \
	if ! $$sudo apt-get install -y -qq chromium >/tmp/mostrador-apt.log 2>&1; then \
	  $$sudo apt-get update -qq >>/tmp/mostrador-apt.log 2>&1 || true; \
	  $$sudo apt-get install -y -qq chromium >>/tmp/mostrador-apt.log 2>&1 || true; \
	fi; \
	if [ -x $(CHROMIUM) ]; then echo "==> chromium installed"; \
	else \
	  echo "!! apt-get could not install chromium (see /tmp/mostrador-apt.log)."; \
	  echo "!! Browser tests will be skipped."; \
	fi

test-sqlite: venv-test
	@echo "==> test suite on SQLite (embedded mode), $(JOBS) workers"
	@start=$$(date +%s); \
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -p xdist -n $(JOBS) --dist loadgroup \
	  $(PYTEST_ARGS); \
	echo "==> SQLite run passed in $$(( $$(date +%s) - start )) s"

# The PostgreSQL run skips the browser tests: they drive a server that keeps its own SQLite
# data folder, so a second run would test the same thing again.
test-postgres: venv-test
	@if ! $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" \
	    >/dev/null 2>&1; then \
	  echo "!! PostgreSQL run skipped: nothing answers at $(PG_URL)"; exit 0; fi; \
	if ! $(PY) -c "import redis; redis.Redis.from_url('$(TEST_REDIS_URL)', socket_timeout=3).ping()" \
	    >/dev/null 2>&1; then \
	  echo "!! PostgreSQL run skipped: Redis does not answer at $(TEST_REDIS_URL)"; exit 0; fi; \
	echo "==> test suite on PostgreSQL + Redis (scaled-out mode), $(JOBS) workers"; \
	start=$$(date +%s); \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  DATABASE_TEST_NAME=test_mostrador_$$$$ \
	  $(PY) -m pytest -p xdist -n $(JOBS) -m "not e2e" $(PYTEST_ARGS); \
	echo "==> PostgreSQL + Redis run passed in $$(( $$(date +%s) - start )) s"

test: venv-test chromium
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" scripts/check
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgres
	@echo "==> make test: all runs passed"

# --- make bench -----------------------------------------------------------------------------
#
# Each benchmark script prints its figures (see bench/README.md); the helpers are not run.
# One at a time: make bench BENCH=bench/import_mail.py

BENCH ?= $(sort $(filter-out bench/common.py bench/bulkload.py,$(wildcard bench/*.py)))

bench: venv-test
	@if [ -z "$(strip $(BENCH))" ]; then echo "no benchmark scripts in bench/ yet"; exit 0; fi; \
	for script in $(BENCH); do \
	  echo "==> $$script"; $(PY) "$$script"; \
	done

# --- make clean -----------------------------------------------------------------------------

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache test-results
	find . -name __pycache__ -type d -prune -not -path './var/*' -exec rm -rf {} +
	@echo "(var/ keeps the demo desk's data; remove it yourself to start over)"
