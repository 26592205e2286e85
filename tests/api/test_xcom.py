"""XCom: the entries task instances pushed, listed (with `~` wildcards) and
read one by one, against the built-in DAGs.

After two minutes of virtual time, eleven successful tries have pushed their
return values (and fan_out_fan_in.list_files its `file_count`): the four
mapped process_file instances each pushed one; wait_for_partition's sensor
is still deferred.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.state.entities import Role
from simulator.state.run_model import XCom
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, TEST_SETTINGS, problem

URL = "/api/v1/dags"
ETL = "scheduled__2023-03-31T23:00:00+00:00"
FAN = "scheduled__2023-03-31T22:00:00+00:00"
FLAKY = "scheduled__2023-03-31T22:15:00+00:00"
PRODUCER = "scheduled__2023-03-31T22:30:00+00:00"
UNAUTHENTICATED = problem(401, "Unauthorized", None, "Unauthenticated")
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")
NOT_FOUND = problem(404, "XCom entry not found", None, "NotFound")

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


@pytest.fixture
def pushed(sim: Simulator) -> Simulator:
    sim.advance(150)  # flaky_api_sync's run is done
    return sim


def entries_url(dag_id: str, run_id: str, task_id: str, key: str | None = None) -> str:
    url = f"{URL}/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries"
    return f"{url}/{key}" if key is not None else url


def item(
    dag_id: str, task_id: str, execution: str, timestamp: str, key: str = "return_value"
) -> dict[str, str]:
    return {
        "dag_id": dag_id,
        "execution_date": execution,
        "key": key,
        "task_id": task_id,
        "timestamp": timestamp,
    }


FAN_DATE, FLAKY_DATE = "2023-03-31T22:00:00+00:00", "2023-03-31T22:15:00+00:00"
ETL_DATE, PRODUCER_DATE = "2023-03-31T23:00:00+00:00", "2023-03-31T22:30:00+00:00"
CONSUMER_DATE = "2023-04-01T00:01:14.756790+00:00"
# Ordered by run logical date, task_id, dag_id, key (mapped entries tie).
ALL = [
    item("fan_out_fan_in", "list_files", FAN_DATE, "2023-04-01T00:00:15.855411+00:00",
         "file_count"),
    item("fan_out_fan_in", "list_files", FAN_DATE, "2023-04-01T00:00:15.855411+00:00"),
    item("fan_out_fan_in", "merge", FAN_DATE, "2023-04-01T00:02:07.415380+00:00"),
    item("fan_out_fan_in", "process_file", FAN_DATE, "2023-04-01T00:00:43.693940+00:00"),
    item("fan_out_fan_in", "process_file", FAN_DATE, "2023-04-01T00:01:22.162944+00:00"),
    item("fan_out_fan_in", "process_file", FAN_DATE, "2023-04-01T00:01:32.493580+00:00"),
    item("fan_out_fan_in", "process_file", FAN_DATE, "2023-04-01T00:01:34.055971+00:00"),
    item("fan_out_fan_in", "publish_report", FAN_DATE, "2023-04-01T00:02:12.801551+00:00"),
    item("flaky_api_sync", "fetch_records", FLAKY_DATE, "2023-04-01T00:02:15.065995+00:00"),
    item("flaky_api_sync", "store_records", FLAKY_DATE, "2023-04-01T00:02:29.007312+00:00"),
    item("orders_dataset_producer", "build_orders_table", PRODUCER_DATE,
         "2023-04-01T00:01:14.756790+00:00"),
    item("etl_orders", "extract_customers", ETL_DATE, "2023-04-01T00:00:32.266607+00:00"),
    item("etl_orders", "extract_orders", ETL_DATE, "2023-04-01T00:00:31.824184+00:00"),
    item("orders_dataset_consumer", "refresh_dashboard", CONSUMER_DATE,
         "2023-04-01T00:01:48.429692+00:00"),
]  # fmt: skip


def push(sim: Simulator, dag_id: str, run_id: str, task_id: str, key: str, value: Any) -> None:
    at = datetime(2023, 4, 1, 0, 5, tzinfo=UTC)
    sim.store.xcoms.add(
        XCom(dag_id=dag_id, run_id=run_id, task_id=task_id, key=key, value=value, timestamp=at)
    )


class TestGetXcomEntries:
    async def test_any_dag_run_and_task(self, client: TestClient, pushed: Simulator) -> None:
        response = await client.get(entries_url("~", "~", "~"), headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"xcom_entries": ALL, "total_entries": 14}

    async def test_one_task_instance(self, client: TestClient, pushed: Simulator) -> None:
        response = await client.get(entries_url("fan_out_fan_in", FAN, "list_files"), headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"xcom_entries": ALL[0:2], "total_entries": 2}

    @pytest.mark.parametrize(
        ("dag_id", "run_id", "task_id", "expected"),
        [
            ("fan_out_fan_in", "~", "~", slice(0, 8)),
            ("~", FAN, "~", slice(0, 8)),
            ("~", "~", "process_file", slice(3, 7)),
            ("etl_orders", ETL, "~", slice(11, 13)),
        ],
    )
    async def test_wildcards(
        self,
        client: TestClient,
        pushed: Simulator,
        dag_id: str,
        run_id: str,
        task_id: str,
        expected: slice,
    ) -> None:
        response = await client.get(entries_url(dag_id, run_id, task_id), headers=ADMIN)
        body = await response.json()
        assert body == {"xcom_entries": ALL[expected], "total_entries": len(ALL[expected])}

    @pytest.mark.parametrize(
        ("dag_id", "run_id", "task_id"),
        [("nope", "~", "~"), ("etl_orders", "nope", "~"), ("etl_orders", ETL, "notify")],
    )
    async def test_nothing_pushed(
        self, client: TestClient, pushed: Simulator, dag_id: str, run_id: str, task_id: str
    ) -> None:
        response = await client.get(entries_url(dag_id, run_id, task_id), headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"xcom_entries": [], "total_entries": 0}

    async def test_limit_and_offset(self, client: TestClient, pushed: Simulator) -> None:
        params = {"limit": "2", "offset": "12"}
        response = await client.get(entries_url("~", "~", "~"), headers=ADMIN, params=params)
        assert await response.json() == {"xcom_entries": ALL[12:], "total_entries": 14}

    @pytest.mark.parametrize(("limit", "count"), [("0", 100), ("1000", 100), ("5", 5)])
    async def test_limit_is_clamped(
        self, client: TestClient, sim: Simulator, limit: str, count: int
    ) -> None:
        for index in range(120):
            push(sim, "etl_orders", ETL, "extract_orders", f"key_{index:03}", index)
        params = {"limit": limit}
        response = await client.get(entries_url("~", "~", "~"), headers=ADMIN, params=params)
        body = await response.json()
        assert (len(body["xcom_entries"]), body["total_entries"]) == (count, 120)
        assert body["xcom_entries"][0]["key"] == "key_000"

    async def test_negative_limit(self, client: TestClient) -> None:
        params = {"limit": "-1"}
        response = await client.get(entries_url("~", "~", "~"), headers=ADMIN, params=params)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    async def test_any_dag_lists_readable_dags_only(
        self, client: TestClient, pushed: Simulator, make_user: Headers
    ) -> None:
        permissions = [("can_read", "DAG:etl_orders"), ("can_read", "DAG Runs"),
                       ("can_read", "Task Instances"), ("can_read", "XComs")]  # fmt: skip
        pushed.store.roles.add(Role(name="EtlReader", permissions=permissions))
        headers = make_user("reader", "EtlReader")
        response = await client.get(entries_url("~", "~", "~"), headers=headers)
        assert response.status == 200
        assert await response.json() == {"xcom_entries": ALL[11:13], "total_entries": 2}
        response = await client.get(entries_url("fan_out_fan_in", "~", "~"), headers=headers)
        assert response.status == 403
        assert await response.json() == FORBIDDEN

    async def test_viewer_may_read(self, client: TestClient, make_user: Headers) -> None:
        headers = make_user("v", "Viewer")
        response = await client.get(entries_url("~", "~", "~"), headers=headers)
        assert response.status == 200

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(entries_url("~", "~", "~"))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        response = await client.get(entries_url("~", "~", "~"), headers=make_user("p", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestGetXcomEntry:
    async def test_value_is_the_str_of_the_object(
        self, client: TestClient, pushed: Simulator
    ) -> None:
        url = entries_url("etl_orders", ETL, "extract_orders", "return_value")
        response = await client.get(url, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            **ALL[12],
            "value": "{'task': 'extract_orders', 'rows': 1766}",
        }

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("plain text", "plain text"),
            (42, "42"),
            (1.5, "1.5"),
            (True, "True"),
            ([1, "a", None], "[1, 'a', None]"),
            ({"nested": {"ok": False}}, "{'nested': {'ok': False}}"),
            (None, None),
        ],
    )
    async def test_values(
        self, client: TestClient, sim: Simulator, value: Any, expected: str | None
    ) -> None:
        push(sim, "etl_orders", ETL, "notify", "custom", value)
        url = entries_url("etl_orders", ETL, "notify", "custom")
        response = await client.get(url, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            **item("etl_orders", "notify", ETL_DATE, "2023-04-01T00:05:00+00:00", "custom"),
            "value": expected,
        }

    async def test_deserialize_changes_nothing(self, client: TestClient, pushed: Simulator) -> None:
        url = entries_url("fan_out_fan_in", FAN, "list_files", "file_count")
        response = await client.get(url, headers=ADMIN, params={"deserialize": "true"})
        assert response.status == 200
        assert await response.json() == {**ALL[0], "value": "8216"}

    async def test_mapped_task_answers_the_first_map_index(
        self, client: TestClient, pushed: Simulator
    ) -> None:
        # Airflow 2.5.3 crashes (several rows for one lookup).
        url = entries_url("fan_out_fan_in", FAN, "process_file", "return_value")
        response = await client.get(url, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            **ALL[6],  # map index 0 finished last
            "value": "{'task': 'process_file', 'rows': 3299}",
        }

    @pytest.mark.parametrize(
        ("dag_id", "run_id", "task_id", "key"),
        [
            ("etl_orders", ETL, "extract_orders", "nope"),
            ("etl_orders", ETL, "notify", "return_value"),
            ("etl_orders", "nope", "extract_orders", "return_value"),
            ("~", ETL, "extract_orders", "return_value"),
            ("etl_orders", "~", "~", "return_value"),
        ],
    )
    async def test_not_found(
        self, client: TestClient, pushed: Simulator, dag_id: str, run_id: str, task_id: str,
        key: str,
    ) -> None:  # fmt: skip
        response = await client.get(entries_url(dag_id, run_id, task_id, key), headers=ADMIN)
        assert response.status == 404
        assert await response.json() == NOT_FOUND

    async def test_bad_deserialize(self, client: TestClient) -> None:
        url = entries_url("etl_orders", ETL, "extract_orders", "return_value")
        response = await client.get(url, headers=ADMIN, params={"deserialize": "yes"})
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "Wrong type, expected 'boolean' for query parameter 'deserialize'",
            "BadRequest",
        )  # fmt: skip

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(entries_url("etl_orders", ETL, "extract_orders", "k"))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(self, client: TestClient, make_user: Headers) -> None:
        url = entries_url("etl_orders", ETL, "extract_orders", "k")
        response = await client.get(url, headers=make_user("p", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


@pytest.fixture
def server(live_dags: LiveServer) -> LiveServer:
    return live_dags


@pytest.fixture
def xcom_api(server: LiveServer) -> Iterator[Any]:
    import airflow_client.client as airflow_client
    from airflow_client.client.api.x_com_api import XComApi

    server.sim.reset()
    server.sim.advance(150)
    configuration = airflow_client.Configuration(
        host=server.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api:
        yield XComApi(api)


class TestOfficialClient:
    def test_get_xcom_entries(self, xcom_api: Any) -> None:
        result = xcom_api.get_xcom_entries("~", "~", "~", limit=2)
        assert result.total_entries == 14
        assert [e.key for e in result.xcom_entries] == ["file_count", "return_value"]

    def test_get_xcom_entry(self, xcom_api: Any) -> None:
        # The 2.5.1 client fails on its own composed XCom model (execution_date
        # compared as str and datetime), real Airflow or not: read it unchecked.
        result = xcom_api.get_xcom_entry(
            "flaky_api_sync", FLAKY, "fetch_records", "return_value", _check_return_type=False
        )
        assert result.value == "{'task': 'fetch_records', 'rows': 1671}"
        assert result.execution_date == "2023-03-31T22:15:00+00:00"


@pytest.mark.parametrize(
    "scope", [("~", "~", "~"), ("etl_orders", "~", "~"), ("~", "~", "extract_orders")]
)
def test_lists_follow_the_plain_order_on_a_world_with_history(
    scope: tuple[str, str, str],
) -> None:
    """Read by logical date through the run index, the list equals sorting
    every entry by (run logical date, task_id, dag_id, key), ties in the
    order pushed, at any offset."""
    from simulator.api.xcom import get_xcom_entries

    sim = Simulator(dataclasses.replace(TEST_SETTINGS, scenario="default"))
    sim.advance(3 * 3600)
    dag_id, run_id, task_id = scope
    rows = [
        (xcom, sim.store.dag_runs.require((xcom.dag_id, xcom.run_id)))
        for xcom in sim.store.xcoms
        if dag_id in ("~", xcom.dag_id) and task_id in ("~", xcom.task_id)
    ]
    rows.sort(key=lambda row: (row[1].logical_date, row[0].task_id, row[0].dag_id, row[0].key))
    expected = [(x.dag_id, x.run_id, x.task_id, x.map_index, x.key) for x, _ in rows]
    assert len(expected) > 20
    admin = sim.store.users.require("admin")
    for offset in (0, 7, len(expected) - 3):
        page = get_xcom_entries(sim, dag_id=dag_id, dag_run_id=run_id, task_id=task_id,
                                limit=10, offset=offset, user=admin).body()  # fmt: skip
        assert page["total_entries"] == len(expected)
        got = [(e["dag_id"], e["execution_date"], e["task_id"], e["key"])
               for e in page["xcom_entries"]]  # fmt: skip
        want = [(d, sim.store.dag_runs.require((d, r)).logical_date.isoformat(), t, k)
                for d, r, t, _, k in expected[offset : offset + 10]]  # fmt: skip
        assert got == want


def test_a_kept_date_group_follows_its_entries() -> None:
    """The sorted entries of a date are kept between calls, and read again
    when one of its runs' entries goes or comes back."""
    from simulator.api.xcom import get_xcom_entries

    sim = Simulator(dataclasses.replace(TEST_SETTINGS, scenario="default"))
    sim.advance(3 * 3600)
    admin = sim.store.users.require("admin")

    def first_page() -> list[tuple[str, str, str]]:
        body = get_xcom_entries(sim, dag_id="~", dag_run_id="~", task_id="~", limit=5,
                                user=admin).body()  # fmt: skip
        return [(e["dag_id"], e["task_id"], e["timestamp"]) for e in body["xcom_entries"]]

    before = first_page()
    assert first_page() == before
    dag_id, task_id, _ = before[0]
    first = next(x for x in sim.store.xcoms if (x.dag_id, x.task_id) == (dag_id, task_id))
    sim.store.xcoms.delete(first.ident)
    assert first_page()[0] != before[0]
    sim.store.xcoms.add(dataclasses.replace(first, timestamp=sim.now()))
    again = first_page()
    assert again[0][:2] == before[0][:2] and again[0][2] == sim.now().isoformat()
