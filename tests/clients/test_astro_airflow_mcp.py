"""astro-airflow-mcp's tool functions, called as plain functions, against a
live simulator serving Airflow 2.10.5 (the `ci` world, its clock frozen: the
tests move it). Part of the `clients` extra; without it the module skips.

What astro-airflow-mcp 0.9 does: it probes /api/v2/version then
/api/v1/version to pick its Airflow 2 adapter, tries POST /auth/token (a 404
means Airflow 2: basic auth from then on), and its DAG stats and system
health tools call GET /dagStats (2.10) with every DAG id."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip(
    "astro_airflow_mcp.server",
    reason="astro-airflow-mcp is not installed (the `clients` extra: `make clients`)",
)

from astro_airflow_mcp import server
from astro_airflow_mcp.tools import dag, dag_run, diagnostic, task

from simulator.config import Settings
from simulator.testing.client import SimulatorClient
from simulator.testing.live import LiveServer, live_server

SETTINGS = Settings(
    scenario="ci", airflow_version="2.10.5", validate_responses=True, password_hash_iterations=1000
)
DAG_ID = "refresh_reference_data"  # manual only: no scheduled run gets in the way
STATES = ["queued", "running", "success", "failed"]


@pytest.fixture(scope="module")
def _server() -> Iterator[LiveServer]:
    with live_server(SETTINGS) as live:
        server.configure(url=live.root, username="admin", password="admin")
        yield live
    server.configure(url="http://127.0.0.1:1")  # forget the address


@pytest.fixture
def control(_server: LiveServer) -> SimulatorClient:
    sim = SimulatorClient(_server.root)
    sim.reset()
    return sim


def finished_run(control: SimulatorClient) -> str:
    """Trigger DAG_ID through the tool and run it to its end; its run id."""
    run = json.loads(dag_run.trigger_dag(DAG_ID, conf={"full": True}))
    assert (run["dag_id"], run["state"], run["conf"]) == (DAG_ID, "queued", {"full": True})
    control.advance(until_dag_run={"dag_id": DAG_ID, "dag_run_id": run["dag_run_id"]})
    return str(run["dag_run_id"])


def test_it_picks_the_airflow_2_adapter(control: SimulatorClient) -> None:
    server.configure(url=control.url, username="admin", password="admin")  # a new adapter
    adapter = server._get_adapter()
    assert (type(adapter).__name__, adapter.version) == ("AirflowV2Adapter", "2.10.5")
    [probe] = control.requests(operation_id="get_version")
    assert (probe["path"], probe["status"]) == ("/api/v1/version", 200)


def test_dag_stats(control: SimulatorClient) -> None:
    run_id = finished_run(control)
    stats = json.loads(dag.get_dag_stats([DAG_ID, "etl_orders"]))
    assert stats["total_entries"] == 2
    by_dag = {d["dag_id"]: {s["state"]: s["count"] for s in d["stats"]} for d in stats["dags"]}
    assert sorted(by_dag) == ["etl_orders", DAG_ID]  # Airflow iterates a set
    runs = json.loads(dag_run.list_dag_runs(DAG_ID))["dag_runs"]
    assert [r["dag_run_id"] for r in runs] == [run_id]
    counts = Counter(r["state"] for r in runs)
    assert by_dag[DAG_ID] == {state: counts.get(state, 0) for state in STATES}
    # Without ids the tool lists every DAG first, then asks for all of them.
    everything = json.loads(dag.get_dag_stats())
    assert everything["total_entries"] == 9
    [request] = control.requests(operation_id="get_dag_stats", limit=1)
    assert sorted(request["query"]["dag_ids"].split(",")) == sorted(
        d["dag_id"] for d in everything["dags"]
    )


def test_system_health(control: SimulatorClient) -> None:
    health = json.loads(diagnostic.get_system_health())
    assert health["version"]["version"] == "2.10.5"
    assert (health["import_errors"]["count"], health["dag_warnings"]["count"]) == (0, 0)
    assert (health["overall_status"], health["status_reason"]) == (
        "healthy",
        "No import errors or warnings",
    )
    # dagStats answered (the tool notes "not available" when it fails).
    assert health["dag_stats"]["total_entries"] == 9
    stats = {d["dag_id"]: d["stats"] for d in health["dag_stats"]["dags"]}
    assert [s["state"] for s in stats["etl_orders"]] == STATES


def test_openapi_spec(control: SimulatorClient) -> None:
    """What `af api spec` and `af api ls` read: /api/v1/openapi.yaml."""
    spec = server._get_adapter().get_openapi_spec()
    assert spec["info"]["version"] == "2.10.5"
    assert "/dagStats" in spec["paths"]
    assert "/datasets/events" in spec["paths"]


def test_runs_and_logs(control: SimulatorClient) -> None:
    run_id = finished_run(control)
    run = json.loads(dag_run.get_dag_run(DAG_ID, run_id))
    assert (run["dag_run_id"], run["state"]) == (run_id, "success")
    instance = json.loads(task.get_task_instance(DAG_ID, run_id, "download_rates"))
    assert (instance["task_id"], instance["state"], instance["try_number"]) == (
        "download_rates",
        "success",
        1,
    )
    logs = json.loads(task.get_task_logs(DAG_ID, run_id, "download_rates"))
    assert logs["content"].startswith("[(")
    assert "download_rates" in logs["content"]
    [request] = control.requests(operation_id="get_log", limit=1)
    assert request["query"] == {"full_content": "true"}


def test_clears(control: SimulatorClient) -> None:
    run_id = finished_run(control)
    preview = json.loads(dag_run.clear_dag_run(DAG_ID, run_id, dry_run=True))
    assert sorted(ti["task_id"] for ti in preview["task_instances"]) == [
        "download_rates",
        "load_reference_tables",
    ]
    assert json.loads(dag_run.get_dag_run(DAG_ID, run_id))["state"] == "success"
    cleared = json.loads(
        task.clear_task_instances(DAG_ID, run_id, ["load_reference_tables"], dry_run=False)
    )
    assert [ti["task_id"] for ti in cleared["task_instances"]] == ["load_reference_tables"]
    [request] = control.requests(operation_id="post_clear_task_instances", limit=1)
    body: dict[str, Any] = request["request_body"]
    assert (body["dag_run_id"], body["task_ids"], body["dry_run"]) == (
        run_id,
        ["load_reference_tables"],
        False,
    )
    # reset_dag_runs: the run is queued again, and runs the task again.
    assert json.loads(dag_run.get_dag_run(DAG_ID, run_id))["state"] == "queued"
    control.advance(until_dag_run={"dag_id": DAG_ID, "dag_run_id": run_id})
    again = json.loads(task.get_task_instance(DAG_ID, run_id, "load_reference_tables"))
    assert (again["state"], again["try_number"]) == ("success", 2)
    whole = json.loads(dag_run.clear_dag_run(DAG_ID, run_id, dry_run=False))
    assert json.loads(dag_run.get_dag_run(DAG_ID, run_id))["state"] == "queued"
    assert whole["state"] == "queued"
