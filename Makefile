# The two commands a newcomer needs: `make demo` and `make test`. Both set up what is missing.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup setup-test demo test test-fast check

setup:
	bash scripts/setup.sh

setup-test:
	bash scripts/setup.sh --test

demo: setup
	$(VENV)/bin/autotosis demo

test: setup-test
	$(PY) -m pytest

test-fast: setup-test
	$(PY) -m pytest -m "not slow"

check: setup-test
	$(VENV)/bin/ruff check autotosis tests bench
	$(VENV)/bin/mypy autotosis
