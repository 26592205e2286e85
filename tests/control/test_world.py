"""/_sim/world: what the console draws — DAGs with their latest runs, pools,
and the last 24 hours by state — on the `ci` world; answers follow
spec/control.yaml (response validation is on as well)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.conftest import ADMIN, TEST_SETTINGS, problem
from tests.control.test_clock import conforms


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


async def world(client: TestClient, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/_sim/world{query}")
    body = await response.json()
    assert response.status == 200, body
    conforms("/world", "get", "200", body)
    return body


async def advance(client: TestClient, seconds: float) -> None:
    response = await client.post("/_sim/clock/advance", json={"seconds": seconds})
    assert response.status == 200


def run(run_id: str, state: str, logical_date: str | None = None) -> dict[str, str]:
    """A run as the answer lists it; a scheduled run's logical date is in its id."""
    date = logical_date or run_id.split("__", 1)[1]
    return {"logical_date": date, "run_id": run_id, "state": state}


def scheduled(moment: str, state: str) -> dict[str, str]:
    return run(f"scheduled__{moment}+00:00", state)


def dataset(moment: str, state: str) -> dict[str, str]:
    return run(f"dataset_triggered__{moment}+00:00", state)


def dag(dag_id: str, runs: list[dict[str, str]], *, paused: bool = False) -> dict[str, Any]:
    return {"dag_id": dag_id, "has_import_errors": False, "is_active": True,
            "is_paused": paused, "runs": runs}  # fmt: skip


def hours(start: str, filled: dict[int, tuple[dict[str, int], dict[str, int]]]) -> list[Any]:
    """24 hourly bars from `start`; `filled`: index -> (run counts, task instance counts)."""
    first = datetime.fromisoformat(start)
    return [
        {
            "start": (first + timedelta(hours=i)).isoformat(),
            "dag_runs": filled.get(i, ({}, {}))[0],
            "task_instances": filled.get(i, ({}, {}))[1],
        }
        for i in range(24)
    ]


async def test_two_hours_into_the_ci_world(client: TestClient) -> None:
    await advance(client, 7200)
    assert await world(client) == {
        "now": "2023-04-01T02:00:00+00:00",
        "total_dags": 9,
        "dags": [
            dag("etl_orders", [scheduled("2023-04-01T01:00:00", "running"),
                               scheduled("2023-04-01T00:00:00", "success"),
                               scheduled("2023-03-31T23:00:00", "success")]),
            dag("fan_out_fan_in", [scheduled("2023-04-01T00:00:00", "running"),
                                   scheduled("2023-03-31T22:00:00", "success")]),
            dag("flaky_api_sync", [scheduled("2023-04-01T00:15:00", "success"),
                                   scheduled("2023-03-31T23:15:00", "failed"),
                                   scheduled("2023-03-31T22:15:00", "success")]),
            dag("legacy_cleanup", [], paused=True),
            dag("manual_backfill_tool", []),
            dag("orders_dataset_consumer", [dataset("2023-04-01T01:31:43.853081", "success"),
                                            dataset("2023-04-01T00:31:42.947605", "success"),
                                            dataset("2023-04-01T00:01:14.756790", "success")]),
            dag("orders_dataset_producer", [scheduled("2023-04-01T00:30:00", "success"),
                                            scheduled("2023-03-31T23:30:00", "success"),
                                            scheduled("2023-03-31T22:30:00", "success")]),
            dag("refresh_reference_data", []),
            dag("wait_for_partition", [scheduled("2023-03-31T00:00:00", "success")]),
        ],
        "pools": [{"name": "default_pool", "occupied": 3, "open": 125, "slots": 128}],
        "last_24h": {
            "from": "2023-03-31T03:00:00+00:00",
            "until": "2023-04-01T03:00:00+00:00",
            "hours": hours("2023-03-31T03:00:00+00:00", {
                # The five runs the world starts with and four more: each
                # counted in the hour it started, in its state now.
                21: ({"failed": 1, "success": 8},
                     {"failed": 1, "skipped": 1, "success": 21, "upstream_failed": 1}),
                22: ({"success": 4}, {"skipped": 1, "success": 9}),
                # Two runs started at 02:00: their instances not started yet
                # count in their run's hour.
                23: ({"running": 2}, {"none": 9, "queued": 3}),
            }),
        },
    }  # fmt: skip


async def test_a_page_of_dags(client: TestClient) -> None:
    body = await world(client, "?limit=2&offset=3")
    assert [d["dag_id"] for d in body["dags"]] == ["legacy_cleanup", "manual_backfill_tool"]
    assert body["total_dags"] == 9
    assert (await world(client, "?offset=9"))["dags"] == []


