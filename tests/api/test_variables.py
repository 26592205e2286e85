"""Variables: list (with values), upsert, read, update_mask rules and delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from simulator.state.entities import Variable
from tests.conftest import ADMIN, STARTUP_ROWS, problem

URL = "/api/v1/variables"
UNAUTHENTICATED = problem(401, "Unauthorized", None, "Unauthenticated")
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")
NOT_FOUND = problem(404, "Variable not found", None, "NotFound")


def add(sim: Simulator, key: str, val: str = "v", description: str | None = None) -> Variable:
    return sim.store.variables.add(Variable(key=key, val=val, description=description))


def var(key: str, value: str = "v", description: str | None = None) -> dict[str, Any]:
    return {"key": key, "value": value, "description": description}


def invalid(detail: str) -> dict[str, Any]:
    return problem(400, "Invalid Variable schema", detail, "BadRequest")


def snapshot(sim: Simulator) -> list[tuple[Any, ...]]:
    """Everything a failed request must leave alone: variables and the audit log."""
    rows = [(v.id, v.key, v.val, v.description) for v in sim.store.variables]
    return [*rows, ("events", len(sim.store.event_logs) - STARTUP_ROWS)]


def events(sim: Simulator) -> list[tuple[str, str | None, str | None]]:
    """The audit rows written since the world started."""
    rows = list(sim.store.event_logs)[STARTUP_ROWS:]
    return [(e.event, e.owner, e.extra) for e in rows]


@pytest.fixture
def viewer(make_user: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_user("viewer", "Viewer")


class TestGetVariables:
    async def test_empty(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"variables": [], "total_entries": 0}

    async def test_values_are_listed(self, client: TestClient, sim: Simulator) -> None:
        # Airflow nests the full schema; the spec prose says values are left out.
        add(sim, "zeta", "1", "d")
        add(sim, "alpha", "2")
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "variables": [var("zeta", "1", "d"), var("alpha", "2")],
            "total_entries": 2,
        }

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            ("id", ["b", "c", "a"]),
            ("-id", ["a", "c", "b"]),
            ("key", ["a", "b", "c"]),
            ("-key", ["c", "b", "a"]),
            ("value", ["c", "a", "b"]),
            ("--value", ["b", "a", "c"]),
        ],
    )
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str, expected: list[str]
    ) -> None:
        add(sim, "b", "3")
        add(sim, "c", "1")
        add(sim, "a", "2")
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 200
        assert [v["key"] for v in (await response.json())["variables"]] == expected

    @pytest.mark.parametrize("order_by", ["val", "description", "-x"])
    async def test_order_by_outside_allow_list(self, client: TestClient, order_by: str) -> None:
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 400
        name = order_by.lstrip("-")
        assert await response.json() == problem(
            400,
            "Bad Request",
            f"Ordering with '{name}' is disallowed or the attribute does not exist on the model",
            "BadRequest",
        )

    async def test_limit_and_offset(self, client: TestClient, sim: Simulator) -> None:
        for n in range(5):
            add(sim, f"k{n}")
        response = await client.get(URL, params={"limit": 2, "offset": 3}, headers=ADMIN)
        assert await response.json() == {"variables": [var("k3"), var("k4")], "total_entries": 5}

    @pytest.mark.parametrize(("limit", "size"), [(0, 100), (101, 100), (3, 3)])
    async def test_limit_is_clamped(
        self, client: TestClient, sim: Simulator, limit: int, size: int
    ) -> None:
        for n in range(102):
            add(sim, f"k{n:03}")
        response = await client.get(URL, params={"limit": limit}, headers=ADMIN)
        body = await response.json()
        assert (len(body["variables"]), body["total_entries"]) == (size, 102)

    async def test_negative_limit(self, client: TestClient) -> None:
        response = await client.get(URL, params={"limit": -5}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_viewer_forbidden(self, client: TestClient, viewer: dict[str, str]) -> None:
        response = await client.get(URL, headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestPostVariables:
    async def test_creates_without_description_but_echoes_it(
        self, client: TestClient, sim: Simulator
    ) -> None:
        body = {"key": "k", "value": "v", "description": "d"}
        response = await client.post(URL, json=body, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"key": "k", "value": "v", "description": "d"}
        # Airflow 2.5.3 drops the description when it stores the variable.
        assert snapshot(sim) == [(1, "k", "v", None), ("events", 1)]
        assert events(sim) == [("variable.create", "admin", "[]")]

    async def test_answer_has_no_description_unless_sent(self, client: TestClient) -> None:
        response = await client.post(URL, json={"key": "k", "value": "v"}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"key": "k", "value": "v"}

    async def test_existing_key_is_replaced_by_a_new_row(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add(sim, "k", "old", "kept?")
        add(sim, "other")
        response = await client.post(URL, json={"key": "k", "value": "new"}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"key": "k", "value": "new"}
        # Variable.set deletes then inserts: a new row id, no description.
        assert snapshot(sim)[:2] == [(2, "other", "v", None), (3, "k", "new", None)]

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (
                {},
                "{'key': ['Missing data for required field.'], "
                "'value': ['Missing data for required field.']}",
            ),
            ({"key": "k"}, "{'value': ['Missing data for required field.']}"),
            ({"key": "k", "value": "v", "val": "x"}, "{'val': ['Unknown field.']}"),
            # The spec lets description be null; marshmallow does not.
            (
                {"key": "k", "value": "v", "description": None},
                "{'description': ['Field may not be null.']}",
            ),
        ],
    )
    async def test_invalid_schema(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        response = await client.post(URL, json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == invalid(detail)
        assert snapshot(sim) == [("events", 0)]

    async def test_spec_validation_comes_first(self, client: TestClient) -> None:
        response = await client.post(URL, json={"key": "k", "value": 1}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "1 is not of type 'string' - 'value'", "BadRequest"
        )

    async def test_unauthenticated(self, client: TestClient, sim: Simulator) -> None:
        response = await client.post(URL, json={"key": "k", "value": "v"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED
        assert snapshot(sim) == [("events", 0)]

    async def test_viewer_forbidden(
        self, client: TestClient, sim: Simulator, viewer: dict[str, str]
    ) -> None:
        response = await client.post(URL, json={"key": "k", "value": "v"}, headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert snapshot(sim) == [("events", 0)]


class TestGetVariable:
    async def test_found(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "k", "secret-looking", "d")
        response = await client.get(f"{URL}/k", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == var("k", "secret-looking", "d")

    async def test_sensitive_names_are_not_masked(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "my_password", "hunter2")
        response = await client.get(f"{URL}/my_password", headers=ADMIN)
        assert await response.json() == var("my_password", "hunter2")

    async def test_key_may_contain_slashes(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "a/b", "1")
        response = await client.get(f"{URL}/a/b", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == var("a/b", "1")

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == NOT_FOUND

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/k")
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_viewer_forbidden(self, client: TestClient, viewer: dict[str, str]) -> None:
        response = await client.get(f"{URL}/k", headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestDeleteVariable:
    async def test_deletes(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "k")
        response = await client.delete(f"{URL}/k", headers=ADMIN)
        assert response.status == 204
        assert await response.read() == b""
        assert "k" not in sim.store.variables
        assert events(sim) == [("variable.delete", "admin", "[('variable_key', 'k')]")]

    async def test_not_found(self, client: TestClient, sim: Simulator) -> None:
        response = await client.delete(f"{URL}/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == NOT_FOUND
        assert snapshot(sim) == [("events", 0)]

    async def test_unauthenticated(self, client: TestClient, sim: Simulator) -> None:
        add(sim, "k")
        response = await client.delete(f"{URL}/k")
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED
        assert "k" in sim.store.variables

    async def test_viewer_forbidden(
        self, client: TestClient, sim: Simulator, viewer: dict[str, str]
    ) -> None:
        add(sim, "k")
        response = await client.delete(f"{URL}/k", headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert "k" in sim.store.variables


class TestPatchVariable:
    @pytest.fixture
    def existing(self, sim: Simulator) -> Variable:
        return add(sim, "k", "old", "desc")

    async def test_sets_value_and_keeps_description_unless_sent(
        self, client: TestClient, sim: Simulator, existing: Variable
    ) -> None:
        response = await client.patch(f"{URL}/k", json={"key": "k", "value": "new"}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == var("k", "new", "desc")
        assert events(sim) == [("variable.edit", "admin", "[('variable_key', 'k')]")]

    async def test_sets_description(self, client: TestClient, existing: Variable) -> None:
        body = {"key": "k", "value": "new", "description": "d2"}
        response = await client.patch(f"{URL}/k", json=body, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == var("k", "new", "d2")
        assert (existing.val, existing.description) == ("new", "d2")

    @pytest.mark.parametrize(
        ("mask", "expected"),
        [
            ("description", var("k", "old", "d2")),
            # Mask names are the loaded keys, so the value is masked as `val`.
            (" val ", var("k", "new", "desc")),
            ("val,description", var("k", "new", "d2")),
        ],
    )
    async def test_update_mask(
        self, client: TestClient, existing: Variable, mask: str, expected: dict[str, Any]
    ) -> None:
        body = {"key": "k", "value": "new", "description": "d2"}
        response = await client.patch(
            f"{URL}/k", params={"update_mask": mask}, json=body, headers=ADMIN
        )
        assert response.status == 200
        assert await response.json() == expected

    @pytest.mark.parametrize(
        ("mask", "name"),
        [("value", "value"), ("key", "key"), ("description", "description"), ("", "")],
    )
    async def test_update_mask_errors(
        self, client: TestClient, sim: Simulator, existing: Variable, mask: str, name: str
    ) -> None:
        # `description` fails here because the body does not carry one.
        before = snapshot(sim)
        response = await client.patch(
            f"{URL}/k", params={"update_mask": mask}, json={"key": "k", "value": "x"}, headers=ADMIN
        )
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", f"'{name}' is unknown or cannot be updated.", "BadRequest"
        )
        assert snapshot(sim) == before

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"value": "v"}, "{'key': ['Missing data for required field.']}"),
            ({"key": "k"}, "{'value': ['Missing data for required field.']}"),
            ({"key": "k", "value": "v", "x": 1}, "{'x': ['Unknown field.']}"),
            (
                {"key": "k", "value": "v", "description": None},
                "{'description': ['Field may not be null.']}",
            ),
        ],
    )
    async def test_invalid_schema(
        self,
        client: TestClient,
        sim: Simulator,
        existing: Variable,
        body: dict[str, Any],
        detail: str,
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(f"{URL}/k", json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == invalid(detail)
        assert snapshot(sim) == before

    async def test_key_must_match_the_path(
        self, client: TestClient, sim: Simulator, existing: Variable
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(f"{URL}/k", json={"key": "k2", "value": "v"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400,
            "Invalid post body",
            "key from request body doesn't match uri parameter",
            "BadRequest",
        )
        assert snapshot(sim) == before

    async def test_missing_variable_is_404_as_in_later_releases(
        self, client: TestClient, sim: Simulator
    ) -> None:
        # Airflow 2.5.3 crashes (500) here; 2.10 answers this 404.
        response = await client.patch(
            f"{URL}/nope", json={"key": "nope", "value": "v"}, headers=ADMIN
        )
        assert response.status == 404
        assert await response.json() == problem(
            404, "Variable not found", "Variable does not exist", "NotFound"
        )
        assert snapshot(sim) == [("events", 0)]

    async def test_mask_is_checked_before_existence(
        self, client: TestClient, sim: Simulator
    ) -> None:
        # As in 2.5.3, where the mask check runs before the crash.
        response = await client.patch(
            f"{URL}/nope",
            params={"update_mask": "value"},
            json={"key": "nope", "value": "v"},
            headers=ADMIN,
        )
        assert response.status == 400
        assert (await response.json())["detail"] == "'value' is unknown or cannot be updated."

    async def test_unauthenticated(
        self, client: TestClient, sim: Simulator, existing: Variable
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(f"{URL}/k", json={"key": "k", "value": "x"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED
        assert snapshot(sim) == before

    async def test_viewer_forbidden(
        self, client: TestClient, sim: Simulator, existing: Variable, viewer: dict[str, str]
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(f"{URL}/k", json={"key": "k", "value": "x"}, headers=viewer)
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert snapshot(sim) == before


class TestOfficialClient:
    def test_variable_lifecycle(self, api_client: Any) -> None:
        from airflow_client.client.api.variable_api import VariableApi
        from airflow_client.client.model.variable import Variable as VariableModel

        api = VariableApi(api_client)
        created = api.post_variables(VariableModel(key="k", value="v", description="d"))
        assert (created.key, created.value, created.description) == ("k", "v", "d")
        listed = api.get_variables(limit=5, order_by="-key")
        assert listed.total_entries == 1
        assert [(v.key, v.description) for v in listed.variables] == [("k", None)]
        patched = api.patch_variable(
            "k", VariableModel(key="k", value="v2", description="d2"), update_mask=["description"]
        )
        assert (patched.value, patched.description) == ("v", "d2")
        fetched = api.get_variable("k")
        assert (fetched.value, fetched.description) == ("v", "d2")
        api.delete_variable("k")
        assert api.get_variables().total_entries == 0

    def test_errors_reach_the_client(self, api_client: Any) -> None:
        from airflow_client.client.api.variable_api import VariableApi
        from airflow_client.client.exceptions import NotFoundException

        with pytest.raises(NotFoundException) as info:
            VariableApi(api_client).get_variable("nope")
        assert info.value.status == 404
