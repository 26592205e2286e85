"""An installed package must work: the wheel (built once, tests/wheel.py),
installed into a fresh venv, serves every bundled scenario from there."""

from __future__ import annotations

import json

import pytest

from tests.wheel import ROOT, Installed, installed_package, serving

SCENARIOS = sorted(path.stem for path in (ROOT / "scenarios").glob("*.yaml"))
WHEEL_MUST_HOLD = [
    "simulator/bundled/scenarios/ci.yaml",
    "simulator/bundled/fixtures/security.yaml",
    "simulator/scenario/schema.json",
    "simulator/control/ui/index.html",
    "simulator/control/ui/console.js",
    "simulator/control/ui/console.css",
]


@pytest.fixture(scope="module")
def installed(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return installed_package(pytestconfig, tmp_path_factory)


def test_wheel_carries_the_data_files(installed: Installed) -> None:
    names = set(installed.wheel_files)
    assert [name for name in WHEEL_MUST_HOLD if name not in names] == []
    shapes = [n for n in names if n.startswith("simulator/bundled/fixtures/shapes/")]
    assert any(n.endswith(".yaml") for n in shapes), sorted(names)


def test_scenarios_lists_the_bundled_files(installed: Installed) -> None:
    done = installed.run("airflow-sim", "scenarios")
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines() if line.strip()] == SCENARIOS


def test_schema_is_json(installed: Installed) -> None:
    done = installed.run("airflow-sim", "schema")
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), dict)


@pytest.mark.parametrize("name", SCENARIOS)
def test_bundled_scenario_validates(installed: Installed, name: str) -> None:
    done = installed.run("airflow-sim", "validate", name)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", SCENARIOS)
def test_bundled_scenario_serves_and_moves(installed: Installed, name: str) -> None:
    with serving(installed, name) as server:
        assert server.total("/api/v1/dags?limit=1") >= 8
        runs = server.total("/api/v1/dags/~/dagRuns?limit=1")
        status, body = server.request("POST", "/_sim/clock/advance", {"seconds": 3 * 3600})
        assert status == 200, body
        assert server.total("/api/v1/dags/~/dagRuns?limit=1") > runs
    assert server.returncode == 0, f"no clean exit on SIGINT:\n{server.output()}"