async def test_the_ten_latest_runs_by_logical_date(client: TestClient, sim: Simulator) -> None:
    await advance(client, 12 * 3600)
    # A run for a past logical date: not among the latest, but it started now.
    trigger = await client.post(
        "/api/v1/dags/etl_orders/dagRuns",
        json={"dag_run_id": "rerun_march", "logical_date": "2023-03-15T00:00:00+00:00"},
        headers=ADMIN,
    )
    assert trigger.status == 200
    body = await world(client)
    (etl,) = (d for d in body["dags"] if d["dag_id"] == "etl_orders")
    assert etl["runs"] == [scheduled("2023-04-01T11:00:00", "running")] + [
        scheduled(f"2023-04-01T{hour:02}:00:00", "success") for hour in range(10, 1, -1)
    ]
    assert len(sim.store.runs_of("etl_orders")) == 14
    current = body["last_24h"]["hours"][-1]
    assert current["start"] == "2023-04-01T12:00:00+00:00"
    assert current["dag_runs"] == {"queued": 1, "running": 2}  # the rerun waits (max_active_runs)


async def test_the_window_holds_the_runs_created_in_it(client: TestClient, sim: Simulator) -> None:
    await advance(client, 30 * 3600 + 1800)
    body = await world(client)
    window = body["last_24h"]
    assert (body["now"], window["from"], window["until"]) == (
        "2023-04-02T06:30:00+00:00", "2023-04-01T07:00:00+00:00", "2023-04-02T07:00:00+00:00",
    )  # fmt: skip
    assert [hour["start"][11:16] for hour in window["hours"]] == [
        f"{(7 + i) % 24:02}:00" for i in range(24)
    ]
    start = datetime.fromisoformat(window["from"])
    created = [r for r in sim.store.dag_runs if r.queued_at and r.queued_at >= start]
    counted = sum(sum(hour["dag_runs"].values()) for hour in window["hours"])
    instances = sum(sum(hour["task_instances"].values()) for hour in window["hours"])
    assert (counted, instances) == (len(created), sum(len(sim.store.tis_of(r)) for r in created))
    assert len(created) < len(sim.store.dag_runs)  # yesterday morning's runs are out


async def test_the_window_reads_no_older_run(client: TestClient, sim: Simulator) -> None:
    """The walk stops at the first run created before the window: a run that
    claims a later creation behind it is never reached."""
    await advance(client, 30 * 3600)
    oldest = next(iter(sim.store.dag_runs))
    oldest.queued_at = sim.now()
    oldest.start_date = None
    body = await world(client)
    counted = sum(sum(hour["dag_runs"].values()) for hour in body["last_24h"]["hours"])
    start = sim.now() - timedelta(hours=23)
    created = [r for r in sim.store.dag_runs if r is not oldest and r.queued_at >= start]
    assert counted == len(created)


async def test_pools_and_their_slots(client: TestClient) -> None:
    for pool in ({"name": "api_quota", "slots": 2}, {"name": "unbounded", "slots": -1}):
        response = await client.post("/api/v1/pools", json=pool, headers=ADMIN)
        assert response.status == 200
    await advance(client, 60)
    pools = (await world(client))["pools"]
    assert pools == [
        {"name": "default_pool", "occupied": 5, "open": 123, "slots": 128},
        {"name": "api_quota", "occupied": 0, "open": 2, "slots": 2},
        {"name": "unbounded", "occupied": 0, "open": -1, "slots": -1},
    ]
    api = await (await client.get("/api/v1/pools", headers=ADMIN)).json()
    assert pools == [
        {"name": p["name"], "occupied": p["occupied_slots"], "open": p["open_slots"],
         "slots": p["slots"]}
        for p in api["pools"]
    ]  # fmt: skip


async def test_a_broken_dag_file_shows(client: TestClient) -> None:
    fault = {"kind": "import_error", "dag_id": "etl_orders", "from": "+0s", "until": "+1h"}
    assert (await client.post("/_sim/faults", json=fault)).status == 201
    await advance(client, 120)  # past the processor timeout and the stale-DAG check
    (etl,) = (d for d in (await world(client))["dags"] if d["dag_id"] == "etl_orders")
    assert (etl["has_import_errors"], etl["is_active"]) == (True, False)


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?limit=0", "limit: 0 is less than the minimum of 1"),
        ("?limit=1001", "limit: 1001 is greater than the maximum of 1000"),
        ("?offset=-1", "offset: -1 is less than the minimum of 0"),
        ("?limit=ten", "Wrong type, expected 'integer' for query parameter 'limit'"),
        ("?dag_id=etl_orders", "Unknown query parameter 'dag_id'"),
    ],
)
async def test_a_bad_query_is_a_400(client: TestClient, query: str, detail: str) -> None:
    response = await client.get(f"/_sim/world{query}")
    body = await response.json()
    assert (response.status, body) == (400, problem(400, "Bad Request", detail, "BadRequest"))
    conforms("/world", "get", "400", body)
