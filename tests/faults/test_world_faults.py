"""Faults of the world itself, through the official client and the
`airflow_sim` fixture: a failing, stuck and slow task, a scheduler outage,
a DAG file that breaks and recovers, a starved pool; each from a scenario
file or added at run time, and each showing alike on every endpoint. Then
the bundled `chaos` world."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import airflow_client.client as client
import pytest
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DAGRunApi
from airflow_client.client.api.event_log_api import EventLogApi
from airflow_client.client.api.import_error_api import ImportErrorApi
from airflow_client.client.api.monitoring_api import MonitoringApi
from airflow_client.client.api.pool_api import PoolApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.exceptions import ServiceException
from airflow_client.client.model.dag_run import DAGRun

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.testing.plugin import AirflowSim

START = datetime(2023, 4, 1, tzinfo=UTC)
RUN = "scheduled__2023-03-31T23:00:00+00:00"  # etl_orders' run created at the start
STUCK = {"name": "stuck", "include": ["ci"], "faults": [
    {"id": "hung", "kind": "task", "match": {"dag_id": "etl_orders", "task_id": "extract_orders"},
     "effect": "stuck", "state": "running", "seconds": 600, "when": {"first": 1}},
]}  # fmt: skip
BROKEN = {"name": "broken", "include": ["ci"], "faults": [
    {"id": "bad-deploy", "kind": "import_error", "dag_id": "etl_orders",
     "from": "+10m", "until": "+70m", "stacktrace": "SyntaxError: invalid syntax\n"},
]}  # fmt: skip


@pytest.fixture
def api(airflow_sim: AirflowSim) -> Iterator[client.ApiClient]:
    user, password = airflow_sim.auth
    config = client.Configuration(host=airflow_sim.api_url, username=user, password=password)
    with client.ApiClient(config) as api_client:
        yield api_client


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def instance(api: client.ApiClient, task_id: str, run_id: str = RUN) -> dict[str, Any]:
    """The task instance as a plain dict (the 2.5.1 client rejects some nulls)."""
    found = TaskInstanceApi(api).get_task_instance(
        "etl_orders", run_id, task_id, _check_return_type=False
    )
    return dict(found.to_dict() if hasattr(found, "to_dict") else found)


def log(api: client.ApiClient, task_id: str, try_number: int) -> str:
    answer = TaskInstanceApi(api).get_log("etl_orders", RUN, task_id, try_number, full_content=True)
    return str(answer.content)


# The rows of a try's start: its worker's `tasks run --local`, `running`, its `--raw` task.
STARTED = ["cli_task_run", "running", "cli_task_run"]


def events(api: client.ApiClient, task_id: str) -> list[str]:
    rows = EventLogApi(api).get_event_logs(limit=100, _check_return_type=False)["event_logs"]
    return [row["event"] for row in rows if row["task_id"] == task_id]


def test_a_refused_trigger_can_be_retried(airflow_sim: AirflowSim, api: client.ApiClient) -> None:
    # The README's example, as it is written there.
    airflow_sim.faults.add(match={"operation_id": "post_dag_run"},
                           action={"type": "status", "status": 503, "retry_after": 5},
                           when={"first": 1})  # fmt: skip
    runs = DAGRunApi(api)
    with pytest.raises(ServiceException) as refused:
        runs.post_dag_run("etl_orders", DAGRun(dag_run_id="r1"))
    assert refused.value.headers["Retry-After"] == "5"
    assert runs.post_dag_run("etl_orders", DAGRun(dag_run_id="r1")).dag_run_id == "r1"
    trigger, refusal = airflow_sim.requests(operation_id="post_dag_run")
    assert (trigger["status"], refusal["status"], refusal["fault"]) == (200, 503, "f1")


class TestTaskFaults:
    def test_a_failing_try_logs_why_and_the_retry_takes_over(
        self, airflow_sim: AirflowSim, api: client.ApiClient
    ) -> None:
        fault = airflow_sim.faults.add(
            kind="task", match={"dag_id": "etl_orders", "task_id": "extract_*"},
            effect="fail", message="the replica is restarting", when={"first": 1},
        )  # fmt: skip
        # Both extracts are queued already: the fault applies to their tries.
        assert (fault["id"], fault["matched"], fault["fired"]) == ("f1", 2, 1)
        airflow_sim.advance(until=at(2))
        assert instance(api, "extract_orders")["state"] == "up_for_retry"
        customers = instance(api, "extract_customers")  # matched, not fired
        assert (customers["state"], customers["try_number"]) == ("success", 1)
        assert "airflow.exceptions.AirflowException: the replica is restarting" in log(
            api, "extract_orders", 1
        )
        assert "Marking task as UP_FOR_RETRY." in log(api, "extract_orders", 1)
        assert events(api, "extract_orders") == [*STARTED, "failed"]
        airflow_sim.advance(until_dag_run={"dag_id": "etl_orders", "dag_run_id": RUN})
        done = instance(api, "extract_orders")
        assert (done["state"], done["try_number"]) == ("success", 2)
        assert DAGRunApi(api).get_dag_run("etl_orders", RUN).state.value == "success"
        [view] = airflow_sim.faults.list()
        assert (view["matched"], view["fired"]) == (3, 1)  # two tries of one, one of the other

    @pytest.mark.airflow_sim(scenario=STUCK)
    def test_a_try_stuck_running_is_failed_as_a_zombie(
        self, airflow_sim: AirflowSim, api: client.ApiClient
    ) -> None:
        airflow_sim.advance(until=at(9))
        assert instance(api, "extract_orders")["state"] == "running"  # its worker is silent
        assert instance(api, "transform")["state"] is None
        airflow_sim.advance(until=at(11))
        stuck = instance(api, "extract_orders")
        assert stuck["state"] == "up_for_retry"
        started = datetime.fromisoformat(stuck["start_date"])
        assert datetime.fromisoformat(stuck["end_date"]) - started == timedelta(seconds=600)
        assert "Marking task as" not in log(api, "extract_orders", 1)  # the log just stops
        assert events(api, "extract_orders") == [*STARTED, "failed"]
        airflow_sim.advance(until_dag_run={"dag_id": "etl_orders", "dag_run_id": RUN})
        assert instance(api, "extract_orders")["try_number"] == 2

    def test_a_slow_try_takes_factor_times_as_long(
        self, airflow_sim: AirflowSim, api: client.ApiClient
    ) -> None:
        airflow_sim.advance(until=at(10))
        planned = instance(api, "extract_orders")["duration"]
        airflow_sim.reset()
        airflow_sim.advance(until=at(0.5))  # the try runs: the fault applies to it
        airflow_sim.faults.add(kind="task", match={"task_id": "extract_orders"},
                               effect="slow", factor=3)  # fmt: skip
        airflow_sim.advance(until=at(10))
        slow = instance(api, "extract_orders")
        assert slow["state"] == "success"
        assert slow["duration"] == pytest.approx(3 * planned, abs=0.002)


class TestSchedulerOutage:
    def test_no_heartbeat_nothing_moves_then_it_catches_up(
        self, airflow_sim: AirflowSim, api: client.ApiClient
    ) -> None:
        airflow_sim.faults.add(kind="scheduler_outage", at="+10s", seconds=7200)
        airflow_sim.advance(until=at(10))
        # The triggerer is a process of its own: it beats on.
        sensor = TaskInstanceApi(api).get_task_instance(
            "wait_for_partition", "scheduled__2023-03-31T00:00:00+00:00", "wait_for_partition",
            _check_return_type=False,
        )  # fmt: skip
        assert (sensor["state"], sensor["triggerer_job"]["latest_heartbeat"]) == (
            "deferred", at(10)
        )  # fmt: skip
        airflow_sim.advance(until=at(30))
        health = MonitoringApi(api).get_health(_check_return_type=False)
        assert health["scheduler"] == {
            "status": "unhealthy", "latest_scheduler_heartbeat": at(10 / 60)
        }  # fmt: skip
        # The extracts finished on their workers; nothing queued what follows.
        assert [instance(api, t)["state"] for t in ("extract_orders", "transform")] == [
            "success", "scheduled"
        ]  # fmt: skip
        assert DAGRunApi(api).get_dag_run("etl_orders", RUN).state.value == "running"
        airflow_sim.advance(until=at(115))
        assert [r.dag_run_id for r in DAGRunApi(api).get_dag_runs("etl_orders").dag_runs] == [RUN]
        airflow_sim.advance(until=at(125))
        health = MonitoringApi(api).get_health(_check_return_type=False)
        assert health["scheduler"]["status"] == "healthy"
        runs = DAGRunApi(api).get_dag_runs("etl_orders", order_by="execution_date").dag_runs
        # catchup is off: the latest interval only (01:00); the one of 00:00 is skipped.
        assert [(r.dag_run_id, r.state.value) for r in runs] == [
            (RUN, "success"), ("scheduled__2023-04-01T01:00:00+00:00", "running"),
        ]  # fmt: skip


class TestImportError:
    @pytest.mark.airflow_sim(scenario=BROKEN)
    def test_the_file_breaks_then_recovers(
        self, airflow_sim: AirflowSim, api: client.ApiClient
    ) -> None:
        airflow_sim.advance(until=at(20))
        errors = ImportErrorApi(api).get_import_errors().import_errors
        assert [(e.stack_trace, e.timestamp) for e in errors] == [
            ("SyntaxError: invalid syntax\n", at(10))
        ]
        dag = DAGApi(api).get_dag("etl_orders", _check_return_type=False)
        assert (dag["has_import_errors"], dag["is_active"]) == (True, False)
        assert "etl_orders" not in [d.dag_id for d in DAGApi(api).get_dags().dags]
        airflow_sim.advance(until=at(75))  # no run at 01:00 while broken; one after
        assert ImportErrorApi(api).get_import_errors().import_errors == []
        dag = DAGApi(api).get_dag("etl_orders", _check_return_type=False)
        assert (dag["has_import_errors"], dag["is_active"]) == (False, True)
        runs = DAGRunApi(api).get_dag_runs("etl_orders", order_by="execution_date").dag_runs
        assert [r.execution_date.isoformat() for r in runs] == [at(-60), at(0)]
        assert runs[1].start_date.isoformat() == at(70)


class TestPoolStarvation:
    def test_tasks_wait_in_scheduled_until_the_slots_come_back(
        self, airflow_sim: AirflowSim, api: client.ApiClient
    ) -> None:
        airflow_sim.faults.add(kind="pool_starvation", pool="default_pool", slots=0,
                               until="+1h")  # fmt: skip
        airflow_sim.advance(until=at(30))
        pool = PoolApi(api).get_pool("default_pool")
        assert (pool.slots, pool.open_slots) == (0, 0)
        assert instance(api, "transform")["state"] == "scheduled"
        airflow_sim.advance(until=at(61))
        pool = PoolApi(api).get_pool("default_pool")
        assert pool.slots == 128
        assert instance(api, "transform")["state"] == "running"


def test_the_chaos_world() -> None:
    sim = Simulator(Settings(scenario="chaos", start=START, clock="frozen"))
    fired = {fault.id: fault.fired for fault in sim.faults}
    assert [f.id for f in sim.faults] == [
        "busy-triggers", "rate-limited-writes", "slow-reads", "flaky-orders-extract",
        "hung-worker", "daily-scheduler-outage", "pool-squeeze", "broken-catalog-file",
    ]  # fmt: skip
    # Three days of history: the world faults fired in it, the HTTP ones wait for clients.
    assert fired["busy-triggers"] == fired["slow-reads"] == 0
    assert fired["daily-scheduler-outage"] == fired["pool-squeeze"] == 3
    assert fired["broken-catalog-file"] == 12 and fired["flaky-orders-extract"] > 5
    tries = []
    for ti in sim.store.task_instances:
        attempt = ti.last_try
        while attempt is not None:
            tries.append((ti.task_id, attempt.fault, attempt.outcome))
            attempt = attempt.previous
    flaky = [t for t in tries if t[1] == "flaky-orders-extract"]
    assert len(flaky) == fired["flaky-orders-extract"]
    assert {(task, outcome) for task, _, outcome in flaky} <= {
        ("extract_orders", "up_for_retry"), ("extract_orders", "failed")
    }  # fmt: skip
