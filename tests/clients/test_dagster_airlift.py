"""dagster-airlift's AirflowInstance and polling sensor against a live
simulator serving Airflow 2.10.5 (the `ci` world, its clock frozen: the tests
move it). Part of the `clients` extra; without it the module skips.

What dagster-airlift 0.29 sends: `get_dag_runs` filters on
updated_at_gte/lte (2.10), the sensor reads finished runs through the
dagRuns batch (end_date window, page_offset/page_limit) and their task
instances through the taskInstances batch with task_ids and dag_run_ids
(2.10), all with basic auth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

pytest.importorskip(
    "dagster_airlift.core",
    reason="dagster-airlift is not installed (the `clients` extra: `make clients`)",
)

from dagster import (
    AssetKey,
    AssetSpec,
    Definitions,
    SensorResult,
    build_sensor_context,
    instance_for_test,
)
from dagster._core.test_utils import freeze_time
from dagster_airlift.core import (
    AirflowBasicAuthBackend,
    AirflowInstance,
    assets_with_task_mappings,
    build_defs_from_airflow_instance,
)

from simulator.config import Settings
from simulator.testing.client import SimulatorClient
from simulator.testing.live import LiveServer, live_server

# Airlift marks its API beta; dagster warns about it at every use.
pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")

SETTINGS = Settings(
    scenario="ci", airflow_version="2.10.5", validate_responses=True, password_hash_iterations=1000
)
DAG_ID = "refresh_reference_data"  # manual only: no scheduled run gets in the way
TASKS = ["download_rates", "load_reference_tables"]
NAME = "sim"


@pytest.fixture(scope="module")
def _server() -> Iterator[LiveServer]:
    with live_server(SETTINGS) as server:
        yield server


@pytest.fixture
def control(_server: LiveServer) -> SimulatorClient:
    sim = SimulatorClient(_server.root)
    sim.reset()
    return sim


@pytest.fixture
def airflow(_server: LiveServer, control: SimulatorClient) -> AirflowInstance:
    backend = AirflowBasicAuthBackend(
        webserver_url=_server.root, username="admin", password="admin"
    )
    return AirflowInstance(auth_backend=backend, name=NAME)


def virtual_now(control: SimulatorClient) -> datetime:
    return datetime.fromisoformat(control.clock()["now"])


def calls(control: SimulatorClient, operation_id: str) -> list[dict[str, Any]]:
    """The journal's entries for one operation, oldest first."""
    return list(reversed(control.requests(operation_id=operation_id)))


def test_list_dags_and_tasks(airflow: AirflowInstance) -> None:
    dags = {dag.dag_id: dag for dag in airflow.list_dags()}
    assert len(dags) == 9
    assert dags["etl_orders"].metadata["owners"] == ["data-eng"]
    tasks = airflow.get_task_infos(dag_id="etl_orders")
    assert sorted(task.task_id for task in tasks) == [
        "extract_customers",
        "extract_orders",
        "load_warehouse",
        "notify",
        "transform",
    ]
    assert airflow.get_task_info(dag_id="etl_orders", task_id="transform").metadata[
        "downstream_task_ids"
    ] == ["load_warehouse"]


def test_trigger_and_wait(airflow: AirflowInstance, control: SimulatorClient) -> None:
    """The run goes on in real time (the clock at 1,000x) while airlift polls."""
    run_id = airflow.trigger_dag(DAG_ID)
    assert run_id == "manual__2023-04-01T00:00:00+00:00"
    assert airflow.get_run_state(DAG_ID, run_id) == "queued"
    control.set_clock(mode="realtime", speed=1000)
    try:
        airflow.wait_for_run_completion(DAG_ID, run_id, timeout=60)
    finally:
        control.set_clock(mode="frozen")
    assert airflow.get_run_state(DAG_ID, run_id) == "success"
    assert [entry["status"] for entry in calls(control, "get_dag_run")][-1] == 200


def test_get_dag_runs_in_a_time_window(airflow: AirflowInstance, control: SimulatorClient) -> None:
    triggered = virtual_now(control)
    run_id = airflow.trigger_dag(DAG_ID)
    control.advance(until_dag_run={"dag_id": DAG_ID, "dag_run_id": run_id})
    ended = virtual_now(control)
    window = airflow.get_dag_runs(DAG_ID, triggered, ended)
    assert [(run.run_id, run.success) for run in window] == [(run_id, True)]
    assert window[0].metadata["end_date"] == ended.isoformat()
    # A window that closes before the run last changed leaves it out.
    assert airflow.get_dag_runs(DAG_ID, triggered - timedelta(hours=1), triggered) == []
    [request] = calls(control, "get_dag_runs")[:1]
    assert request["query"] == {
        "updated_at_gte": triggered.isoformat(),
        "updated_at_lte": ended.isoformat(),
        "state": "success",
    }


