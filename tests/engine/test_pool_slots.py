"""Pool changes wake the scheduler (engine/actions.py): a PATCH that adds
slots, a POST of a pool instances wait on, a restore after starvation all
queue waiting instances at once; fewer slots than are occupied leave the
tries holding them alone and queue nothing until enough free."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from simulator.server.app import create_app
from tests.conftest import ADMIN
from tests.engine.conftest import FROZEN, World, dag, task

APP = dataclasses.replace(FROZEN, validate_responses=True)


def pooled(pool: str, duration: float = 100) -> dict[str, Any]:
    """Three independent tasks in `pool`, of weights 3, 2, 1."""
    return dag("d", *(task(t, pool=pool, duration=duration, priority_weight=w)
                      for t, w in (("a", 3), ("b", 2), ("c", 1))))  # fmt: skip


async def client_of(w: World, aiohttp_client: Callable[..., Any]) -> TestClient:
    return await aiohttp_client(create_app(APP, simulator=w.sim))


async def test_a_patch_adding_slots_queues_waiting_instances_at_once(
    world: Callable[..., World], aiohttp_client: Callable[..., Any]
) -> None:
    w = world()
    w.add_pool("tiny", 1)
    w.sim.add_dags([pooled("tiny")])
    run = w.trigger("d")
    w.advance(10)
    assert w.states(run) == {"a": "running", "b": "scheduled", "c": "scheduled"}
    client = await client_of(w, aiohttp_client)
    response = await client.patch(
        "/api/v1/pools/tiny", json={"name": "tiny", "slots": 3}, headers=ADMIN
    )
    assert response.status == 200
    assert await response.json() == {
        "name": "tiny",
        "slots": 3,
        "description": None,
        "occupied_slots": 3,
        "running_slots": 1,
        "queued_slots": 2,
        "scheduled_slots": 0,
        "open_slots": 0,
    }
    assert w.states(run) == {"a": "running", "b": "queued", "c": "queued"}
    assert w.entered("b", "queued") == w.entered("c", "queued") == [10]


async def test_an_update_mask_on_slots_wakes_it_too(
    world: Callable[..., World], aiohttp_client: Callable[..., Any]
) -> None:
    w = world(pooled("default_pool"))
    w.sim.actions.set_pool_slots(w.sim.store.pools.require("default_pool"), 1)
    run = w.trigger("d")
    client = await client_of(w, aiohttp_client)
    response = await client.patch(
        "/api/v1/pools/default_pool?update_mask=slots",
        json={"name": "default_pool", "slots": 2},
        headers=ADMIN,
    )
    assert response.status == 200
    assert w.states(run) == {"a": "queued", "b": "queued", "c": "scheduled"}


async def test_posting_the_pool_instances_wait_on_queues_them(
    world: Callable[..., World], aiohttp_client: Callable[..., Any]
) -> None:
    w = world(pooled("later"))
    run = w.trigger("d")
    w.advance(60)
    assert w.states(run) == {"a": "scheduled", "b": "scheduled", "c": "scheduled"}
    client = await client_of(w, aiohttp_client)
    response = await client.post("/api/v1/pools", json={"name": "later", "slots": 2}, headers=ADMIN)
    assert response.status == 200
    assert w.states(run) == {"a": "queued", "b": "queued", "c": "scheduled"}


async def test_a_deleted_pool_queues_nothing_more(
    world: Callable[..., World], aiohttp_client: Callable[..., Any]
) -> None:
    w = world()
    w.add_pool("tiny", 1)
    w.sim.add_dags([pooled("tiny", duration=10)])
    run = w.trigger("d")
    client = await client_of(w, aiohttp_client)
    response = await client.delete("/api/v1/pools/tiny", headers=ADMIN)
    assert response.status == 204
    w.advance(100)
    assert w.states(run) == {"a": "success", "b": "scheduled", "c": "scheduled"}


class TestStarvation:
    def test_fewer_slots_than_occupied_keep_the_running_tries(
        self, world: Callable[..., World]
    ) -> None:
        w = world()
        pool = w.add_pool("tiny", 2)
        w.sim.add_dags([pooled("tiny", duration=50)])
        run = w.trigger("d")
        w.advance(10)
        assert w.states(run) == {"a": "running", "b": "running", "c": "scheduled"}
        w.sim.actions.set_pool_slots(pool, 0)
        assert w.sim.store.pool_occupied["tiny"] == 2
        w.advance(200)
        # Both finish; nothing more is queued on a starved pool.
        assert w.states(run) == {"a": "success", "b": "success", "c": "scheduled"}
        w.sim.actions.set_pool_slots(pool, 2)  # the starvation ends: restored at once
        assert w.states(run) == {"a": "success", "b": "success", "c": "queued"}
        assert w.entered("c", "queued") == [210]

    def test_shrunk_to_one_the_next_waits_until_both_free(
        self, world: Callable[..., World]
    ) -> None:
        w = world()
        pool = w.add_pool("tiny", 2)
        w.sim.add_dags([dag("d", task("a", pool="tiny", duration=20),
                            task("b", pool="tiny", duration=50),
                            task("c", pool="tiny", duration=10, priority_weight=0))])  # fmt: skip
        run = w.trigger("d")
        w.advance(5)
        w.sim.actions.set_pool_slots(pool, 1)
        w.advance(30)  # a finished: one slot held by b, none free
        assert w.states(run) == {"a": "success", "b": "running", "c": "scheduled"}
        w.advance(60)  # b finished: c has the one slot
        b_end = w.ti(run, "b").end_date
        assert b_end is not None and w.states(run)["c"] == "success"
        assert w.entered("c", "queued")[0] == w.entered("b", "success")[0]
