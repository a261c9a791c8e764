# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= instance
PORT ?= 5000
ENTITIES ?= 100000
BENCH_ARGS ?=

.PHONY: run test test-postgres lint bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: install, load the demo data once, serve on http://127.0.0.1:5000
run: install
	@if [ -f "$(DATA_DIR)/DEMO" ]; then \
		PORTAL_DATA_DIR=$(DATA_DIR) $(BIN)/portal init; \
	else \
		PORTAL_DATA_DIR=$(DATA_DIR) $(BIN)/portal demo; \
	fi
	PORTAL_DATA_DIR=$(DATA_DIR) PORTAL_SESSION_COOKIE_SECURE=false \
		$(BIN)/portal serve --host 127.0.0.1 --port $(PORT)

## make test: install the test extras and run the whole suite
test: install-test
	$(BIN)/python -m pytest

## The database tests again, against the PostgreSQL named by DATABASE_URL
test-postgres: install-test
	@test -n "$(DATABASE_URL)" || (echo "set DATABASE_URL to a PostgreSQL database" && exit 2)
	$(BIN)/python -m pytest tests/portal

## make lint: ruff, mypy strict on scoring/ and search/, bandit (no high-severity finding)
lint: install-test
	$(BIN)/ruff check portal scoring search tests benchmarks
	$(BIN)/mypy
	$(BIN)/bandit -q -r portal scoring search --severity-level high

## make bench: the performance suite (benchmarks/run_all.py) at ENTITIES in a scratch
## directory; results in benchmarks/results/ and docs/performance.md. Not part of make test.
##   make bench ENTITIES=2000 BENCH_ARGS="--reuse"   (or "--postgres")
bench: install-test
	$(BIN)/python benchmarks/run_all.py --entities $(ENTITIES) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
