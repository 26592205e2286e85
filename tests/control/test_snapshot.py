"""/_sim/snapshot: the world out as one document and back in, exactly; a
damaged document changes nothing; /_sim/snapshot/save writes --state-file."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from tests.conftest import ADMIN, TEST_SETTINGS, problem


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


async def snapshot(client: TestClient) -> dict[str, Any]:
    response = await client.get("/_sim/snapshot")
    assert (response.status, response.content_type) == (200, "application/json")
    return dict(await response.json())


async def answers(client: TestClient) -> list[bytes]:
    """What a client sees of the world: runs, task instances, the clock."""
    paths = ["/api/v1/dags/~/dagRuns?limit=100", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100",
             "/api/v1/eventLogs?limit=100", "/api/v1/pools"]  # fmt: skip
    bodies = [await (await client.get(path, headers=ADMIN)).read() for path in paths]
    return [*bodies, await (await client.get("/_sim/clock")).read()]


async def advance(client: TestClient, seconds: int) -> None:
    response = await client.post("/_sim/clock/advance", json={"seconds": seconds})
    assert response.status == 200


async def test_a_restored_world_goes_on_as_the_original_would(client: TestClient) -> None:
    await client.post("/api/v1/dags/etl_orders/dagRuns", json={"dag_run_id": "mine"}, headers=ADMIN)
    await advance(client, 90)  # mid-run: tasks queued and running
    saved = await snapshot(client)
    await advance(client, 7200)
    later = await answers(client)
    await advance(client, 600)  # the world moves on; restoring goes back
    response = await client.post("/_sim/snapshot", json=saved)
    assert response.status == 200
    assert (await response.json())["name"] == "ci"
    assert await snapshot(client) == saved
    await advance(client, 7200)
    assert await answers(client) == later


async def test_another_simulator_restores_it(client: TestClient) -> None:
    await advance(client, 3600)
    saved = await snapshot(client)
    fresh = Simulator(dataclasses.replace(TEST_SETTINGS, scenario="default"))
    fresh.restore(saved)
    assert fresh.scenario.name == "ci"
    assert fresh.snapshot() == saved


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"format": "airflow-sim-snapshot", "version": 999}, "version"),
        ({"format": "something else", "version": 1}, "format"),
        ([], "snapshot"),
    ],
)
async def test_a_damaged_document_is_a_400_that_changes_nothing(
    client: TestClient, document: Any, words: str
) -> None:
    before = await snapshot(client)
    response = await client.post("/_sim/snapshot", json=document)
    body = await response.json()
    assert (response.status, body["title"]) == (400, "Bad Request")
    assert words in body["detail"]
    assert await snapshot(client) == before


async def test_a_clock_ahead_of_its_world_is_refused(client: TestClient) -> None:
    """Restoring it would make the next request simulate every year between."""
    saved = await snapshot(client)
    saved["clock"]["now"] += 1000 * 365 * 86400 * 10**6  # microseconds: a thousand years on
    response = await client.post("/_sim/snapshot", json=saved)
    assert (response.status, (await response.json())["detail"]) == (
        400, "snapshot: clock.now: expected the engine's now (engine.now)",
    )  # fmt: skip


async def test_a_start_past_the_year_9000_is_refused(client: TestClient) -> None:
    saved = await snapshot(client)
    saved["settings"]["start"] = 253402300799000000  # 9999-12-31, in microseconds
    response = await client.post("/_sim/snapshot", json=saved)
    assert (response.status, (await response.json())["detail"]) == (
        400, "snapshot: settings.start: expected an instant before 9000-01-01",
    )  # fmt: skip


async def test_a_compressed_document_is_refused(client: TestClient) -> None:
    """Bounded only once inflated: a small body could take all the memory."""
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = await client.post("/_sim/snapshot", data=gzip.compress(b"{}"), headers=headers)
    assert response.status == 415


async def test_a_truncated_document_is_a_400(client: TestClient) -> None:
    raw = await (await client.get("/_sim/snapshot")).read()
    response = await client.post(
        "/_sim/snapshot", data=raw[: len(raw) // 2], headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["detail"].startswith("not a JSON document")


async def test_a_document_missing_a_part_is_a_400(client: TestClient) -> None:
    saved = await snapshot(client)
    for key in [k for k in saved if k not in ("format", "version", "faults")]:
        damaged = {k: v for k, v in saved.items() if k != key}
        response = await client.post("/_sim/snapshot", json=damaged)
        assert response.status == 400, key


async def test_only_json(client: TestClient) -> None:
    response = await client.post(
        "/_sim/snapshot", data=b"x", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 415


async def test_save_needs_a_state_file(client: TestClient) -> None:
    response = await client.post("/_sim/snapshot/save")
    assert (response.status, await response.json()) == (
        400,
        problem(400, "Bad Request", "The server runs without --state-file", "BadRequest"),
    )


class TestSave:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return dataclasses.replace(TEST_SETTINGS, state_file=tmp_path / "world.json")

    async def test_save_writes_the_snapshot(self, client: TestClient, tmp_path: Path) -> None:
        await advance(client, 3600)
        response = await client.post("/_sim/snapshot/save")
        body = await response.json()
        path = tmp_path / "world.json"
        assert (response.status, body) == (200, {"path": str(path), "bytes": path.stat().st_size})
        assert json.loads(path.read_bytes()) == await snapshot(client)
        assert [p.name for p in tmp_path.iterdir()] == ["world.json"]  # no temporary left
