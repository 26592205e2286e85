"""/_sim/requests: the request journal, newest first, filtered, redacted and
bounded; /_sim calls are not in it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.conftest import ADMIN, TEST_SETTINGS, problem


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


async def journal(client: TestClient, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/_sim/requests{query}")
    assert response.status == 200
    return dict(await response.json())


def stable(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry without its wall-clock fields (checked for shape only)."""
    assert entry.pop("wall_time").endswith("+00:00")
    assert isinstance(entry.pop("duration_ms"), float)
    return entry


async def test_entries_newest_first_with_what_was_asked(client: TestClient) -> None:
    await client.get("/api/v1/dags?limit=2&tags=a&tags=b", headers=ADMIN)
    await client.get("/api/v1/dags")  # no credentials
    await client.get("/api/v1/nowhere", headers=ADMIN)
    await client.get("/_sim/clock")  # control calls are not journaled
    body = await journal(client)
    assert body["total_entries"] == 3
    assert [stable(e) for e in body["requests"]] == [
        {"id": 3, "time": "2023-04-01T00:00:00+00:00", "method": "GET", "path": "/api/v1/nowhere",
         "query": {}, "operation_id": None, "status": 404, "user": None, "request_body": None,
         "fault": None},
        {"id": 2, "time": "2023-04-01T00:00:00+00:00", "method": "GET", "path": "/api/v1/dags",
         "query": {}, "operation_id": "get_dags", "status": 401, "user": None,
         "request_body": None, "fault": None},
        {"id": 1, "time": "2023-04-01T00:00:00+00:00", "method": "GET", "path": "/api/v1/dags",
         "query": {"limit": "2", "tags": ["a", "b"]}, "operation_id": "get_dags", "status": 200,
         "user": "admin", "request_body": None, "fault": None},
    ]  # fmt: skip


async def test_a_refused_request_is_recorded_with_its_user_and_body(
    client: TestClient, make_user: Any
) -> None:
    viewer = make_user("viewer", "Viewer")
    await client.post("/api/v1/pools", json={"name": "p", "slots": 1}, headers=viewer)
    await client.post("/api/v1/pools", json={"name": "p"}, headers=ADMIN)
    first, second = (await journal(client))["requests"][::-1]
    assert (first["status"], first["user"], first["request_body"]) == (
        403, "viewer", {"name": "p", "slots": 1},
    )  # fmt: skip
    assert (second["status"], second["user"], second["operation_id"]) == (400, "admin", "post_pool")


async def test_secrets_are_masked(client: TestClient) -> None:
    connection = {
        "connection_id": "db", "conn_type": "postgres", "login": "me", "password": "hunter2",
        "extra": json.dumps({"region": "eu", "api_token": "t0k"}),
    }  # fmt: skip
    await client.post("/api/v1/connections", json=connection, headers=ADMIN)
    await client.post(
        "/api/v1/variables", json={"key": "db_password", "value": "hunter2"}, headers=ADMIN
    )
    await client.post("/api/v1/variables", json={"key": "region", "value": "eu"}, headers=ADMIN)
    await client.get("/api/v1/dags?access_token=abc", headers=ADMIN)
    text = json.dumps(await journal(client))
    assert "hunter2" not in text and "t0k" not in text and "abc" not in text
    token, plain, secret, conn = (await journal(client))["requests"]
    assert token["query"] == {"access_token": "***"}
    assert plain["request_body"] == {"key": "region", "value": "eu"}
    assert secret["request_body"] == {"key": "db_password", "value": "***"}
    assert conn["request_body"]["password"] == "***"
    assert json.loads(conn["request_body"]["extra"]) == {"region": "eu", "api_token": "***"}


async def test_secrets_the_generic_masker_misses(client: TestClient) -> None:
    listed = {"connection_id": "c7", "conn_type": "http", "extra": '[{"password": "PW1"}]'}
    await client.post("/api/v1/connections", json=listed, headers=ADMIN)
    renamed = {"key": "other", "value": "PW2"}  # the sensitive key is in the path
    await client.patch("/api/v1/variables/my_secret", json=renamed, headers=ADMIN)
    nan = b'{"key": "k", "value": NaN, "password": "PW3"}'
    await client.post("/api/v1/variables", data=nan, headers=ADMIN)
    body = await journal(client)
    assert "PW" not in json.dumps(body)
    not_json, variable, connection = body["requests"]
    assert json.loads(connection["request_body"]["extra"]) == [{"password": "***"}]
    assert variable["request_body"] == {"key": "other", "value": "***"}
    assert not_json["request_body"] == f"(not JSON, {len(nan)} bytes)"


