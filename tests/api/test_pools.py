"""Pools: list, create, read, update (update_mask) and delete, with Airflow's
slot arithmetic and default_pool rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.engine.lifecycle import set_state
from simulator.simulator import Simulator
from simulator.state.entities import Pool
from simulator.state.run_model import TaskInstance, ti_spec
from tests.conftest import ADMIN, NEGATIVE_OFFSET, problem

URL = "/api/v1/pools"
NOT_FOUND = "Pool with name:'{}' not found"


def pool_body(name: str, slots: int, description: str | None = None, **slots_in_use: int) -> dict:
    """A pool as Airflow dumps it; slot fields default to an idle pool."""
    body = {
        "name": name,
        "slots": slots,
        "description": description,
        "occupied_slots": 0,
        "running_slots": 0,
        "queued_slots": 0,
        "scheduled_slots": 0,
        "open_slots": slots,
    }
    body.update(slots_in_use)
    return body


DEFAULT = pool_body("default_pool", 128, "Default pool")


def add_pool(sim: Simulator, name: str, slots: int, description: str | None = None) -> Pool:
    return sim.store.pools.add(Pool(pool=name, slots=slots, description=description))


def add_ti(sim: Simulator, task_id: str, state: str | None, pool: str, pool_slots: int = 1) -> None:
    ti = sim.store.task_instances.add(
        TaskInstance(
            dag_id="dag",
            run_id="run",
            task_id=task_id,
            spec=ti_spec(pool=pool, pool_slots=pool_slots),
        )
    )
    set_state(sim.store, ti, state)  # as the engine does: keeps the active index


def snapshot(sim: Simulator) -> list[tuple[int, str, int, str | None]]:
    return [(p.id, p.pool, p.slots, p.description) for p in sim.store.pools]


class TestGetPools:
    async def test_fresh_install_has_default_pool(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"pools": [DEFAULT], "total_entries": 1}

    async def test_body_is_airflows_format(self, client: TestClient) -> None:
        text = await (await client.get(URL, headers=ADMIN)).text()
        assert text.startswith('{\n  "pools": [\n    {\n      "description": "Default pool",')
        assert text.endswith('"total_entries": 1\n}\n')

    async def test_slots_are_summed_from_task_instances(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add_pool(sim, "small", 2)
        add_ti(sim, "running", "running", "default_pool", pool_slots=2)
        add_ti(sim, "queued", "queued", "default_pool")
        add_ti(sim, "scheduled", "scheduled", "default_pool", pool_slots=3)
        # Deferred, finished and stateless tasks hold no slot in 2.5.3.
        add_ti(sim, "deferred", "deferred", "default_pool", pool_slots=5)
        add_ti(sim, "success", "success", "default_pool")
        add_ti(sim, "none", None, "default_pool")
        # A pool may be overcommitted: open slots go negative.
        add_ti(sim, "big", "running", "small", pool_slots=3)
        add_ti(sim, "waiting", "queued", "small")
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "pools": [
                pool_body(
                    "default_pool",
                    128,
                    "Default pool",
                    occupied_slots=3,
                    running_slots=2,
                    queued_slots=1,
                    scheduled_slots=3,
                    open_slots=125,
                ),
                pool_body(
                    "small", 2, occupied_slots=4, running_slots=3, queued_slots=1, open_slots=-2
                ),
            ],
            "total_entries": 2,
        }

    async def test_infinite_pool_has_minus_one_open_slots(
        self, client: TestClient, sim: Simulator
    ) -> None:
        # 2.5.3 computes float("inf") and fails its own response validation;
        # later 2.x releases answer -1.
        add_pool(sim, "unlimited", -1)
        add_ti(sim, "t", "running", "unlimited")
        response = await client.get(f"{URL}/unlimited", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == pool_body(
            "unlimited", -1, occupied_slots=1, running_slots=1, open_slots=-1
        )

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            (None, ["default_pool", "b", "a", "c"]),
            ("id", ["default_pool", "b", "a", "c"]),
            ("-id", ["c", "a", "b", "default_pool"]),
            ("name", ["a", "b", "c", "default_pool"]),
            ("-name", ["default_pool", "c", "b", "a"]),
            ("--name", ["default_pool", "c", "b", "a"]),
            ("slots", ["b", "a", "c", "default_pool"]),
            ("-slots", ["default_pool", "a", "c", "b"]),
        ],
    )
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str | None, expected: list[str]
    ) -> None:
        add_pool(sim, "b", 1)
        add_pool(sim, "a", 5)
        add_pool(sim, "c", 5)
        params = {"order_by": order_by} if order_by else {}
        response = await client.get(URL, headers=ADMIN, params=params)
        assert response.status == 200
        body = await response.json()
        assert [p["name"] for p in body["pools"]] == expected
        assert body["total_entries"] == 4

    @pytest.mark.parametrize("order_by", ["description", "-pool", "open_slots", "", "-"])
    async def test_order_by_outside_allow_list(self, client: TestClient, order_by: str) -> None:
        response = await client.get(URL, headers=ADMIN, params={"order_by": order_by})
        assert response.status == 400
        name = order_by.lstrip("-")
        assert await response.json() == problem(
            400,
            "Bad Request",
            f"Ordering with '{name}' is disallowed or the attribute does not exist on the model",
            "BadRequest",
        )

    async def test_limit_and_offset(self, client: TestClient, sim: Simulator) -> None:
        for i in range(5):
            add_pool(sim, f"p{i}", i)
        response = await client.get(URL, headers=ADMIN, params={"limit": "2", "offset": "2"})
        assert response.status == 200
        body = await response.json()
        assert [p["name"] for p in body["pools"]] == ["p1", "p2"]
        assert body["total_entries"] == 6

    async def test_offset_past_the_end(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN, params={"offset": "5"})
        assert response.status == 200
        assert await response.json() == {"pools": [], "total_entries": 1}

    @pytest.mark.parametrize(("limit", "count"), [("0", 100), ("1000", 100), ("100", 100)])
    async def test_limit_is_clamped(
        self, client: TestClient, sim: Simulator, limit: str, count: int
    ) -> None:
        for i in range(120):
            add_pool(sim, f"p{i:03}", 1)
        response = await client.get(URL, headers=ADMIN, params={"limit": limit})
        assert response.status == 200
        body = await response.json()
        assert len(body["pools"]) == count
        assert body["total_entries"] == 121

    async def test_negative_limit_is_checked_before_order_by(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN, params={"limit": "-1", "order_by": "x"})
        assert response.status == 400
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    async def test_negative_offset(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN, params={"offset": "-1"})
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", NEGATIVE_OFFSET, "BadRequest")

    async def test_unknown_query_parameter(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN, params={"name": "x"})
        assert response.status == 400
        assert await response.json() == problem(
            400, None, "Extra query parameter(s) name not in spec", "BadRequest"
        )

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("viewer", "Viewer"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_op_may_read(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("op", "Op"))
        assert response.status == 200


class TestGetPool:
    async def test_default_pool(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/default_pool", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == DEFAULT

    async def test_pool_with_description(self, client: TestClient, sim: Simulator) -> None:
        add_pool(sim, "gpu", 4, "GPU nodes")
        add_ti(sim, "t", "scheduled", "gpu", pool_slots=2)
        response = await client.get(f"{URL}/gpu", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == pool_body("gpu", 4, "GPU nodes", scheduled_slots=2)

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "Not Found", NOT_FOUND.format("nope"), "NotFound"
        )

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/default_pool")
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(f"{URL}/default_pool", headers=make_user("v", "Viewer"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")


class TestPostPool:
    async def test_create(self, client: TestClient, sim: Simulator) -> None:
        body = {"name": "gpu", "slots": 4, "description": "GPU nodes"}
        response = await client.post(URL, headers=ADMIN, json=body)
        assert response.status == 200  # Airflow answers 200, not 201
        assert await response.json() == pool_body("gpu", 4, "GPU nodes")
        pool = sim.store.pools.require("gpu")
        assert (pool.id, pool.slots, pool.description) == (2, 4, "GPU nodes")

    async def test_description_is_optional(self, client: TestClient) -> None:
        response = await client.post(URL, headers=ADMIN, json={"name": "p", "slots": 0})
        assert response.status == 200
        assert await response.json() == pool_body("p", 0)

    async def test_counts_task_instances_already_in_the_pool(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add_ti(sim, "t", "running", "later", pool_slots=2)
        response = await client.post(URL, headers=ADMIN, json={"name": "later", "slots": 3})
        assert response.status == 200
        assert await response.json() == pool_body(
            "later", 3, occupied_slots=2, running_slots=2, open_slots=1
        )

    @pytest.mark.parametrize(
        ("body", "missing"),
        [
            ({"slots": 1}, "['name']"),
            ({"name": "p"}, "['slots']"),
            ({}, "['name', 'slots']"),
            # The required check comes before the unknown-field check.
            ({"description": "d", "foo": 1}, "['name', 'slots']"),
        ],
    )
    async def test_missing_required(
        self, client: TestClient, sim: Simulator, body: dict, missing: str
    ) -> None:
        before = snapshot(sim)
        response = await client.post(URL, headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", f"Missing required property(ies): {missing}", "BadRequest"
        )
        assert snapshot(sim) == before

    @pytest.mark.parametrize(
        ("extra", "detail"),
        [
            ({"foo": "bar"}, "{'foo': ['Unknown field.']}"),
            # Not in the spec, so only marshmallow (dump-only) rejects these.
            ({"running_slots": 1}, "{'running_slots': ['Unknown field.']}"),
            ({"scheduled_slots": 1}, "{'scheduled_slots': ['Unknown field.']}"),
            ({"name": "x" * 257}, "{'name': ['Longer than maximum length 256.']}"),
            (
                {"name": "y" * 300, "a": 1, "b": 2},
                "{'name': ['Longer than maximum length 256.'], "
                "'a': ['Unknown field.'], 'b': ['Unknown field.']}",
            ),
        ],
    )
    async def test_rejected_by_schema_load(
        self, client: TestClient, sim: Simulator, extra: dict, detail: str
    ) -> None:
        before = snapshot(sim)
        response = await client.post(URL, headers=ADMIN, json={"name": "p", "slots": 1, **extra})
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", detail, "BadRequest")
        assert snapshot(sim) == before

    async def test_name_of_256_characters_is_fine(self, client: TestClient) -> None:
        response = await client.post(URL, headers=ADMIN, json={"name": "n" * 256, "slots": 1})
        assert response.status == 200

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"name": "p", "slots": "x"}, "'x' is not of type 'integer' - 'slots'"),
            ({"name": None, "slots": 1}, "None is not of type 'string' - 'name'"),
            (
                {"name": "p", "slots": 1, "occupied_slots": 0},
                "Property is read-only - 'occupied_slots'",
            ),
            ({"name": "p", "slots": 1, "used_slots": 0}, "Property is read-only - 'used_slots'"),
        ],
    )
    async def test_rejected_by_spec(
        self, client: TestClient, sim: Simulator, body: dict, detail: str
    ) -> None:
        before = snapshot(sim)
        response = await client.post(URL, headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", detail, "BadRequest")
        assert snapshot(sim) == before

    @pytest.mark.parametrize("name", ["default_pool", "taken"])
    async def test_duplicate(self, client: TestClient, sim: Simulator, name: str) -> None:
        add_pool(sim, "taken", 3)
        before = snapshot(sim)
        response = await client.post(URL, headers=ADMIN, json={"name": name, "slots": 9})
        assert response.status == 409
        assert await response.json() == problem(
            409, "Conflict", f"Pool: {name} already exists", "AlreadyExists"
        )
        assert snapshot(sim) == before

    async def test_unauthenticated(self, client: TestClient, sim: Simulator) -> None:
        response = await client.post(URL, json={"name": "p", "slots": 1})
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")
        assert "p" not in sim.store.pools

    async def test_viewer_is_forbidden(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("viewer", "Viewer")
        response = await client.post(URL, headers=headers, json={"name": "p", "slots": 1})
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")
        assert "p" not in sim.store.pools


class TestPatchPool:
    async def test_full_update(self, client: TestClient, sim: Simulator) -> None:
        add_pool(sim, "p", 1, "old")
        body = {"name": "p", "slots": 7, "description": "new"}
        response = await client.patch(f"{URL}/p", headers=ADMIN, json=body)
        assert response.status == 200
        assert await response.json() == pool_body("p", 7, "new")
        assert snapshot(sim)[1] == (2, "p", 7, "new")

    async def test_description_kept_when_absent(self, client: TestClient, sim: Simulator) -> None:
        add_pool(sim, "p", 1, "keep")
        response = await client.patch(f"{URL}/p", headers=ADMIN, json={"name": "p", "slots": 2})
        assert response.status == 200
        assert await response.json() == pool_body("p", 2, "keep")

    async def test_rename(self, client: TestClient, sim: Simulator) -> None:
        add_pool(sim, "old", 3)
        add_pool(sim, "other", 1)
        add_ti(sim, "t", "running", "new")
        response = await client.patch(f"{URL}/old", headers=ADMIN, json={"name": "new", "slots": 3})
        assert response.status == 200
        assert await response.json() == pool_body(
            "new", 3, occupied_slots=1, running_slots=1, open_slots=2
        )
        assert "old" not in sim.store.pools
        # The row keeps its id, so it keeps its place in the default order.
        names = [p["name"] for p in (await (await client.get(URL, headers=ADMIN)).json())["pools"]]
        assert names == ["default_pool", "new", "other"]

    async def test_rename_onto_existing_pool(self, client: TestClient, sim: Simulator) -> None:
        # Airflow 2.5.3 crashes (IntegrityError); the simulator answers 409.
        add_pool(sim, "a", 1)
        add_pool(sim, "b", 2)
        before = snapshot(sim)
        response = await client.patch(f"{URL}/a", headers=ADMIN, json={"name": "b", "slots": 5})
        assert response.status == 409
        assert await response.json() == problem(
            409, "Conflict", "Pool: b already exists", "AlreadyExists"
        )
        assert snapshot(sim) == before

    @pytest.mark.parametrize(
        ("body", "missing"),
        [({"name": "p"}, "['slots']"), ({"slots": 1}, "['name']"), ({}, "['name', 'slots']")],
    )
    async def test_name_and_slots_required_without_mask(
        self, client: TestClient, sim: Simulator, body: dict, missing: str
    ) -> None:
        add_pool(sim, "p", 1)
        before = snapshot(sim)
        response = await client.patch(f"{URL}/p", headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", f"Missing required property(ies): {missing}", "BadRequest"
        )
        assert snapshot(sim) == before

    @pytest.mark.parametrize(
        ("mask", "expected"),
        [
            ("slots", ("p", 9, "d")),
            ("description", ("p", 1, "new")),
            ("name, slots", ("renamed", 9, "d")),
            ("name,description,slots", ("renamed", 9, "new")),
        ],
    )
    async def test_update_mask(
        self,
        client: TestClient,
        sim: Simulator,
        mask: str,
        expected: tuple[str, int, str],
    ) -> None:
        add_pool(sim, "p", 1, "d")
        body = {"name": "renamed", "slots": 9, "description": "new"}
        response = await client.patch(
            f"{URL}/p", headers=ADMIN, params={"update_mask": mask}, json=body
        )
        assert response.status == 200
        name, slots, description = expected
        assert await response.json() == pool_body(name, slots, description)
        assert snapshot(sim)[1] == (2, *expected)

    async def test_mask_lets_a_partial_body_through(
        self, client: TestClient, sim: Simulator
    ) -> None:
        add_pool(sim, "p", 1, "d")
        response = await client.patch(
            f"{URL}/p", headers=ADMIN, params={"update_mask": "slots"}, json={"slots": 4}
        )
        assert response.status == 200
        assert await response.json() == pool_body("p", 4, "d")

    @pytest.mark.parametrize(
        ("mask", "detail"),
        [
            ("foo", "Invalid field: foo in update mask"),
            ("slots,foo", "Invalid field: foo in update mask"),
            ("pool", "Invalid field: pool in update mask"),
            # Airflow does not drop an empty mask here: '' is an invalid field.
            ("", "Invalid field:  in update mask"),
            # 2.5.3 crashes (KeyError) on these; the simulator answers 400.
            ("occupied_slots", "Invalid field: occupied_slots in update mask"),
            ("open_slots,foo", "Invalid field: foo in update mask"),
            ("description", "Missing required property(ies): ['description']"),
            ("description,name", "Missing required property(ies): ['description', 'name']"),
        ],
    )
    async def test_bad_update_mask(
        self, client: TestClient, sim: Simulator, mask: str, detail: str
    ) -> None:
        add_pool(sim, "p", 1)
        before = snapshot(sim)
        response = await client.patch(
            f"{URL}/p", headers=ADMIN, params={"update_mask": mask}, json={"slots": 3}
        )
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", detail, "BadRequest")
        assert snapshot(sim) == before

    async def test_default_pool_slots(self, client: TestClient, sim: Simulator) -> None:
        body = {"name": "default_pool", "slots": 64}
        response = await client.patch(f"{URL}/default_pool", headers=ADMIN, json=body)
        assert response.status == 200
        assert await response.json() == pool_body("default_pool", 64, "Default pool")

    async def test_default_pool_name_ignored_under_slots_mask(
        self, client: TestClient, sim: Simulator
    ) -> None:
        response = await client.patch(
            f"{URL}/default_pool",
            headers=ADMIN,
            params={"update_mask": " slots "},
            json={"name": "renamed", "slots": 10},
        )
        assert response.status == 200
        assert await response.json() == pool_body("default_pool", 10, "Default pool")

    @pytest.mark.parametrize(
        ("params", "body"),
        [
            ({}, {"name": "renamed", "slots": 10}),
            ({"update_mask": "name"}, {"name": "renamed", "slots": 10}),
            ({"update_mask": "slots,description"}, {"name": "renamed", "slots": 10}),
            # Checked before the body is loaded: the unknown field goes unnoticed.
            ({}, {"name": "renamed", "slots": 10, "foo": 1}),
        ],
    )
    async def test_default_pool_name_cannot_change(
        self, client: TestClient, sim: Simulator, params: dict, body: dict
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(
            f"{URL}/default_pool", headers=ADMIN, params=params, json=body
        )
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "Default Pool's name can't be modified", "BadRequest"
        )
        assert snapshot(sim) == before

    async def test_not_found_before_body_load(self, client: TestClient) -> None:
        response = await client.patch(f"{URL}/nope", headers=ADMIN, json={"foo": 1})
        assert response.status == 404
        assert await response.json() == problem(
            404, "Not Found", NOT_FOUND.format("nope"), "NotFound"
        )

    async def test_unknown_field(self, client: TestClient, sim: Simulator) -> None:
        add_pool(sim, "p", 1)
        before = snapshot(sim)
        body = {"name": "p", "slots": 2, "queued": 1}
        response = await client.patch(f"{URL}/p", headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "{'queued': ['Unknown field.']}", "BadRequest"
        )
        assert snapshot(sim) == before

    async def test_read_only_property(self, client: TestClient, sim: Simulator) -> None:
        add_pool(sim, "p", 1)
        body = {"name": "p", "slots": 2, "open_slots": 2}
        response = await client.patch(f"{URL}/p", headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "Property is read-only - 'open_slots'", "BadRequest"
        )

    async def test_unauthenticated(self, client: TestClient) -> None:
        body = {"name": "default_pool", "slots": 1}
        response = await client.patch(f"{URL}/default_pool", json=body)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_viewer_is_forbidden(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("viewer", "Viewer")
        body = {"name": "default_pool", "slots": 1}
        response = await client.patch(f"{URL}/default_pool", headers=headers, json=body)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")
        assert sim.store.pools.require("default_pool").slots == 128


class TestDeletePool:
    async def test_delete(self, client: TestClient, sim: Simulator) -> None:
        add_pool(sim, "p", 1)
        response = await client.delete(f"{URL}/p", headers=ADMIN)
        assert response.status == 204
        assert await response.read() == b""
        assert "p" not in sim.store.pools
        again = await client.get(f"{URL}/p", headers=ADMIN)
        assert again.status == 404

    async def test_default_pool_cannot_be_deleted(self, client: TestClient, sim: Simulator) -> None:
        response = await client.delete(f"{URL}/default_pool", headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "Default Pool can't be deleted", "BadRequest"
        )
        assert "default_pool" in sim.store.pools

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.delete(f"{URL}/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "Not Found", NOT_FOUND.format("nope"), "NotFound"
        )

    async def test_unauthenticated(self, client: TestClient, sim: Simulator) -> None:
        add_pool(sim, "p", 1)
        response = await client.delete(f"{URL}/p")
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")
        assert "p" in sim.store.pools

    async def test_viewer_is_forbidden(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        add_pool(sim, "p", 1)
        response = await client.delete(f"{URL}/p", headers=make_user("viewer", "Viewer"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")
        assert "p" in sim.store.pools


class TestOfficialClient:
    def test_pool_lifecycle(self, api_client: Any) -> None:
        from airflow_client.client.api.pool_api import PoolApi
        from airflow_client.client.model.pool import Pool as PoolModel

        api = PoolApi(api_client)
        created = api.post_pool(PoolModel(name="gpu", slots=4, description="GPU nodes"))
        assert (created.name, created.slots, created.open_slots) == ("gpu", 4, 4)
        assert created.description == "GPU nodes"
        # Airflow's extra slot fields come through as additional properties.
        assert created["running_slots"] == 0
        patched = api.patch_pool("gpu", PoolModel(name="gpu", slots=8), update_mask=["slots"])
        assert patched.slots == 8
        assert api.get_pool("gpu").slots == 8
        listing = api.get_pools(order_by="-name", limit=10)
        assert [p.name for p in listing.pools] == ["gpu", "default_pool"]
        assert listing.total_entries == 2
        api.delete_pool("gpu")
        assert [p.name for p in api.get_pools().pools] == ["default_pool"]

    def test_errors(self, api_client: Any) -> None:
        from airflow_client.client.api.pool_api import PoolApi
        from airflow_client.client.exceptions import ApiException, NotFoundException
        from airflow_client.client.model.pool import Pool as PoolModel

        api = PoolApi(api_client)
        with pytest.raises(NotFoundException) as missing:
            api.get_pool("nope")
        assert missing.value.status == 404
        with pytest.raises(ApiException) as duplicate:
            api.post_pool(PoolModel(name="default_pool", slots=1))
        assert duplicate.value.status == 409
        with pytest.raises(ApiException) as default:
            api.delete_pool("default_pool")
        assert default.value.status == 400
