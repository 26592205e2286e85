"""The pytest plugin, run as a downstream project runs it: inner pytest
sessions (pytester, in-process) with strict markers and warnings as errors,
whose tests use the `airflow_sim` fixture from sync and async code."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore::DeprecationWarning:airflow_client.*
    ignore::DeprecationWarning:urllib3.*
"""


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makepyfile(test_project=textwrap.dedent(source))
    return pytester.runpytest_inprocess(*args)


def test_a_sync_test_with_requests(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import requests

        def test_trigger_and_run(airflow_sim):
            url = f"{airflow_sim.api_url}/dags/manual_backfill_tool/dagRuns"
            run = requests.post(url, json={}, auth=airflow_sim.auth, timeout=10).json()
            assert run["state"] == "queued"
            done = airflow_sim.advance(until_idle=True)
            assert done["complete"]
            run = requests.get(f"{url}/{run['dag_run_id']}", auth=airflow_sim.auth, timeout=10)
            assert run.json()["state"] == "success"
            [trigger] = airflow_sim.requests(method="POST")
            assert (trigger["operation_id"], trigger["user"]) == ("post_dag_run", "admin")
            assert airflow_sim.client.clock()["mode"] == "frozen"
            assert airflow_sim.client.scenario()["name"] == "ci"
        """,
    )
    result.assert_outcomes(passed=1)


def test_an_async_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import asyncio
        import base64

        import aiohttp

        async def test_from_a_running_loop(airflow_sim):
            asyncio.get_running_loop()
            token = base64.b64encode(":".join(airflow_sim.auth).encode()).decode()
            headers = {"Authorization": f"Basic {token}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                url = f"{airflow_sim.api_url}/dags/refresh_reference_data/dagRuns"
                async with http.post(url, json={"dag_run_id": "a1"}) as response:
                    assert response.status == 200
                # A blocking call from inside the loop: the server has its own thread.
                airflow_sim.advance(until_dag_run={"dag_id": "refresh_reference_data",
                                                   "dag_run_id": "a1"})
                async with http.get(f"{url}/a1") as response:
                    assert (await response.json())["state"] == "success"
            assert [e["operation_id"] for e in airflow_sim.requests()] == [
                "get_dag_run", "post_dag_run"]
        """,
    )
    result.assert_outcomes(passed=1)


def test_the_marker_chooses_the_world(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest
        import requests

        URLS = {}

        def test_default(airflow_sim):
            URLS["ci"] = airflow_sim.url
            assert airflow_sim.client.scenario()["seed"] == 0

        @pytest.mark.airflow_sim(scenario="ci")
        def test_default_spelled_out(airflow_sim):
            assert airflow_sim.url == URLS["ci"]  # the same configuration, one server

        @pytest.mark.airflow_sim(scenario="demo", seed=3, auth="none")
        def test_demo(airflow_sim):
            summary = airflow_sim.client.scenario()
            assert (summary["name"], summary["seed"]) == ("demo", 3)
            assert airflow_sim.client.clock()["mode"] == "frozen"  # demo's is realtime
            assert requests.get(f"{airflow_sim.api_url}/dags", timeout=10).status_code == 200
            assert airflow_sim.url != URLS["ci"]

        @pytest.mark.airflow_sim(scenario={"name": "tiny", "pools": [{"name": "p", "slots": 2}]})
        class TestInline:
            def test_a_document(self, airflow_sim):
                assert airflow_sim.client.scenario()["name"] == "tiny"
                assert airflow_sim.reset()["counts"]["dags"] == 0

        @pytest.mark.airflow_sim(seed=5)
        def test_another_seed_keeps_it(airflow_sim):
            assert airflow_sim.client.scenario()["seed"] == 5
            assert airflow_sim.reset()["seed"] == 5

        @pytest.mark.airflow_sim(airflow_version="2.10.5")
        def test_the_newer_api(airflow_sim):
            assert airflow_sim.client.scenario()["airflow_version"] == "2.10.5"
            version = requests.get(f"{airflow_sim.api_url}/version", timeout=10).json()
            assert version["version"] == "2.10.5"
            assert airflow_sim.url != URLS["ci"]
        """,
    )
    result.assert_outcomes(passed=6)


def test_each_test_starts_afresh(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import requests

        START = "2023-04-01T00:00:00+00:00"

        def dirty(airflow_sim):
            url = f"{airflow_sim.api_url}/dags/manual_backfill_tool/dagRuns"
            requests.post(url, json={"dag_run_id": "x"}, auth=airflow_sim.auth, timeout=10)
            airflow_sim.advance(3600)

        def clean(airflow_sim):
            assert airflow_sim.requests() == []
            assert airflow_sim.client.clock() == {"now": START, "mode": "frozen", "speed": 1.0}
            assert airflow_sim.client.scenario()["counts"]["dag_runs"] == 5
            assert airflow_sim.client.scenario()["seed"] == 0

        def test_1_changes_the_world(airflow_sim):
            clean(airflow_sim)
            dirty(airflow_sim)
            airflow_sim.client.reset(seed=9)
            airflow_sim.client.set_clock(mode="realtime", speed=100)

        def test_2_sees_none_of_it(airflow_sim):
            clean(airflow_sim)
            dirty(airflow_sim)
            airflow_sim.reset()  # within a test, too
            clean(airflow_sim)
            airflow_sim.client.load_scenario("demo")

        def test_3_a_replaced_scenario_is_served_again(airflow_sim):
            clean(airflow_sim)
        """,
    )
    result.assert_outcomes(passed=3)


