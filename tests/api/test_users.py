"""Users: get_users, post_user, get_user, patch_user, delete_user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from tests.conftest import ADMIN, basic, problem

USERS = "/api/v1/users"
START = "2023-04-01T00:00:00"  # FAB's naive timestamps: no offset
BOB = {"username": "bob", "email": "bob@example.com", "first_name": "Bob", "last_name": "Builder"}
MISSING = "['Missing data for required field.']"
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")
UNAUTHORIZED = problem(401, "Unauthorized", None, "Unauthenticated")


def user_json(
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    roles: list[str],
    created: str = START,
) -> dict[str, Any]:
    return {
        "active": True,
        "changed_on": created,
        "created_on": created,
        "email": email,
        "fail_login_count": None,
        "first_name": first_name,
        "last_login": None,
        "last_name": last_name,
        "login_count": None,
        "roles": [{"name": name} for name in roles],
        "username": username,
    }


ADMIN_JSON = user_json("admin", "admin@example.com", "Admin", "User", ["Admin"])
BOB_JSON = user_json("bob", "bob@example.com", "Bob", "Builder", ["Viewer"])


def not_found(username: str) -> dict[str, Any]:
    detail = f"The User with username `{username}` was not found"
    return problem(404, "User not found", detail, "NotFound")


def bad_request(detail: str) -> dict[str, Any]:
    return problem(400, "Bad Request", detail, "BadRequest")


def conflict(detail: str) -> dict[str, Any]:
    return problem(409, "Conflict", detail, "AlreadyExists")


def add_users(sim: Simulator, *rows: tuple[str, str, str, str]) -> None:
    """Users without passwords (fast): (username, first, last, email)."""
    for username, first, last, email in rows:
        sim.add_user(
            username=username,
            password=None,
            first_name=first,
            last_name=last,
            email=email,
            roles=["Viewer"],
        )


async def call(client: TestClient, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    response = await client.request(method, url, headers=kwargs.pop("headers", ADMIN), **kwargs)
    body = await response.json() if response.status != 204 else await response.text()
    return response.status, body


class TestGetUsers:
    async def test_fresh_install_lists_the_admin(self, client: TestClient) -> None:
        assert await call(client, "GET", USERS) == (
            200,
            {"total_entries": 1, "users": [ADMIN_JSON]},
        )

    async def test_default_order_is_row_id_and_total_counts_all(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add_users(sim, ("zed", "Z", "A", "z@x"), ("amy", "A", "Z", "a@x"))
        status, body = await call(client, "GET", USERS + "?limit=2&offset=1")
        assert status == 200
        assert body["total_entries"] == 3
        assert [u["username"] for u in body["users"]] == ["zed", "amy"]

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            ("id", ["admin", "zed", "amy"]),
            ("first_name", ["admin", "amy", "zed"]),
            ("last_name", ["zed", "admin", "amy"]),
            ("email", ["amy", "admin", "zed"]),
        ],
    )
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str, expected: list[str]
    ) -> None:
        add_users(sim, ("zed", "Zed", "A", "z@x"), ("amy", "Amy", "Zoo", "a@x"))
        status, body = await call(client, "GET", f"{USERS}?order_by={order_by}")
        assert status == 200
        assert [u["username"] for u in body["users"]] == expected

    # Airflow checks the raw value, dash included: descending is refused. user_name,
    # is_active and role crash Airflow 2.5.3 (500); the simulator refuses them alike.
    @pytest.mark.parametrize(
        "order_by",
        ["-id", "--id", "-first_name", "user_id", "username", "user_name", "is_active", "role", ""],
    )
    async def test_disallowed_order_by(self, client: TestClient, order_by: str) -> None:
        detail = (
            f"Ordering with '{order_by}' is disallowed or the attribute does not exist on the model"
        )
        assert await call(client, "GET", f"{USERS}?order_by={order_by}") == (
            400,
            bad_request(detail),
        )

    async def test_negative_limit(self, client: TestClient) -> None:
        expected = problem(400, "Page limit must be a positive integer", None, "BadRequest")
        # The limit is checked before the ordering.
        assert await call(client, "GET", USERS + "?limit=-1&order_by=-id") == (400, expected)

    async def test_limit_zero_falls_back_and_large_limit_is_capped(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add_users(sim, *((f"u{i:03}", "F", "L", f"u{i}@x") for i in range(110)))
        for query in ("?limit=0", "?limit=1000", ""):
            status, body = await call(client, "GET", USERS + query)
            assert (status, len(body["users"]), body["total_entries"]) == (200, 100, 111)

    async def test_offset_past_the_end(self, client: TestClient) -> None:
        assert await call(client, "GET", USERS + "?offset=5") == (
            200,
            {"total_entries": 1, "users": []},
        )

    async def test_extra_query_parameter(self, client: TestClient) -> None:
        detail = "Extra query parameter(s) foo not in spec"
        expected = problem(400, None, detail, "BadRequest")
        assert await call(client, "GET", USERS + "?foo=1") == (400, expected)

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        assert await call(client, "GET", USERS, headers=headers) == (403, FORBIDDEN)

    async def test_anonymous_is_unauthorized(self, client: TestClient) -> None:
        assert await call(client, "GET", USERS, headers={}) == (401, UNAUTHORIZED)


class TestPostUser:
    async def test_creates_an_active_user(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(90)
        body = {**BOB, "password": "s3cret!", "roles": [{"name": "Viewer"}]}
        created = "2023-04-01T00:01:30"
        expected = user_json("bob", "bob@example.com", "Bob", "Builder", ["Viewer"], created)
        assert await call(client, "POST", USERS, json=body) == (200, expected)
        assert await call(client, "GET", USERS + "/bob") == (200, expected)
        # The new credentials work on the next request (Viewer: authenticated, forbidden).
        response = await client.get(USERS, headers=basic("bob", "s3cret!"))
        assert response.status == 403

    @pytest.mark.parametrize("roles", [None, []])
    async def test_without_roles_gets_public(
        self, client: TestClient, roles: list[Any] | None
    ) -> None:
        body = dict(BOB) if roles is None else {**BOB, "roles": roles}
        expected = {**BOB_JSON, "roles": [{"name": "Public"}]}
        assert await call(client, "POST", USERS, json=body) == (200, expected)

    async def test_several_roles_in_order_held_once(self, client: TestClient) -> None:
        roles = [{"name": "Op"}, {"name": "Viewer"}, {"name": "Op"}]
        status, body = await call(client, "POST", USERS, json={**BOB, "roles": roles})
        assert (status, body["roles"]) == (200, [{"name": "Op"}, {"name": "Viewer"}])

    async def test_without_password_cannot_log_in(self, client: TestClient) -> None:
        assert (await call(client, "POST", USERS, json=BOB))[0] == 200
        response = await client.get(USERS, headers=basic("bob", "anything"))
        assert response.status == 401

    @pytest.mark.parametrize("username", ["admin", "ADMIN", "Admin"])
    async def test_duplicate_username_case_insensitive(
        self, client: TestClient, sim: Simulator, username: str
    ) -> None:
        body = {**BOB, "username": username}
        detail = f"Username `{username}` already exists. Use PATCH to update."
        assert await call(client, "POST", USERS, json=body) == (409, conflict(detail))
        assert len(sim.store.users) == 1

    async def test_duplicate_email(self, client: TestClient, sim: Simulator) -> None:
        body = {**BOB, "email": "admin@example.com"}
        detail = "The email `admin@example.com` is already taken."
        assert await call(client, "POST", USERS, json=body) == (409, conflict(detail))
        assert len(sim.store.users) == 1

    async def test_unknown_roles(self, client: TestClient, sim: Simulator) -> None:
        roles = [{"name": "nope"}, {"name": "Viewer"}, {"name": "gone"}]
        expected = bad_request("Unknown roles: 'nope', 'gone'")
        assert await call(client, "POST", USERS, json={**BOB, "roles": roles}) == (400, expected)
        assert len(sim.store.users) == 1

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (
                {},
                f"{{'first_name': {MISSING}, 'last_name': {MISSING}, "
                f"'username': {MISSING}, 'email': {MISSING}}}",
            ),
            ({**BOB, "first_name": "x" * 65}, "{'first_name': ['Longer than maximum length 64.']}"),
            ({**BOB, "password": "p" * 257}, "{'password': ['Longer than maximum length 256.']}"),
            ({**BOB, "foo": 1}, "{'foo': ['Unknown field.']}"),
            ({**BOB, "fail_login_count": 1}, "{'fail_login_count': ['Unknown field.']}"),
            ({**BOB, "roles": [{}]}, f"{{'roles': {{0: {{'name': {MISSING}}}}}}}"),
            ({**BOB, "roles": [None]}, "{'roles': {0: ['Field may not be null.']}}"),
            (
                {**BOB, "roles": [{"name": "Op", "actions": []}]},
                "{'roles': {0: {'actions': ['Unknown field.']}}}",
            ),
        ],
    )
    async def test_body_rejected_by_the_schema(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        assert await call(client, "POST", USERS, json=body) == (400, bad_request(detail))
        assert len(sim.store.users) == 1

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({**BOB, "first_name": None}, "None is not of type 'string' - 'first_name'"),
            ({**BOB, "active": False}, "Property is read-only - 'active'"),
        ],
    )
    async def test_body_rejected_by_the_spec(
        self, client: TestClient, body: dict[str, Any], detail: str
    ) -> None:
        assert await call(client, "POST", USERS, json=body) == (400, bad_request(detail))

    async def test_empty_username_is_too_short(self, client: TestClient) -> None:
        detail = "'' is too short - 'username'"
        body = {**BOB, "username": ""}
        assert await call(client, "POST", USERS, json=body) == (400, bad_request(detail))

    async def test_empty_first_and_last_names_are_allowed(self, client: TestClient) -> None:
        status, body = await call(
            client, "POST", USERS, json={**BOB, "first_name": "", "last_name": ""}
        )
        assert (status, body["first_name"], body["last_name"]) == (200, "", "")

    async def test_unknown_query_parameter_is_ignored(self, client: TestClient) -> None:
        assert (await call(client, "POST", USERS + "?foo=1", json=BOB))[0] == 200

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        assert await call(client, "POST", USERS, json=BOB, headers=headers) == (403, FORBIDDEN)

    async def test_invalid_body_beats_missing_credentials(self, client: TestClient) -> None:
        status, _ = await call(client, "POST", USERS, json={**BOB, "username": ""}, headers={})
        assert status == 400


class TestGetUser:
    @pytest.mark.parametrize("username", ["admin", "ADMIN"])
    async def test_found_case_insensitively(self, client: TestClient, username: str) -> None:
        assert await call(client, "GET", f"{USERS}/{username}") == (200, ADMIN_JSON)

    async def test_not_found(self, client: TestClient) -> None:
        assert await call(client, "GET", USERS + "/ghost") == (404, not_found("ghost"))

    async def test_viewer_is_forbidden_before_lookup(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        assert await call(client, "GET", USERS + "/ghost", headers=headers) == (403, FORBIDDEN)


class TestPatchUser:
    async def test_updates_every_field_but_changed_on(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "Viewer", password="old")
        sim.advance(60)
        body = {
            "username": "rob",
            "email": "rob@example.com",
            "first_name": "Rob",
            "last_name": "Roy",
            "password": "new",
            "roles": [{"name": "Op"}, {"name": "User"}],
        }
        expected = user_json("rob", "rob@example.com", "Rob", "Roy", ["Op", "User"])
        assert await call(client, "PATCH", USERS + "/bob", json=body) == (200, expected)
        assert await call(client, "GET", USERS + "/bob") == (404, not_found("bob"))
        assert await call(client, "GET", USERS + "/rob") == (200, expected)
        assert (await client.get(USERS, headers=basic("bob", "old"))).status == 401
        assert (await client.get(USERS, headers=basic("rob", "old"))).status == 401
        assert (await client.get(USERS, headers=basic("rob", "new"))).status == 403

    async def test_mask_updates_only_the_named_fields(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "Viewer")
        body = {**BOB, "first_name": "Robert", "last_name": "Other", "roles": [{"name": "Op"}]}
        expected = {**user_json("bob", "bob@example.com", "Robert", "Tester", ["Viewer"])}
        url = USERS + "/bob?update_mask=first_name, username"
        assert await call(client, "PATCH", url, json=body) == (200, expected)

    async def test_mask_roles_replaces_them(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "Viewer", "User")
        url = USERS + "/bob?update_mask=roles"
        status, body = await call(client, "PATCH", url, json={**BOB, "roles": []})
        assert (status, body["roles"]) == (200, [])

    async def test_without_roles_keeps_them(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "Viewer")
        status, body = await call(client, "PATCH", USERS + "/bob", json=BOB)
        assert (status, body["roles"]) == (200, [{"name": "Viewer"}])

    @pytest.mark.parametrize(
        ("mask", "detail"),
        [
            ("foo,password,email", "Unknown update masks: 'foo', 'password'"),
            ("roles", "Unknown update masks: 'roles'"),
            ("active", "Unknown update masks: 'active'"),
            ("", "Unknown update masks: ''"),
        ],
    )
    async def test_mask_names_must_be_in_the_body(
        self,
        client: TestClient,
        sim: Simulator,
        make_user: Callable[..., Any],
        mask: str,
        detail: str,
    ) -> None:
        make_user("bob", "Viewer")
        body = {**BOB, "first_name": "Changed"}
        url = f"{USERS}/bob?update_mask={mask}"
        assert await call(client, "PATCH", url, json=body) == (400, bad_request(detail))
        assert sim.store.users.require("bob").first_name == "Bob"

    async def test_body_is_loaded_in_full_even_with_a_mask(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "Viewer")
        url = USERS + "/bob?update_mask=first_name"
        detail = f"{{'last_name': {MISSING}, 'username': {MISSING}, 'email': {MISSING}}}"
        assert await call(client, "PATCH", url, json={"first_name": "X"}) == (
            400,
            bad_request(detail),
        )

    async def test_invalid_body_beats_not_found(self, client: TestClient) -> None:
        detail = "{'foo': ['Unknown field.']}"
        assert await call(client, "PATCH", USERS + "/ghost", json={**BOB, "foo": 1}) == (
            400,
            bad_request(detail),
        )

    async def test_not_found(self, client: TestClient) -> None:
        assert await call(client, "PATCH", USERS + "/ghost", json=BOB) == (404, not_found("ghost"))

    async def test_unknown_roles(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "Viewer")
        body = {**BOB, "first_name": "X", "roles": [{"name": "nope"}]}
        expected = bad_request("Unknown roles: 'nope'")
        assert await call(client, "PATCH", USERS + "/bob", json=body) == (400, expected)
        assert sim.store.users.require("bob").first_name == "Bob"

    async def test_username_taken(self, client: TestClient, make_user: Callable[..., Any]) -> None:
        make_user("bob", "Viewer")
        body = {**BOB, "username": "Admin"}
        # Checked against the whole body, before the mask.
        url = USERS + "/bob?update_mask=first_name"
        detail = "The username `Admin` already exists"
        assert await call(client, "PATCH", url, json=body) == (409, conflict(detail))

    async def test_own_username_in_another_case_is_taken(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        # FAB compares the body's username with the path's exactly, then looks it
        # up case-insensitively: it finds the user itself.
        make_user("bob", "Viewer")
        detail = "The username `bob` already exists"
        assert await call(client, "PATCH", USERS + "/BOB", json=BOB) == (409, conflict(detail))

    async def test_email_taken(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., Any]
    ) -> None:
        make_user("bob", "Viewer")
        body = {**BOB, "first_name": "X", "email": "admin@example.com"}
        detail = "The email `admin@example.com` already exists"
        assert await call(client, "PATCH", USERS + "/bob", json=body) == (409, conflict(detail))
        assert sim.store.users.require("bob").first_name == "Bob"

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        body = {**BOB, "username": "vic", "email": "vic@example.com"}
        assert await call(client, "PATCH", USERS + "/vic", json=body, headers=headers) == (
            403,
            FORBIDDEN,
        )


class TestDeleteUser:
    async def test_deletes(self, client: TestClient, make_user: Callable[..., Any]) -> None:
        headers = make_user("bob", "Admin")
        assert await call(client, "DELETE", USERS + "/BOB") == (204, "")
        assert await call(client, "GET", USERS + "/bob") == (404, not_found("bob"))
        assert await call(client, "GET", USERS, headers=headers) == (401, UNAUTHORIZED)

    async def test_not_found(self, client: TestClient) -> None:
        assert await call(client, "DELETE", USERS + "/ghost") == (404, not_found("ghost"))

    async def test_viewer_is_forbidden(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., Any]
    ) -> None:
        headers = make_user("vic", "Viewer")
        assert await call(client, "DELETE", USERS + "/admin", headers=headers) == (403, FORBIDDEN)
        assert "admin" in sim.store.users


class TestOfficialClient:
    def test_user_api(self, api_client: Any) -> None:
        from airflow_client.client.api.user_api import UserApi
        from airflow_client.client.model.user import User
        from airflow_client.client.model.user_collection_item_roles import (
            UserCollectionItemRoles,
        )

        api = UserApi(api_client)
        roles = [UserCollectionItemRoles(name="Viewer")]
        created = api.post_user(User(**BOB, password="pw", roles=roles))
        assert (created.username, created.roles[0].name, created.active) == ("bob", "Viewer", True)
        assert created["fail_login_count"] is None
        listing = api.get_users(limit=1, offset=1, order_by="first_name")
        assert (listing.total_entries, listing.users[0].username) == (2, "bob")
        assert api.get_user("bob").email == "bob@example.com"
        patch = User(**{**BOB, "last_name": "Marley"})
        updated = api.patch_user("bob", patch, update_mask=["last_name"])
        # The 2.5.1 client declares a Role as patch_user's answer: read it raw.
        assert (updated["last_name"], updated["roles"]) == ("Marley", [{"name": "Viewer"}])
        assert api.delete_user("bob") is None
        assert api.get_users().total_entries == 1
