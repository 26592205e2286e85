"""/_sim/faults: adding, listing, changing and removing fault rules; bad
documents are 400s naming the field and change nothing; a reset brings back
the scenario's own faults, a snapshot keeps them with their counts."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.conftest import ADMIN, TEST_SETTINGS, problem

SCENARIO = {
    "name": "faulty",
    "clock": {"start": "2023-04-01T00:00:00Z", "mode": "frozen"},
    "faults": [{"id": "slow-pools", "match": {"operation_id": "get_pools"},
                "latency": {"fixed": 0.01}}],
}  # fmt: skip
TRIGGER_503 = {
    "id": "busy",
    "description": "triggers refused",
    "match": {"operation_id": "post_dag_run"},
    "action": {"type": "status", "status": 503, "retry_after": 5},
}
STORED = {**TRIGGER_503, "kind": "http", "phase": "before", "enabled": True,
          "matched": 0, "fired": 0}  # fmt: skip


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(TEST_SETTINGS, scenario=SCENARIO)


def bad(detail: str) -> dict[str, Any]:
    return problem(400, "Bad Request", detail, "BadRequest")


async def listed(client: TestClient) -> list[dict[str, Any]]:
    response = await client.get("/_sim/faults")
    body = await response.json()
    assert response.status == 200 and body["total_entries"] == len(body["faults"])
    return list(body["faults"])


async def test_the_scenarios_faults_are_listed_with_their_counts(client: TestClient) -> None:
    await client.get("/api/v1/pools", headers=ADMIN)
    assert await listed(client) == [
        {"id": "slow-pools", "kind": "http", "match": {"operation_id": "get_pools"},
         "latency": {"fixed": 0.01}, "phase": "before", "enabled": True,
         "matched": 1, "fired": 1},
    ]  # fmt: skip


async def test_add_get_change_and_remove(client: TestClient) -> None:
    response = await client.post("/_sim/faults", json=TRIGGER_503)
    assert (response.status, await response.json()) == (201, STORED)
    assert await (await client.get("/_sim/faults/busy")).json() == STORED
    response = await client.patch("/_sim/faults/busy", json={"enabled": False, "description": None})
    changed = {k: v for k, v in STORED.items() if k != "description"} | {"enabled": False}
    assert (response.status, await response.json()) == (200, changed)
    assert [f["id"] for f in await listed(client)] == ["slow-pools", "busy"]
    assert (await client.delete("/_sim/faults/busy")).status == 204
    response = await client.get("/_sim/faults/busy")
    assert await response.json() == problem(
        404, "Fault not found", "No fault has the id 'busy'", "NotFound"
    )
    assert (await client.delete("/_sim/faults")).status == 204
    assert await listed(client) == []


async def test_several_at_once_get_ids(client: TestClient) -> None:
    documents = [{"action": {"type": "reset"}}, {"kind": "task", "effect": "fail"}]
    response = await client.post("/_sim/faults", json={"faults": documents})
    body = await response.json()
    assert response.status == 201
    assert [(f["id"], f["kind"]) for f in body["faults"]] == [("f1", "http"), ("f2", "task")]
    assert body["total_entries"] == 2


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"when": {"every": 0}, "action": {"type": "reset"}},
         "when.every: 0 is less than the minimum of 1"),
        ({"faults": [{"action": {"type": "reset"}}, {"kind": "task", "effect": "slow"}]},
         "faults[1].factor: a slow task fault needs a factor"),
        ({"faults": [{"action": {"type": "reset"}}, {"bogus": 1}]},
         "faults[1]: Additional properties are not allowed ('bogus' was unexpected)"),
        ({"faults": "all"}, "faults: 'all' is not of type 'array'"),
        ([1], "[1] is not of type 'object'"),
        ({"kind": "import_error", "dag_id": "nope"}, "dag_id: no DAG has the id 'nope'"),
    ],
)  # fmt: skip
async def test_a_bad_document_is_a_400_naming_the_field(
    client: TestClient, body: Any, detail: str
) -> None:
    response = await client.post("/_sim/faults", json=body)
    assert (response.status, await response.json()) == (400, bad(detail))
    assert [f["id"] for f in await listed(client)] == ["slow-pools"]  # nothing added


async def test_not_json_is_a_400(client: TestClient) -> None:
    response = await client.post(
        "/_sim/faults", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert (response.status, await response.json()) == (400, bad("Request body is not valid JSON"))


async def test_a_duplicate_id_is_a_409_and_nothing_is_added(client: TestClient) -> None:
    body = {"faults": [{"id": "new", "action": {"type": "reset"}},
                       {"id": "slow-pools", "action": {"type": "reset"}}]}  # fmt: skip
    response = await client.post("/_sim/faults", json=body)
    assert (response.status, await response.json()) == (409, problem(
        409, "Conflict", "A fault with the id 'slow-pools' exists", "AlreadyExists"
    ))  # fmt: skip
    assert [f["id"] for f in await listed(client)] == ["slow-pools"]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"id": "other"}, "id: a fault's id cannot be changed"),
        (
            {"action": {"type": "status", "status": 700}},
            "action.status: 700 is greater than the maximum of 599",
        ),
        ({"latency": None}, "an http fault needs an action, a latency or both"),
        ({}, "{} should be non-empty"),
    ],
)
async def test_a_bad_change_is_a_400_and_changes_nothing(
    client: TestClient, change: dict[str, Any], detail: str
) -> None:
    before = await listed(client)
    response = await client.patch("/_sim/faults/slow-pools", json=change)
    assert (response.status, await response.json()) == (400, bad(detail))
    assert await listed(client) == before


async def test_a_change_keeps_the_counts(client: TestClient) -> None:
    await client.get("/api/v1/pools", headers=ADMIN)
    response = await client.patch("/_sim/faults/slow-pools", json={"when": {"first": 1}})
    assert {k: (await response.json())[k] for k in ("matched", "fired", "when")} == {
        "matched": 1, "fired": 1, "when": {"first": 1}
    }  # fmt: skip


async def test_a_reset_brings_back_only_the_scenarios_faults(client: TestClient) -> None:
    await client.post("/_sim/faults", json=TRIGGER_503)
    await client.delete("/_sim/faults/slow-pools")
    await client.post("/_sim/reset")
    assert [(f["id"], f["matched"]) for f in await listed(client)] == [("slow-pools", 0)]


async def test_a_snapshot_keeps_faults_and_counts(client: TestClient, sim: Simulator) -> None:
    await client.post("/_sim/faults", json={**TRIGGER_503, "when": {"probability": 0.5}})
    await client.post("/_sim/faults", json={"kind": "scheduler_outage", "at": "+1h", "seconds": 60})
    await client.get("/api/v1/pools", headers=ADMIN)
    before = await listed(client)
    document = await (await client.get("/_sim/snapshot")).json()
    await client.delete("/_sim/faults")
    assert (await client.post("/_sim/snapshot", json=document)).status == 200
    assert await listed(client) == before
    assert sim.faults.next_id == 2
    # A document from before faults existed restores with none.
    del document["faults"]
    assert (await client.post("/_sim/snapshot", json=document)).status == 200
    assert await listed(client) == []


async def test_a_damaged_fault_in_a_snapshot_is_a_400(client: TestClient) -> None:
    document = await (await client.get("/_sim/snapshot")).json()
    document["faults"]["rules"][0]["document"]["latency"] = {"fixed": -1}
    response = await client.post("/_sim/snapshot", json=document)
    assert (response.status, (await response.json())["detail"]) == (
        400, "snapshot: faults.rules[0].document.latency.fixed: -1 is less than the minimum of 0"
    )  # fmt: skip