async def test_bodies_that_are_not_kept(client: TestClient) -> None:
    await client.post(
        "/api/v1/pools", data=b"{not json", headers={**ADMIN, "Content-Type": "application/json"}
    )
    big = {"name": "p", "slots": 1, "description": "x" * 20_000}
    await client.post("/api/v1/pools", json=big, headers=ADMIN)
    large, broken = (await journal(client))["requests"]
    assert broken["request_body"] == "(not JSON, 9 bytes)"
    assert large["status"] == 200
    assert large["request_body"] == f"({len(json.dumps(big))} bytes, not kept)"


async def test_filters_and_paging(client: TestClient, sim: Simulator) -> None:
    for _ in range(3):
        await client.get("/api/v1/pools", headers=ADMIN)
    sim.advance(60)
    await client.get("/api/v1/dags/etl_orders", headers=ADMIN)
    await client.patch("/api/v1/dags/etl_orders", json={"is_paused": True}, headers=ADMIN)
    await client.get("/api/v1/dags/nope", headers=ADMIN)

    async def ids(query: str) -> tuple[list[int], int]:
        body = await journal(client, query)
        return [e["id"] for e in body["requests"]], body["total_entries"]

    assert await ids("?operation_id=get_pools") == ([3, 2, 1], 3)
    assert await ids("?method=patch") == ([5], 1)
    assert await ids("?path=/api/v1/dags/*") == ([6, 5, 4], 3)
    assert await ids("?status=404") == ([6], 1)
    assert await ids("?since=2023-04-01T00:01:00Z") == ([6, 5, 4], 3)
    assert await ids("?limit=2&offset=1") == ([5, 4], 6)
    assert await ids("?operation_id=get_pools&offset=5") == ([], 3)


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?operationId=get_pools", "Unknown query parameter 'operationId'"),
        ("?status=ok", "Wrong type, expected 'integer' for query parameter 'status'"),
        ("?status=700", "status: 700 is greater than the maximum of 599"),
        ("?limit=0", "limit: 0 is less than the minimum of 1"),
        ("?offset=-1", "offset: -1 is less than the minimum of 0"),
        ("?since=yesterday", "since: 'yesterday' is not a 'date-time'"),
        ("?limit=1&limit=2", "Query parameter 'limit' is given more than once"),
    ],
)
async def test_a_bad_query_is_a_400(client: TestClient, query: str, detail: str) -> None:
    response = await client.get(f"/_sim/requests{query}")
    assert (response.status, await response.json()) == (
        400,
        problem(400, "Bad Request", detail, "BadRequest"),
    )


async def test_delete_empties_it_and_ids_keep_growing(client: TestClient) -> None:
    await client.get("/api/v1/pools", headers=ADMIN)
    response = await client.delete("/_sim/requests")
    assert (response.status, await response.read()) == (204, b"")
    assert await journal(client) == {"requests": [], "total_entries": 0}
    await client.get("/api/v1/pools", headers=ADMIN)
    assert [e["id"] for e in (await journal(client))["requests"]] == [2]


async def test_a_reset_clears_it(client: TestClient) -> None:
    await client.get("/api/v1/pools", headers=ADMIN)
    await client.post("/_sim/reset")
    assert (await journal(client))["total_entries"] == 0


class TestBounded:
    @pytest.fixture
    def settings(self) -> Settings:
        return dataclasses.replace(TEST_SETTINGS, journal_size=2)

    async def test_the_oldest_are_dropped(self, client: TestClient) -> None:
        for name in ("a", "b", "c"):
            await client.get(f"/api/v1/pools/{name}", headers=ADMIN)
        body = await journal(client)
        assert [e["path"] for e in body["requests"]] == ["/api/v1/pools/c", "/api/v1/pools/b"]


class TestOff:
    @pytest.fixture
    def settings(self) -> Settings:
        return dataclasses.replace(TEST_SETTINGS, journal_size=0)

    async def test_nothing_is_kept(self, client: TestClient) -> None:
        await client.get("/api/v1/pools", headers=ADMIN)
        assert await journal(client) == {"requests": [], "total_entries": 0}
