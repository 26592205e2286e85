"""Authentication (basic auth against the user store) and authorization
(role permissions), as Airflow 2.5.3 answers them."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.server.app import create_app
from simulator.simulator import Simulator
from tests.conftest import ADMIN, basic, problem

USERS = "/api/v1/users"
UNAUTHORIZED = problem(401, "Unauthorized", None, "Unauthenticated")
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")
BOB = {"username": "bob", "email": "bob@example.com", "first_name": "Bob", "last_name": "B"}


def grant(action: str, resource: str) -> dict[str, Any]:
    return {"action": {"name": action}, "resource": {"name": resource}}


async def status_of(client: TestClient, url: str, headers: dict[str, str]) -> int:
    response = await client.get(url, headers=headers)
    await response.read()
    return response.status


class TestAuthentication:
    @pytest.mark.parametrize(
        "header",
        [
            None,
            "Bearer abc",
            "Basic !!!",
            "Basic " + base64.b64encode(b"admin").decode(),  # no colon
            "Basic " + base64.b64encode(b"admin:").decode(),  # empty password
            "Basic " + base64.b64encode(b":admin").decode(),  # empty username
        ],
    )
    async def test_missing_or_malformed_credentials(
        self, client: TestClient, header: str | None
    ) -> None:
        headers = {} if header is None else {"Authorization": header}
        response = await client.get(USERS, headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Basic"
        assert response.content_type == "application/problem+json"
        assert await response.json() == UNAUTHORIZED

    @pytest.mark.parametrize("credentials", [("admin", "wrong"), ("ghost", "admin")])
    async def test_wrong_password_or_unknown_user(
        self, client: TestClient, credentials: tuple[str, str]
    ) -> None:
        response = await client.get(USERS, headers=basic(*credentials))
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Basic"
        assert await response.json() == UNAUTHORIZED

    async def test_inactive_user(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("ina", "Admin")
        assert await status_of(client, USERS, headers) == 200
        sim.store.users.require("ina").active = False
        assert await status_of(client, USERS, headers) == 401

    async def test_health_and_version_need_no_credentials(self, client: TestClient) -> None:
        for url in ("/api/v1/health", "/api/v1/version"):
            assert await status_of(client, url, {"Authorization": "Basic !!!"}) == 200

    async def test_request_validation_comes_first(self, client: TestClient) -> None:
        response = await client.get(USERS + "?limit=x")
        assert response.status == 400

    async def test_user_created_through_the_api_logs_in_next_request(
        self, client: TestClient
    ) -> None:
        body = {**BOB, "password": "pw", "roles": [{"name": "Op"}]}
        assert (await client.post(USERS, json=body, headers=ADMIN)).status == 200
        # Op: authenticated, but only Admin manages users.
        assert await status_of(client, USERS, basic("bob", "pw")) == 403

    async def test_password_change_applies_at_once(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        old = make_user("bob", "Admin", password="old")
        assert await status_of(client, USERS, old) == 200  # remembered as verified
        body = {**BOB, "password": "new"}
        response = await client.patch(USERS + "/bob?update_mask=password", json=body, headers=ADMIN)
        assert response.status == 200
        assert await status_of(client, USERS, old) == 401
        assert await status_of(client, USERS, basic("bob", "new")) == 200

    async def test_deleted_user(self, client: TestClient, make_user: Callable[..., Any]) -> None:
        headers = make_user("bob", "Admin")
        assert await status_of(client, USERS, headers) == 200
        assert (await client.delete(USERS + "/bob", headers=ADMIN)).status == 204
        assert await status_of(client, USERS, headers) == 401


class TestAuthorization:
    @pytest.mark.parametrize(
        ("role", "expected"),
        [("Public", 403), ("Viewer", 403), ("User", 403), ("Op", 403), ("Admin", 200)],
    )
    async def test_only_admin_manages_users(
        self, client: TestClient, make_user: Callable[..., Any], role: str, expected: int
    ) -> None:
        headers = make_user("someone", role)
        for url in (USERS, "/api/v1/roles", "/api/v1/permissions"):
            assert await status_of(client, url, headers) == expected

    async def test_forbidden_body(self, client: TestClient, make_user: Callable[..., Any]) -> None:
        response = await client.get(USERS, headers=make_user("vic", "Viewer"))
        assert response.status == 403
        assert "WWW-Authenticate" not in response.headers
        assert await response.json() == FORBIDDEN

    async def test_granting_a_permission_applies_next_request(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        assert await status_of(client, USERS, headers) == 403
        body = {"name": "Viewer", "actions": [grant("can_read", "Users")]}
        url = "/api/v1/roles/Viewer?update_mask=actions"
        assert (await client.patch(url, json=body, headers=ADMIN)).status == 200
        assert await status_of(client, USERS, headers) == 200
        # can_read does not give can_create.
        response = await client.post(USERS, json=BOB, headers=headers)
        assert response.status == 403

    async def test_pools_need_can_read_pools(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        assert await status_of(client, "/api/v1/pools", headers) == 403
        body = {"name": "Viewer", "actions": [grant("can_read", "Pools")]}
        assert (await client.patch("/api/v1/roles/Viewer", json=body, headers=ADMIN)).status == 200
        assert await status_of(client, "/api/v1/pools", headers) == 200

    async def test_role_granted_through_a_new_user(self, client: TestClient) -> None:
        role = {"name": "Auditor", "actions": [grant("can_read", "Users")]}
        assert (await client.post("/api/v1/roles", json=role, headers=ADMIN)).status == 200
        body = {**BOB, "password": "pw", "roles": [{"name": "Auditor"}]}
        assert (await client.post(USERS, json=body, headers=ADMIN)).status == 200
        assert await status_of(client, USERS, basic("bob", "pw")) == 200
        assert await status_of(client, "/api/v1/roles", basic("bob", "pw")) == 403

    async def test_deleted_role_takes_its_permissions(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        role = {"name": "Auditor", "actions": [grant("can_read", "Users")]}
        assert (await client.post("/api/v1/roles", json=role, headers=ADMIN)).status == 200
        headers = make_user("bob", "Auditor")
        assert await status_of(client, USERS, headers) == 200
        assert (await client.delete("/api/v1/roles/Auditor", headers=ADMIN)).status == 204
        assert await status_of(client, USERS, headers) == 403

    async def test_renamed_role_keeps_its_holders(self, client: TestClient) -> None:
        body = {"name": "Boss"}
        response = await client.patch("/api/v1/roles/Admin", json=body, headers=ADMIN)
        assert (response.status, (await response.json())["name"]) == (200, "Boss")
        assert await status_of(client, USERS, ADMIN) == 200


class TestAuthNone:
    @pytest.fixture
    async def open_client(self, aiohttp_client: Callable[..., Any]) -> TestClient:
        settings = Settings(
            scenario="ci",
            validate_responses=True,
            clock="frozen",
            password_hash_iterations=1000,
            auth="none",
        )
        client: TestClient = await aiohttp_client(create_app(settings))
        return client

    @pytest.mark.parametrize(
        "headers", [{}, {"Authorization": "Basic !!!"}, basic("ghost", "nope")]
    )
    async def test_everything_as_admin(
        self, open_client: TestClient, headers: dict[str, str]
    ) -> None:
        for url in (USERS, "/api/v1/roles", "/api/v1/permissions"):
            assert await status_of(open_client, url, headers) == 200
        response = await open_client.post(USERS, json=BOB, headers=headers)
        assert response.status == 200


class TestPasswordsStaySecret:
    async def test_no_password_in_responses_or_logs(
        self, client: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        first, second = "Secr3t-First-Pw", "Secr3t-Second-Pw"
        texts: list[str] = []
        requests: list[tuple[str, str, Any, dict[str, str]]] = [
            ("POST", USERS, {**BOB, "password": first, "roles": [{"name": "Admin"}]}, ADMIN),
            ("GET", USERS + "/bob", None, basic("bob", first)),
            ("PATCH", USERS + "/bob", {**BOB, "password": second}, basic("bob", first)),
            ("GET", USERS, None, basic("bob", first)),  # 401: wrong password now
            ("GET", USERS, None, basic("bob", second)),
            ("POST", USERS, {**BOB, "password": second}, ADMIN),  # 409
            ("POST", USERS, {**BOB, "password": second, "x": 1}, ADMIN),  # 400
            ("PATCH", USERS + "/bob?update_mask=foo", {**BOB, "password": first}, ADMIN),
        ]
        statuses = []
        for method, url, body, headers in requests:
            response = await client.request(method, url, json=body, headers=headers)
            statuses.append(response.status)
            texts.append(await response.text())
        assert statuses == [200, 200, 200, 401, 200, 409, 400, 400]
        secrets = {first, second}
        secrets |= {base64.b64encode(f"bob:{pw}".encode()).decode() for pw in (first, second)}
        for secret in secrets:
            assert all(secret not in text for text in texts)
            assert secret not in caplog.text
        assert all("password" not in text for text in texts[:3])
