# The two commands: `make run` serves the default world on 127.0.0.1:8080,
# `make test` runs the whole suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/airflow-sim serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check simulator tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/world.py
	$(BIN)/python bench/scenarios.py
	$(BIN)/python bench/control.py
	$(BIN)/python bench/snapshot.py
	$(BIN)/python bench/faults.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
