"""Clearing and marking the task instances of a DAG.

The world: at 02:10 etl_orders has finished three hourly runs (23:00, 00:00
and 01:00 logical dates); tests then fail some instances and act on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.engine import timetable
from simulator.simulator import Simulator
from simulator.state.run_model import DagRun, TaskInstance
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, TEST_SETTINGS, problem

CLEAR = "/api/v1/dags/{}/clearTaskInstances"
SET_STATE = "/api/v1/dags/{}/updateTaskInstancesState"
ETL_TASKS = ["extract_orders", "extract_customers", "transform", "load_warehouse", "notify"]
R23, R00, R01 = (
    "scheduled__2023-03-31T23:00:00+00:00",
    "scheduled__2023-04-01T00:00:00+00:00",
    "scheduled__2023-04-01T01:00:00+00:00",
)


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


def three_runs(sim: Simulator) -> None:
    sim.advance_to(datetime(2023, 4, 1, 2, 10, tzinfo=UTC))
    runs = sim.store.runs_of("etl_orders")
    assert [(run.run_id, run.state) for run in runs] == [
        (R23, "success"),
        (R00, "success"),
        (R01, "success"),
    ]


@pytest.fixture
def world(sim: Simulator) -> Simulator:
    three_runs(sim)
    return sim


def ti(sim: Simulator, run_id: str, task_id: str, dag_id: str = "etl_orders") -> TaskInstance:
    return sim.store.task_instances.require((dag_id, run_id, task_id, -1))


def fail(sim: Simulator, run_id: str, *task_ids: str) -> None:
    sim.actions.set_state([ti(sim, run_id, task_id) for task_id in task_ids], "failed")


def ref(run_id: str, task_id: str, dag_id: str = "etl_orders") -> dict[str, str]:
    logical = run_id.split("__", 1)[1]
    return {"dag_id": dag_id, "dag_run_id": run_id, "execution_date": logical, "task_id": task_id}


def refs(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"task_instances": [ref(run_id, task_id) for run_id, task_id in pairs]}


def states(sim: Simulator, run_id: str) -> list[str | None]:
    return [ti(sim, run_id, task_id).state for task_id in ETL_TASKS]


def bad_request(detail: str, title: str = "Bad Request") -> dict[str, Any]:
    return problem(400, title, detail, "BadRequest")


def manual_run(sim: Simulator, logical: datetime) -> DagRun:
    dag = sim.store.dags.require("etl_orders")
    return sim.scheduler.create_run(
        dag,
        run_id=f"manual__{logical.isoformat()}",
        logical=logical,
        interval=timetable.manual_interval(dag.schedule, logical),
        run_type="manual",
        external=True,
    )


class TestPostClearTaskInstances:
    async def test_dry_run_of_failed_instances_by_default(
        self, client: TestClient, world: Simulator
    ) -> None:
        fail(world, R00, "transform")
        fail(world, R01, "notify")
        response = await client.post(CLEAR.format("etl_orders"), json={}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == refs((R00, "transform"), (R01, "notify"))
        assert states(world, R00)[2] == "failed"
        assert states(world, R01)[4] == "failed"

    async def test_clears_without_touching_the_runs(
        self, client: TestClient, world: Simulator
    ) -> None:
        fail(world, R00, "transform")
        before = ti(world, R00, "transform").max_tries
        body = {"dry_run": False}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R00, "transform"))
        assert states(world, R00) == ["success", "success", None, "success", "success"]
        assert ti(world, R00, "transform").max_tries == before + 1
        assert world.store.dag_runs.require(("etl_orders", R00)).state == "success"

    async def test_reset_dag_runs_requeues_the_run(
        self, client: TestClient, world: Simulator
    ) -> None:
        fail(world, R00, "transform")
        body = {"dry_run": False, "reset_dag_runs": True}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R00, "transform"))
        run = world.store.dag_runs.require(("etl_orders", R00))
        assert (run.state, run.start_date) == ("queued", None)
        # The scheduler's next loop starts it again (max_active_runs allows it).
        world.advance(1)
        assert (run.state, run.start_date) == ("running", world.now())
        assert ti(world, R00, "transform").state == "queued"

    async def test_cleared_instances_run_again(self, client: TestClient, world: Simulator) -> None:
        fail(world, R00, "transform")
        body = {"dry_run": False, "reset_dag_runs": True}
        await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        world.advance(600)
        assert world.store.dag_runs.require(("etl_orders", R00)).state == "success"
        assert ti(world, R00, "transform").try_number == 2

    async def test_all_states_of_one_run(self, client: TestClient, world: Simulator) -> None:
        body = {"only_failed": False, "dag_run_id": R01}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs(*((R01, task) for task in ETL_TASKS))
        assert states(world, R01) == ["success"] * 5

    @pytest.mark.parametrize(
        ("flags", "expected"),
        [
            ({}, ["transform"]),
            ({"include_downstream": True}, ["transform", "load_warehouse", "notify"]),
            ({"include_upstream": True}, ["extract_orders", "extract_customers", "transform"]),
            ({"include_upstream": True, "include_downstream": True}, ETL_TASKS),
        ],
    )
    async def test_task_ids_and_relatives(
        self, client: TestClient, world: Simulator, flags: dict[str, bool], expected: list[str]
    ) -> None:
        body = {"only_failed": False, "dag_run_id": R00, "task_ids": ["transform"], **flags}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs(*((R00, task) for task in expected))

    async def test_unknown_task_ids_select_nothing(
        self, client: TestClient, world: Simulator
    ) -> None:
        body = {"only_failed": False, "task_ids": ["nope"]}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == refs()

    @pytest.mark.parametrize(
        ("flags", "runs"),
        [
            ({"include_past": True}, [R23, R00]),
            ({"include_future": True}, [R00, R01]),
            ({"include_past": True, "include_future": True}, [R23, R00, R01]),
        ],
    )
    async def test_past_and_future(
        self, client: TestClient, world: Simulator, flags: dict[str, bool], runs: list[str]
    ) -> None:
        body = {"only_failed": False, "dag_run_id": R00, "task_ids": ["notify"], **flags}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs(*((run, "notify") for run in runs))

    async def test_date_range(self, client: TestClient, world: Simulator) -> None:
        body = {
            "only_failed": False,
            "task_ids": ["notify"],
            "start_date": "2023-04-01T00:00:00Z",
            "end_date": "2023-04-01T01:30:00+00:00",
        }
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R00, "notify"), (R01, "notify"))

    async def test_runs_after_now_are_never_selected(
        self, client: TestClient, world: Simulator
    ) -> None:
        manual_run(world, datetime(2023, 4, 2, tzinfo=UTC))
        body = {"only_failed": False, "task_ids": ["notify"], "include_future": True}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R23, "notify"), (R00, "notify"), (R01, "notify"))

    async def test_only_running(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(5)
        body = {"only_failed": False, "only_running": True}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R23, "extract_orders"), (R23, "extract_customers"))

    async def test_mapped_task_lists_each_map_index(
        self, client: TestClient, world: Simulator
    ) -> None:
        run_id = "scheduled__2023-03-31T22:00:00+00:00"
        body = {"only_failed": False, "dag_run_id": run_id, "task_ids": ["process_file"]}
        response = await client.post(CLEAR.format("fan_out_fan_in"), json=body, headers=ADMIN)
        assert await response.json() == {
            "task_instances": [ref(run_id, "process_file", "fan_out_fan_in")] * 4
        }

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"only_running": True}, "only_failed and only_running both are set to True"),
            (
                {"start_date": "2023-04-02T00:00:00Z", "end_date": "2023-04-01T00:00:00Z"},
                "end_date is sooner than start_date",
            ),
            (
                {"dag_run_id": R00, "start_date": "2023-04-01T00:00:00Z",
                 "end_date": "2023-04-02T00:00:00Z"},
                "Exactly one of dag_run_id or (start_date and end_date) must be provided",
            ),
            (
                {"dag_run_id": R00, "start_date": "2023-04-01T00:00:00Z"},
                "Exactly one of dag_run_id or start_date must be provided",
            ),
            (
                {"dag_run_id": R00, "end_date": "2023-04-01T00:00:00Z"},
                "Exactly one of dag_run_id or end_date must be provided",
            ),
        ],
    )  # fmt: skip
    async def test_form_rules(
        self, client: TestClient, world: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(str({"_schema": [detail]}))

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"start_date": "2023-04-01"}, "{'start_date': ['Not a valid datetime.']}"),
            ({"end_date": "yesterday"}, "{'end_date': ['Not a valid datetime.']}"),
            ({"foo": 1, "dry_run": True}, "{'foo': ['Unknown field.']}"),
            ({"task_ids": []}, "[] is too short - 'task_ids'"),
            ({"dry_run": "no"}, "'no' is not of type 'boolean' - 'dry_run'"),
        ],
    )
    async def test_invalid_fields(
        self, client: TestClient, body: dict[str, Any], detail: str
    ) -> None:
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(detail)

    async def test_naive_datetime(self, client: TestClient) -> None:
        body = {"foo": 1, "start_date": "2023-04-01T00:00:00"}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "Naive datetime is disallowed", "Invalid datetime format"
        )

    async def test_the_body_is_checked_before_the_dag(self, client: TestClient) -> None:
        response = await client.post(CLEAR.format("nope"), json={"foo": 1}, headers=ADMIN)
        assert response.status == 400

    async def test_dag_not_found(self, client: TestClient) -> None:
        response = await client.post(CLEAR.format("nope"), json={}, headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(404, "Dag id nope not found", None, "NotFound")

    async def test_run_not_found(self, client: TestClient) -> None:
        body = {"dag_run_id": "nope"}
        response = await client.post(CLEAR.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "Dag Run id nope not found in dag etl_orders", None, "NotFound"
        )

    async def test_user_role_may_clear(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("user", "User")
        response = await client.post(CLEAR.format("etl_orders"), json={}, headers=headers)
        assert response.status == 200

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("viewer", "Viewer")
        response = await client.post(CLEAR.format("etl_orders"), json={}, headers=headers)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.post(CLEAR.format("etl_orders"), json={})
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


def mark(run_id: str | None = None, task_id: str = "transform", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task_id": task_id,
        "include_upstream": False,
        "include_downstream": False,
        "include_future": False,
        "include_past": False,
        "new_state": "failed",
    }
    if run_id is not None:
        body["dag_run_id"] = run_id
    body.update(fields)
    return body


class TestPostSetTaskInstancesState:
    async def test_dry_run_when_omitted(self, client: TestClient, world: Simulator) -> None:
        # Airflow 2.5.3 crashes without dry_run; later releases default it to true.
        response = await client.post(SET_STATE.format("etl_orders"), json=mark(R00), headers=ADMIN)
        assert response.status == 200
        assert await response.json() == refs((R00, "transform"))
        assert states(world, R00) == ["success"] * 5

    async def test_instances_already_in_the_state_are_left_out(
        self, client: TestClient, world: Simulator
    ) -> None:
        body = mark(R00, new_state="success", include_downstream=True)
        fail(world, R00, "notify")
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R00, "notify"))

    @pytest.mark.parametrize(
        ("flags", "expected"),
        [
            ({"include_downstream": True}, ["transform", "load_warehouse", "notify"]),
            ({"include_upstream": True}, ["extract_orders", "extract_customers", "transform"]),
        ],
    )
    async def test_relatives(
        self, client: TestClient, world: Simulator, flags: dict[str, bool], expected: list[str]
    ) -> None:
        body = mark(R00, **flags)
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs(*((R00, task) for task in expected))

    @pytest.mark.parametrize(
        ("flags", "runs"),
        [
            ({"include_past": True}, [R23, R00]),
            ({"include_future": True}, [R00, R01]),
            ({"include_past": True, "include_future": True}, [R23, R00, R01]),
        ],
    )
    async def test_past_and_future(
        self, client: TestClient, world: Simulator, flags: dict[str, bool], runs: list[str]
    ) -> None:
        body = mark(R00, **flags)
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs(*((run, "transform") for run in runs))

    async def test_past_skips_runs_off_the_schedule(
        self, client: TestClient, world: Simulator
    ) -> None:
        manual = manual_run(world, datetime(2023, 4, 1, 0, 30, tzinfo=UTC))
        body = mark(R01, include_past=True)
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        # Only the timetable's own dates count (and the first run's, where the range starts).
        assert await response.json() == refs(
            (R23, "transform"), (R00, "transform"), (R01, "transform")
        )
        body = mark(manual.run_id)
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == {
            "task_instances": [
                ref(manual.run_id, "transform") | {"execution_date": "2023-04-01T00:30:00+00:00"}
            ]
        }

    async def test_by_execution_date(self, client: TestClient, world: Simulator) -> None:
        body = mark(execution_date="2023-04-01T01:00:00Z")
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R01, "transform"))

    async def test_marks_failed(self, client: TestClient, world: Simulator) -> None:
        transform = ti(world, R00, "transform")
        finished = transform.end_date
        body = mark(R00, dry_run=False)
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R00, "transform"))
        assert states(world, R00) == ["success", "success", "failed", "success", "success"]
        assert transform.end_date == finished  # set_state keeps an end date it has
        assert world.store.dag_runs.require(("etl_orders", R00)).state == "success"

    async def test_marked_downstream_failures_are_cleared_again(
        self, client: TestClient, world: Simulator
    ) -> None:
        body = mark(R00, dry_run=False, include_downstream=True)
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs(
            (R00, "transform"), (R00, "load_warehouse"), (R00, "notify")
        )
        # The downstream instances just marked failed are cleared (their run queued,
        # then started by the next loop): load_warehouse is upstream_failed at
        # once; notify (all_done), an EmptyOperator, succeeds without running.
        world.advance(1)
        assert states(world, R00) == [
            "success",
            "success",
            "failed",
            "upstream_failed",
            "success",
        ]
        # Every instance is finished and its only leaf, notify, succeeded.
        assert world.store.dag_runs.require(("etl_orders", R00)).state == "success"

    async def test_marking_success_clears_failed_downstream(
        self, client: TestClient, world: Simulator
    ) -> None:
        fail(world, R00, "transform", "load_warehouse")
        fail(world, R01, "load_warehouse")
        body = mark(R00, new_state="success", dry_run=False, include_future=True)
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert await response.json() == refs((R00, "transform"))
        world.advance(1)  # the scheduler's next loop starts the re-queued run
        assert states(world, R00) == ["success", "success", "success", "queued", "success"]
        # Failed downstream instances of later runs are cleared too (include_future);
        # that run waits in the queue (etl_orders has max_active_runs 1).
        assert states(world, R01) == ["success", "success", "success", None, "success"]
        assert world.store.dag_runs.require(("etl_orders", R01)).state == "queued"

    async def test_cleared_downstream_runs_again(
        self, client: TestClient, world: Simulator
    ) -> None:
        fail(world, R00, "transform", "load_warehouse")
        body = mark(R00, new_state="success", dry_run=False)
        await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        world.advance(900)
        assert states(world, R00) == ["success"] * 5

    async def test_mapped_task_by_run_id_is_not_found(
        self, client: TestClient, world: Simulator
    ) -> None:
        run_id = "scheduled__2023-03-31T22:00:00+00:00"
        body = mark(run_id, task_id="process_file")
        response = await client.post(SET_STATE.format("fan_out_fan_in"), json=body, headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404,
            "Not Found",
            f"Task instance not found for task 'process_file' on DAG run with ID '{run_id}'",
            "NotFound",
        )

    async def test_mapped_task_by_execution_date(
        self, client: TestClient, world: Simulator
    ) -> None:
        body = mark(task_id="process_file", execution_date="2023-03-31T22:00:00+00:00")
        response = await client.post(SET_STATE.format("fan_out_fan_in"), json=body, headers=ADMIN)
        run_id = "scheduled__2023-03-31T22:00:00+00:00"
        assert await response.json() == {
            "task_instances": [ref(run_id, "process_file", "fan_out_fan_in")] * 4
        }

    async def test_required_fields(self, client: TestClient) -> None:
        body = {"dag_run_id": R00, "foo": True}
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 400
        missing = ["Missing data for required field."]
        assert await response.json() == bad_request(
            str(
                {
                    "task_id": missing,
                    "include_upstream": missing,
                    "include_downstream": missing,
                    "include_future": missing,
                    "include_past": missing,
                    "new_state": missing,
                    "foo": ["Unknown field."],
                }
            )
        )

    @pytest.mark.parametrize(
        "extra",
        [{}, {"dag_run_id": R00, "execution_date": "2023-04-01T00:00:00Z"}, {"dag_run_id": ""}],
    )
    async def test_exactly_one_of_date_and_run(
        self, client: TestClient, extra: dict[str, str]
    ) -> None:
        response = await client.post(
            SET_STATE.format("etl_orders"), json=mark(**extra), headers=ADMIN
        )
        assert response.status == 400
        assert await response.json() == bad_request(
            "{'_schema': ['Exactly one of execution_date or dag_run_id must be provided']}"
        )

    async def test_naive_execution_date(self, client: TestClient) -> None:
        body = mark(execution_date="2023-04-01T00:00:00")
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "Naive datetime is disallowed", "Invalid datetime format"
        )

    async def test_new_state_must_be_success_or_failed(self, client: TestClient) -> None:
        body = mark(R00, new_state="running")
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "'running' is not one of ['success', 'failed'] - 'new_state'"
        )

    async def test_dag_not_found(self, client: TestClient) -> None:
        response = await client.post(SET_STATE.format("nope"), json=mark(R00), headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(404, "Dag ID nope not found", None, "NotFound")

    async def test_task_not_found(self, client: TestClient) -> None:
        body = mark(R00, task_id="nope")
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(404, "Task ID nope not found", None, "NotFound")

    async def test_no_instance_on_that_date(self, client: TestClient) -> None:
        body = mark(execution_date="2023-01-01T00:00:00+00:00")
        response = await client.post(SET_STATE.format("etl_orders"), json=body, headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404,
            "Not Found",
            "Task instance not found for task 'transform' on execution_date "
            "2023-01-01 00:00:00+00:00",
            "NotFound",
        )

    async def test_no_instance_in_that_run(self, client: TestClient) -> None:
        response = await client.post(
            SET_STATE.format("etl_orders"), json=mark("nope"), headers=ADMIN
        )
        assert response.status == 404
        assert await response.json() == problem(
            404,
            "Not Found",
            "Task instance not found for task 'transform' on DAG run with ID 'nope'",
            "NotFound",
        )

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("viewer", "Viewer")
        response = await client.post(
            SET_STATE.format("etl_orders"), json=mark(R23), headers=headers
        )
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.post(SET_STATE.format("etl_orders"), json=mark(R23))
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


@pytest.fixture
def actions_live(live_dags: LiveServer) -> LiveServer:
    return live_dags


@pytest.fixture
def dag_api(actions_live: LiveServer) -> Iterator[Any]:
    import airflow_client.client as airflow_client
    from airflow_client.client.api.dag_api import DAGApi

    actions_live.sim.reset()
    three_runs(actions_live.sim)
    configuration = airflow_client.Configuration(
        host=actions_live.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api:
        yield DAGApi(api)


class TestOfficialClient:
    def test_post_clear_task_instances(self, dag_api: Any, actions_live: LiveServer) -> None:
        from airflow_client.client.model.clear_task_instances import ClearTaskInstances

        fail(actions_live.sim, R00, "transform")
        result = dag_api.post_clear_task_instances(
            "etl_orders", ClearTaskInstances(dry_run=False, include_past=True)
        )
        assert [(r.dag_run_id, r.task_id) for r in result.task_instances] == [(R00, "transform")]
        assert ti(actions_live.sim, R00, "transform").state is None

    def test_post_set_task_instances_state(self, dag_api: Any, actions_live: LiveServer) -> None:
        from airflow_client.client.model.update_task_instances_state import (
            UpdateTaskInstancesState,
        )

        body = UpdateTaskInstancesState(**mark(R01, dry_run=False, include_downstream=True))
        result = dag_api.post_set_task_instances_state("etl_orders", body)
        assert [r.task_id for r in result.task_instances] == [
            "transform",
            "load_warehouse",
            "notify",
        ]
        assert ti(actions_live.sim, R01, "transform").state == "failed"