def test_snapshot_and_restore_through_the_handle(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_back_to_a_snapshot(airflow_sim):
            airflow_sim.advance(600)
            document = airflow_sim.snapshot()
            airflow_sim.advance(3600)
            assert airflow_sim.restore(document)["name"] == "ci"
            assert airflow_sim.client.clock()["now"] == "2023-04-01T00:10:00+00:00"

        def test_then_the_start_again(airflow_sim):
            assert airflow_sim.client.clock()["now"] == "2023-04-01T00:00:00+00:00"
        """,
    )
    result.assert_outcomes(passed=2)


def test_servers_stop_with_the_session(pytester: pytest.Pytester, tmp_path: Path) -> None:
    record = tmp_path / "url"
    result = run(
        pytester,
        f"""
        from pathlib import Path

        def test_record(airflow_sim):
            Path({str(record)!r}).write_text(airflow_sim.url)
        """,
    )
    result.assert_outcomes(passed=1)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(record.read_text() + "/_sim/health", timeout=2)


def test_a_misspelt_marker_keyword(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.airflow_sim(scenaro="demo")
        def test_typo(airflow_sim):
            pass

        @pytest.mark.airflow_sim("demo")
        def test_positional(airflow_sim):
            pass

        @pytest.mark.airflow_sim(scenario="no_such_world")
        def test_unknown(airflow_sim):
            pass
        """,
    )
    result.assert_outcomes(errors=3)
    errors = [line for line in result.outlines if line.startswith("@pytest.mark.airflow_sim")]
    takes = "@pytest.mark.airflow_sim takes the keywords scenario, seed, auth, airflow_version"
    assert errors == [
        f"{takes}; found ['scenaro']",
        f"{takes}; found ['demo']",
        "@pytest.mark.airflow_sim: scenario: expected a bundled scenario (chaos, ci, default, "
        "demo, large) or a file path, found 'no_such_world'",
    ]
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()


def test_the_entry_point_registers_the_plugin(pytestconfig: pytest.Config) -> None:
    points = importlib.metadata.entry_points(group="pytest11")
    assert [p.value for p in points if p.name == "airflow_sim"] == ["simulator.testing.plugin"]
    assert pytestconfig.pluginmanager.has_plugin("airflow_sim")


def test_importing_the_plugin_is_light() -> None:
    """A project that installs the package and never asks for the fixture pays nothing."""
    code = (
        "import sys, simulator.testing.plugin;"
        "print(sorted(m for m in ('aiohttp', 'openapi_core', 'simulator.server.app',"
        " 'simulator.simulator') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
