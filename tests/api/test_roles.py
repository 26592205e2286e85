"""Roles: get_roles, post_role, get_role, patch_role, delete_role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from simulator.state.entities import Role
from tests.conftest import ADMIN, problem

ROLES = "/api/v1/roles"
MISSING = "['Missing data for required field.']"
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")
UNAUTHORIZED = problem(401, "Unauthorized", None, "Unauthenticated")
DEFAULT_ROLES = ["Admin", "Op", "Public", "User", "Viewer"]


def pair(action: str, resource: str) -> dict[str, Any]:
    return {"action": {"name": action}, "resource": {"name": resource}}


READ_POOLS = pair("can_read", "Pools")
EDIT_POOLS = pair("can_edit", "Pools")
READ_USERS = pair("can_read", "Users")


def not_found(name: str) -> dict[str, Any]:
    return problem(404, "Role not found", f"Role with name '{name}' was not found", "NotFound")


def bad_request(detail: str) -> dict[str, Any]:
    return problem(400, "Bad Request", detail, "BadRequest")


async def call(client: TestClient, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    response = await client.request(method, url, headers=kwargs.pop("headers", ADMIN), **kwargs)
    body = await response.json() if response.status != 204 else await response.text()
    return response.status, body


@pytest.fixture
def pool_reader(sim: Simulator) -> Role:
    return sim.store.roles.add(Role(name="PoolReader", permissions=[("can_read", "Pools")]))


class TestGetRoles:
    async def test_default_order_is_name(self, client: TestClient) -> None:
        status, body = await call(client, "GET", ROLES)
        assert (status, body["total_entries"]) == (200, 5)
        assert [role["name"] for role in body["roles"]] == DEFAULT_ROLES
        assert body["roles"][2] == {"actions": [], "name": "Public"}

    async def test_order_by_role_id_is_creation_order(self, client: TestClient) -> None:
        status, body = await call(client, "GET", ROLES + "?order_by=role_id")
        assert status == 200
        assert [role["name"] for role in body["roles"]] == [
            "Admin",
            "Viewer",
            "User",
            "Op",
            "Public",
        ]

    async def test_page(self, client: TestClient, pool_reader: Role) -> None:
        expected = {
            "roles": [
                {"actions": [READ_POOLS], "name": "PoolReader"},
                {"actions": [], "name": "Public"},
            ],
            "total_entries": 6,
        }
        assert await call(client, "GET", ROLES + "?limit=2&offset=2") == (200, expected)

    async def test_offset_past_the_end_and_limit_zero(self, client: TestClient) -> None:
        assert await call(client, "GET", ROLES + "?offset=9&limit=0") == (
            200,
            {"roles": [], "total_entries": 5},
        )

    @pytest.mark.parametrize("order_by", ["-name", "-role_id", "id", "permissions", ""])
    async def test_disallowed_order_by(self, client: TestClient, order_by: str) -> None:
        detail = (
            f"Ordering with '{order_by}' is disallowed or the attribute does not exist on the model"
        )
        assert await call(client, "GET", f"{ROLES}?order_by={order_by}") == (
            400,
            bad_request(detail),
        )

    async def test_negative_limit(self, client: TestClient) -> None:
        expected = problem(400, "Page limit must be a positive integer", None, "BadRequest")
        assert await call(client, "GET", ROLES + "?limit=-5") == (400, expected)

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        assert await call(client, "GET", ROLES, headers=make_user("vic", "Viewer")) == (
            403,
            FORBIDDEN,
        )

    async def test_anonymous_is_unauthorized(self, client: TestClient) -> None:
        assert await call(client, "GET", ROLES, headers={}) == (401, UNAUTHORIZED)


class TestPostRole:
    async def test_answers_empty_object_and_creates(self, client: TestClient) -> None:
        body = {"name": "Pooler", "actions": [READ_POOLS, {}, EDIT_POOLS, READ_POOLS]}
        # Airflow 2.5.3 dumps the role it did not find: {}. Empty items are skipped,
        # repeated pairs granted once.
        assert await call(client, "POST", ROLES, json=body) == (200, {})
        expected = {"name": "Pooler", "actions": [READ_POOLS, EDIT_POOLS]}
        assert await call(client, "GET", ROLES + "/Pooler") == (200, expected)

    async def test_empty_actions(self, client: TestClient) -> None:
        assert await call(client, "POST", ROLES, json={"name": "Empty", "actions": []}) == (200, {})
        assert await call(client, "GET", ROLES + "/Empty") == (
            200,
            {"name": "Empty", "actions": []},
        )

    async def test_duplicate_name(self, client: TestClient) -> None:
        detail = "Role with name 'Viewer' already exists; please update with the PATCH endpoint"
        expected = problem(409, "Conflict", detail, "AlreadyExists")
        # The name is checked before the actions are read.
        assert await call(client, "POST", ROLES, json={"name": "Viewer"}) == (409, expected)

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"actions": []}, f"{{'name': {MISSING}}}"),
            ({"name": "x" * 65, "actions": []}, "{'name': ['Longer than maximum length 64.']}"),
            ({"name": "R", "actions": [], "extra": 1}, "{'extra': ['Unknown field.']}"),
            # Airflow 2.5.3 crashes (500) without `actions`: quirk role-create-without-actions.
            ({"name": "R"}, f"{{'actions': {MISSING}}}"),
            (
                {"name": "R", "actions": [{"action": {}, "resource": {"name": "Pools"}}]},
                f"{{'actions': {{0: {{'action': {{'name': {MISSING}}}}}}}}}",
            ),
            (
                {"name": "R", "actions": [{**READ_POOLS, "x": 1}]},
                "{'actions': {0: {'x': ['Unknown field.']}}}",
            ),
            (
                {"name": "R", "actions": [pair("can_read", "r" * 251)]},
                "{'actions': {0: {'resource': {'name': ['Longer than maximum length 250.']}}}}",
            ),
            # Airflow 2.5.3 crashes (500) on an item without a resource.
            (
                {"name": "R", "actions": [READ_POOLS, {"action": {"name": "can_read"}}]},
                f"{{'actions': {{1: {{'resource': {MISSING}}}}}}}",
            ),
            (
                {"name": "R", "actions": [READ_POOLS, pair("can_fly", "Nowhere")]},
                "The specified action: 'can_fly' was not found",
            ),
            (
                {"name": "R", "actions": [pair("can_read", "Nowhere")]},
                "The specified resource: 'Nowhere' was not found",
            ),
            (
                {"name": "R", "actions": [pair("can_read", "DAG:unknown_dag")]},
                "The specified resource: 'DAG:unknown_dag' was not found",
            ),
        ],
    )
    async def test_rejected(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        assert await call(client, "POST", ROLES, json=body) == (400, bad_request(detail))
        assert len(sim.store.roles) == 5

    async def test_per_dag_resource_of_a_known_dag(
        self, client: TestClient, sim: Simulator, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sim, "dag_ids", lambda: ["etl"])
        body = {"name": "EtlReader", "actions": [pair("can_read", "DAG:etl")]}
        assert await call(client, "POST", ROLES, json=body) == (200, {})
        assert sim.store.roles.require("EtlReader").permissions == [("can_read", "DAG:etl")]

    async def test_empty_name_is_rejected_by_the_spec(self, client: TestClient) -> None:
        status, body = await call(client, "POST", ROLES, json={"name": "", "actions": []})
        assert (status, body["detail"].endswith(" - 'name'")) == (400, True)

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        body = {"name": "R", "actions": []}
        assert await call(client, "POST", ROLES, json=body, headers=headers) == (403, FORBIDDEN)


class TestGetRole:
    async def test_found(self, client: TestClient, pool_reader: Role) -> None:
        expected = {"name": "PoolReader", "actions": [READ_POOLS]}
        assert await call(client, "GET", ROLES + "/PoolReader") == (200, expected)

    async def test_default_role_permissions(self, client: TestClient) -> None:
        status, body = await call(client, "GET", ROLES + "/Viewer")
        assert (status, body["name"], len(body["actions"])) == (200, "Viewer", 31)
        assert body["actions"][0] == pair("can_read", "Audit Logs")

    async def test_names_are_case_sensitive(self, client: TestClient) -> None:
        assert await call(client, "GET", ROLES + "/viewer") == (404, not_found("viewer"))

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        assert await call(client, "GET", ROLES + "/Viewer", headers=headers) == (403, FORBIDDEN)


class TestPatchRole:
    async def test_adds_permissions_and_never_removes(
        self, client: TestClient, pool_reader: Role
    ) -> None:
        body = {"name": "PoolReader", "actions": [EDIT_POOLS, READ_POOLS]}
        expected = {"name": "PoolReader", "actions": [READ_POOLS, EDIT_POOLS]}
        assert await call(client, "PATCH", ROLES + "/PoolReader", json=body) == (200, expected)

    async def test_rename_answers_new_name_and_carries_users(
        self, client: TestClient, sim: Simulator, pool_reader: Role, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "Viewer", "PoolReader")
        body = {"name": "Pools", "actions": [READ_USERS]}
        expected = {"name": "Pools", "actions": [READ_POOLS, READ_USERS]}
        assert await call(client, "PATCH", ROLES + "/PoolReader", json=body) == (200, expected)
        assert await call(client, "GET", ROLES + "/PoolReader") == (404, not_found("PoolReader"))
        assert sim.store.users.require("bob").roles == ["Viewer", "Pools"]

    async def test_rename_onto_an_existing_name_is_ignored(
        self, client: TestClient, sim: Simulator, pool_reader: Role
    ) -> None:
        # FAB's update_role swallows the unique violation; the permissions were
        # already granted, and Airflow answers 200 with the old name.
        body = {"name": "Viewer", "actions": [EDIT_POOLS]}
        expected = {"name": "PoolReader", "actions": [READ_POOLS, EDIT_POOLS]}
        assert await call(client, "PATCH", ROLES + "/PoolReader", json=body) == (200, expected)
        assert len(sim.store.roles.require("Viewer").permissions) == 31

    async def test_mask_name_ignores_actions(self, client: TestClient, pool_reader: Role) -> None:
        body = {"name": "Renamed", "actions": [pair("can_fly", "Nowhere")]}
        url = ROLES + "/PoolReader?update_mask= name"
        expected = {"name": "Renamed", "actions": [READ_POOLS]}
        assert await call(client, "PATCH", url, json=body) == (200, expected)

    async def test_mask_actions_keeps_name(self, client: TestClient, pool_reader: Role) -> None:
        body = {"name": "Ignored", "actions": [EDIT_POOLS]}
        url = ROLES + "/PoolReader?update_mask=actions"
        expected = {"name": "PoolReader", "actions": [READ_POOLS, EDIT_POOLS]}
        assert await call(client, "PATCH", url, json=body) == (200, expected)

    @pytest.mark.parametrize(
        ("mask", "body", "detail"),
        [
            (
                "name,permissions",
                {"name": "X", "actions": []},
                "'permissions' in update_mask is unknown",
            ),
            ("foo,name", {"name": "X"}, "'foo' in update_mask is unknown"),
            ("name,", {"name": "X"}, "'' in update_mask is unknown"),
            # Airflow 2.5.3 crashes (500) on a masked `actions` the body lacks.
            ("actions", {"name": "X"}, f"{{'actions': {MISSING}}}"),
            ("actions", {"actions": []}, f"{{'name': {MISSING}}}"),
            (
                None,
                {"name": "X", "actions": [pair("can_read", "Nowhere")]},
                "The specified resource: 'Nowhere' was not found",
            ),
        ],
    )
    async def test_rejected_changes_nothing(
        self,
        client: TestClient,
        sim: Simulator,
        pool_reader: Role,
        mask: str | None,
        body: dict[str, Any],
        detail: str,
    ) -> None:
        url = ROLES + "/PoolReader" + ("" if mask is None else f"?update_mask={mask}")
        assert await call(client, "PATCH", url, json=body) == (400, bad_request(detail))
        assert pool_reader.name == "PoolReader"
        assert pool_reader.permissions == [("can_read", "Pools")]

    async def test_not_found(self, client: TestClient) -> None:
        assert await call(client, "PATCH", ROLES + "/ghost", json={"name": "g"}) == (
            404,
            not_found("ghost"),
        )

    async def test_invalid_body_beats_not_found(self, client: TestClient) -> None:
        expected = bad_request(f"{{'name': {MISSING}}}")
        assert await call(client, "PATCH", ROLES + "/ghost", json={}) == (400, expected)

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        body = {"name": "Viewer", "actions": [READ_USERS]}
        assert await call(client, "PATCH", ROLES + "/Viewer", json=body, headers=headers) == (
            403,
            FORBIDDEN,
        )


class TestDeleteRole:
    async def test_deletes_and_users_lose_it(
        self, client: TestClient, sim: Simulator, pool_reader: Role, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "PoolReader", "Viewer")
        assert await call(client, "DELETE", ROLES + "/PoolReader") == (204, "")
        assert await call(client, "GET", ROLES + "/PoolReader") == (404, not_found("PoolReader"))
        assert sim.store.users.require("bob").roles == ["Viewer"]

    async def test_not_found(self, client: TestClient) -> None:
        assert await call(client, "DELETE", ROLES + "/ghost") == (404, not_found("ghost"))

    async def test_viewer_is_forbidden(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        assert await call(client, "DELETE", ROLES + "/Op", headers=headers) == (403, FORBIDDEN)
        assert "Op" in sim.store.roles


class TestOfficialClient:
    def test_role_api(self, api_client: Any) -> None:
        from airflow_client.client.api.role_api import RoleApi
        from airflow_client.client.model.action import Action
        from airflow_client.client.model.action_resource import ActionResource
        from airflow_client.client.model.resource import Resource
        from airflow_client.client.model.role import Role as ClientRole

        api = RoleApi(api_client)
        read_pools = ActionResource(action=Action(name="can_read"), resource=Resource(name="Pools"))
        created = api.post_role(ClientRole(name="Pooler", actions=[read_pools]))
        assert created.to_dict() == {}
        listing = api.get_roles(limit=2, order_by="role_id", offset=4)
        assert [role.name for role in listing.roles] == ["Public", "Pooler"]
        assert listing.total_entries == 6
        role = api.get_role("Pooler")
        assert (role.actions[0].action.name, role.actions[0].resource.name) == ("can_read", "Pools")
        renamed = api.patch_role("Pooler", ClientRole(name="Swimmer"), update_mask=["name"])
        assert (renamed.name, len(renamed.actions)) == ("Swimmer", 1)
        assert api.delete_role("Swimmer") is None
        assert api.get_roles().total_entries == 5
