"""Scenarios as worlds: what a scenario file puts in the simulator, through
the API; determinism of generated worlds; `start: now` with history; the
bundled worlds serve and move."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.scenario.documents import bundled_names
from simulator.scenario.loader import load_scenario
from simulator.scenario.problems import ScenarioError
from simulator.server.app import create_app
from simulator.simulator import Simulator
from tests.conftest import ADMIN, basic

BASE = Settings(validate_responses=True, password_hash_iterations=1000)

GENERATED: dict[str, Any] = {
    "name": "generated",
    "seed": 11,
    "clock": {"start": "2024-03-01T00:00:00Z", "mode": "frozen"},
    "history": {"hours": 12},
    "generate": {
        "dags": {"count": 12, "schedules": ["@hourly", "0 */3 * * *"], "paused": 0.2,
                 "start_date": "2024-01-01T00:00:00Z"},
        "connections": 4,
        "variables": 5,
        "users": 3,
    },
}  # fmt: skip


def settings(scenario: Any, **overrides: Any) -> Settings:
    return dataclasses.replace(BASE, scenario=scenario, **overrides)


async def get(client: TestClient, path: str, headers: dict[str, str] = ADMIN) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


class TestScenarioContents:
    """A hand-written scenario: each part shows through the API."""

    DOCUMENT: dict[str, Any] = {
        "name": "contents",
        "description": "every part once",
        "clock": {"start": "2024-05-01T12:00:00Z", "mode": "frozen"},
        "auth": {
            "users": [{"username": "vic", "password": "pw", "roles": ["Viewer"]}],
            "roles": [{"name": "Reader", "permissions": [["can_read", "Pools"]]}],
        },
        "dags": [{"use": "etl", "dag_id": "sales", "schedule": None}],
        "connections": [{"conn_id": "db", "conn_type": "postgres", "host": "h", "port": 5432,
                         "password": "secret", "extra": {"sslmode": "require"}}],
        "variables": [{"key": "cfg", "value": {"a": 1}}, {"key": "env", "value": "prod"}],
        "pools": [{"name": "default_pool", "slots": 4}, {"name": "gpu", "slots": 1}],
        "import_errors": [{"filename": "/opt/airflow/dags/x.py", "stack_trace": "boom"}],
        "dag_warnings": [{"dag_id": "sales", "message": "careful"}],
        "config": {"core": {"parallelism": 64}, "webserver": {"expose_config": True}},
        "plugins": [{"name": "my_plugin", "hooks": ["my.Hook"]}],
        "providers": [{"package_name": "apache-airflow-providers-postgres", "version": "5.4.0",
                       "description": "PostgreSQL"}],
    }  # fmt: skip

    @pytest.fixture
    async def client(self, aiohttp_client: Callable[..., Any]) -> TestClient:
        return await aiohttp_client(create_app(settings(self.DOCUMENT)))  # type: ignore[no-any-return]

    async def test_resources(self, client: TestClient) -> None:
        conn = await get(client, "/api/v1/connections/db")
        assert (conn["host"], conn["port"], conn["extra"]) == ("h", 5432, '{"sslmode": "require"}')
        variables = await get(client, "/api/v1/variables")
        assert [(v["key"], v["value"]) for v in variables["variables"]] == [
            ("cfg", '{"a": 1}'),
            ("env", "prod"),
        ]
        pools = await get(client, "/api/v1/pools")
        assert [(p["name"], p["slots"]) for p in pools["pools"]] == [
            ("default_pool", 4),
            ("gpu", 1),
        ]
        errors = await get(client, "/api/v1/importErrors")
        assert errors["import_errors"][0]["timestamp"] == "2024-05-01T12:00:00+00:00"
        warnings = await get(client, "/api/v1/dagWarnings")
        assert warnings["dag_warnings"][0]["warning_type"] == "non-existent pool"
        config = await get(client, "/api/v1/config", {**ADMIN, "Accept": "application/json"})
        core = next(s for s in config["sections"] if s["name"] == "core")
        assert {"key": "parallelism", "value": "64"} in core["options"]
        plugins = await get(client, "/api/v1/plugins")
        assert plugins["plugins"][0]["hooks"] == ["my.Hook"]
        providers = await get(client, "/api/v1/providers")
        assert "apache-airflow-providers-postgres" in [
            p["package_name"] for p in providers["providers"]
        ]

    async def test_users_roles_and_dags(self, client: TestClient) -> None:
        vic = basic("vic", "pw")
        assert (await get(client, "/api/v1/dags", vic))["total_entries"] == 1
        assert (await client.get("/api/v1/pools", headers=vic)).status == 403
        assert (await client.get("/api/v1/dags", headers=basic("vic", "nope"))).status == 401
        role = await get(client, "/api/v1/roles/Reader")
        assert role["actions"] == [{"action": {"name": "can_read"}, "resource": {"name": "Pools"}}]
        dag = await get(client, "/api/v1/dags/sales/details")
        assert (dag["schedule_interval"], dag["tags"][0]["name"]) == (None, "etl")


async def test_a_task_names_its_connection_in_its_log(aiohttp_client: Callable[..., Any]) -> None:
    document = {
        "name": "conn",
        "clock": {"start": "2024-05-01T00:00:00Z", "mode": "frozen"},
        "connections": [{"conn_id": "warehouse", "conn_type": "postgres"}],
        "dags": [{"dag_id": "d", "schedule": None, "start_date": "2024-01-01T00:00:00Z",
                  "tasks": [{"task_id": "load", "operator": "PythonOperator", "duration": 5,
                             "conn_id": "warehouse"}]}],
    }  # fmt: skip
    client = await aiohttp_client(create_app(settings(document)))
    response = await client.post("/api/v1/dags/d/dagRuns", json={"dag_run_id": "r"}, headers=ADMIN)
    assert response.status == 200
    await client.post("/_sim/clock/advance", json={"until_idle": True})
    log = await client.get(
        "/api/v1/dags/d/dagRuns/r/taskInstances/load/logs/1",
        headers={**ADMIN, "Accept": "text/plain"},
    )
    lines = [line for line in (await log.text()).splitlines() if "base.py" in line]
    assert len(lines) == 1
    assert lines[0].endswith(
        "{base.py:73} INFO - Using connection ID 'warehouse' for task execution."
    )


def test_start_now_with_history_reaches_up_to_now() -> None:
    document = {
        "name": "recent",
        "clock": {"start": "now", "mode": "frozen"},
        "history": {"days": 1},
        "dags": [{"use": "flaky_api", "dag_id": "hourly", "schedule": "@hourly"}],
    }
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    sim = Simulator(settings(document))
    now = sim.now()
    assert before <= now <= datetime.now(UTC)
    runs = sorted(sim.store.runs_of("hourly"), key=lambda r: r.logical_date)
    assert len(runs) >= 23
    latest = runs[-1]
    assert latest.data_interval_end is not None
    assert now - timedelta(hours=1) < latest.data_interval_end <= now
    assert runs[0].start_date is not None and runs[0].start_date < now - timedelta(hours=22)
    # The history is consistent: finished runs have finished instances with logs' tries.
    finished = [r for r in runs if r.state in ("success", "failed")]
    assert finished and all(
        ti.state in ("success", "failed", "skipped", "upstream_failed")
        for run in finished
        for ti in sim.store.tis_of(run)
    )


SCRIPT = [
    "/api/v1/dags?limit=100",
    "/api/v1/dags/~/dagRuns?limit=100",
    "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100",
    "/api/v1/connections?limit=100",
    "/api/v1/variables?limit=100",
    "/api/v1/users?limit=100",
    "/api/v1/eventLogs?limit=100&order_by=-event_log_id",
    "/api/v1/datasets",
]


async def replay(client: TestClient) -> list[bytes]:
    answers = []
    for path in SCRIPT:
        response = await client.get(path, headers=ADMIN)
        assert response.status == 200
        answers.append(await response.read())
    await client.post("/_sim/clock/advance", json={"seconds": 7200})
    response = await client.get(SCRIPT[1], headers=ADMIN)
    answers.append(await response.read())
    return answers


async def test_generated_worlds_are_deterministic(aiohttp_client: Callable[..., Any]) -> None:
    first = await replay(await aiohttp_client(create_app(settings(GENERATED))))
    second = await replay(await aiohttp_client(create_app(settings(GENERATED))))
    assert first == second
    reseeded = await replay(await aiohttp_client(create_app(settings(GENERATED, seed=12))))
    assert reseeded[0] != first[0]  # other DAG ids
    assert reseeded[3] != first[3]  # other connections


def test_a_history_too_big_is_refused_before_it_starts() -> None:
    document = {
        "name": "huge",
        "clock": {"start": "2024-06-01T00:00:00Z"},
        "history": {"days": 300},
        "generate": {"dags": {"count": 100, "schedules": ["* * * * *"], "paused": 0}},
    }
    with pytest.raises(ScenarioError) as info:
        Simulator(settings(document))
    (problem,) = info.value.problems
    assert str(problem).startswith("scenario: history: about ")
    assert str(problem).endswith(
        "task instances would be simulated before the start (at most 2,000,000): shorten "
        "`history`, move the DAGs' start_date, or schedule fewer runs"
    )


def test_flags_win_over_the_file() -> None:
    start = datetime(2024, 2, 1, 12, tzinfo=UTC)
    sim = Simulator(settings("demo", start=start, clock="frozen", speed=2.0, auth="none"))
    assert (sim.now(), sim.clock.mode, sim.clock.speed) == (start, "frozen", 2.0)
    assert (sim.settings.auth, sim.settings.seed, sim.origin) == (
        "none",
        7,
        start - timedelta(hours=6),
    )
    first = min(run.queued_at for run in sim.store.dag_runs if run.queued_at is not None)
    assert start - timedelta(hours=6) <= first < start
    assert {dag.last_parsed_time for dag in sim.store.dags} == {start}  # parsed recently


def test_the_default_world_fails_a_few_percent_of_runs() -> None:
    """A demo looks like a real platform: some runs fail, most do not."""
    start = datetime(2024, 6, 1, tzinfo=UTC)
    document = {"name": "month", "include": ["default"], "history": {"days": 30},
                "clock": {"start": start.isoformat(), "mode": "frozen"}}  # fmt: skip
    sim = Simulator(dataclasses.replace(BASE, scenario=document))
    runs = list(sim.store.dag_runs)
    failed = [run for run in runs if run.state == "failed"]
    assert len(runs) > 3000
    assert 0.01 <= len(failed) / len(runs) <= 0.06
    assert len({run.dag_id for run in failed}) >= 4  # not one flaky DAG alone


def test_the_seed_flag_and_reset_regenerate() -> None:
    sim = Simulator(settings(GENERATED))
    ids = sim.dag_ids()
    assert len(ids) == 12
    sim.reset(seed=12)
    assert sim.dag_ids() != ids and len(sim.dag_ids()) == 12
    sim.reset(seed=11)
    assert sim.dag_ids() == ids


@pytest.mark.parametrize("name", [n for n in bundled_names() if n != "large"])
def test_bundled_worlds_serve_and_move(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.source == "bundled" and scenario.description
    sim = Simulator(settings(name, clock="frozen"))
    assert len(sim.store.dags) >= 8
    before = {(r.dag_id, r.run_id): r.state for r in sim.store.dag_runs}
    tis_before = sum(1 for ti in sim.store.task_instances if ti.state == "success")
    sim.advance(3 * 3600)
    after = {(r.dag_id, r.run_id): r.state for r in sim.store.dag_runs}
    assert len(after) > len(before)
    assert sum(1 for ti in sim.store.task_instances if ti.state == "success") > tis_before


class TestDefaultWorld:
    """What a newcomer meets after `make run`: users from the README, a world up to now."""

    @pytest.fixture
    async def client(self, aiohttp_client: Callable[..., Any]) -> TestClient:
        return await aiohttp_client(create_app(settings("default", clock="frozen")))  # type: ignore[no-any-return]

    @pytest.mark.parametrize(
        ("user", "status"),
        [("alice", 200), ("oscar", 200), ("umar", 200), ("victor", 200), ("paul", 403)],
    )
    async def test_documented_users_log_in(
        self, client: TestClient, user: str, status: int
    ) -> None:
        response = await client.get("/api/v1/dags", headers=basic(user, f"{user}-pass"))
        assert response.status == status

    async def test_the_custom_role_triggers_one_dag(self, client: TestClient) -> None:
        bot = basic("data-eng-bot", "data-eng-bot-pass")
        allowed = await client.post("/api/v1/dags/etl_orders/dagRuns", json={}, headers=bot)
        assert allowed.status == 200
        denied = await client.post("/api/v1/dags/fan_out_fan_in/dagRuns", json={}, headers=bot)
        assert denied.status == 403

    async def test_runs_reach_the_last_hour(self, client: TestClient) -> None:
        clock = await (await client.get("/_sim/clock")).json()
        now = datetime.fromisoformat(clock["now"])
        assert abs(now - datetime.now(UTC)) < timedelta(minutes=5)
        runs = await get(client, "/api/v1/dags/etl_orders/dagRuns?order_by=-execution_date&limit=1")
        assert runs["total_entries"] >= 70  # hourly for three days
        latest = datetime.fromisoformat(runs["dag_runs"][0]["data_interval_end"])
        assert now - timedelta(hours=1) < latest <= now
