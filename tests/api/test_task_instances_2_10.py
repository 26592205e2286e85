"""TaskInstance in Airflow 2.10.5's API: tries, dependencies, the fields and
filters 2.10 adds, the batch form's runs, tasks and paging, and a `skipped`
mark, against the bundled `ci` world (see test_task_instances.py for its
story: etl_orders' extracts queued at the start instant, flaky_api_sync's
fetch_records failing its first try and retrying at 00:01:59)."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.api.test_task_instances import (
    BATCH,
    ETL,
    FAN,
    FLAKY,
    SQL,
    add_role,
    get_json,
    keys,
    tis_url,
)
from tests.conftest import ADMIN, TEST_SETTINGS_2_10, problem_2_10


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS_2_10


def attempt(dag_id: str, run_id: str, task_id: str, **fields: Any) -> dict[str, Any]:
    """A TaskInstanceHistory body; fields default to a fresh instance."""
    body: dict[str, Any] = {
        "dag_id": dag_id,
        "dag_run_id": run_id,
        "duration": None,
        "end_date": None,
        "executor": None,
        "executor_config": "{}",
        "hostname": "",
        "map_index": -1,
        "max_tries": 0,
        "operator": "PythonOperator",
        "pid": None,
        "pool": "default_pool",
        "pool_slots": 1,
        "priority_weight": 1,
        "queue": "default",
        "queued_when": None,
        "start_date": None,
        "state": None,
        "task_display_name": task_id,
        "task_id": task_id,
        "try_number": 0,
        "unixname": "airflow",
    }
    body.update(fields)
    return body


HTTP = {"operator": "SimpleHttpOperator", "max_tries": 3, "priority_weight": 3}
# fetch_records' first try: failed at 00:00:20.9 into a retry (recorded as failed).
FETCH_TRY_1 = attempt(
    "flaky_api_sync", FLAKY, "fetch_records", state="failed", try_number=1,
    start_date="2023-04-01T00:00:02.102511+00:00", end_date="2023-04-01T00:00:20.870511+00:00",
    duration=18.768, hostname="worker-3", pid=22655, queued_when="2023-04-01T00:00:00+00:00",
    **HTTP,
)  # fmt: skip
# Its second try, running at 00:02 (the live row).
FETCH_TRY_2 = attempt(
    "flaky_api_sync", FLAKY, "fetch_records", state="running", try_number=2,
    start_date="2023-04-01T00:01:59.618995+00:00", hostname="worker-2", pid=15206,
    queued_when="2023-04-01T00:01:57.870511+00:00", **HTTP,
)  # fmt: skip


def tries_url(dag_id: str, run_id: str, task_id: str, tail: str = "") -> str:
    return tis_url(dag_id, run_id, f"/{task_id}{tail}")


class TestTries:
    async def test_a_retried_instance(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        url = tries_url("flaky_api_sync", FLAKY, "fetch_records", "/tries")
        status, body = await get_json(client, url)
        assert status == 200
        assert body == {"task_instances": [FETCH_TRY_1, FETCH_TRY_2], "total_entries": 2}
        # Airflow applies neither the limit nor the order.
        status, paged = await get_json(client, url, limit=1, offset=1, order_by="-try_number")
        assert (status, paged) == (200, body)

    async def test_one_try(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        base = tries_url("flaky_api_sync", FLAKY, "fetch_records", "/tries")
        assert await get_json(client, f"{base}/1") == (200, FETCH_TRY_1)
        assert await get_json(client, f"{base}/2") == (200, FETCH_TRY_2)
        detail = (
            f"Task Instance not found for dag_id=flaky_api_sync, run_id={FLAKY}, "
            "task_id=fetch_records, map_index=-1, try_number=3."
        )
        assert await get_json(client, f"{base}/3") == (
            404,
            problem_2_10(404, "Task instance not found", detail, "NotFound"),
        )

    async def test_up_for_retry_lists_the_history_only(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(60)  # fetch_records is up for retry
        url = tries_url("flaky_api_sync", FLAKY, "fetch_records", "/tries")
        assert await get_json(client, url) == (
            200,
            {"task_instances": [FETCH_TRY_1], "total_entries": 1},
        )
        # The live row answers its own try number.
        status, body = await get_json(client, f"{url}/1")
        assert (status, body["state"]) == (200, "up_for_retry")

    async def test_a_waiting_instance_has_try_0(self, client: TestClient) -> None:
        url = tries_url("etl_orders", ETL, "transform", "/tries")
        waiting = attempt("etl_orders", ETL, "transform", max_tries=1, priority_weight=3)
        assert await get_json(client, url) == (
            200,
            {"task_instances": [waiting], "total_entries": 1},
        )

    async def test_a_queued_instance_has_its_next_try(self, client: TestClient) -> None:
        url = tries_url("etl_orders", ETL, "extract_orders", "/tries/1")
        queued = attempt(
            "etl_orders", ETL, "extract_orders", state="queued", try_number=1, max_tries=1,
            priority_weight=4, operator=SQL, queued_when="2023-04-01T00:00:00+00:00",
        )  # fmt: skip
        assert await get_json(client, url) == (200, queued)

    async def test_a_cleared_instance(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(40)  # extract_orders' only try succeeded at 00:00:31.8
        ti = sim.store.task_instances.require(("etl_orders", ETL, "extract_orders", -1))
        sim.actions.clear([ti], reset_runs=False)
        status, body = await get_json(
            client, tries_url("etl_orders", ETL, "extract_orders", "/tries")
        )
        assert status == 200
        # The history keeps the succeeded try (max_tries before the clear
        # raised it); the live row waits to run try 2.
        first, live = body["task_instances"]
        assert (first["try_number"], first["state"], first["max_tries"]) == (1, "success", 1)
        assert first["end_date"] == "2023-04-01T00:00:31.824184+00:00"
        assert (live["try_number"], live["state"], live["max_tries"]) == (2, "queued", 2)

    async def test_unknown_instances_have_no_tries(self, client: TestClient) -> None:
        empty = {"task_instances": [], "total_entries": 0}
        for url in (
            tries_url("etl_orders", ETL, "nosuch", "/tries"),
            tries_url("etl_orders", "nosuch", "transform", "/tries"),
            tries_url("fan_out_fan_in", FAN, "process_file", "/tries"),  # mapped
            tries_url("fan_out_fan_in", FAN, "process_file", "/9/tries"),
        ):
            assert await get_json(client, url) == (200, empty)

    async def test_a_mapped_instance(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        status, body = await get_json(
            client, tries_url("fan_out_fan_in", FAN, "process_file", "/1/tries")
        )
        assert status == 200
        expected = attempt(
            "fan_out_fan_in", FAN, "process_file", map_index=1, state="success", try_number=1,
            start_date="2023-04-01T00:00:17.041944+00:00",
            end_date="2023-04-01T00:01:22.162944+00:00", duration=65.121, hostname="worker-1",
            pid=31668, queued_when="2023-04-01T00:00:15.855411+00:00", priority_weight=3,
        )  # fmt: skip
        assert body == {"task_instances": [expected], "total_entries": 1}
        url = tries_url("fan_out_fan_in", FAN, "process_file", "/1/tries/1")
        assert await get_json(client, url) == (200, expected)


def deps_url(dag_id: str, run_id: str, task_id: str) -> str:
    return tis_url(dag_id, run_id, f"/{task_id}/dependencies")


TRIGGER_RULE = (
    "Task's trigger rule 'all_success' requires all upstream tasks to have succeeded, but "
    "found 1 non-success(es). upstream_states=_UpstreamTIStates(success=0, skipped=0, "
    "failed=0, upstream_failed=0, removed=0, done=0, success_setup=0, skipped_setup=0), "
    "upstream_task_ids={'transform'}"
)
NO_STATE = {"name": "Task Instance State", "reason": "Task is in the 'None' state."}


class TestDependencies:
    async def test_a_waiting_instance(self, client: TestClient) -> None:
        status, body = await get_json(client, deps_url("etl_orders", ETL, "load_warehouse"))
        assert status == 200
        assert body == {
            "dependencies": [NO_STATE, {"name": "Trigger Rule", "reason": TRIGGER_RULE}]
        }

    async def test_a_paused_dag_and_a_full_pool(self, client: TestClient, sim: Simulator) -> None:
        sim.store.dags.require("etl_orders").is_paused = True
        sim.store.pools.require("default_pool").slots = 1
        status, body = await get_json(client, deps_url("etl_orders", ETL, "load_warehouse"))
        assert status == 200
        occupied = sim.store.pool_occupied["default_pool"]
        assert body["dependencies"] == [
            {"name": "Dag Not Paused", "reason": "Task's DAG 'etl_orders' is paused."},
            {
                "name": "Pool Slots Available",
                "reason": f"Not scheduling since there are {1 - occupied} open slots in pool "
                "default_pool and require 1 pool slots",
            },
            NO_STATE,
            {"name": "Trigger Rule", "reason": TRIGGER_RULE},
        ]

    async def test_running_and_finished_instances_have_none(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(120)
        for url in (
            deps_url("etl_orders", ETL, "transform"),  # running
            deps_url("etl_orders", ETL, "extract_orders"),  # success
            tis_url("fan_out_fan_in", FAN, "/process_file/0/dependencies"),
        ):
            assert await get_json(client, url) == (200, {"dependencies": []})

    async def test_missing_instances(self, client: TestClient) -> None:
        for task_id, url in (
            ("process_file", deps_url("fan_out_fan_in", FAN, "process_file")),
            ("nosuch", deps_url("fan_out_fan_in", FAN, "nosuch")),
            ("process_file", tis_url("fan_out_fan_in", FAN, "/process_file/9/dependencies")),
        ):
            title = f"Task Instance not found for dag_id=fan_out_fan_in, run_id={FAN}, " \
                f"task_id={task_id}"  # fmt: skip
            assert await get_json(client, url) == (
                404,
                problem_2_10(404, title, None, "NotFound"),
            )


class TestFields:
    async def test_display_name_executor_and_try_number(
        self, client: TestClient, sim: Simulator
    ) -> None:
        task = sim.store.dags.require("etl_orders").tasks["extract_orders"]
        task.task_display_name, task.executor = "Extract orders", "CeleryExecutor"
        status, body = await get_json(client, tis_url("etl_orders", ETL, "/extract_orders"))
        assert status == 200
        # Queued at the start instant: 2.10 counts the try when it is scheduled.
        assert {
            k: body[k]
            for k in ("task_display_name", "executor", "rendered_map_index", "try_number", "state")
        } == {
            "task_display_name": "Extract orders",
            "executor": "CeleryExecutor",
            "rendered_map_index": None,
            "try_number": 1,
            "state": "queued",
        }

    async def test_a_deferred_try_keeps_its_number(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(7)
        status, body = await get_json(client, tis_url("~", "~"), state="deferred")
        assert status == 200
        assert body["total_entries"] >= 1
        assert all(ti["try_number"] == 1 for ti in body["task_instances"])


class TestFilters:
    async def test_executor(self, client: TestClient, sim: Simulator) -> None:
        sim.store.dags.require("etl_orders").tasks["transform"].executor = "CeleryExecutor"
        status, body = await get_json(
            client, tis_url("~", "~"), executor="CeleryExecutor,LocalExecutor"
        )
        assert status == 200
        assert (keys(body), body["total_entries"]) == ([("etl_orders", "transform", -1)], 1)

    async def test_updated_at(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        status, body = await get_json(
            client, tis_url("flaky_api_sync", FLAKY), updated_at_gte="2023-04-01T00:01:00Z"
        )
        assert status == 200
        # fetch_records started its second try at 00:01:59; the rest wait since 00:00.
        assert keys(body) == [("flaky_api_sync", "fetch_records", -1)]
        status, body = await get_json(
            client, tis_url("flaky_api_sync", FLAKY), updated_at_lte="2023-04-01T00:01:00Z"
        )
        assert ("flaky_api_sync", "fetch_records", -1) not in keys(body)
        assert body["total_entries"] == len(body["task_instances"]) >= 1

    async def test_mapped_updated_at(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        url = tis_url("fan_out_fan_in", FAN, "/process_file/listMapped")
        status, body = await get_json(client, url, updated_at_gte="2023-04-01T00:01:30Z")
        assert status == 200
        # Indexes 0 and 3 ended after 00:01:30.
        assert [ti["map_index"] for ti in body["task_instances"]] == [0, 3]


class TestBatch:
    async def test_runs_tasks_and_states(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        form = {"dag_ids": ["etl_orders", "flaky_api_sync"], "dag_run_ids": [ETL, FLAKY],
                "task_ids": ["extract_orders", "fetch_records", "transform"],
                "state": ["success", "running"]}  # fmt: skip
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert response.status == 200
        body = await response.json()
        assert keys(body) == [
            ("etl_orders", "extract_orders", -1),
            ("etl_orders", "transform", -1),
            ("flaky_api_sync", "fetch_records", -1),
        ]

    async def test_pages(self, client: TestClient) -> None:
        response = await client.post(BATCH, headers=ADMIN, json={})
        every = await response.json()
        assert every["total_entries"] == len(every["task_instances"]) == 18
        response = await client.post(BATCH, headers=ADMIN, json={"page_offset": 2, "page_limit": 3})
        body = await response.json()
        assert body["total_entries"] == 18
        assert keys(body) == keys(every)[2:5]

    async def test_executor_and_unknown_fields(self, client: TestClient) -> None:
        form = {"dag_ids": ["etl_orders"], "executor": ["SequentialExecutor"]}
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert await response.json() == {"task_instances": [], "total_entries": 0}
        response = await client.post(BATCH, headers=ADMIN, json={"nosuch": 1})
        assert response.status == 400
        assert await response.json() == problem_2_10(
            400, "Bad Request", "{'nosuch': ['Unknown field.']}", "BadRequest"
        )


class TestMark:
    async def test_skipped(self, client: TestClient, sim: Simulator) -> None:
        url = tis_url("etl_orders", ETL, "/transform")
        response = await client.patch(url, headers=ADMIN, json={"new_state": "skipped"})
        # dry_run defaults to true: the reference, nothing changed.
        assert await response.json() == {
            "dag_id": "etl_orders",
            "dag_run_id": ETL,
            "execution_date": "2023-03-31T23:00:00+00:00",
            "task_id": "transform",
        }
        ti = sim.store.task_instances.require(("etl_orders", ETL, "transform", -1))
        assert ti.state is None
        response = await client.patch(
            url, headers=ADMIN, json={"new_state": "skipped", "dry_run": False}
        )
        assert (response.status, await response.json()) == (200, {})
        assert ti.state == "skipped"


class TestPermissions:
    async def test_any_dag_lists_the_readable_ones(
        self, client: TestClient, sim: Simulator, make_user: Any
    ) -> None:
        add_role(sim, "etl_reader", ("can_read", "DAG:etl_orders"),
                 ("can_read", "DAG Runs"), ("can_read", "Task Instances"))  # fmt: skip
        headers = make_user("reader", "etl_reader")
        response = await client.get(tis_url("~", "~"), headers=headers)
        body = await response.json()
        assert response.status == 200
        assert {dag_id for dag_id, _, _ in keys(body)} == {"etl_orders"}
        assert body["total_entries"] == 5

    async def test_the_batch_refuses_unreadable_dags(
        self, client: TestClient, sim: Simulator, make_user: Any
    ) -> None:
        add_role(sim, "etl_reader", ("can_read", "DAG:etl_orders"),
                 ("can_read", "DAG Runs"), ("can_read", "Task Instances"))  # fmt: skip
        headers = make_user("reader", "etl_reader")
        form = {"dag_ids": ["etl_orders", "flaky_api_sync"]}
        response = await client.post(BATCH, headers=headers, json=form)
        assert response.status == 403
        detail = "User not allowed to access some of these DAGs: ['etl_orders', 'flaky_api_sync']"
        assert await response.json() == problem_2_10(403, "Forbidden", detail, "PermissionDenied")
        response = await client.post(BATCH, headers=headers, json={})
        assert (await response.json())["total_entries"] == 5


FETCH_LOG_2 = f"dag_id=flaky_api_sync/run_id={FLAKY}/task_id=fetch_records/attempt=2.log"
FETCH_RUNNING = f"<TaskInstance: flaky_api_sync.fetch_records {FLAKY} [running]>"
FETCH_CONTEXT = (
    "AIRFLOW_CTX_DAG_OWNER='integrations' AIRFLOW_CTX_DAG_ID='flaky_api_sync' "
    "AIRFLOW_CTX_TASK_ID='fetch_records' AIRFLOW_CTX_EXECUTION_DATE='2023-03-31T22:15:00+00:00' "
    f"AIRFLOW_CTX_TRY_NUMBER='2' AIRFLOW_CTX_DAG_RUN_ID='{FLAKY}'"
)


class TestLogs:
    async def test_a_succeeded_try_in_2_10s_format(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(150)
        url = tis_url("flaky_api_sync", FLAKY, "/fetch_records/logs/2")
        response = await client.get(url, headers={**ADMIN, "Accept": "text/plain"})
        assert response.status == 200
        lines = (await response.text()).split("\n")
        assert lines[:5] == [
            "worker-2",
            " INFO - ::group::Log message source details",
            "*** Found local files:",
            f"***   * /opt/airflow/logs/{FETCH_LOG_2}",
            " INFO - ::endgroup::",
        ]
        queued = f"<TaskInstance: flaky_api_sync.fetch_records {FLAKY} [queued]>"
        assert lines[5:] == [
            "[2023-04-01T00:01:59.618+0000] {local_task_job_runner.py:123} INFO - "
            "::group::Pre task execution logs",
            "[2023-04-01T00:01:59.618+0000] {taskinstance.py:2614} INFO - Dependencies all met "
            f"for dep_context=non-requeueable deps ti={queued}",
            "[2023-04-01T00:01:59.618+0000] {taskinstance.py:2614} INFO - Dependencies all met "
            f"for dep_context=requeueable deps ti={queued}",
            "[2023-04-01T00:01:59.618+0000] {taskinstance.py:2867} INFO - Starting attempt 2 of 4",
            "[2023-04-01T00:01:59.619+0000] {taskinstance.py:2890} INFO - Executing "
            "<Task(SimpleHttpOperator): fetch_records> on 2023-03-31 22:15:00+00:00",
            "[2023-04-01T00:01:59.638+0000] {standard_task_runner.py:72} INFO - "
            "Started process 15206 to run task",
            "[2023-04-01T00:01:59.659+0000] {standard_task_runner.py:104} INFO - Running: "
            "['airflow', 'tasks', 'run', 'flaky_api_sync', 'fetch_records', "
            f"'{FLAKY}', '--job-id', '16', '--raw', '--subdir', "
            "'DAGS_FOLDER/flaky_api_sync.py', '--cfg-path', '/tmp/tmpaegziayg']",
            "[2023-04-01T00:01:59.660+0000] {standard_task_runner.py:105} INFO - "
            "Job 16: Subtask fetch_records",
            "[2023-04-01T00:01:59.768+0000] {task_command.py:467} INFO - "
            f"Running {FETCH_RUNNING} on host worker-2",
            "[2023-04-01T00:01:59.918+0000] {taskinstance.py:3134} INFO - "
            f"Exporting env vars: {FETCH_CONTEXT}",
            "[2023-04-01T00:01:59.919+0000] {taskinstance.py:732} INFO - ::endgroup::",
            "[2023-04-01T00:02:15.065+0000] {taskinstance.py:341} INFO - "
            "::group::Post task execution logs",
            "[2023-04-01T00:02:15.065+0000] {taskinstance.py:353} INFO - Marking task as "
            f"SUCCESS. dag_id=flaky_api_sync, task_id=fetch_records, run_id={FLAKY}, "
            "execution_date=20230331T221500, start_date=20230401T000159, "
            "end_date=20230401T000215",
            "[2023-04-01T00:02:15.065+0000] {local_task_job_runner.py:266} INFO - "
            "Task exited with return code 0",
            "[2023-04-01T00:02:15.065+0000] {taskinstance.py:3901} INFO - "
            "1 downstream tasks scheduled from follow-on schedule check",
            "[2023-04-01T00:02:15.065+0000] {local_task_job_runner.py:245} INFO - ::endgroup::",
            "",
            "",
        ]

    async def test_a_failed_try_and_the_json_shape(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(150)
        url = tis_url("flaky_api_sync", FLAKY, "/fetch_records/logs/1")
        response = await client.get(url, headers={**ADMIN, "Accept": "application/json"})
        assert response.status == 200
        body = await response.json()
        [(host, text)] = ast.literal_eval(body["content"])
        assert host == "worker-2"
        assert text.startswith(" INFO - ::group::Log message source details\n")
        # The traceback's last line, then the lines after the task's code.
        tail = [line.split("} ", 1)[-1] for line in text.split("\n")[-8:]]
        assert tail == [
            "airflow.exceptions.AirflowException: 429:Too Many Requests",
            "INFO - Marking task as UP_FOR_RETRY. dag_id=flaky_api_sync, task_id=fetch_records, "
            f"run_id={FLAKY}, execution_date=20230331T221500, start_date=20230401T000002, "
            "end_date=20230401T000020",
            "INFO - ::group::Post task execution logs",
            "ERROR - Failed to execute job 6 for task fetch_records (429:Too Many Requests; 22655)",
            "INFO - Task exited with return code 1",
            "INFO - 0 downstream tasks scheduled from follow-on schedule check",
            "INFO - ::endgroup::",
            "",
        ]
