"""The permissions each version requires: Airflow 2.10.5's auth manager
asks for the DAG (read, or edit for a change) and the entity's own
resources, and names the DAG only when the path does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.conftest import ADMIN, TEST_SETTINGS, TEST_SETTINGS_2_10


@pytest.fixture(params=["2.5.3", "2.10.5"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return TEST_SETTINGS if request.param == "2.5.3" else TEST_SETTINGS_2_10


def grants(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"action": {"name": a}, "resource": {"name": r}} for a, r in pairs]


async def user_with(
    client: TestClient, make_user: Callable[..., Any], *pairs: tuple[str, str]
) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/roles", json={"name": "narrow", "actions": grants(*pairs)}, headers=ADMIN
    )
    assert answer.status == 200
    headers: dict[str, str] = make_user("narrow_user", "narrow")
    return headers


async def a_run(client: TestClient) -> dict[str, Any]:
    url = "/api/v1/dags/etl_orders/dagRuns?limit=1"
    runs = (await (await client.get(url, headers=ADMIN)).json())["dag_runs"]
    run: dict[str, Any] = runs[0]
    return run


async def test_reading_a_log_needs_task_logs_in_2_10(
    client: TestClient, sim: Simulator, make_user: Callable[..., Any]
) -> None:
    headers = await user_with(client, make_user, ("can_read", "DAGs"), ("can_read", "Task Logs"))
    run = await a_run(client)
    url = f"/api/v1/dags/etl_orders/dagRuns/{run['dag_run_id']}/taskInstances/extract_orders/logs/1"
    answer = await client.get(url, headers=headers)
    # 2.5.3 asks for DAG Runs and Task Instances; 2.10.5 for Task Logs.
    assert answer.status == (403 if sim.version.name == "2.5.3" else 200)


async def test_changing_a_run_needs_edit_on_the_dag_in_2_10(
    client: TestClient, sim: Simulator, make_user: Callable[..., Any]
) -> None:
    headers = await user_with(client, make_user, ("can_read", "DAGs"), ("can_edit", "DAG Runs"))
    run = await a_run(client)
    url = f"/api/v1/dags/etl_orders/dagRuns/{run['dag_run_id']}/setNote"
    answer = await client.patch(url, json={"note": "checked"}, headers=headers)
    assert answer.status == (200 if sim.version.name == "2.5.3" else 403)


async def test_the_any_dag_batch_asks_only_for_runs_in_2_10(
    client: TestClient, sim: Simulator, make_user: Callable[..., Any]
) -> None:
    headers = await user_with(client, make_user, ("can_read", "DAG Runs"))
    answer = await client.post("/api/v1/dags/~/dagRuns/list", json={}, headers=headers)
    assert answer.status == (403 if sim.version.name == "2.5.3" else 200)


async def test_xcom_reads_need_no_task_instance_permission_in_2_10(
    client: TestClient, sim: Simulator, make_user: Callable[..., Any]
) -> None:
    headers = await user_with(client, make_user, ("can_read", "DAGs"), ("can_read", "XComs"))
    run = await a_run(client)
    run_url = f"/api/v1/dags/etl_orders/dagRuns/{run['dag_run_id']}"
    url = f"{run_url}/taskInstances/extract_orders/xcomEntries"
    answer = await client.get(url, headers=headers)
    assert answer.status == (403 if sim.version.name == "2.5.3" else 200)
