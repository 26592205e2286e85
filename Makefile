# The two commands: `make run` serves the default world on 127.0.0.1:8080,
# `make test` runs the whole suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs the runtime only; the test extras (the official client,
# schemathesis, ...) come with `make test`, `make lint` and `make bench`.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench soak lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

run: $(STAMP)
	$(BIN)/airflow-sim serve

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check simulator tests bench
	$(BIN)/mypy

bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/world.py
	$(BIN)/python bench/scenarios.py
	$(BIN)/python bench/control.py
	$(BIN)/python bench/snapshot.py
	$(BIN)/python bench/faults.py

# Ten minutes of the demo world at 3,600x under load (bench/soak.py).
soak: $(TEST_STAMP)
	$(BIN)/python bench/soak.py --check

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
