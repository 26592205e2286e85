"""The plugin and the client from an installed wheel (tests/wheel.py: built
once per session, installed into a fresh venv): tests/downstream runs as a
project's own tests, in an empty directory with the venv's python, and the
wheel's SimulatorClient steers an `airflow-sim serve` of the same venv."""

from __future__ import annotations

import json
import shutil
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.wheel import ROOT, Installed, installed_package, serving

DOWNSTREAM = ROOT / "tests" / "downstream" / "test_example.py"
# A project's own configuration: strict markers, warnings as errors (but the
# generated official client's own deprecations).
PROJECT_INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore::DeprecationWarning:airflow_client.*
    ignore::DeprecationWarning:urllib3.*
"""


@pytest.fixture(scope="module")
def installed(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return installed_package(pytestconfig, tmp_path_factory)


def test_the_wheel_declares_the_plugin(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        entry_points = archive.read(name).decode()
    assert "[pytest11]\nairflow_sim = simulator.testing.plugin\n" in entry_points


def test_the_downstream_example_runs_against_the_wheel(
    installed: Installed, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(DOWNSTREAM, project / DOWNSTREAM.name)
    (project / "pytest.ini").write_text(PROJECT_INI)
    done = installed.run("python", "-m", "pytest", "-q", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("3 passed")
    plugin = installed.run(
        "python", "-c", "import simulator.testing.plugin as p; print(p.__file__)"
    )
    assert Path(plugin.stdout.strip()).is_relative_to(installed.site_packages), plugin.stderr


def test_the_client_steers_a_served_simulator(installed: Installed) -> None:
    with serving(installed, "ci") as server:
        script = textwrap.dedent(
            f"""
            import json
            from simulator.testing import SimulatorClient, SimulatorError

            sim = SimulatorClient("http://127.0.0.1:{server.port}")
            sim.wait_ready()
            moved = sim.advance(3600)
            try:
                sim.advance(until="2000-01-01T00:00:00Z")
            except SimulatorError as exc:
                error = (exc.status, exc.detail)
            print(json.dumps([moved["now"], sim.scenario()["name"], error]))
            """
        )
        done = installed.run("python", "-c", script)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        "2023-04-01T01:00:00+00:00", "ci", [400, "the clock never moves backwards"],
    ]  # fmt: skip
