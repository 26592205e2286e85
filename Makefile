# The two commands: `make run` serves the default world on 127.0.0.1:8080,
# `make test` runs the whole suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs the runtime only; the test extras (the official client,
# schemathesis, ...) come with `make test`, `make lint` and `make bench`.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# The official client of Airflow 2.10 lives beside the test extra's 2.5.1, in a
# folder of its own that tests/clients/test_official_client_2_10.py puts first
# on a child process's PYTHONPATH; its pin is pyproject.toml's `client-2-10`.
CLIENT_2_10 := $(VENV)/client-2.10
CLIENT_2_10_STAMP := $(CLIENT_2_10)/.installed
# The `clients` extra (dagster-airlift, astro-airflow-mcp) is heavy and
# optional: `make clients` installs it; `make test` runs tests/clients/ with it
# and says they were skipped without it.
CLIENTS_STAMP := $(VENV)/.installed-clients
EXTRA = $(BIN)/python -c 'import sys, tomllib; \
	print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"][sys.argv[1]])'

.PHONY: run test clients bench soak lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

$(CLIENT_2_10_STAMP): $(STAMP)
	rm -rf $(CLIENT_2_10)
	$(BIN)/python -m pip install --quiet --no-deps --target $(CLIENT_2_10) $$($(EXTRA) client-2-10)
	# The 2.10 wheel ships airflow_client/ without the __init__.py that 2.5.1's
	# has: as a namespace portion it would lose to the regular package.
	touch $(CLIENT_2_10)/airflow_client/__init__.py
	touch $(CLIENT_2_10_STAMP)

$(CLIENTS_STAMP): $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,clients]'
	touch $(CLIENTS_STAMP)

run: $(STAMP)
	$(BIN)/airflow-sim serve

test: $(TEST_STAMP) $(CLIENT_2_10_STAMP)
	$(BIN)/python -m pytest -q

clients: $(CLIENTS_STAMP)

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
	$(BIN)/python bench/versions.py

# Ten minutes of the demo world at 3,600x under load (bench/soak.py).
soak: $(TEST_STAMP)
	$(BIN)/python bench/soak.py --check

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
