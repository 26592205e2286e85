"""Dataset: get_datasets, get_dataset and get_dataset_events.

The world has the built-in DAGs (orders_dataset_producer updates
s3://warehouse/orders/cleaned.parquet, orders_dataset_consumer is scheduled
on it). 2.5.3 has no write API for datasets: tests add rows to the store or
let the engine produce events by advancing the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.state.run_model import Dataset, DatasetEvent
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, NEGATIVE_OFFSET, TEST_SETTINGS, problem

URL = "/api/v1/datasets"
EVENTS = "/api/v1/datasets/events"
ORDERS = "s3://warehouse/orders/cleaned.parquet"
T0 = "2023-04-01T00:00:00+00:00"
UNAUTHENTICATED = problem(401, "Unauthorized", None, "Unauthenticated")
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")
NEGATIVE_LIMIT = problem(400, "Page limit must be a positive integer", None, "BadRequest")


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2023, 3, day, hour, tzinfo=UTC)


def iso(day: int, hour: int = 0) -> str:
    return at(day, hour).isoformat()


def disallowed(name: str) -> dict[str, Any]:
    return problem(
        400,
        "Bad Request",
        f"Ordering with '{name}' is disallowed or the attribute does not exist on the model",
        "BadRequest",
    )


ORDERS_BODY = {
    "consuming_dags": [{"created_at": T0, "dag_id": "orders_dataset_consumer", "updated_at": T0}],
    "created_at": T0,
    "extra": {},
    "id": 1,
    "producing_tasks": [
        {
            "created_at": T0,
            "dag_id": "orders_dataset_producer",
            "task_id": "build_orders_table",
            "updated_at": T0,
        }
    ],
    "updated_at": T0,
    "uri": ORDERS,
}


def seed_datasets(sim: Simulator) -> None:
    """Three datasets no DAG refers to; id, uri, created and updated orders all differ."""
    rows = (
        ("s3://lake/Sales_2023.csv", {"owner": "sales"}, at(3), at(5)),
        ("gs://bucket/a_b/x.json", {}, at(1), at(9)),
        ("gs://bucket/azb/y.json", {}, at(2), at(2)),
    )
    for uri, extra, created, updated in rows:
        sim.store.datasets.add(
            Dataset(uri=uri, extra=extra, created_at=created, updated_at=updated)
        )


def plain(dataset_id: int, uri: str, created: str, updated: str, **extra: Any) -> dict[str, Any]:
    return {
        "consuming_dags": [],
        "created_at": created,
        "extra": extra,
        "id": dataset_id,
        "producing_tasks": [],
        "updated_at": updated,
        "uri": uri,
    }


SALES = plain(2, "s3://lake/Sales_2023.csv", iso(3), iso(5), owner="sales")
A_B = plain(3, "gs://bucket/a_b/x.json", iso(1), iso(9))
A_Z_B = plain(4, "gs://bucket/azb/y.json", iso(2), iso(2))

# Two producers of one dataset and a consumer of two.
LAKE_DAGS = [
    {
        "dag_id": "lake_writer",
        "schedule": None,
        "start_date": "2023-03-01T00:00:00+00:00",
        "tasks": [
            {"task_id": "write_sales", "outlets": ["s3://lake/sales.csv", "s3://lake/stock.csv"]},
            {"task_id": "write_sales_again", "outlets": ["s3://lake/sales.csv"]},
        ],
    },
    {
        "dag_id": "lake_reader",
        "schedule": {"datasets": ["s3://lake/sales.csv", ORDERS]},
        "start_date": "2023-03-01T00:00:00+00:00",
        "tasks": [{"task_id": "read"}],
    },
]


class TestGetDataset:
    async def test_url_encoded_uri(self, client: TestClient) -> None:
        # Clients encode the uri, slashes included (the official client does).
        response = await client.get(f"{URL}/{quote(ORDERS, safe='')}", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == ORDERS_BODY

    async def test_raw_slashes(self, client: TestClient) -> None:
        # `format: path`: the parameter takes the rest of the path, slashes and all.
        response = await client.get(f"{URL}/{ORDERS}", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == ORDERS_BODY

    async def test_references_from_the_dag_definitions(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.add_dags(LAKE_DAGS)
        response = await client.get(f"{URL}/{quote('s3://lake/sales.csv', safe='')}", headers=ADMIN)
        assert response.status == 200
        stamp = {"created_at": T0, "updated_at": T0}
        assert await response.json() == {
            "consuming_dags": [{"dag_id": "lake_reader", **stamp}],
            "created_at": T0,
            "extra": {},
            "id": 2,
            "producing_tasks": [
                {"dag_id": "lake_writer", "task_id": "write_sales", **stamp},
                {"dag_id": "lake_writer", "task_id": "write_sales_again", **stamp},
            ],
            "updated_at": T0,
            "uri": "s3://lake/sales.csv",
        }
        orders = await (await client.get(f"{URL}/{ORDERS}", headers=ADMIN)).json()
        assert [ref["dag_id"] for ref in orders["consuming_dags"]] == [
            "orders_dataset_consumer",
            "lake_reader",
        ]

    async def test_extra_is_rendered(self, client: TestClient, sim: Simulator) -> None:
        seed_datasets(sim)
        response = await client.get(f"{URL}/{quote(SALES['uri'], safe='')}", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == SALES

    async def test_deleted_dag_takes_its_references(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.actions.delete_dag(sim.store.dags.require("orders_dataset_producer"))
        body = await (await client.get(f"{URL}/{ORDERS}", headers=ADMIN)).json()
        assert body == {**ORDERS_BODY, "producing_tasks": []}

    async def test_viewer_can_read(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(f"{URL}/{ORDERS}", headers=make_user("viewer", "Viewer"))
        assert response.status == 200

    @pytest.mark.parametrize(
        ("path", "uri"),
        [
            ("s3%3A%2F%2Fnowhere%2Fx", "s3://nowhere/x"),
            ("a%20b", "a b"),
            ("S3://warehouse/orders/cleaned.parquet", "S3://warehouse/orders/cleaned.parquet"),
        ],
    )
    async def test_404(self, client: TestClient, path: str, uri: str) -> None:
        # The lookup is exact: case matters, and the detail shows the decoded uri.
        response = await client.get(f"{URL}/{path}", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "Dataset not found", f"The Dataset with uri: `{uri}` was not found", "NotFound"
        )

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/{ORDERS}")
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403(self, client: TestClient, make_user: Callable[..., dict[str, str]]) -> None:
        response = await client.get(f"{URL}/{ORDERS}", headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN

    async def test_403_before_404(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(f"{URL}/missing", headers=make_user("public", "Public"))
        assert response.status == 403


class TestGetDatasets:
    async def test_default_world(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"datasets": [ORDERS_BODY], "total_entries": 1}

    async def test_empty(self, client: TestClient, sim: Simulator) -> None:
        sim.store.datasets.clear()
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"datasets": [], "total_entries": 0}

    async def test_default_order_is_id(self, client: TestClient, sim: Simulator) -> None:
        seed_datasets(sim)
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "datasets": [ORDERS_BODY, SALES, A_B, A_Z_B],
            "total_entries": 4,
        }

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            ("id", [1, 2, 3, 4]),
            ("-id", [4, 3, 2, 1]),
            ("--id", [4, 3, 2, 1]),  # every leading dash is stripped
            ("uri", [3, 4, 2, 1]),
            ("-uri", [1, 2, 4, 3]),
            ("created_at", [3, 4, 2, 1]),
            ("-created_at", [1, 2, 4, 3]),
            ("updated_at", [4, 2, 3, 1]),
            ("-updated_at", [1, 3, 2, 4]),
        ],
    )
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str, expected: list[int]
    ) -> None:
        seed_datasets(sim)
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert [dataset["id"] for dataset in body["datasets"]] == expected
        assert body["total_entries"] == 4

    @pytest.mark.parametrize(
        ("order_by", "name"),
        [("extra", "extra"), ("-producing_tasks", "producing_tasks"), ("", ""), ("URI", "URI")],
    )
    async def test_order_by_outside_the_allow_list(
        self, client: TestClient, order_by: str, name: str
    ) -> None:
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == disallowed(name)

    async def test_uri_pattern_is_case_insensitive(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_datasets(sim)
        response = await client.get(URL, params={"uri_pattern": "SALES_"}, headers=ADMIN)
        assert response.status == 200
        # Quirk: total_entries counts every dataset, ignoring uri_pattern.
        assert await response.json() == {"datasets": [SALES], "total_entries": 4}

    async def test_uri_pattern_is_a_substring(self, client: TestClient, sim: Simulator) -> None:
        seed_datasets(sim)
        response = await client.get(URL, params={"uri_pattern": "://"}, headers=ADMIN)
        body = await response.json()
        assert [dataset["id"] for dataset in body["datasets"]] == [1, 2, 3, 4]

    async def test_uri_pattern_like_wildcards(self, client: TestClient, sim: Simulator) -> None:
        # Airflow filters with ILIKE '%<pattern>%' unescaped: `_` is any one character.
        seed_datasets(sim)
        response = await client.get(URL, params={"uri_pattern": "a_b/"}, headers=ADMIN)
        assert await response.json() == {"datasets": [A_B, A_Z_B], "total_entries": 4}
        response = await client.get(URL, params={"uri_pattern": "bucket%.json"}, headers=ADMIN)
        assert await response.json() == {"datasets": [A_B, A_Z_B], "total_entries": 4}
        # A backslash escapes the wildcard.
        response = await client.get(URL, params={"uri_pattern": "a\\_b"}, headers=ADMIN)
        assert await response.json() == {"datasets": [A_B], "total_entries": 4}

    async def test_uri_pattern_without_match(self, client: TestClient, sim: Simulator) -> None:
        seed_datasets(sim)
        response = await client.get(URL, params={"uri_pattern": "nothing"}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"datasets": [], "total_entries": 4}

    async def test_empty_uri_pattern_filters_nothing(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_datasets(sim)
        response = await client.get(URL, params={"uri_pattern": ""}, headers=ADMIN)
        body = await response.json()
        assert len(body["datasets"]) == 4

    async def test_pattern_then_order_then_page(self, client: TestClient, sim: Simulator) -> None:
        seed_datasets(sim)
        params = {"uri_pattern": "bucket", "order_by": "-uri", "limit": 1, "offset": 1}
        response = await client.get(URL, params=params, headers=ADMIN)
        assert await response.json() == {"datasets": [A_B], "total_entries": 4}

    async def test_limit_and_offset_keep_the_total(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_datasets(sim)
        response = await client.get(URL, params={"limit": 2, "offset": 1}, headers=ADMIN)
        assert await response.json() == {"datasets": [SALES, A_B], "total_entries": 4}

    async def test_offset_past_the_end(self, client: TestClient) -> None:
        response = await client.get(URL, params={"offset": 10}, headers=ADMIN)
        assert await response.json() == {"datasets": [], "total_entries": 1}

    @pytest.mark.parametrize(("limit", "count"), [(0, 100), (101, 100), (1000, 100), (7, 7)])
    async def test_limit_is_clamped(
        self, client: TestClient, sim: Simulator, limit: int, count: int
    ) -> None:
        for number in range(120):
            sim.store.datasets.add(Dataset(uri=f"file:///d/{number}", created_at=at(1),
                                           updated_at=at(1)))  # fmt: skip
        response = await client.get(URL, params={"limit": limit}, headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert len(body["datasets"]) == count
        assert body["total_entries"] == 121

    async def test_negative_limit_before_order_by(self, client: TestClient) -> None:
        response = await client.get(URL, params={"limit": -1, "order_by": "x"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == NEGATIVE_LIMIT

    async def test_negative_offset(self, client: TestClient) -> None:
        response = await client.get(URL, params={"offset": -1}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", NEGATIVE_OFFSET, "BadRequest")

    async def test_viewer_can_read(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("viewer", "Viewer"))
        assert response.status == 200

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403(self, client: TestClient, make_user: Callable[..., dict[str, str]]) -> None:
        response = await client.get(URL, headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


RUN_X = "manual__2023-03-01T00:00:00+00:00"


def seed_events(sim: Simulator) -> None:
    """Dataset 2 and four events; event 4 created the running etl_orders run."""
    sim.store.datasets.add(Dataset(uri="s3://lake/sales.csv", created_at=at(1), updated_at=at(1)))
    etl_run = sim.store.runs_of("etl_orders")[0]
    rows = (
        (
            1,
            "orders_dataset_producer",
            "build_orders_table",
            "scheduled__x",
            -1,
            at(3),
            {"rows": 5},
        ),
        (2, "lake_writer", "write_sales", RUN_X, 0, at(1), {}),
        (2, "lake_writer", "write_sales", RUN_X, 2, at(2), {}),
        (1, "lake_writer", "publish", "manual__y", -1, at(4), {}),
    )
    for dataset_id, dag_id, task_id, run_id, map_index, timestamp, extra in rows:
        sim.store.dataset_events.add(
            DatasetEvent(dataset_id=dataset_id, source_dag_id=dag_id, source_task_id=task_id,
                         source_run_id=run_id, source_map_index=map_index, timestamp=timestamp,
                         extra=extra)
        )  # fmt: skip
    sim.store.dataset_events.require(4).created_dagruns.append(etl_run.key)


def event_body(
    event_id: int,
    dataset_id: int,
    task_id: str,
    run_id: str,
    map_index: int,
    day: int,
    dag_id: str = "lake_writer",
    extra: dict[str, Any] | None = None,
    created: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "created_dagruns": created or [],
        "dataset_id": dataset_id,
        "dataset_uri": ORDERS if dataset_id == 1 else "s3://lake/sales.csv",
        "extra": extra or {},
        "id": event_id,
        "source_dag_id": dag_id,
        "source_map_index": map_index,
        "source_run_id": run_id,
        "source_task_id": task_id,
        "timestamp": iso(day),
    }


ETL_RUN = {
    "dag_id": "etl_orders",
    "dag_run_id": "scheduled__2023-03-31T23:00:00+00:00",
    "data_interval_end": T0,
    "data_interval_start": "2023-03-31T23:00:00+00:00",
    "end_date": None,
    "logical_date": "2023-03-31T23:00:00+00:00",
    "start_date": T0,
    "state": "running",
}
E1 = event_body(1, 1, "build_orders_table", "scheduled__x", -1, 3,
                dag_id="orders_dataset_producer", extra={"rows": 5})  # fmt: skip
E2 = event_body(2, 2, "write_sales", RUN_X, 0, 1)
E3 = event_body(3, 2, "write_sales", RUN_X, 2, 2)
E4 = event_body(4, 1, "publish", "manual__y", -1, 4, created=[ETL_RUN])


class TestGetDatasetEvents:
    async def test_no_events_yet(self, client: TestClient) -> None:
        response = await client.get(EVENTS, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"dataset_events": [], "total_entries": 0}

    async def test_default_order_is_timestamp(self, client: TestClient, sim: Simulator) -> None:
        seed_events(sim)
        response = await client.get(EVENTS, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"dataset_events": [E2, E3, E1, E4], "total_entries": 4}

    async def test_event_from_the_engine(self, client: TestClient, sim: Simulator) -> None:
        # The producer's first run finishes within minutes and triggers the consumer.
        sim.advance(600)
        response = await client.get(EVENTS, headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert body["total_entries"] == 1
        [event] = body["dataset_events"]
        stamp = event["timestamp"]
        [consumer] = sim.store.runs_of("orders_dataset_consumer")
        assert consumer.end_date is not None
        assert consumer.data_interval_start is not None
        assert consumer.data_interval_end is not None
        assert event == {
            "created_dagruns": [
                {
                    "dag_id": "orders_dataset_consumer",
                    "dag_run_id": f"dataset_triggered__{stamp}",
                    # The engine's to say (Airflow: the source runs' intervals).
                    "data_interval_end": consumer.data_interval_end.isoformat(),
                    "data_interval_start": consumer.data_interval_start.isoformat(),
                    "end_date": consumer.end_date.isoformat(),
                    "logical_date": stamp,
                    # The scheduler's next loop (a whole second) reads the queue.
                    "start_date": consumer.start_date.isoformat(),
                    "state": "success",
                }
            ],
            "dataset_id": 1,
            "dataset_uri": ORDERS,
            "extra": {},
            "id": 1,
            "source_dag_id": "orders_dataset_producer",
            "source_map_index": -1,
            "source_run_id": "scheduled__2023-03-31T22:30:00+00:00",
            "source_task_id": "build_orders_table",
            "timestamp": stamp,
        }
        assert T0 < stamp < "2023-04-01T00:10:00+00:00"
        assert consumer.start_date is not None and consumer.start_date.microsecond == 0
        assert 0 < (consumer.start_date - consumer.logical_date).total_seconds() <= 1

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"dataset_id": 2}, [E2, E3]),
            ({"dataset_id": 0}, [E2, E3, E1, E4]),  # 0 is falsy: no filter
            ({"dataset_id": 9}, []),
            ({"source_dag_id": "lake_writer"}, [E2, E3, E4]),
            ({"source_dag_id": "LAKE_WRITER"}, []),  # exact match, case included
            ({"source_dag_id": "lake"}, []),  # not a pattern
            ({"source_task_id": "write_sales"}, [E2, E3]),
            ({"source_run_id": "manual__y"}, [E4]),
            ({"source_map_index": 2}, [E3]),
            ({"source_map_index": -1}, [E1, E4]),
            ({"source_map_index": 0}, [E2, E3, E1, E4]),  # 0 is falsy: no filter
            ({"dataset_id": 1, "source_dag_id": "lake_writer"}, [E4]),
            ({"source_task_id": "write_sales", "source_map_index": 2}, [E3]),
        ],
    )
    async def test_filters(
        self,
        client: TestClient,
        sim: Simulator,
        params: dict[str, Any],
        expected: list[dict[str, Any]],
    ) -> None:
        seed_events(sim)
        response = await client.get(EVENTS, params=params, headers=ADMIN)
        assert response.status == 200
        # total_entries counts the filtered events (unlike GET /datasets).
        assert await response.json() == {"dataset_events": expected, "total_entries": len(expected)}

    @pytest.mark.parametrize(
        ("order_by", "field", "expected"),
        [
            ("timestamp", "id", [2, 3, 1, 4]),
            ("-timestamp", "id", [4, 1, 3, 2]),
            ("source_dag_id", "source_dag_id", ["lake_writer"] * 3 + ["orders_dataset_producer"]),
            ("-source_dag_id", "source_dag_id", ["orders_dataset_producer"] + ["lake_writer"] * 3),
            ("source_task_id", "source_task_id",
             ["build_orders_table", "publish", "write_sales", "write_sales"]),
            ("-source_run_id", "source_run_id", ["scheduled__x", "manual__y", RUN_X, RUN_X]),
            ("source_map_index", "source_map_index", [-1, -1, 0, 2]),
            ("-source_map_index", "source_map_index", [2, 0, -1, -1]),
        ],
    )  # fmt: skip
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str, field: str, expected: list[Any]
    ) -> None:
        seed_events(sim)
        response = await client.get(EVENTS, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert [event[field] for event in body["dataset_events"]] == expected
        assert body["total_entries"] == 4

    @pytest.mark.parametrize(
        ("order_by", "name"),
        [("id", "id"), ("-dataset_id", "dataset_id"), ("dataset_uri", "dataset_uri")],
    )
    async def test_order_by_outside_the_allow_list(
        self, client: TestClient, order_by: str, name: str
    ) -> None:
        response = await client.get(EVENTS, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == disallowed(name)

    async def test_limit_and_offset_keep_the_filtered_total(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_events(sim)
        params = {"source_dag_id": "lake_writer", "limit": 1, "offset": 1}
        response = await client.get(EVENTS, params=params, headers=ADMIN)
        assert await response.json() == {"dataset_events": [E3], "total_entries": 3}

    @pytest.mark.parametrize(("limit", "count"), [(0, 100), (150, 100), (3, 3)])
    async def test_limit_is_clamped(
        self, client: TestClient, sim: Simulator, limit: int, count: int
    ) -> None:
        for number in range(110):
            sim.store.dataset_events.add(
                DatasetEvent(dataset_id=1, source_map_index=number, timestamp=at(1))
            )
        response = await client.get(EVENTS, params={"limit": limit}, headers=ADMIN)
        body = await response.json()
        assert len(body["dataset_events"]) == count
        assert body["total_entries"] == 110

    async def test_negative_limit_before_order_by(self, client: TestClient) -> None:
        response = await client.get(EVENTS, params={"limit": -1, "order_by": "x"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == NEGATIVE_LIMIT

    async def test_negative_offset(self, client: TestClient) -> None:
        response = await client.get(EVENTS, params={"offset": -1}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", NEGATIVE_OFFSET, "BadRequest")

    async def test_wrong_type(self, client: TestClient) -> None:
        response = await client.get(EVENTS, params={"dataset_id": "one"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400,
            "Bad Request",
            "Wrong type, expected 'integer' for query parameter 'dataset_id'",
            "BadRequest",
        )

    async def test_viewer_can_read(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(EVENTS, headers=make_user("viewer", "Viewer"))
        assert response.status == 200

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(EVENTS)
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403(self, client: TestClient, make_user: Callable[..., dict[str, str]]) -> None:
        response = await client.get(EVENTS, headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


@pytest.fixture
def dataset_live(live_dags: LiveServer) -> LiveServer:
    return live_dags


@pytest.fixture
def dataset_api(dataset_live: LiveServer) -> Iterator[Any]:
    import airflow_client.client as airflow_client
    from airflow_client.client.api.dataset_api import DatasetApi

    dataset_live.sim.reset()
    configuration = airflow_client.Configuration(
        host=dataset_live.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api_client:
        yield DatasetApi(api_client)


class TestOfficialClient:
    def test_get_datasets(self, dataset_api: Any, dataset_live: LiveServer) -> None:
        seed_datasets(dataset_live.sim)
        page = dataset_api.get_datasets(uri_pattern="bucket", order_by="-created_at", limit=1)
        assert page.total_entries == 4
        [dataset] = page.datasets
        assert dataset.id == 4
        assert dataset.uri == "gs://bucket/azb/y.json"
        # The spec types these as plain strings, so the client keeps them.
        assert dataset.created_at == iso(2)
        assert dataset.extra == {}

    def test_get_dataset_encodes_the_uri(self, dataset_api: Any) -> None:
        dataset = dataset_api.get_dataset(ORDERS)
        assert dataset.uri == ORDERS
        assert dataset.id == 1
        assert [task.task_id for task in dataset.producing_tasks] == ["build_orders_table"]
        assert [dag.dag_id for dag in dataset.consuming_dags] == ["orders_dataset_consumer"]
        assert dataset.consuming_dags[0].created_at == T0

    def test_get_dataset_not_found(self, dataset_api: Any) -> None:
        import json

        from airflow_client.client.exceptions import NotFoundException

        with pytest.raises(NotFoundException) as raised:
            dataset_api.get_dataset("s3://nowhere/x.csv")
        assert raised.value.status == 404
        assert json.loads(raised.value.body) == problem(
            404,
            "Dataset not found",
            "The Dataset with uri: `s3://nowhere/x.csv` was not found",
            "NotFound",
        )

    def test_get_dataset_events(self, dataset_api: Any, dataset_live: LiveServer) -> None:
        seed_events(dataset_live.sim)
        page = dataset_api.get_dataset_events(source_dag_id="lake_writer", order_by="-timestamp")
        assert page.total_entries == 3
        assert [event.source_task_id for event in page.dataset_events] == [
            "publish",
            "write_sales",
            "write_sales",
        ]
        latest = page.dataset_events[0]
        assert latest.dataset_uri == ORDERS
        assert latest.timestamp == iso(4)
        [run] = latest.created_dagruns
        assert run.dag_id == "etl_orders"
        assert run.state.value == "running"
        # Airflow names the run id `dag_run_id` (the spec says `run_id`); the
        # client keeps it as an extra property.
        assert run.to_dict()["dag_run_id"] == "scheduled__2023-03-31T23:00:00+00:00"
