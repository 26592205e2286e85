"""Connections: CRUD, extra redaction, update_mask and the connection test."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from simulator.state.entities import Connection
from tests.conftest import ADMIN, NEGATIVE_OFFSET, STARTUP_ROWS, problem

URL = "/api/v1/connections"
UNAUTHENTICATED = problem(401, "Unauthorized", None, "Unauthenticated")
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")


def add(sim: Simulator, conn_id: str, conn_type: str = "http", **fields: Any) -> Connection:
    return sim.store.connections.add(Connection(conn_id=conn_id, conn_type=conn_type, **fields))


def item(conn_id: str, conn_type: str = "http", **fields: Any) -> dict[str, Any]:
    base = dict.fromkeys(("description", "host", "login", "schema", "port"))
    return {"connection_id": conn_id, "conn_type": conn_type, **base, **fields}


def full(conn_id: str, conn_type: str = "http", **fields: Any) -> dict[str, Any]:
    return {"extra": None, **item(conn_id, conn_type, **fields)}


def bad_request(detail: str, title: str | None = "Bad Request") -> dict[str, Any]:
    return problem(400, title, detail, "BadRequest")


def not_found(conn_id: str) -> dict[str, Any]:
    detail = f"The Connection with connection_id: `{conn_id}` was not found"
    return problem(404, "Connection not found", detail, "NotFound")


def snapshot(sim: Simulator) -> list[tuple[Any, ...]]:
    """Everything a failed request must leave alone: connections and the audit log."""
    fields = ("id", "conn_id", "conn_type", "description", "host", "login", "password")
    fields += ("schema", "port", "extra")
    rows = [tuple(getattr(c, name) for name in fields) for c in sim.store.connections]
    return [*rows, ("events", len(sim.store.event_logs) - STARTUP_ROWS)]


def events(sim: Simulator) -> list[tuple[str, str | None, str | None]]:
    """The audit rows written since the world started."""
    rows = list(sim.store.event_logs)[STARTUP_ROWS:]
    return [(e.event, e.owner, e.extra) for e in rows]


@pytest.fixture
def viewer(make_user: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_user("viewer", "Viewer")


class TestGetConnections:
    async def test_empty(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"connections": [], "total_entries": 0}

    async def test_items_have_no_extra_or_password_and_follow_row_id(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add(sim, "zeta", "ftp", host="h", login="l", password="pw", port=21, extra='{"a": 1}')
        add(sim, "alpha", "sqlite", description="d", schema="s")
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "connections": [
                item("zeta", "ftp", host="h", login="l", port=21),
                item("alpha", "sqlite", description="d", schema="s"),
            ],
            "total_entries": 2,
        }

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            ("id", ["b", "c", "a"]),
            ("-id", ["a", "c", "b"]),
            ("--id", ["a", "c", "b"]),
            ("connection_id", ["a", "b", "c"]),
            ("-connection_id", ["c", "b", "a"]),
            ("conn_type", ["c", "a", "b"]),
            ("host", ["a", "c", "b"]),
            ("description", ["c", "b", "a"]),
            # NULLs sort last ascending and first descending, as in PostgreSQL.
            ("port", ["c", "a", "b"]),
            ("-port", ["b", "a", "c"]),
        ],
    )
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str, expected: list[str]
    ) -> None:
        add(sim, "b", "sqlite", host="z", description="y")
        add(sim, "c", "ftp", host="m", port=21, description="a")
        add(sim, "a", "http", host="a", port=80, description="z")
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert [c["connection_id"] for c in body["connections"]] == expected

    @pytest.mark.parametrize("order_by", ["login", "-password", "conn_id", "extra", "-"])
    async def test_order_by_outside_allow_list(self, client: TestClient, order_by: str) -> None:
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 400
        name = order_by.lstrip("-")
        assert await response.json() == bad_request(
            f"Ordering with '{name}' is disallowed or the attribute does not exist on the model"
        )

    async def test_limit_and_offset(self, client: TestClient, sim: Simulator) -> None:
        for n in range(5):
            add(sim, f"c{n}")
        response = await client.get(URL, params={"limit": 2, "offset": 1}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "connections": [item("c1"), item("c2")],
            "total_entries": 5,
        }

    async def test_offset_past_the_end(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "c0")
        response = await client.get(URL, params={"offset": 5}, headers=ADMIN)
        assert await response.json() == {"connections": [], "total_entries": 1}

    @pytest.mark.parametrize(("limit", "size"), [(0, 100), (150, 100), (100, 100), (7, 7)])
    async def test_limit_is_clamped(
        self, client: TestClient, sim: Simulator, limit: int, size: int
    ) -> None:
        for n in range(105):
            add(sim, f"c{n:03}")
        response = await client.get(URL, params={"limit": limit}, headers=ADMIN)
        body = await response.json()
        assert (len(body["connections"]), body["total_entries"]) == (size, 105)

    async def test_negative_limit(self, client: TestClient) -> None:
        # Checked before order_by, as Airflow's format_parameters runs first.
        response = await client.get(URL, params={"limit": -1, "order_by": "x"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    async def test_negative_offset(self, client: TestClient) -> None:
        response = await client.get(URL, params={"offset": -1}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(NEGATIVE_OFFSET)

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_viewer_forbidden(self, client: TestClient, viewer: dict[str, str]) -> None:
        response = await client.get(URL, headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN

    async def test_op_allowed(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("op", "Op"))
        assert response.status == 200


class TestPostConnection:
    async def test_creates_and_answers_200_without_password(
        self, client: TestClient, sim: Simulator
    ) -> None:
        body = {
            "connection_id": "my_db",
            "conn_type": "sqlite",
            "description": "a db",
            "host": "/tmp/db",
            "login": "me",
            "password": "pw",
            "schema": "main",
            "port": 5432,
            "extra": '{"api_key":"k","timeout":3}',
        }
        response = await client.post(URL, json=body, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == full(
            "my_db",
            "sqlite",
            description="a db",
            host="/tmp/db",
            login="me",
            schema="main",
            port=5432,
            extra='{"api_key": "***", "timeout": 3}',
        )
        stored = sim.store.connections.require("my_db")
        assert (stored.password, stored.extra) == ("pw", '{"api_key":"k","timeout":3}')
        assert events(sim) == [("connection.create", "admin", "[]")]

    async def test_extra_is_masked_to_airflow_depth(self, client: TestClient) -> None:
        """The masker stops at depth 5 (SecretsMasker.MAX_RECURSION_DEPTH), so
        extra nested hundreds deep is answered, not a RecursionError."""
        deep: Any = {"password": "deep"}
        for _ in range(900):
            deep = {"a": deep}
        extra = json.dumps({"token": ["t", {"x": 1}], "n": {"a": {"password": "p"}}, "deep": deep})
        body = {"connection_id": "nested", "conn_type": "http", "extra": extra}
        response = await client.post(URL, json=body, headers=ADMIN)
        assert response.status == 200
        shown = json.loads((await response.json())["extra"])
        assert shown["token"] == ["***", {"x": 1}]
        assert shown["n"] == {"a": {"password": "***"}}
        inner = shown["deep"]
        for _ in range(5):  # below the depth, nothing is looked at
            inner = inner["a"]
        assert inner == json.loads(extra)["deep"]["a"]["a"]["a"]["a"]["a"]
        response = await client.get(f"{URL}/nested", headers=ADMIN)
        assert response.status == 200

    async def test_minimal_body(self, client: TestClient) -> None:
        response = await client.post(
            URL, json={"connection_id": "c", "conn_type": "ftp"}, headers=ADMIN
        )
        assert response.status == 200
        assert await response.json() == full("c", "ftp")

    async def test_nullable_fields_may_be_null(self, client: TestClient) -> None:
        body = {"connection_id": "c", "conn_type": "ftp", "description": None, "port": None}
        response = await client.post(URL, json=body, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == full("c", "ftp")

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (
                {},
                "{'connection_id': ['Missing data for required field.'], "
                "'conn_type': ['Missing data for required field.']}",
            ),
            ({"connection_id": "c"}, "{'conn_type': ['Missing data for required field.']}"),
            (
                {"connection_id": "c", "conn_type": "http", "foo": 1},
                "{'foo': ['Unknown field.']}",
            ),
            (
                {"foo": 1, "conn_type": "http"},
                "{'connection_id': ['Missing data for required field.'], "
                "'foo': ['Unknown field.']}",
            ),
            (
                {"connection_id": "c" * 251, "conn_type": "http"},
                "{'connection_id': ['Longer than maximum length 250.']}",
            ),
            (
                {"connection_id": "c", "conn_type": "http", "host": "h" * 501},
                "{'host': ['Longer than maximum length 500.']}",
            ),
        ],
    )
    async def test_marshmallow_errors(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        response = await client.post(URL, json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(detail)
        assert snapshot(sim) == [("events", 0)]

    async def test_spec_validation_comes_first(self, client: TestClient) -> None:
        body = {"connection_id": "c", "conn_type": "http", "port": "80"}
        response = await client.post(URL, json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request("'80' is not of type 'integer' - 'port'")

    async def test_duplicate_is_409_and_keeps_the_original(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add(sim, "c1", host="old")
        before = snapshot(sim)
        response = await client.post(
            URL, json={"connection_id": "c1", "conn_type": "ftp", "host": "new"}, headers=ADMIN
        )
        assert response.status == 409
        assert await response.json() == problem(
            409, "Conflict", "Connection already exist. ID: c1", "AlreadyExists"
        )
        assert snapshot(sim) == before

    async def test_any_characters_in_id(self, client: TestClient, sim: Simulator) -> None:
        response = await client.post(
            URL, json={"connection_id": "a b/ü", "conn_type": "x"}, headers=ADMIN
        )
        assert response.status == 200
        assert "a b/ü" in sim.store.connections

    async def test_unauthenticated(self, client: TestClient, sim: Simulator) -> None:
        response = await client.post(URL, json={"connection_id": "c", "conn_type": "x"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED
        assert snapshot(sim) == [("events", 0)]

    async def test_viewer_forbidden(
        self, client: TestClient, sim: Simulator, viewer: dict[str, str]
    ) -> None:
        response = await client.post(
            URL, json={"connection_id": "c", "conn_type": "x"}, headers=viewer
        )
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert snapshot(sim) == [("events", 0)]


class TestGetConnection:
    async def test_full_representation(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "c1", "ftp", description="d", host="h", login="l", password="pw", port=21)
        response = await client.get(f"{URL}/c1", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == full(
            "c1", "ftp", description="d", host="h", login="l", port=21
        )

    @pytest.mark.parametrize(
        ("stored", "shown"),
        [
            (None, None),
            ("", ""),
            ("not json {", "not json {"),
            ('{"a":1,"b":[true,null]}', '{"a": 1, "b": [true, null]}'),
            ("[1,2]", "[1, 2]"),
            ('{"password": "x", "host": "y"}', '{"password": "***", "host": "y"}'),
            # Substring and case-insensitive matching of sensitive names.
            (
                '{"My_API_KEY": "x", "Auth_Token_2": "y"}',
                '{"My_API_KEY": "***", "Auth_Token_2": "***"}',
            ),
            # Under a sensitive key every string leaf is masked; other scalars stay.
            (
                '{"secret": {"a": "x", "b": [1, "y", false, null]}}',
                '{"secret": {"a": "***", "b": [1, "***", false, null]}}',
            ),
            (
                '{"nested": [{"passwd": "x"}, {"ok": "y"}]}',
                '{"nested": [{"passwd": "***"}, {"ok": "y"}]}',
            ),
            ('{"token": 5}', '{"token": 5}'),
            ('{"k": "\\u00e9"}', '{"k": "\\u00e9"}'),
        ],
    )
    async def test_extra_is_redacted(
        self, client: TestClient, sim: Simulator, stored: str | None, shown: str | None
    ) -> None:
        add(sim, "c1", extra=stored)
        response = await client.get(f"{URL}/c1", headers=ADMIN)
        assert response.status == 200
        assert (await response.json())["extra"] == shown
        assert sim.store.connections.require("c1").extra == stored

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == not_found("nope")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/c1")
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_viewer_forbidden(self, client: TestClient, viewer: dict[str, str]) -> None:
        response = await client.get(f"{URL}/c1", headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestDeleteConnection:
    async def test_deletes(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "c1")
        response = await client.delete(f"{URL}/c1", headers=ADMIN)
        assert response.status == 204
        assert await response.read() == b""
        assert "c1" not in sim.store.connections
        assert events(sim) == [("connection.delete", "admin", "[('connection_id', 'c1')]")]

    async def test_not_found(self, client: TestClient, sim: Simulator) -> None:
        response = await client.delete(f"{URL}/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == not_found("nope")
        assert snapshot(sim) == [("events", 0)]

    async def test_unauthenticated(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "c1")
        response = await client.delete(f"{URL}/c1")
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED
        assert "c1" in sim.store.connections

    async def test_viewer_forbidden(
        self, client: TestClient, sim: Simulator, viewer: dict[str, str]
    ) -> None:
        add(sim, "c1")
        response = await client.delete(f"{URL}/c1", headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert "c1" in sim.store.connections


class TestPatchConnection:
    @pytest.fixture
    def conn(self, sim: Simulator) -> Connection:
        return add(sim, "c1", "ftp", host="h", login="l", password="pw", port=21, extra="{}")

    async def test_sets_given_fields_and_keeps_the_rest(
        self, client: TestClient, sim: Simulator, conn: Connection
    ) -> None:
        body = {"host": "new", "password": "pw2", "port": None, "extra": '{"token":"t"}'}
        response = await client.patch(f"{URL}/c1", json=body, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == full(
            "c1", "ftp", host="new", login="l", extra='{"token": "***"}'
        )
        assert (conn.password, conn.port, conn.extra) == ("pw2", None, '{"token":"t"}')
        assert events(sim) == [("connection.edit", "admin", "[('connection_id', 'c1')]")]

    async def test_same_connection_id_and_conn_type_may_be_sent(
        self, client: TestClient, conn: Connection
    ) -> None:
        body = {"connection_id": "c1", "conn_type": "http"}
        response = await client.patch(f"{URL}/c1", json=body, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == full("c1", "http", host="h", login="l", port=21, extra="{}")

    async def test_empty_body_changes_nothing(self, client: TestClient, conn: Connection) -> None:
        response = await client.patch(f"{URL}/c1", json={}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == full("c1", "ftp", host="h", login="l", port=21, extra="{}")

    async def test_update_mask_applies_only_masked_fields(
        self, client: TestClient, sim: Simulator, conn: Connection
    ) -> None:
        body = {"host": "new", "login": "other", "password": "pw2"}
        response = await client.patch(
            f"{URL}/c1", params={"update_mask": " host , password"}, json=body, headers=ADMIN
        )
        assert response.status == 200
        assert await response.json() == full(
            "c1", "ftp", host="new", login="l", port=21, extra="{}"
        )
        assert conn.password == "pw2"
        assert events(sim) == [
            (
                "connection.edit",
                "admin",
                "[('update_mask', ' host , password'), ('connection_id', 'c1')]",
            )
        ]

    @pytest.mark.parametrize(
        ("mask", "body", "name"),
        [
            ("login", {"host": "x"}, "login"),  # masked but not in the body
            ("host,nope", {"host": "x"}, "nope"),
            ("connection_id", {"connection_id": "c1"}, "connection_id"),  # loaded as conn_id
            ("conn_id", {"connection_id": "c1"}, "conn_id"),  # not updatable
            ("", {"host": "x"}, ""),  # `update_mask=` is one empty name
        ],
    )
    async def test_update_mask_errors(
        self,
        client: TestClient,
        sim: Simulator,
        conn: Connection,
        mask: str,
        body: dict[str, Any],
        name: str,
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(
            f"{URL}/c1", params={"update_mask": mask}, json=body, headers=ADMIN
        )
        assert response.status == 400
        assert await response.json() == bad_request(f"'{name}' is unknown or cannot be updated.")
        assert snapshot(sim) == before

    async def test_connection_id_cannot_change(
        self, client: TestClient, sim: Simulator, conn: Connection
    ) -> None:
        before = snapshot(sim)
        # Checked before the update mask.
        response = await client.patch(
            f"{URL}/c1",
            params={"update_mask": "nope"},
            json={"connection_id": "c2", "host": "x"},
            headers=ADMIN,
        )
        assert response.status == 400
        assert await response.json() == bad_request("The connection_id cannot be updated.")
        assert snapshot(sim) == before

    async def test_empty_connection_id_renames(
        self, client: TestClient, sim: Simulator, conn: Connection
    ) -> None:
        # Airflow compares only a truthy connection_id, then sets every field.
        response = await client.patch(f"{URL}/c1", json={"connection_id": ""}, headers=ADMIN)
        assert response.status == 200
        assert (await response.json())["connection_id"] == ""
        assert [c.conn_id for c in sim.store.connections] == [""]
        assert sim.store.connections.require("").id == conn.id

    async def test_rename_onto_an_existing_id_is_409(
        self, client: TestClient, sim: Simulator, conn: Connection
    ) -> None:
        # Airflow fails on the unique constraint (500); the simulator answers 409.
        add(sim, "")
        before = snapshot(sim)
        response = await client.patch(f"{URL}/c1", json={"connection_id": ""}, headers=ADMIN)
        assert response.status == 409
        assert await response.json() == problem(
            409, "Conflict", "Connection already exist. ID: ", "AlreadyExists"
        )
        assert snapshot(sim) == before

    async def test_unknown_field_is_checked_before_existence(
        self, client: TestClient, sim: Simulator
    ) -> None:
        response = await client.patch(f"{URL}/nope", json={"foo": 1}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request("{'foo': ['Unknown field.']}")
        assert snapshot(sim) == [("events", 0)]

    async def test_partial_load_still_checks_lengths(
        self, client: TestClient, sim: Simulator, conn: Connection
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(f"{URL}/c1", json={"login": "x" * 501}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "{'login': ['Longer than maximum length 500.']}"
        )
        assert snapshot(sim) == before

    async def test_not_found(self, client: TestClient, sim: Simulator) -> None:
        response = await client.patch(
            f"{URL}/nope", params={"update_mask": "x"}, json={"host": "h"}, headers=ADMIN
        )
        assert response.status == 404
        assert await response.json() == not_found("nope")
        assert snapshot(sim) == [("events", 0)]

    async def test_unauthenticated(
        self, client: TestClient, sim: Simulator, conn: Connection
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(f"{URL}/c1", json={"host": "x"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED
        assert snapshot(sim) == before

    async def test_viewer_forbidden(
        self, client: TestClient, sim: Simulator, conn: Connection, viewer: dict[str, str]
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(f"{URL}/c1", json={"host": "x"}, headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert snapshot(sim) == before


class TestTestConnection:
    @pytest.mark.parametrize(
        ("body", "status", "message"),
        [
            ({"conn_type": "http", "host": "example.com"}, True, "Connection successfully tested"),
            ({"conn_type": "http"}, False, "Invalid URL 'http://': No host supplied"),
            (
                {"conn_type": "http", "schema": "https", "port": 8443},
                False,
                "Invalid URL 'https://:8443': No host supplied",
            ),
            (
                {"conn_type": "ftp", "host": "ftp.example.com"},
                True,
                "Connection successfully tested",
            ),
            ({"conn_type": "ftps"}, False, "'NoneType' object has no attribute 'sendall'"),
            ({"conn_type": "sqlite"}, True, "Connection successfully tested"),
            (
                {"conn_type": "imap", "host": "imap.example.com"},
                False,
                "Hook ImapHook doesn't implement or inherit test_connection method",
            ),
            ({"conn_type": "postgres", "host": "db"}, False, 'Unknown hook type "postgres"'),
            ({"conn_type": "HTTP", "host": "h"}, False, 'Unknown hook type "HTTP"'),
        ],
    )
    async def test_simulated_result(
        self,
        client: TestClient,
        sim: Simulator,
        body: dict[str, Any],
        status: bool,
        message: str,
    ) -> None:
        response = await client.post(
            f"{URL}/test", json={"connection_id": "any", **body}, headers=ADMIN
        )
        assert response.status == 200
        assert await response.json() == {"status": status, "message": message}
        # Nothing is stored and no audit row is written.
        assert snapshot(sim) == [("events", 0)]

    async def test_hook_needs_its_provider(self, client: TestClient, sim: Simulator) -> None:
        sim.store.providers.delete("apache-airflow-providers-http")
        body = {"connection_id": "c", "conn_type": "http", "host": "h"}
        response = await client.post(f"{URL}/test", json=body, headers=ADMIN)
        assert await response.json() == {"status": False, "message": 'Unknown hook type "http"'}

    async def test_existing_connection_is_untouched(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add(sim, "c1", host="h")
        before = snapshot(sim)
        body = {"connection_id": "c1", "conn_type": "ftp"}
        response = await client.post(f"{URL}/test", json=body, headers=ADMIN)
        assert response.status == 200
        assert snapshot(sim) == before

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"conn_type": "http"}, "{'connection_id': ['Missing data for required field.']}"),
            (
                {"connection_id": "c", "conn_type": "http", "bar": 1},
                "{'bar': ['Unknown field.']}",
            ),
        ],
    )
    async def test_marshmallow_errors(
        self, client: TestClient, body: dict[str, Any], detail: str
    ) -> None:
        response = await client.post(f"{URL}/test", json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(detail)

    async def test_unauthenticated(self, client: TestClient) -> None:
        body = {"connection_id": "c", "conn_type": "http"}
        response = await client.post(f"{URL}/test", json=body)
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_needs_can_create(
        self, client: TestClient, viewer: dict[str, str], make_user: Callable[..., Any]
    ) -> None:
        body = {"connection_id": "c", "conn_type": "http"}
        response = await client.post(f"{URL}/test", json=body, headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        response = await client.post(f"{URL}/test", json=body, headers=make_user("op", "Op"))
        assert response.status == 200


class TestOfficialClient:
    def test_connection_lifecycle(self, api_client: Any) -> None:
        from airflow_client.client.api.connection_api import ConnectionApi
        from airflow_client.client.model.connection import Connection as ConnectionModel

        api = ConnectionApi(api_client)
        created = api.post_connection(
            ConnectionModel(
                connection_id="c1", conn_type="http", host="h", password="pw", extra='{"token":"t"}'
            )
        )
        assert (created.connection_id, created.host, created.extra) == (
            "c1",
            "h",
            '{"token": "***"}',
        )
        listed = api.get_connections(limit=10, order_by="-connection_id")
        assert listed.total_entries == 1
        assert [c.connection_id for c in listed.connections] == ["c1"]
        patched = api.patch_connection(
            "c1", ConnectionModel(host="h2", port=8080, login="x"), update_mask=["host", "port"]
        )
        assert (patched.host, patched.port, patched.login) == ("h2", 8080, None)
        fetched = api.get_connection("c1")
        assert (fetched.host, fetched.port) == ("h2", 8080)
        result = api.test_connection(ConnectionModel(connection_id="t", conn_type="http", host="h"))
        assert (result.status, result.message) == (True, "Connection successfully tested")
        api.delete_connection("c1")
        assert api.get_connections().total_entries == 0

    def test_errors_reach_the_client(self, api_client: Any) -> None:
        from airflow_client.client.api.connection_api import ConnectionApi
        from airflow_client.client.exceptions import NotFoundException

        with pytest.raises(NotFoundException) as info:
            ConnectionApi(api_client).get_connection("nope")
        assert info.value.status == 404
