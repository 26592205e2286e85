"""Same scenario + seed + requests + clock moves -> byte-identical responses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from simulator.server.app import create_app
from tests.conftest import ADMIN, TEST_SETTINGS, TEST_SETTINGS_2_10

# A session that touches the world from several sides while time passes.
SCRIPT: list[tuple[str, str, Any]] = [
    ("POST", "/_sim/clock/advance", {"seconds": 90}),
    ("GET", "/api/v1/pools", None),
    ("POST", "/api/v1/variables", {"key": "k", "value": "v"}),
    ("POST", "/api/v1/dags/manual_backfill_tool/dagRuns", {"conf": {"day": 1}}),
    ("POST", "/_sim/clock/advance", {"seconds": 3600}),
    ("GET", "/api/v1/eventLogs?limit=100&order_by=-event_log_id", None),
    ("GET", "/api/v1/dags/~/dagRuns?limit=100", None),
    ("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", {}),
    ("PATCH", "/api/v1/dags/legacy_cleanup?update_mask=is_paused", {"is_paused": False}),
    ("POST", "/_sim/clock/advance", {"until_idle": True}),
    ("GET", "/api/v1/dags/fan_out_fan_in/dagRuns?limit=100", None),
    ("GET", "/api/v1/datasets/events", None),
    ("GET", "/api/v1/dags/~/dagRuns/~/taskInstances/~/xcomEntries?limit=100", None),
    ("GET", "/api/v1/health", None),
]


# What 2.10.5 adds: an external dataset event, dagStats, tries, dependencies.
SCRIPT_2_10: list[tuple[str, str, Any]] = [
    *SCRIPT,
    ("POST", "/api/v1/datasets/events", {"dataset_uri": "s3://warehouse/orders/cleaned.parquet"}),
    ("POST", "/_sim/clock/advance", {"seconds": 600}),
    ("GET", "/api/v1/dagStats?dag_ids=etl_orders,orders_dataset_consumer", None),
    ("GET", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100", None),
    ("GET", "/api/v1/eventLogs?limit=100&order_by=-event_log_id&dag_id=etl_orders", None),
]


async def _replay(
    client: TestClient, script: list[tuple[str, str, Any]] = SCRIPT
) -> list[tuple[int, bytes]]:
    answers = []
    for method, path, body in script:
        response = await client.request(method, path, json=body, headers=ADMIN)
        answers.append((response.status, await response.read()))
    return answers


async def test_two_simulators_answer_byte_for_byte_alike(
    aiohttp_client: Callable[..., Any],
) -> None:
    first = await _replay(await aiohttp_client(create_app(TEST_SETTINGS)))
    second = await _replay(await aiohttp_client(create_app(TEST_SETTINGS)))
    assert first == second
    assert all(status < 500 for status, _ in first)


async def test_another_seed_tells_another_story(aiohttp_client: Callable[..., Any]) -> None:
    reseeded = dataclasses.replace(TEST_SETTINGS, seed=1)
    first = await _replay(await aiohttp_client(create_app(TEST_SETTINGS)))
    second = await _replay(await aiohttp_client(create_app(reseeded)))
    event_logs = SCRIPT.index(("GET", "/api/v1/eventLogs?limit=100&order_by=-event_log_id", None))
    assert first[event_logs] != second[event_logs]


async def test_the_2_10_api_answers_byte_for_byte_alike(
    aiohttp_client: Callable[..., Any],
) -> None:
    first = await _replay(await aiohttp_client(create_app(TEST_SETTINGS_2_10)), SCRIPT_2_10)
    second = await _replay(await aiohttp_client(create_app(TEST_SETTINGS_2_10)), SCRIPT_2_10)
    assert first == second
    assert all(status < 500 for status, _ in first)
