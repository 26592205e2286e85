"""Routing on the percent-decoded path, as Airflow's werkzeug routes on
PATH_INFO (which gunicorn decodes whole): a `%2F` in a path parameter is a
`/` to routing. A run id `a/b` can be created but is no route on any run
URL (the 404 of an unknown path); `x%2FtaskInstances` is the task instance
list of run x; a `format: path` parameter (a variable key) keeps working."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.conftest import ADMIN, TEST_SETTINGS, problem

RUNS = "/api/v1/dags/etl_orders/dagRuns"
NO_ROUTE = problem(
    404,
    "Not Found",
    "The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again.",
)
NOT_ALLOWED = problem(405, "Method Not Allowed", "The method is not allowed for the requested URL.")
UNAUTHENTICATED = problem(401, "Unauthorized", None, "Unauthenticated")


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(TEST_SETTINGS, cors_origins="*")


def encoded(path: str) -> URL:
    """The path sent as written (no client re-quoting)."""
    return URL(path, encoded=True)


async def create_run(client: TestClient, run_id: str, logical: str) -> dict[str, Any]:
    body = {"dag_run_id": run_id, "logical_date": logical}
    response = await client.post(RUNS, json=body, headers=ADMIN)
    assert response.status == 200
    created: dict[str, Any] = await response.json()
    return created


class TestRunIdWithSlash:
    async def test_created_and_listed(self, client: TestClient) -> None:
        created = await create_run(client, "a/b", "2023-03-01T00:00:00+00:00")
        assert created["dag_run_id"] == "a/b"
        listed = await (await client.get(RUNS, headers=ADMIN)).json()
        assert "a/b" in [run["dag_run_id"] for run in listed["dag_runs"]]

    @pytest.mark.parametrize("slash", ["%2F", "%2f", "/"])
    @pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
    async def test_no_route(
        self, client: TestClient, sim: Simulator, method: str, slash: str
    ) -> None:
        await create_run(client, "a/b", "2023-03-01T00:00:00+00:00")
        body = {"state": "failed"} if method == "PATCH" else None
        response = await client.request(
            method, encoded(f"{RUNS}/a{slash}b"), json=body, headers=ADMIN
        )
        assert (response.status, await response.json()) == (404, NO_ROUTE)
        # Flask's CORS hook never sees a path no route matches.
        assert "Access-Control-Allow-Origin" not in response.headers
        assert sim.store.dag_runs.require(("etl_orders", "a/b")).state == "queued"

    @pytest.mark.parametrize("tail", ["", "/taskInstances", "/clear", "/upstreamDatasetEvents"])
    async def test_every_run_route_is_gone(self, client: TestClient, tail: str) -> None:
        await create_run(client, "a/b", "2023-03-01T00:00:00+00:00")
        response = await client.get(encoded(f"{RUNS}/a%2Fb{tail}"), headers=ADMIN)
        assert (response.status, await response.json()) == (404, NO_ROUTE)

    async def test_routing_comes_before_authentication(self, client: TestClient) -> None:
        response = await client.get(encoded(f"{RUNS}/a%2Fb"))
        assert (response.status, await response.json()) == (404, NO_ROUTE)

    async def test_head_and_options(self, client: TestClient) -> None:
        head = await client.head(encoded(f"{RUNS}/a%2Fb"), headers=ADMIN)
        options = await client.options(encoded(f"{RUNS}/a%2Fb"))
        assert (head.status, options.status) == (404, 404)
        assert await options.json() == NO_ROUTE

    async def test_an_encoded_percent_is_no_slash(self, client: TestClient) -> None:
        # %252F is the text %2F: a plain run id, found as any other.
        await create_run(client, "a%2Fb", "2023-03-01T00:00:00+00:00")
        response = await client.get(encoded(f"{RUNS}/a%252Fb"), headers=ADMIN)
        assert response.status == 200
        assert (await response.json())["dag_run_id"] == "a%2Fb"


class TestAnotherRoute:
    """A decoded path that is another route is answered by that route."""

    async def test_run_id_ending_in_task_instances(self, client: TestClient) -> None:
        await create_run(client, "x", "2023-03-01T00:00:00+00:00")
        await create_run(client, "x/taskInstances", "2023-03-02T00:00:00+00:00")
        direct = await client.get(f"{RUNS}/x/taskInstances", headers=ADMIN)
        response = await client.get(encoded(f"{RUNS}/x%2FtaskInstances"), headers=ADMIN)
        assert (response.status, direct.status) == (200, 200)
        body = await response.json()
        assert body == await direct.json()
        assert body["total_entries"] > 0
        assert {ti["dag_run_id"] for ti in body["task_instances"]} == {"x"}
        assert response.headers["Access-Control-Allow-Origin"] == "*"

    async def test_its_methods(self, client: TestClient) -> None:
        path = encoded(f"{RUNS}/x%2FtaskInstances")
        patch = await client.patch(path, json={"state": "failed"}, headers=ADMIN)
        assert (patch.status, await patch.json()) == (405, NOT_ALLOWED)
        options = await client.options(path)
        assert (options.status, options.headers["Allow"]) == (200, "GET, HEAD, OPTIONS")
        head = await client.head(path, headers=ADMIN)
        assert head.status == 200
        unauthenticated = await client.get(path)
        assert (unauthenticated.status, await unauthenticated.json()) == (401, UNAUTHENTICATED)

    async def test_journal_and_faults_see_that_route(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.faults.add(
            {
                "kind": "http",
                "match": {"operation_id": "get_task_instances"},
                "action": {"type": "status", "status": 503},
            }
        )
        response = await client.get(encoded(f"{RUNS}/x%2FtaskInstances"), headers=ADMIN)
        assert response.status == 503
        journal = await (await client.get("/_sim/requests", params={"limit": "1"})).json()
        (entry,) = journal["requests"]
        assert (entry["operation_id"], entry["status"]) == ("get_task_instances", 503)
        assert entry["path"] == f"{RUNS}/x/taskInstances"

    async def test_a_slash_in_a_fixed_segment(self, client: TestClient) -> None:
        # The whole path is decoded, not only the parameters.
        response = await client.get(encoded("/api/v1/dags/etl_orders%2FdagRuns"), headers=ADMIN)
        direct = await client.get(RUNS, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == await direct.json()


class TestOtherParameters:
    @pytest.mark.parametrize("slash", ["%2F", "%2f", "/"])
    async def test_variable_key_is_a_path(self, client: TestClient, slash: str) -> None:
        # variable_key is `format: path` (werkzeug's path converter): slashes match.
        body = {"key": "a/b", "value": "1"}
        assert (await client.post("/api/v1/variables", json=body, headers=ADMIN)).status == 200
        url = encoded(f"/api/v1/variables/a{slash}b")
        got = await client.get(url, headers=ADMIN)
        assert (got.status, (await got.json())["key"]) == (200, "a/b")
        patched = await client.patch(url, json={"key": "a/b", "value": "2"}, headers=ADMIN)
        assert (patched.status, (await patched.json())["value"]) == (200, "2")
        assert (await client.delete(url, headers=ADMIN)).status == 204

    async def test_pool_name(self, client: TestClient, sim: Simulator) -> None:
        body = {"name": "p/q", "slots": 1}
        assert (await client.post("/api/v1/pools", json=body, headers=ADMIN)).status == 200
        for method in ("GET", "PATCH", "DELETE"):
            sent = body if method == "PATCH" else None
            response = await client.request(
                method, encoded("/api/v1/pools/p%2Fq"), json=sent, headers=ADMIN
            )
            assert (response.status, await response.json()) == (404, NO_ROUTE)
        assert sim.store.pools.get("p/q") is not None

    async def test_connection_id(self, client: TestClient) -> None:
        body = {"connection_id": "c/d", "conn_type": "http"}
        assert (await client.post("/api/v1/connections", json=body, headers=ADMIN)).status == 200
        response = await client.get(encoded("/api/v1/connections/c%2Fd"), headers=ADMIN)
        assert (response.status, await response.json()) == (404, NO_ROUTE)
