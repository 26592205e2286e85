"""Airflow 2.10.5's dataset operations: queued events (DatasetDagRunQueue
rows), POST /datasets/events, the `dag_ids` filter and `aliases`.

The ci world's orders_dataset_consumer runs on one dataset; lake_reader
(added here) waits on two, so an event for one of them leaves a queue row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.api.test_datasets import LAKE_DAGS, ORDERS
from tests.conftest import ADMIN, TEST_SETTINGS_2_10, problem_2_10

SALES = "s3://lake/sales.csv"
EVENTS = "/api/v1/datasets/events"
READER = "/api/v1/dags/lake_reader/datasets/queuedEvent"
T0 = "2023-04-01T00:00:00+00:00"


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS_2_10


@pytest.fixture
def lake(sim: Simulator) -> Simulator:
    sim.add_dags(LAKE_DAGS)
    assert not sim.store.dags.require("lake_reader").is_paused
    return sim


def not_queued(detail: str) -> dict[str, Any]:
    return problem_2_10(404, "Queue event not found", detail, "NotFound")


async def post_event(client: TestClient, uri: str, **extra: Any) -> Any:
    body: dict[str, Any] = {"dataset_uri": uri}
    if extra:
        body["extra"] = extra
    response = await client.post(EVENTS, json=body, headers=ADMIN)
    assert response.status == 200, await response.text()
    return await response.json()


class TestCreateDatasetEvent:
    async def test_answers_the_event(self, client: TestClient, sim: Simulator) -> None:
        body = await post_event(client, ORDERS, source="ci")
        assert body == {
            "created_dagruns": [],
            "dataset_id": 1,
            "dataset_uri": ORDERS,
            "extra": {"from_rest_api": True, "source": "ci"},
            "id": 1,
            "source_dag_id": None,
            "source_map_index": -1,
            "source_run_id": None,
            "source_task_id": None,
            "timestamp": T0,
        }

    async def test_triggers_the_consumer(self, client: TestClient, sim: Simulator) -> None:
        answer = await post_event(client, ORDERS)
        # The answer comes before the scheduler's next loop reads the queue.
        assert answer["created_dagruns"] == []
        assert sim.store.runs_of("orders_dataset_consumer") == []
        sim.advance(1)
        run = sim.store.dag_runs.require(
            ("orders_dataset_consumer", "dataset_triggered__2023-04-01T00:00:00+00:00")
        )
        assert run.run_type == "dataset_triggered"
        events = await (await client.get(f"{EVENTS}?dataset_id=1", headers=ADMIN)).json()
        assert [r["dag_run_id"] for r in events["dataset_events"][0]["created_dagruns"]] == [
            run.run_id
        ]
        sim.advance(600)
        assert run.state in ("success", "failed")

    async def test_unknown_dataset(self, client: TestClient) -> None:
        response = await client.post(EVENTS, json={"dataset_uri": "s3://nosuch"}, headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem_2_10(
            404, "Dataset not found", "Dataset with uri: 's3://nosuch' not found", "NotFound"
        )

    async def test_uri_required(self, client: TestClient) -> None:
        response = await client.post(EVENTS, json={"extra": {}}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem_2_10(
            400, "Bad Request", "'dataset_uri' is a required property", "BadRequest"
        )

    async def test_unknown_field(self, client: TestClient) -> None:
        body = {"dataset_uri": ORDERS, "x": 1}
        response = await client.post(EVENTS, json=body, headers=ADMIN)
        assert response.status == 400
        assert (await response.json())["detail"] == "{'x': ['Unknown field.']}"

    async def test_viewer_may_not(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("viewer", "Viewer")
        response = await client.post(EVENTS, json={"dataset_uri": ORDERS}, headers=headers)
        assert response.status == 403

    async def test_user_may(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("someone", "User")
        response = await client.post(EVENTS, json={"dataset_uri": ORDERS}, headers=headers)
        assert response.status == 200


class TestQueuedEvents:
    async def test_a_row_per_dataset_waited_on(self, client: TestClient, lake: Simulator) -> None:
        await post_event(client, SALES)
        row = {"created_at": T0, "dag_id": "lake_reader", "uri": SALES}
        response = await client.get(READER, headers=ADMIN)
        assert await response.json() == {"queued_events": [row], "total_entries": 1}
        one = await client.get(f"{READER}/{quote(SALES, safe='')}", headers=ADMIN)
        assert await one.json() == row
        by_uri = await client.get(f"/api/v1/datasets/queuedEvent/{quote(SALES, safe='')}",
                                  headers=ADMIN)  # fmt: skip
        assert await by_uri.json() == {"queued_events": [row], "total_entries": 1}

    async def test_first_event_dates_the_row(self, client: TestClient, lake: Simulator) -> None:
        await post_event(client, SALES)
        lake.advance(60)
        await post_event(client, SALES)
        body = await (await client.get(READER, headers=ADMIN)).json()
        assert body["queued_events"][0]["created_at"] == T0

    async def test_before(self, client: TestClient, lake: Simulator) -> None:
        await post_event(client, SALES)
        response = await client.get(f"{READER}?before={quote(T0)}", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == not_queued(
            "Queue event with dag_id: `lake_reader` was not found"
        )
        later = quote("2023-04-01T00:00:01+00:00")
        response = await client.get(f"{READER}?before={later}", headers=ADMIN)
        assert response.status == 200

    async def test_not_found_texts(self, client: TestClient, lake: Simulator) -> None:
        other = quote("s3://nosuch/x", safe="")
        response = await client.get(f"{READER}/{other}", headers=ADMIN)
        assert await response.json() == not_queued(
            "Queue event with dag_id: `lake_reader` and dataset uri: `s3://nosuch/x` was not found"
        )
        response = await client.get(f"/api/v1/datasets/queuedEvent/{other}", headers=ADMIN)
        assert await response.json() == not_queued(
            "Queue event with dataset uri: `s3://nosuch/x` was not found"
        )

    async def test_triggered_runs_leave_no_row(self, client: TestClient, sim: Simulator) -> None:
        await post_event(client, ORDERS)
        url = "/api/v1/dags/orders_dataset_consumer/datasets/queuedEvent"
        # Queued until the scheduler's next loop, which triggers the run.
        response = await client.get(url, headers=ADMIN)
        assert (await response.json())["total_entries"] == 1
        sim.advance(1)
        response = await client.get(url, headers=ADMIN)
        assert response.status == 404

    async def test_paused_consumer_gets_no_row(self, client: TestClient, lake: Simulator) -> None:
        lake.store.dags.require("lake_reader").is_paused = True
        await post_event(client, SALES)
        response = await client.get(READER, headers=ADMIN)
        assert response.status == 404

    async def test_delete_one(self, client: TestClient, lake: Simulator) -> None:
        await post_event(client, SALES)
        url = f"{READER}/{quote(SALES, safe='')}"
        response = await client.delete(url, headers=ADMIN)
        assert response.status == 204
        assert await response.read() == b""
        again = await client.delete(url, headers=ADMIN)
        assert await again.json() == not_queued(
            f"Queue event with dag_id: `lake_reader` and dataset uri: `{SALES}` was not found"
        )

    async def test_deleted_row_no_longer_triggers(
        self, client: TestClient, lake: Simulator
    ) -> None:
        await post_event(client, SALES)
        assert (await client.delete(READER, headers=ADMIN)).status == 204
        await post_event(client, ORDERS)
        lake.advance(1)
        assert lake.store.runs_of("lake_reader") == []
        # A new event makes a new row; the run consumes the deleted row's event too.
        lake.advance(60)
        await post_event(client, SALES)
        lake.advance(1)
        (run,) = lake.store.runs_of("lake_reader")
        assert len(run.consumed_events) == 3

    async def test_delete_by_dataset(self, client: TestClient, lake: Simulator) -> None:
        await post_event(client, SALES)
        url = f"/api/v1/datasets/queuedEvent/{quote(SALES, safe='')}"
        assert (await client.delete(url, headers=ADMIN)).status == 204
        again = await client.delete(url, headers=ADMIN)
        assert again.status == 404
        assert await again.json() == not_queued(
            f"Queue event with dataset uri: `{SALES}` was not found"
        )

    async def test_delete_before_keeps_later_rows(
        self, client: TestClient, lake: Simulator
    ) -> None:
        await post_event(client, SALES)
        response = await client.delete(f"{READER}?before={quote(T0)}", headers=ADMIN)
        assert response.status == 404
        assert (await client.get(READER, headers=ADMIN)).status == 200

    async def test_viewer_may_read_not_delete(
        self, client: TestClient, lake: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        await post_event(client, SALES)
        headers = make_user("viewer", "Viewer")
        assert (await client.get(READER, headers=headers)).status == 200
        assert (await client.delete(READER, headers=headers)).status == 403


class TestDatasets:
    async def test_dag_ids_and_aliases(self, client: TestClient, lake: Simulator) -> None:
        response = await client.get("/api/v1/datasets?dag_ids=lake_reader", headers=ADMIN)
        body = await response.json()
        assert [d["uri"] for d in body["datasets"]] == [ORDERS, SALES]
        assert body["total_entries"] == 3  # every dataset, as Airflow counts
        assert all(d["aliases"] == [] for d in body["datasets"])

    async def test_producers_count(self, client: TestClient, lake: Simulator) -> None:
        response = await client.get("/api/v1/datasets?dag_ids=lake_writer,nosuch", headers=ADMIN)
        body = await response.json()
        assert [d["uri"] for d in body["datasets"]] == [SALES, "s3://lake/stock.csv"]

    async def test_unknown_dag(self, client: TestClient) -> None:
        response = await client.get("/api/v1/datasets?dag_ids=nosuch", headers=ADMIN)
        assert await response.json() == {"datasets": [], "total_entries": 1}

    async def test_later_event_times(self, client: TestClient, lake: Simulator) -> None:
        lake.advance(timedelta(minutes=5).total_seconds())
        body = await post_event(client, SALES)
        assert body["timestamp"] == "2023-04-01T00:05:00+00:00"
