"""tests/clients: projects that talk to Airflow, run against a simulator
serving Airflow 2.10.5. dagster-airlift and astro-airflow-mcp are heavy and
come with the optional `clients` extra (`make clients`; .ci/run installs it):
without them their modules skip, and the run's summary says so in one line."""

from __future__ import annotations

from importlib.util import find_spec

import pytest

HEAVY = {"dagster-airlift": "dagster_airlift", "astro-airflow-mcp": "astro_airflow_mcp"}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    missing = [name for name, module in HEAVY.items() if find_spec(module) is None]
    if missing:
        terminalreporter.write_line(
            f"tests/clients: {' and '.join(missing)} not installed, their tests skipped "
            "(`make clients` installs the `clients` extra)"
        )
