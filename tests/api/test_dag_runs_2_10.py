"""DAG runs in Airflow 2.10.5's API: `fields`, the updated_at filters and
order, the batch form's updated_at bounds, a trigger's data interval and
run id pattern."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.conftest import ADMIN, TEST_SETTINGS_2_10, problem_2_10

URL = "/api/v1/dags"
BATCH = f"{URL}/~/dagRuns/list"
T0 = "2023-04-01T00:00:00+00:00"
ETL = "scheduled__2023-03-31T23:00:00+00:00"
ETL_2 = "scheduled__2023-04-01T00:00:00+00:00"


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS_2_10


def bad_request(title: str, detail: str) -> dict[str, Any]:
    return problem_2_10(400, title, detail, "BadRequest")


class TestFields:
    async def test_list_fields(self, client: TestClient) -> None:
        params = {"fields": "state,dag_run_id,execution_date"}
        response = await client.get(f"{URL}/etl_orders/dagRuns", params=params, headers=ADMIN)
        assert await response.json() == {
            "dag_runs": [
                {
                    "state": "running",
                    "dag_run_id": ETL,
                    "execution_date": "2023-03-31T23:00:00+00:00",
                }
            ],
            "total_entries": 1,
        }

    async def test_list_unknown_field(self, client: TestClient) -> None:
        params = {"fields": "dag_run_id,nosuch,other"}
        response = await client.get(f"{URL}/etl_orders/dagRuns", params=params, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "DAGRunCollectionSchema error", "nosuch not in DAGRunSchema"
        )

    async def test_no_run_no_check(self, client: TestClient) -> None:
        params = {"fields": "nosuch"}
        response = await client.get(f"{URL}/legacy_cleanup/dagRuns", params=params, headers=ADMIN)
        assert await response.json() == {"dag_runs": [], "total_entries": 0}

    async def test_one_run(self, client: TestClient) -> None:
        url = f"{URL}/etl_orders/dagRuns/{ETL}"
        response = await client.get(url, params={"fields": "conf,dag_run_id"}, headers=ADMIN)
        assert await response.json() == {"conf": {}, "dag_run_id": ETL}
        response = await client.get(url, params={"fields": "updated_at"}, headers=ADMIN)
        assert await response.json() == bad_request(
            "DAGRunSchema error", "updated_at not in DAGRunSchema"
        )


class TestUpdatedAt:
    async def test_filters_and_order(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)  # the first run finished, a second one runs
        url = f"{URL}/etl_orders/dagRuns"
        runs = {run.run_id: run for run in sim.store.runs_of("etl_orders")}
        assert set(runs) == {ETL, ETL_2}
        first, second = runs[ETL].updated_at, runs[ETL_2].updated_at
        assert first is not None and second is not None and first < second
        params = {"updated_at_gte": second.isoformat(), "fields": "dag_run_id"}
        response = await client.get(url, params=params, headers=ADMIN)
        assert await response.json() == {"dag_runs": [{"dag_run_id": ETL_2}], "total_entries": 1}
        params = {"updated_at_lte": first.isoformat(), "fields": "dag_run_id"}
        response = await client.get(url, params=params, headers=ADMIN)
        assert await response.json() == {"dag_runs": [{"dag_run_id": ETL}], "total_entries": 1}
        params = {"order_by": "-updated_at", "fields": "dag_run_id"}
        response = await client.get(url, params=params, headers=ADMIN)
        body = await response.json()
        assert [run["dag_run_id"] for run in body["dag_runs"]] == [ETL_2, ETL]

    async def test_engine_and_api_stamp_it(self, client: TestClient, sim: Simulator) -> None:
        run = sim.store.dag_runs.require(("etl_orders", ETL))
        assert run.updated_at is not None and run.updated_at.isoformat() == T0
        sim.advance(10)  # the scheduler's loops stamp last_scheduling_decision
        assert run.updated_at == run.last_scheduling_decision
        assert run.updated_at.isoformat() == "2023-04-01T00:00:10+00:00"
        sim.advance(0.5)
        await client.patch(f"{URL}/etl_orders/dagRuns/{ETL}", json={"state": "failed"},
                           headers=ADMIN)  # fmt: skip
        assert run.updated_at.isoformat() == "2023-04-01T00:00:10.500000+00:00"

    async def test_batch_loads_updated_bounds_and_ignores_them(self, client: TestClient) -> None:
        body = {"dag_ids": ["etl_orders"], "updated_at_gte": "2100-01-01T00:00:00+00:00"}
        response = await client.post(BATCH, json=body, headers=ADMIN)
        assert response.status == 200
        assert (await response.json())["total_entries"] == 1
        response = await client.post(BATCH, json={"updated_at_lte": "soon"}, headers=ADMIN)
        assert await response.json() == bad_request(
            "Bad Request", "{'updated_at_lte': ['Not a valid datetime.']}"
        )

    async def test_batch_orders_by_updated_at(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        body = {"dag_ids": ["etl_orders"], "order_by": "-updated_at"}
        response = await client.post(BATCH, json=body, headers=ADMIN)
        runs = (await response.json())["dag_runs"]
        assert [run["dag_run_id"] for run in runs] == [ETL_2, ETL]


class TestTrigger:
    async def test_given_data_interval(self, client: TestClient, sim: Simulator) -> None:
        body = {
            "dag_run_id": "by_hand",
            "logical_date": "2023-03-15T00:00:00+00:00",
            "data_interval_start": "2023-03-14T00:00:00+02:00",
            "data_interval_end": "2023-03-15T00:00:00Z",
        }
        response = await client.post(f"{URL}/etl_orders/dagRuns", json=body, headers=ADMIN)
        assert response.status == 200
        answered = await response.json()
        assert answered["data_interval_start"] == "2023-03-14T00:00:00+02:00"
        assert answered["data_interval_end"] == "2023-03-15T00:00:00+00:00"
        response = await client.get(f"{URL}/etl_orders/dagRuns/by_hand", headers=ADMIN)
        stored = await response.json()
        assert stored["data_interval_start"] == "2023-03-13T22:00:00+00:00"
        assert stored["data_interval_end"] == "2023-03-15T00:00:00+00:00"

    @pytest.mark.parametrize("given", ["data_interval_start", "data_interval_end"])
    async def test_both_bounds_or_neither(self, client: TestClient, given: str) -> None:
        body = {"dag_run_id": "half", given: "2023-03-14T00:00:00+00:00"}
        response = await client.post(f"{URL}/etl_orders/dagRuns", json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "Bad Request",
            "{'_schema': [\"Both 'data_interval_start' and 'data_interval_end' "
            'must be specified together"]}',
        )

    async def test_run_id_pattern(self, client: TestClient) -> None:
        body = {"dag_run_id": "my run/1"}
        response = await client.post(f"{URL}/etl_orders/dagRuns", json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "Bad Request",
            "The provided run ID 'my run/1' is invalid. It does not match either the "
            "configured pattern: '^[A-Za-z0-9_.~:+-]+$' or the built-in pattern: "
            "'^(?:manual|scheduled|dataset_triggered)__(?:\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}"
            ":\\d{2}\\+00:00)$'",
        )


async def test_failing_a_run_skips_its_instances_without_state(
    client: TestClient, sim: Simulator
) -> None:
    """2.10's query keeps the instances with no state (2.5.3's drops them)."""
    sim.advance(30)
    [run] = sim.store.runs_of("etl_orders")
    url = f"/api/v1/dags/etl_orders/dagRuns/{run.run_id}"
    response = await client.patch(url, headers=ADMIN, json={"state": "failed"})
    assert response.status == 200
    states = [(ti.task_id, ti.state) for ti in sim.store.tis_of(run)]
    assert states == [
        ("extract_orders", "failed"),
        ("extract_customers", "failed"),
        ("transform", "skipped"),
        ("load_warehouse", "skipped"),
        ("notify", "skipped"),
    ]
