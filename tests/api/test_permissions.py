"""Permissions: get_permissions lists FAB's actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from tests.conftest import ADMIN, problem

PERMISSIONS = "/api/v1/permissions"
ACTIONS = ["can_read", "can_edit", "can_create", "can_delete", "menu_access"]


async def call(client: TestClient, url: str, headers: dict[str, str] = ADMIN) -> tuple[int, Any]:
    response = await client.get(url, headers=headers)
    return response.status, await response.json()


class TestGetPermissions:
    async def test_lists_actions_in_creation_order(self, client: TestClient) -> None:
        expected = {"actions": [{"name": name} for name in ACTIONS], "total_entries": 5}
        assert await call(client, PERMISSIONS) == (200, expected)

    async def test_page(self, client: TestClient) -> None:
        expected = {"actions": [{"name": "can_create"}, {"name": "can_delete"}], "total_entries": 5}
        assert await call(client, PERMISSIONS + "?limit=2&offset=2") == (200, expected)

    async def test_offset_past_the_end_and_limit_zero(self, client: TestClient) -> None:
        assert await call(client, PERMISSIONS + "?offset=7&limit=0") == (
            200,
            {"actions": [], "total_entries": 5},
        )

    async def test_limit_is_capped(self, client: TestClient, sim: Simulator) -> None:
        sim.store.actions.extend(f"can_{i}" for i in range(120))
        status, body = await call(client, PERMISSIONS + "?limit=500")
        assert (status, len(body["actions"]), body["total_entries"]) == (200, 100, 125)

    async def test_negative_limit(self, client: TestClient) -> None:
        expected = problem(400, "Page limit must be a positive integer", None, "BadRequest")
        assert await call(client, PERMISSIONS + "?limit=-1") == (400, expected)

    async def test_order_by_is_not_a_parameter(self, client: TestClient) -> None:
        detail = "Extra query parameter(s) order_by not in spec"
        expected = problem(400, None, detail, "BadRequest")
        assert await call(client, PERMISSIONS + "?order_by=name") == (400, expected)

    async def test_op_is_forbidden(self, client: TestClient, make_user: Callable[..., Any]) -> None:
        expected = problem(403, "Forbidden", None, "PermissionDenied")
        assert await call(client, PERMISSIONS, make_user("olga", "Op")) == (403, expected)

    async def test_anonymous_is_unauthorized(self, client: TestClient) -> None:
        expected = problem(401, "Unauthorized", None, "Unauthenticated")
        assert await call(client, PERMISSIONS, {}) == (401, expected)


class TestOfficialClient:
    def test_permission_api(self, api_client: Any) -> None:
        from airflow_client.client.api.permission_api import PermissionApi

        collection = PermissionApi(api_client).get_permissions(limit=3, offset=1)
        assert [action.name for action in collection.actions] == ACTIONS[1:4]
        assert collection.total_entries == 5