def test_task_instance_batch(airflow: AirflowInstance, control: SimulatorClient) -> None:
    run_id = airflow.trigger_dag(DAG_ID)
    control.advance(until_dag_run={"dag_id": DAG_ID, "dag_run_id": run_id})
    airflow.batch_task_instance_limit = 1  # one request per task id
    found = airflow.get_task_instance_batch(DAG_ID, TASKS, run_id, states=["success"])
    assert sorted((ti.task_id, ti.run_id, ti.state) for ti in found) == [
        ("download_rates", run_id, "success"),
        ("load_reference_tables", run_id, "success"),
    ]
    bodies = [entry["request_body"] for entry in calls(control, "get_task_instances_batch")]
    assert bodies == [
        {"dag_ids": [DAG_ID], "task_ids": [task], "dag_run_ids": [run_id]} for task in TASKS
    ]
    logs = airflow.get_task_instance_logs(DAG_ID, "download_rates", run_id, 1)
    assert "download_rates" in logs


def mapped_defs(airflow: AirflowInstance) -> Definitions:
    """As airlift's docs build them: assets mapped to the DAG's tasks, the DAG
    assets and the polling sensor from the instance."""
    mapped = assets_with_task_mappings(
        dag_id=DAG_ID,
        task_mappings={
            "download_rates": [AssetSpec("fx_rates")],
            "load_reference_tables": [AssetSpec("reference_tables", deps=["fx_rates"])],
        },
    )
    return build_defs_from_airflow_instance(
        airflow_instance=airflow,
        defs=Definitions(assets=mapped),
        dag_selector_fn=lambda dag: dag.dag_id == DAG_ID,
    )


def test_polling_sensor_reports_a_finished_run(
    airflow: AirflowInstance, control: SimulatorClient
) -> None:
    defs = mapped_defs(airflow)
    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def(f"{NAME}__airflow_dag_status_sensor")

    def tick(instance: Any, cursor: str | None) -> tuple[SensorResult, str | None]:
        """One evaluation at the simulator's virtual instant."""
        context = build_sensor_context(instance=instance, repository_def=repository, cursor=cursor)
        with freeze_time(virtual_now(control)):
            result = sensor(context)
        assert isinstance(result, SensorResult)
        return result, context.cursor

    with instance_for_test() as instance:
        run_id = airflow.trigger_dag(DAG_ID)
        # The run is under way: nothing has finished, nothing is reported.
        control.advance(seconds=30)
        assert airflow.get_run_state(DAG_ID, run_id) == "running"
        result, cursor = tick(instance, None)
        assert list(result.asset_events) == []

        control.advance(until_dag_run={"dag_id": DAG_ID, "dag_run_id": run_id})
        control.advance(seconds=5)
        result, cursor = tick(instance, cursor)
        keys = [event.asset_key for event in result.asset_events]
        assert sorted(keys, key=str) == sorted(
            [
                AssetKey("fx_rates"),
                AssetKey("reference_tables"),
                AssetKey([NAME, "dag", DAG_ID]),
            ],
            key=str,
        )
        # Upstream first: the events come in the order the tasks ended.
        assert keys.index(AssetKey("fx_rates")) < keys.index(AssetKey("reference_tables"))
        for event in result.asset_events:
            assert event.metadata["Airflow Run ID"].value == run_id
        # Its reads: the finished runs of the window, then the run's task instances.
        [batch] = calls(control, "get_dag_runs_batch")[-1:]
        assert batch["request_body"]["dag_ids"] == [DAG_ID]
        assert batch["request_body"]["states"] == ["success"]
        [tis] = calls(control, "get_task_instances_batch")
        body = tis["request_body"]
        assert (body["dag_ids"], sorted(body["task_ids"]), body["dag_run_ids"]) == (
            [DAG_ID],
            TASKS,
            [run_id],
        )

        # The next tick starts where this one ended: the run is not reported twice.
        control.advance(seconds=60)
        result, cursor = tick(instance, cursor)
        assert list(result.asset_events) == []
