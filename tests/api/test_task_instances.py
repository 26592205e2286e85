"""TaskInstance: list (per run, `~`, batch, mapped), read, mark, notes and
extra links, against the built-in DAGs.

At the frozen start instant (2023-04-01T00:00:00+00:00) five scheduled runs
have just started; their first task instances are queued. Two minutes of
virtual time later etl_orders' extracts have succeeded and its transform
runs, fan_out_fan_in's four mapped process_file instances have succeeded,
and flaky_api_sync's fetch_records failed its first try and succeeded on
the second.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.state.entities import Role
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, TEST_SETTINGS, problem

URL = "/api/v1/dags"
BATCH = f"{URL}/~/dagRuns/~/taskInstances/list"
T0 = "2023-04-01T00:00:00+00:00"
ETL = "scheduled__2023-03-31T23:00:00+00:00"
FAN = "scheduled__2023-03-31T22:00:00+00:00"
FLAKY = "scheduled__2023-03-31T22:15:00+00:00"
UNAUTHENTICATED = problem(401, "Unauthorized", None, "Unauthenticated")
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")
MAPPED = "Task instance is mapped, add the map_index value to the URL"
EXECUTION = {ETL: "2023-03-31T23:00:00+00:00", FAN: "2023-03-31T22:00:00+00:00",
             FLAKY: "2023-03-31T22:15:00+00:00"}  # fmt: skip

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


def tis_url(dag_id: str, run_id: str, tail: str = "") -> str:
    return f"{URL}/{dag_id}/dagRuns/{run_id}/taskInstances{tail}"


def ti_body(dag_id: str, run_id: str, task_id: str, **fields: Any) -> dict[str, Any]:
    """A task instance as Airflow dumps it; fields default to a fresh instance."""
    body: dict[str, Any] = {
        "dag_id": dag_id,
        "dag_run_id": run_id,
        "duration": None,
        "end_date": None,
        "execution_date": EXECUTION.get(run_id, T0),
        "executor_config": "{}",
        "hostname": "",
        "map_index": -1,
        "max_tries": 0,
        "note": None,
        "operator": "PythonOperator",
        "pid": None,
        "pool": "default_pool",
        "pool_slots": 1,
        "priority_weight": 1,
        "queue": "default",
        "queued_when": None,
        "rendered_fields": {},
        "sla_miss": None,
        "start_date": None,
        "state": None,
        "task_id": task_id,
        "trigger": None,
        "triggerer_job": None,
        "try_number": 0,
        "unixname": "airflow",
    }
    body.update(fields)
    return body


SQL = "SQLExecuteQueryOperator"
# etl_orders at the start instant: the two extracts queued, the rest waiting.
QUEUED: dict[str, Any] = {"state": "queued", "queued_when": T0, "priority_weight": 4,
                          "operator": SQL, "max_tries": 1}  # fmt: skip
ETL_AT_START = [
    ti_body("etl_orders", ETL, "extract_orders", **QUEUED),
    ti_body("etl_orders", ETL, "extract_customers", **QUEUED),
    ti_body("etl_orders", ETL, "transform", priority_weight=3, max_tries=1),
    ti_body("etl_orders", ETL, "load_warehouse", priority_weight=2, max_tries=1),
    ti_body("etl_orders", ETL, "notify", operator="EmptyOperator", max_tries=1),
]


def extract_orders_done(**fields: Any) -> dict[str, Any]:
    """etl_orders.extract_orders once its only try succeeded (after 00:00:31.8)."""
    body = ti_body(
        "etl_orders", ETL, "extract_orders", state="success",
        start_date="2023-04-01T00:00:01.531184+00:00",
        end_date="2023-04-01T00:00:31.824184+00:00", duration=30.293, try_number=1,
        max_tries=1, hostname="worker-2", pid=4632, queued_when=T0, priority_weight=4,
        operator=SQL,
        rendered_fields={"sql": "SELECT * FROM extract_orders WHERE ds = '2023-03-31'"},
    )  # fmt: skip
    body.update(fields)
    return body


# A PythonOperator's template fields once a try rendered them.
PYTHON_RENDERED = {"templates_dict": None, "op_args": [], "op_kwargs": {}}
PROCESS_FILE = [  # fan_out_fan_in.process_file's mapped instances, done at 00:01:34
    ("2023-04-01T00:00:17.544971+00:00", "2023-04-01T00:01:34.055971+00:00", 76.511, 2, 27392),
    ("2023-04-01T00:00:17.041944+00:00", "2023-04-01T00:01:22.162944+00:00", 65.121, 1, 31668),
    ("2023-04-01T00:00:18.571940+00:00", "2023-04-01T00:00:43.693940+00:00", 25.122, 3, 25278),
    ("2023-04-01T00:00:17.071580+00:00", "2023-04-01T00:01:32.493580+00:00", 75.422, 3, 394),
]


def process_file(map_index: int, **fields: Any) -> dict[str, Any]:
    start, end, duration, worker, pid = PROCESS_FILE[map_index]
    body = ti_body(
        "fan_out_fan_in", FAN, "process_file", map_index=map_index,
        state="success", start_date=start, end_date=end, duration=duration, try_number=1,
        hostname=f"worker-{worker}", pid=pid, queued_when="2023-04-01T00:00:15.855411+00:00",
        priority_weight=3, rendered_fields=PYTHON_RENDERED,
    )  # fmt: skip
    body.update(fields)
    return body


def fetch_records(**fields: Any) -> dict[str, Any]:
    """flaky_api_sync.fetch_records after its second try succeeded (00:02:15):
    its backoff waited 97 s (60 s, spread by the instance's hash)."""
    body = ti_body(
        "flaky_api_sync", FLAKY, "fetch_records", state="success",
        start_date="2023-04-01T00:01:59.618995+00:00",
        end_date="2023-04-01T00:02:15.065995+00:00", duration=15.447, try_number=2,
        max_tries=3, hostname="worker-2", pid=15206,
        queued_when="2023-04-01T00:01:57.870511+00:00", priority_weight=3,
        operator="SimpleHttpOperator",
        rendered_fields={"data": {}, "endpoint": "api/v1/fetch_records", "headers": {}},
    )  # fmt: skip
    body.update(fields)
    return body


def add_role(sim: Simulator, name: str, *permissions: tuple[str, str]) -> None:
    sim.store.roles.add(Role(name=name, permissions=list(permissions)))


async def get_json(client: TestClient, url: str, **params: Any) -> tuple[int, Any]:
    response = await client.get(url, headers=ADMIN, params=params)
    return response.status, await response.json()


def keys(body: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(t["dag_id"], t["task_id"], t["map_index"]) for t in body["task_instances"]]


class TestGetTaskInstances:
    async def test_a_run_at_the_start_instant(self, client: TestClient) -> None:
        status, body = await get_json(client, tis_url("etl_orders", ETL))
        assert status == 200
        assert body == {"task_instances": ETL_AT_START, "total_entries": 5}

    async def test_body_is_airflows_format(self, client: TestClient) -> None:
        response = await client.get(tis_url("etl_orders", ETL), headers=ADMIN)
        text = await response.text()
        assert text.startswith('{\n  "task_instances": [\n    {\n      "dag_id": "etl_orders",')
        assert text.endswith('"total_entries": 5\n}\n')

    async def test_instances_carry_what_their_tries_did(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(150)
        status, body = await get_json(client, tis_url("flaky_api_sync", FLAKY), state="success")
        assert status == 200
        store_records = ti_body(
            "flaky_api_sync", FLAKY, "store_records", state="success",
            start_date="2023-04-01T00:02:17.947312+00:00",
            end_date="2023-04-01T00:02:29.007312+00:00", duration=11.06, try_number=1,
            hostname="worker-0", pid=23096, queued_when="2023-04-01T00:02:15.065995+00:00",
            rendered_fields=PYTHON_RENDERED,
        )  # fmt: skip
        assert body == {"task_instances": [fetch_records(), store_records], "total_entries": 2}

    async def test_any_dag_and_any_run(self, client: TestClient) -> None:
        status, body = await get_json(client, tis_url("~", "~"))
        assert status == 200
        assert body["total_entries"] == 18
        # No ORDER BY: instances come in the order they were created.
        assert keys(body)[:6] == [
            ("etl_orders", "extract_orders", -1),
            ("etl_orders", "extract_customers", -1),
            ("etl_orders", "transform", -1),
            ("etl_orders", "load_warehouse", -1),
            ("etl_orders", "notify", -1),
            ("fan_out_fan_in", "list_files", -1),
        ]

    async def test_any_run_of_one_dag(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)  # etl_orders' next hourly run has started
        status, body = await get_json(client, tis_url("etl_orders", "~"))
        assert status == 200
        assert body["total_entries"] == 10
        runs = [t["dag_run_id"] for t in body["task_instances"]]
        assert runs == [ETL] * 5 + ["scheduled__2023-04-01T00:00:00+00:00"] * 5

    async def test_one_run_id_across_dags(self, client: TestClient) -> None:
        status, body = await get_json(client, tis_url("~", FAN))
        assert status == 200
        assert {t["dag_id"] for t in body["task_instances"]} == {"fan_out_fan_in"}
        assert body["total_entries"] == 7

    @pytest.mark.parametrize(
        ("dag_id", "run_id"), [("nope", ETL), ("etl_orders", "nope"), ("nope", "~"), ("~", "x")]
    )
    async def test_unknown_ids_give_an_empty_page(
        self, client: TestClient, dag_id: str, run_id: str
    ) -> None:
        status, body = await get_json(client, tis_url(dag_id, run_id))
        assert status == 200
        assert body == {"task_instances": [], "total_entries": 0}

    @pytest.mark.parametrize(
        ("state", "expected"),
        [
            (["queued"], ["extract_orders", "extract_customers"]),
            (["none"], ["transform", "load_warehouse", "notify"]),
            (["queued", "none"], ["extract_orders", "extract_customers", "transform",
                                  "load_warehouse", "notify"]),
            (["running", "bogus"], []),
        ],
    )  # fmt: skip
    async def test_state_filter(
        self, client: TestClient, state: list[str], expected: list[str]
    ) -> None:
        params = [("state", value) for value in state]
        response = await client.get(tis_url("etl_orders", ETL), headers=ADMIN, params=params)
        assert response.status == 200
        body = await response.json()
        assert [t["task_id"] for t in body["task_instances"]] == expected
        assert body["total_entries"] == len(expected)

    async def test_pool_and_queue_filters(self, client: TestClient, sim: Simulator) -> None:
        ti = sim.store.task_instances.require(("etl_orders", ETL, "notify", -1))
        ti.spec = dataclasses.replace(ti.spec, pool="reporting", queue="fast")
        params = [("pool", "reporting"), ("pool", "nope")]
        response = await client.get(tis_url("~", "~"), headers=ADMIN, params=params)
        assert keys(await response.json()) == [("etl_orders", "notify", -1)]
        _, body = await get_json(client, tis_url("~", "~"), queue="fast")
        assert keys(body) == [("etl_orders", "notify", -1)]
        # The comma form (connexion splits arrays on ","), alone or repeated.
        _, body = await get_json(client, tis_url("~", "~"), pool="nope,reporting")
        assert keys(body) == [("etl_orders", "notify", -1)]
        params = [("queue", "x,fast"), ("queue", "y")]
        response = await client.get(tis_url("~", "~"), headers=ADMIN, params=params)
        assert keys(await response.json()) == [("etl_orders", "notify", -1)]
        _, body = await get_json(client, tis_url("~", "~"), queue="default")
        assert body["total_entries"] == 17

    async def test_execution_date_is_the_runs_logical_date(self, client: TestClient) -> None:
        status, body = await get_json(
            client, tis_url("~", "~"),
            execution_date_gte="2023-03-31T22:15:00Z", execution_date_lte="2023-03-31T23:00:00Z",
        )  # fmt: skip
        assert status == 200
        assert {t["dag_id"] for t in body["task_instances"]} == {
            "etl_orders", "orders_dataset_producer", "flaky_api_sync"
        }  # fmt: skip
        assert body["total_entries"] == 9

    async def test_start_end_and_duration_ranges(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        url = tis_url("fan_out_fan_in", FAN)
        # Instances without a start date never match a start range.
        _, body = await get_json(client, url, start_date_gte="2023-04-01T00:00:17.1Z")
        assert keys(body) == [("fan_out_fan_in", "process_file", 0),
                              ("fan_out_fan_in", "process_file", 2),
                              ("fan_out_fan_in", "merge", -1)]  # fmt: skip
        _, body = await get_json(client, url, end_date_lte="2023-04-01T00:01:00+00:00")
        assert keys(body) == [("fan_out_fan_in", "list_files", -1),
                              ("fan_out_fan_in", "process_file", 2)]  # fmt: skip
        # Bounds are inclusive; running instances have no duration.
        _, body = await get_json(client, url, duration_gte="65.121", duration_lte="75.422")
        assert keys(body) == [("fan_out_fan_in", "process_file", 1),
                              ("fan_out_fan_in", "process_file", 3)]  # fmt: skip

    async def test_limit_and_offset(self, client: TestClient) -> None:
        _, body = await get_json(client, tis_url("~", "~"), limit="2", offset="3")
        assert keys(body) == [("etl_orders", "load_warehouse", -1), ("etl_orders", "notify", -1)]
        assert body["total_entries"] == 18

    async def test_limit_zero_is_an_empty_page(self, client: TestClient) -> None:
        # No clamp on this endpoint: 0 is not replaced by the fallback limit.
        status, body = await get_json(client, tis_url("~", "~"), limit="0")
        assert status == 200
        assert body == {"task_instances": [], "total_entries": 18}

    async def test_limit_is_not_clamped(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(8 * 3600)
        _, body = await get_json(client, tis_url("~", "~"), limit="1000")
        assert body["total_entries"] > 100
        assert len(body["task_instances"]) == body["total_entries"]
        _, body = await get_json(client, tis_url("~", "~"))
        assert len(body["task_instances"]) == 100

    async def test_negative_limit(self, client: TestClient) -> None:
        status, body = await get_json(client, tis_url("~", "~"), limit="-1")
        assert status == 400
        assert body == problem(400, "Page limit must be a positive integer", None, "BadRequest")

    async def test_wrong_type(self, client: TestClient) -> None:
        status, body = await get_json(client, tis_url("~", "~"), duration_gte="long")
        assert status == 400
        assert body == problem(
            400, "Bad Request",
            "Wrong type, expected 'number' for query parameter 'duration_gte'", "BadRequest",
        )  # fmt: skip

    async def test_unknown_query_parameter(self, client: TestClient) -> None:
        status, body = await get_json(client, tis_url("~", "~"), order_by="state")
        assert status == 400
        assert body == problem(
            400, None, "Extra query parameter(s) order_by not in spec", "BadRequest"
        )

    async def test_no_per_dag_filter_for_any_dag(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        add_role(sim, "EtlReader", ("can_read", "DAG:etl_orders"), ("can_read", "DAG Runs"),
                 ("can_read", "Task Instances"))  # fmt: skip
        headers = make_user("reader", "EtlReader")
        response = await client.get(tis_url("~", "~"), headers=headers)
        assert response.status == 200
        assert (await response.json())["total_entries"] == 18
        response = await client.get(tis_url("fan_out_fan_in", FAN), headers=headers)
        assert response.status == 403
        assert await response.json() == FORBIDDEN

    async def test_viewer_may_read(self, client: TestClient, make_user: Headers) -> None:
        response = await client.get(tis_url("~", "~"), headers=make_user("v", "Viewer"))
        assert response.status == 200

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(tis_url("~", "~"))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        response = await client.get(tis_url("~", "~"), headers=make_user("p", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestGetTaskInstancesBatch:
    async def test_every_instance_unpaged(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(8 * 3600)
        response = await client.post(BATCH, headers=ADMIN, json={})
        assert response.status == 200
        body = await response.json()
        assert body["total_entries"] == len(sim.store.task_instances) > 100
        assert len(body["task_instances"]) == body["total_entries"]

    async def test_filters(self, client: TestClient) -> None:
        form = {"dag_ids": ["etl_orders", "flaky_api_sync"], "state": ["none", "queued"],
                "pool": ["default_pool"], "queue": ["default"],
                "execution_date_gte": "2023-03-31T23:00:00+00:00"}  # fmt: skip
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert response.status == 200
        assert await response.json() == {"task_instances": ETL_AT_START, "total_entries": 5}

    async def test_durations_load_as_integers(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        # 25.9 is truncated to 25: process_file 2 (25.122 s) matches.
        form = {"dag_ids": ["fan_out_fan_in"], "duration_gte": 25.9, "duration_lte": 30}
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert response.status == 200
        assert await response.json() == {"task_instances": [process_file(2)], "total_entries": 1}

    async def test_page_fields_are_accepted_and_ignored(self, client: TestClient) -> None:
        form = {"dag_ids": ["etl_orders"], "page_limit": 1, "page_offset": 3}
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert response.status == 200
        assert await response.json() == {"task_instances": ETL_AT_START, "total_entries": 5}

    @pytest.mark.parametrize(
        ("form", "detail"),
        [
            ({"page_limit": 0}, "{'page_limit': ['Must be greater than or equal to 1.']}"),
            ({"page_offset": -1}, "{'page_offset': ['Must be greater than or equal to 0.']}"),
            ({"page_offset": None}, "{'page_offset': ['Field may not be null.']}"),
            ({"page_limit": "many"}, "{'page_limit': ['Not a valid integer.']}"),
            ({"dag_id": "etl_orders"}, "{'dag_id': ['Unknown field.']}"),
            ({"page_limit": 0, "states": ["queued"]},
             "{'page_limit': ['Must be greater than or equal to 1.'], "
             "'states': ['Unknown field.']}"),
        ],
    )  # fmt: skip
    async def test_form_errors(self, client: TestClient, form: dict[str, Any], detail: str) -> None:
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", detail, "BadRequest")

    async def test_state_outside_the_spec_enum(self, client: TestClient) -> None:
        response = await client.post(BATCH, headers=ADMIN, json={"state": ["shutdown"]})
        assert response.status == 400
        body = await response.json()
        assert body["detail"].startswith("'shutdown' is not one of [")
        assert body["detail"].endswith("] - 'state.0'")

    async def test_no_body(self, client: TestClient) -> None:
        headers = {**ADMIN, "Content-Type": "application/json"}
        response = await client.post(BATCH, headers=headers)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "None is not of type 'object'", "BadRequest"
        )

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.post(BATCH, json={})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        response = await client.post(BATCH, headers=make_user("p", "Public"), json={})
        assert response.status == 403
        assert await response.json() == FORBIDDEN


def one(dag_id: str, run_id: str, task_id: str, tail: str = "") -> str:
    return tis_url(dag_id, run_id, f"/{task_id}{tail}")


class TestGetTaskInstance:
    async def test_queued_instance(self, client: TestClient) -> None:
        status, body = await get_json(client, one("etl_orders", ETL, "extract_orders"))
        assert status == 200
        assert body == ETL_AT_START[0]

    async def test_finished_instance(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(60)
        status, body = await get_json(client, one("etl_orders", ETL, "extract_orders"))
        assert status == 200
        assert body == extract_orders_done()

    async def test_retried_instance(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(60)
        status, body = await get_json(client, one("flaky_api_sync", FLAKY, "fetch_records"))
        assert status == 200
        assert body == fetch_records(
            state="up_for_retry", start_date="2023-04-01T00:00:02.102511+00:00",
            end_date="2023-04-01T00:00:20.870511+00:00", duration=18.768, try_number=1,
            hostname="worker-3", pid=22655, queued_when=T0,
        )  # fmt: skip

    async def test_mapped_task(self, client: TestClient) -> None:
        status, body = await get_json(client, one("fan_out_fan_in", FAN, "process_file"))
        assert status == 404
        assert body == problem(404, "Task instance not found", MAPPED, "NotFound")

    @pytest.mark.parametrize(
        ("dag_id", "run_id", "task_id"),
        [("etl_orders", ETL, "nope"), ("etl_orders", "nope", "notify"), ("~", "~", "notify")],
    )
    async def test_not_found(
        self, client: TestClient, dag_id: str, run_id: str, task_id: str
    ) -> None:
        status, body = await get_json(client, one(dag_id, run_id, task_id))
        assert status == 404
        assert body == problem(404, "Task instance not found", None, "NotFound")

    async def test_deferred_instance_shows_its_trigger(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(7)
        url = one("wait_for_partition", PARTITION, "wait_for_partition")
        status, body = await get_json(client, url)
        assert status == 200
        assert body == DEFERRED_BODY
        sim.advance(1000)  # the trigger fired at 00:15; the resumed try succeeded
        status, body = await get_json(client, url)
        assert body == {
            **DEFERRED_BODY, "state": "success", "try_number": 1, "trigger": None,
            "triggerer_job": None, "end_date": "2023-04-01T00:15:05.254809+00:00",
            "duration": 903.380986, "queued_when": "2023-04-01T00:15:01+00:00",
        }  # fmt: skip

    @pytest.mark.parametrize("state", ["success", "failed"])
    async def test_marking_a_deferred_instance_gives_back_its_try(
        self, client: TestClient, sim: Simulator, state: str
    ) -> None:
        """Deferring takes 1 off the stored try number; mark_tasks adds it back
        when it marks a deferred instance, so the answer shows the try again."""
        sim.advance(7)
        url = one("wait_for_partition", PARTITION, "wait_for_partition")
        _, deferred = await get_json(client, url)
        assert (deferred["state"], deferred["try_number"]) == ("deferred", 0)
        body = {"dry_run": False, "new_state": state}
        response = await client.patch(url, headers=ADMIN, json=body)
        assert response.status == 200
        _, marked = await get_json(client, url)
        assert (marked["state"], marked["try_number"]) == (state, 1)
        copy = Simulator(TEST_SETTINGS)
        copy.restore(sim.snapshot())  # the given-back mark is part of the world
        ti = copy.store.task_instances.require(
            ("wait_for_partition", PARTITION, "wait_for_partition", -1)
        )
        assert ti.last_try is not None and ti.last_try.given_back
        # Cleared, it runs a try of its own (2), not the deferred one resumed.
        ti = sim.store.task_instances.require(
            ("wait_for_partition", PARTITION, "wait_for_partition", -1)
        )
        sim.actions.clear([ti], reset_runs=True)
        sim.advance(60)
        assert [attempt.try_number for attempt in ti.tries] == [1, 2]

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(one("etl_orders", ETL, "notify"))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        response = await client.get(one("etl_orders", ETL, "notify"), headers=make_user("p"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


PARTITION = "scheduled__2023-03-31T00:00:00+00:00"
# wait_for_partition's sensor defers one second into its first try (00:00:02.87)
# until its target_time, 00:15; the triggerer heartbeats every 5 seconds.
DEFERRED_BODY = {
    **ti_body("wait_for_partition", PARTITION, "wait_for_partition"),
    "execution_date": "2023-03-31T00:00:00+00:00",
    "state": "deferred",
    "start_date": "2023-04-01T00:00:01.873823+00:00",
    # Airflow decrements the stored counter when a task defers.
    "try_number": 0,
    "hostname": "worker-1",
    "pid": 17192,
    "queued_when": T0,
    "operator": "DateTimeSensorAsync",
    "priority_weight": 2,
    # Its data interval end plus the template's 15 minutes: the trigger's moment.
    "rendered_fields": {"target_time": "2023-04-01T00:15:00+00:00"},
    "trigger": {
        "id": 1,
        "classpath": "airflow.triggers.temporal.DateTimeTrigger",
        "kwargs": "{'moment': DateTime(2023, 4, 1, 0, 15, 0, tzinfo=Timezone('UTC'))}",
        "created_date": "2023-04-01T00:00:02.873823+00:00",
        "triggerer_id": 2,
    },
    "triggerer_job": {
        "id": 2,
        "dag_id": None,
        "state": "running",
        "job_type": "TriggererJob",
        "start_date": T0,
        "end_date": None,
        "latest_heartbeat": "2023-04-01T00:00:05+00:00",
        "executor_class": "CeleryExecutor",
        "hostname": "triggerer-0",
        "unixname": "airflow",
    },
}


class TestGetMappedTaskInstance:
    async def test_mapped_instance(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        status, body = await get_json(client, one("fan_out_fan_in", FAN, "process_file", "/2"))
        assert status == 200
        assert body == process_file(2)

    async def test_unmapped_task_by_map_index(self, client: TestClient) -> None:
        status, body = await get_json(client, one("etl_orders", ETL, "notify", "/0"))
        assert status == 404
        assert body == problem(404, "Task instance not found", None, "NotFound")

    async def test_map_index_out_of_range(self, client: TestClient) -> None:
        status, body = await get_json(client, one("fan_out_fan_in", FAN, "process_file", "/4"))
        assert status == 404
        assert body == problem(404, "Task instance not found", None, "NotFound")

    async def test_negative_map_index_has_no_route(self, client: TestClient) -> None:
        status, body = await get_json(client, one("fan_out_fan_in", FAN, "process_file", "/-1"))
        assert status == 404
        assert body["type"] == "about:blank"

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(one("fan_out_fan_in", FAN, "process_file", "/0"))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/0")
        response = await client.get(url, headers=make_user("p", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


LIST_MAPPED = one("fan_out_fan_in", FAN, "process_file", "/listMapped")


class TestGetMappedTaskInstances:
    async def test_by_map_index(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        status, body = await get_json(client, LIST_MAPPED)
        assert status == 200
        assert body == {"task_instances": [process_file(i) for i in range(4)], "total_entries": 4}

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [(None, [0, 1, 2, 3]), ("-map_index", [3, 2, 1, 0]), ("state", [0, 1, 3, 2]),
         ("-state", [2, 0, 1, 3])],
    )  # fmt: skip
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str | None, expected: list[int]
    ) -> None:
        sim.advance(60)  # index 2 succeeded, the others run
        params = {"order_by": order_by} if order_by else {}
        _, body = await get_json(client, LIST_MAPPED, **params)
        assert [t["map_index"] for t in body["task_instances"]] == expected

    async def test_null_states_sort_last_ascending(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.store.task_instances.require(
            ("fan_out_fan_in", FAN, "process_file", 1)
        ).state = "queued"
        _, body = await get_json(client, LIST_MAPPED, order_by="state")
        assert [t["map_index"] for t in body["task_instances"]] == [1, 0, 2, 3]
        _, body = await get_json(client, LIST_MAPPED, order_by="-state")
        assert [t["map_index"] for t in body["task_instances"]] == [0, 2, 3, 1]

    @pytest.mark.parametrize("order_by", ["map_index", "start_date", "--state"])
    async def test_unsupported_order(self, client: TestClient, order_by: str) -> None:
        status, body = await get_json(client, LIST_MAPPED, order_by=order_by)
        assert status == 400
        assert body == problem(
            400, "Bad Request", f"Ordering with '{order_by}' is not supported", "BadRequest"
        )

    async def test_filters_limit_and_offset(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        _, body = await get_json(client, LIST_MAPPED, duration_gte="70", limit="1", offset="1")
        assert body == {"task_instances": [process_file(3)], "total_entries": 2}
        _, body = await get_json(client, LIST_MAPPED, state="running")
        assert body == {"task_instances": [], "total_entries": 0}
        _, body = await get_json(client, LIST_MAPPED, limit="0")
        assert body == {"task_instances": [], "total_entries": 4}

    async def test_unknown_run_of_a_mapped_task(self, client: TestClient) -> None:
        url = one("fan_out_fan_in", "nope", "process_file", "/listMapped")
        status, body = await get_json(client, url)
        assert status == 200
        assert body == {"task_instances": [], "total_entries": 0}

    @pytest.mark.parametrize(
        ("dag_id", "task_id", "title"),
        [
            ("nope", "process_file", "DAG nope not found"),
            ("fan_out_fan_in", "nope", "Task id nope not found"),
            ("fan_out_fan_in", "merge", "Task id merge is not mapped"),
        ],
    )
    async def test_not_found(
        self, client: TestClient, dag_id: str, task_id: str, title: str
    ) -> None:
        # The 404 comes before the order_by check.
        url = one(dag_id, FAN, task_id, "/listMapped")
        status, body = await get_json(client, url, order_by="bogus")
        assert status == 404
        assert body == problem(404, title, None, "NotFound")

    async def test_negative_limit(self, client: TestClient) -> None:
        status, body = await get_json(client, LIST_MAPPED, limit="-1")
        assert status == 400
        assert body == problem(400, "Page limit must be a positive integer", None, "BadRequest")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(LIST_MAPPED)
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        response = await client.get(LIST_MAPPED, headers=make_user("p", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


REFERENCE = {
    "dag_id": "etl_orders",
    "dag_run_id": ETL,
    "execution_date": "2023-03-31T23:00:00+00:00",
    "task_id": "extract_orders",
}


class TestPatchTaskInstance:
    async def test_dry_run_changes_nothing(self, client: TestClient, sim: Simulator) -> None:
        url = one("etl_orders", ETL, "extract_orders")
        body = {"dry_run": True, "new_state": "failed"}
        response = await client.patch(url, headers=ADMIN, json=body)
        assert response.status == 200
        assert await response.json() == REFERENCE
        assert (await get_json(client, url))[1] == ETL_AT_START[0]

    async def test_without_dry_run_it_is_a_dry_run(self, client: TestClient) -> None:
        # Airflow 2.5.3 crashes here; later releases default dry_run to true.
        url = one("etl_orders", ETL, "extract_orders")
        response = await client.patch(url, headers=ADMIN, json={"new_state": "success"})
        assert response.status == 200
        assert await response.json() == REFERENCE
        assert (await get_json(client, url))[1]["state"] == "queued"

    async def test_mark_failed(self, client: TestClient, sim: Simulator) -> None:
        url = one("etl_orders", ETL, "extract_orders")
        body = {"dry_run": False, "new_state": "failed"}
        response = await client.patch(url, headers=ADMIN, json=body)
        assert response.status == 200
        assert await response.json() == {}  # Airflow dumps a list with the one-item schema
        # Marked at the start instant: it never ran, its worker pickup is cancelled.
        expected = {**ETL_AT_START[0], "state": "failed", "start_date": T0, "end_date": T0,
                    "duration": 0.0}  # fmt: skip
        assert (await get_json(client, url))[1] == expected
        sim.advance(60)
        _, body = await get_json(client, tis_url("etl_orders", ETL))
        states = [t["state"] for t in body["task_instances"]]
        assert states == ["failed", "success", "upstream_failed", "upstream_failed", "success"]
        assert (await get_json(client, url))[1] == expected

    async def test_mark_success_lets_the_run_go_on(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(60)  # fetch_records is up for retry
        url = one("flaky_api_sync", FLAKY, "fetch_records")
        body = {"dry_run": False, "new_state": "success"}
        assert (await client.patch(url, headers=ADMIN, json=body)).status == 200
        _, ti = await get_json(client, url)
        assert (ti["state"], ti["try_number"], ti["end_date"]) == (
            "success", 1, "2023-04-01T00:00:20.870511+00:00"
        )  # fmt: skip
        # Its downstream instances are decided at once: store_records is queued
        # for a worker, alert_on_failure (one_failed) is skipped.
        _, body = await get_json(client, tis_url("flaky_api_sync", FLAKY))
        assert [(t["task_id"], t["state"], t["queued_when"]) for t in body["task_instances"]] == [
            ("fetch_records", "success", T0),
            ("store_records", "queued", "2023-04-01T00:01:00+00:00"),
            ("alert_on_failure", "skipped", None),
        ]

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"dry_run": True}, "{'new_state': ['Missing data for required field.']}"),
            ({"new_state": "failed", "note": "x"}, "{'note': ['Unknown field.']}"),
            ({"note": "x"},
             "{'new_state': ['Missing data for required field.'], 'note': ['Unknown field.']}"),
            ({"new_state": "running"},
             "'running' is not one of ['success', 'failed'] - 'new_state'"),
            ({"dry_run": "yes", "new_state": "failed"},
             "'yes' is not of type 'boolean' - 'dry_run'"),
        ],
    )  # fmt: skip
    async def test_body_errors(self, client: TestClient, body: dict[str, Any], detail: str) -> None:
        # The body is checked before the DAG is looked up.
        response = await client.patch(one("nope", ETL, "x"), headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", detail, "BadRequest")

    @pytest.mark.parametrize(
        ("dag_id", "run_id", "task_id", "title", "detail"),
        [
            ("nope", ETL, "notify", "DAG not found", "DAG 'nope' not found"),
            ("etl_orders", ETL, "nope", "Task not found",
             "Task 'nope' not found in DAG 'etl_orders'"),
            ("etl_orders", "nope", "notify", "Not Found",
             "Task instance not found for task 'notify' on DAG run with ID 'nope'"),
            ("fan_out_fan_in", FAN, "process_file", "Not Found",
             f"Task instance not found for task 'process_file' on DAG run with ID '{FAN}'"),
        ],
    )  # fmt: skip
    async def test_not_found(
        self, client: TestClient, dag_id: str, run_id: str, task_id: str, title: str, detail: str
    ) -> None:
        url = one(dag_id, run_id, task_id)
        response = await client.patch(url, headers=ADMIN, json={"new_state": "failed"})
        assert response.status == 404
        assert await response.json() == problem(404, title, detail, "NotFound")

    async def test_unauthenticated(self, client: TestClient) -> None:
        url = one("etl_orders", ETL, "notify")
        response = await client.patch(url, json={"new_state": "failed"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_viewer_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        url = one("etl_orders", ETL, "notify")
        response = await client.patch(url, headers=make_user("v", "Viewer"), json={})
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestPatchMappedTaskInstance:
    async def test_dry_run(self, client: TestClient) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/3")
        response = await client.patch(url, headers=ADMIN, json={"new_state": "success"})
        assert response.status == 200
        assert await response.json() == {
            "dag_id": "fan_out_fan_in",
            "dag_run_id": FAN,
            "execution_date": "2023-03-31T22:00:00+00:00",
            "task_id": "process_file",
        }

    async def test_mark_one_mapped_instance(self, client: TestClient, sim: Simulator) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/3")
        body = {"dry_run": False, "new_state": "success"}
        response = await client.patch(url, headers=ADMIN, json=body)
        assert response.status == 200
        assert await response.json() == {}
        _, listed = await get_json(client, LIST_MAPPED)
        assert [t["state"] for t in listed["task_instances"]] == [None, None, None, "success"]

    async def test_not_found(self, client: TestClient) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/4")
        response = await client.patch(url, headers=ADMIN, json={"new_state": "success"})
        assert response.status == 404
        assert await response.json() == problem(
            404, "Not Found",
            f"Task instance not found for task 'process_file' on DAG run with ID '{FAN}'",
            "NotFound",
        )  # fmt: skip

    async def test_no_body(self, client: TestClient) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/1")
        headers = {**ADMIN, "Content-Type": "application/json"}
        response = await client.patch(url, headers=headers)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "None is not of type 'object'", "BadRequest"
        )

    async def test_unauthenticated(self, client: TestClient) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/1")
        response = await client.patch(url, json={"new_state": "success"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_viewer_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/1")
        response = await client.patch(url, headers=make_user("v", "Viewer"), json={})
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestSetTaskInstanceNote:
    async def test_set_and_clear(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(60)
        url = one("etl_orders", ETL, "extract_orders", "/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "Slow extract"})
        assert response.status == 200
        assert await response.json() == extract_orders_done(note="Slow extract")
        _, listed = await get_json(client, tis_url("etl_orders", ETL), limit="1")
        assert listed["task_instances"][0]["note"] == "Slow extract"
        response = await client.patch(url, headers=ADMIN, json={"note": ""})
        assert (await response.json())["note"] == ""

    async def test_an_integer_map_index_is_ignored(self, client: TestClient) -> None:
        url = one("etl_orders", ETL, "notify", "/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "n", "map_index": 2})
        assert response.status == 200
        assert await response.json() == {**ETL_AT_START[4], "note": "n"}

    async def test_mapped_task_has_no_unmapped_instance(self, client: TestClient) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "n"})
        assert response.status == 404
        assert await response.json() == problem(
            404,
            f"Task Instance not found for dag_id=fan_out_fan_in, run_id={FAN}, "
            "task_id=process_file",
            None,
            "NotFound",
        )

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"note": "x" * 1001}, "{'note': ['Longer than maximum length 1000.']}"),
            ({"note": "x", "map_index": None}, "{'map_index': ['Field may not be null.']}"),
            ({"note": "x", "map_index": "two"}, "{'map_index': ['Not a valid integer.']}"),
            ({"note": "x", "user": "me"}, "{'user': ['Unknown field.']}"),
            ({"note": None}, "None is not of type 'string' - 'note'"),
            ({}, "'note' is a required property"),
        ],
    )
    async def test_body_errors(self, client: TestClient, body: dict[str, Any], detail: str) -> None:
        url = one("nope", ETL, "notify", "/setNote")
        response = await client.patch(url, headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", detail, "BadRequest")

    async def test_not_found(self, client: TestClient) -> None:
        url = one("etl_orders", "nope", "notify", "/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "n"})
        assert response.status == 404
        assert await response.json() == problem(
            404, "Task Instance not found for dag_id=etl_orders, run_id=nope, task_id=notify",
            None, "NotFound",
        )  # fmt: skip

    async def test_unauthenticated(self, client: TestClient) -> None:
        url = one("etl_orders", ETL, "notify", "/setNote")
        response = await client.patch(url, json={"note": "n"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_viewer_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        url = one("etl_orders", ETL, "notify", "/setNote")
        response = await client.patch(url, headers=make_user("v", "Viewer"), json={"note": "n"})
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestSetMappedTaskInstanceNote:
    async def test_set(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(120)
        url = one("fan_out_fan_in", FAN, "process_file", "/2/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "Small file"})
        assert response.status == 200
        assert await response.json() == process_file(2, note="Small file")

    async def test_not_found(self, client: TestClient) -> None:
        url = one("etl_orders", ETL, "notify", "/0/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "n"})
        assert response.status == 404
        assert await response.json() == problem(
            404, "Task Instance not found for dag_id=etl_orders, run_id="
            f"{ETL}, task_id=notify", None, "NotFound",
        )  # fmt: skip

    async def test_too_long(self, client: TestClient) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/2/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "x" * 1001})
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "{'note': ['Longer than maximum length 1000.']}", "BadRequest"
        )

    async def test_unauthenticated(self, client: TestClient) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/2/setNote")
        response = await client.patch(url, json={"note": "n"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_viewer_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        url = one("fan_out_fan_in", FAN, "process_file", "/2/setNote")
        response = await client.patch(url, headers=make_user("v", "Viewer"), json={"note": "n"})
        assert response.status == 403
        assert await response.json() == FORBIDDEN


LINKED = {
    "dag_id": "linked",
    "schedule": "@daily",
    "start_date": "2023-03-01T00:00:00+00:00",
    "catchup": False,
    "tasks": [
        {"task_id": "load", "operator": "BigQueryInsertJobOperator",
         "module_path": "airflow.providers.google.cloud.operators.bigquery", "duration": 30,
         "extra_links": ["BigQuery Console", "Audit Trail"]},
        {"task_id": "shards", "upstream": ["load"], "map_count": 2,
         "extra_links": ["Audit Trail"]},
    ],
}  # fmt: skip
LINKED_RUN = "scheduled__2023-03-31T00:00:00+00:00"


class TestGetExtraLinks:
    async def test_operator_without_links(self, client: TestClient) -> None:
        status, body = await get_json(client, one("etl_orders", ETL, "notify", "/links"))
        assert status == 200
        assert body == {}

    async def test_links_are_empty_until_the_task_ran(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.add_dags([LINKED])
        sim.advance(0.5)  # the run exists; load is queued
        url = one("linked", LINKED_RUN, "load", "/links")
        response = await client.get(url, headers=ADMIN)
        assert response.status == 200
        assert await response.text() == '{\n  "Audit Trail": null,\n  "BigQuery Console": null\n}\n'
        sim.advance(60)
        _, body = await get_json(client, url)
        query = "dag_id=linked&run_id=scheduled__2023-03-31T00%3A00%3A00%2B00%3A00&task_id=load"
        assert body == {
            "Audit Trail": f"https://audit-trail.example.com/?{query}&try_number=1",
            "BigQuery Console": f"https://bigquery-console.example.com/?{query}&try_number=1",
        }

    async def test_mapped_task_has_no_unmapped_instance(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.add_dags([LINKED])
        sim.advance(0.5)
        status, body = await get_json(client, one("linked", LINKED_RUN, "shards", "/links"))
        assert status == 404
        assert body == problem(
            404, "DAG Run not found", f'DAG Run with ID = "{LINKED_RUN}" not found', "NotFound"
        )

    @pytest.mark.parametrize(
        ("dag_id", "run_id", "task_id", "title", "detail"),
        [
            ("nope", ETL, "notify", "DAG not found", 'DAG with ID = "nope" not found'),
            ("etl_orders", ETL, "nope", "Task not found", 'Task with ID = "nope" not found'),
            ("etl_orders", "nope", "notify", "DAG Run not found",
             'DAG Run with ID = "nope" not found'),
        ],
    )  # fmt: skip
    async def test_not_found(
        self, client: TestClient, dag_id: str, run_id: str, task_id: str, title: str, detail: str
    ) -> None:
        status, body = await get_json(client, one(dag_id, run_id, task_id, "/links"))
        assert status == 404
        assert body == problem(404, title, detail, "NotFound")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(one("etl_orders", ETL, "notify", "/links"))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        url = one("etl_orders", ETL, "notify", "/links")
        response = await client.get(url, headers=make_user("p", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


# -- the official client --------------------------------------------------------------


@pytest.fixture
def server(live_dags: LiveServer) -> LiveServer:
    return live_dags


@pytest.fixture
def ti_api(server: LiveServer) -> Iterator[Any]:
    import airflow_client.client as airflow_client
    from airflow_client.client.api.task_instance_api import TaskInstanceApi

    server.sim.reset()
    server.sim.advance(150)
    configuration = airflow_client.Configuration(
        host=server.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api:
        yield TaskInstanceApi(api)


class TestOfficialClient:
    def test_get_task_instances(self, ti_api: Any) -> None:
        # The client rejects null states, triggers and triggerer jobs (real Airflow sends them).
        result = ti_api.get_task_instances("fan_out_fan_in", FAN, _check_return_type=False)
        assert result["total_entries"] == 7
        assert result["task_instances"][1]["pid"] == 27392

    def test_get_task_instances_batch(self, ti_api: Any) -> None:
        from airflow_client.client.model.list_task_instance_form import ListTaskInstanceForm

        form = ListTaskInstanceForm(dag_ids=["fan_out_fan_in"], duration_gte=70.0)
        result = ti_api.get_task_instances_batch(form, _check_return_type=False)
        assert [t["map_index"] for t in result["task_instances"]] == [0, 3]

    def test_get_task_instance(self, ti_api: Any) -> None:
        result = ti_api.get_task_instance(
            "flaky_api_sync", FLAKY, "fetch_records", _check_return_type=False
        )
        assert (result["state"], result["try_number"], result["trigger"]) == ("success", 2, None)

    def test_get_mapped_task_instance(self, ti_api: Any) -> None:
        result = ti_api.get_mapped_task_instance(
            "fan_out_fan_in", FAN, "process_file", 3, _check_return_type=False
        )
        assert (result["map_index"], result["duration"]) == (3, 75.422)

    def test_get_mapped_task_instances(self, ti_api: Any) -> None:
        result = ti_api.get_mapped_task_instances(
            "fan_out_fan_in", FAN, "process_file", order_by="-map_index", limit=2,
            _check_return_type=False,
        )  # fmt: skip
        assert [t["map_index"] for t in result["task_instances"]] == [3, 2]

    def test_patch_task_instance(self, ti_api: Any) -> None:
        from airflow_client.client.model.update_task_instance import UpdateTaskInstance

        body = UpdateTaskInstance(dry_run=True, new_state="failed")
        result = ti_api.patch_task_instance("etl_orders", ETL, "notify", body)
        assert result.to_dict() == {**REFERENCE, "task_id": "notify"}

    def test_patch_mapped_task_instance(self, ti_api: Any, server: LiveServer) -> None:
        from airflow_client.client.model.update_task_instance import UpdateTaskInstance

        body = UpdateTaskInstance(dry_run=False, new_state="failed")
        result = ti_api.patch_mapped_task_instance("fan_out_fan_in", FAN, "process_file", 1,
                                                   update_task_instance=body)  # fmt: skip
        assert result.to_dict() == {}
        key = ("fan_out_fan_in", FAN, "process_file", 1)
        assert server.sim.store.task_instances.require(key).state == "failed"

    def test_set_task_instance_note(self, ti_api: Any) -> None:
        # The 2.5.1 client has no note operations: call the route through its ApiClient.
        response = ti_api.api_client.call_api(
            f"/dags/etl_orders/dagRuns/{ETL}/taskInstances/notify/setNote", "PATCH",
            body={"note": "checked"}, header_params={"Content-Type": "application/json"},
            auth_settings=["Basic"], _preload_content=False,
        )  # fmt: skip
        assert response.status == 200
        assert response.json()["note"] == "checked"

    def test_set_mapped_task_instance_note(self, ti_api: Any) -> None:
        response = ti_api.api_client.call_api(
            f"/dags/fan_out_fan_in/dagRuns/{FAN}/taskInstances/process_file/0/setNote",
            "PATCH", body={"note": "checked"}, auth_settings=["Basic"], _preload_content=False,
            header_params={"Content-Type": "application/json"},
        )  # fmt: skip
        assert response.status == 200
        assert response.json() == process_file(0, note="checked")

    def test_get_extra_links(self, ti_api: Any) -> None:
        # The spec declares {"extra_links": [...]}; Airflow answers a flat object.
        result = ti_api.get_extra_links("etl_orders", ETL, "notify", _check_return_type=False)
        assert result.to_dict() == {}

    def test_errors_reach_the_client(self, ti_api: Any) -> None:
        from airflow_client.client.exceptions import NotFoundException

        with pytest.raises(NotFoundException) as caught:
            ti_api.get_task_instance("fan_out_fan_in", FAN, "process_file")
        assert caught.value.status == 404
