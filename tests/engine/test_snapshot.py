"""Snapshots (simulator/snapshot/): the whole world as one JSON document.

A world restored from a snapshot carries on exactly as the original: the
same events, the same answers byte for byte, after the same requests.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from simulator.api.task_instances import get_log
from simulator.config import Settings
from simulator.engine import lifecycle
from simulator.scenario.dags import DAG_FIELDS, dag_from_dict
from simulator.server.app import create_app
from simulator.simulator import Simulator
from simulator.snapshot import FORMAT, VERSION, instances, runs, xcoms
from simulator.snapshot.dags import STATE, definition
from simulator.state.dag_model import Dag
from simulator.state.run_model import (
    DagRun,
    TaskInstance,
    TaskTry,
    TiSpec,
    TryExtra,
    XCom,
    ti_spec,
)
from simulator.state.security import check_password
from tests.conftest import ADMIN, TEST_SETTINGS, basic
from tests.engine.conftest import FROZEN, World, dag, encoded, task

START = "2023-03-01T00:00:00+00:00"
# The ci world and what it lacks: a branch, a one-slot pool, a DAG at its
# max_active_tasks, depends_on_past, a user with a password, a connection.
WORLD: dict[str, Any] = {
    "name": "snapshot_world",
    "include": ["ci"],
    "clock": {"start": "2023-04-01T00:00:00Z", "mode": "frozen"},
    "history": {"hours": 3},
    "pools": [{"name": "tiny", "slots": 1, "description": "One slot"}],
    "connections": [{"conn_id": "warehouse", "conn_type": "postgres", "password": "conn-pass"}],
    "variables": [{"key": "settings", "value": {"mode": "full"}}],
    "auth": {"users": [{"username": "alice", "password": "alice-pass", "roles": ["Op"]}]},
    "dags": [
        {"use": "branch", "dag_id": "pick_a_path", "schedule": "*/30 * * * *", "start_date": START},
        {
            "dag_id": "tiny_pool",
            "schedule": "*/20 * * * *",
            "start_date": START,
            "catchup": False,
            "max_active_runs": 3,
            "tasks": [
                {"task_id": "a", "pool": "tiny", "duration": 400},
                {"task_id": "b", "pool": "tiny", "duration": 400},
                {"task_id": "c", "upstream": ["a", "b"], "depends_on_past": True, "duration": 30},
            ],
        },
        {
            "dag_id": "one_at_a_time",
            "schedule": "*/15 * * * *",
            "start_date": START,
            "catchup": False,
            "max_active_tasks": 1,
            "tasks": [{"task_id": t, "duration": 200} for t in ("x", "y", "z")],
        },
    ],
}
SETTINGS = dataclasses.replace(TEST_SETTINGS, scenario=WORLD)
# Instants (seconds after the start) and states some task instance is in then.
MIDWAY = {
    0: {"scheduled", "queued", "running"},
    61: {"deferred", "running"},
    976: {"up_for_retry", "running"},
}
PAGES = [
    "/api/v1/dags?limit=100",
    "/api/v1/dags/~/dagRuns?limit=100",
    "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100",
    "/api/v1/eventLogs?limit=100&order_by=-event_log_id",
    "/api/v1/dags/~/dagRuns/~/taskInstances/~/xcomEntries?limit=100",
    "/api/v1/datasets/events",
    "/api/v1/pools",
    "/api/v1/users",
    "/api/v1/connections",
    "/api/v1/variables",
    "/api/v1/health",
]


def restored(document: Any, settings: Settings = TEST_SETTINGS) -> Simulator:
    """A simulator built for `settings`, then serving `document`."""
    sim = Simulator(settings)
    sim.restore(orjson.loads(orjson.dumps(document)))
    return sim


async def answers(client: TestClient, pages: list[str] = PAGES) -> list[tuple[int, bytes]]:
    found = []
    for page in pages:
        response = await client.get(page, headers=ADMIN)
        found.append((response.status, await response.read()))
    return found


def actions(sim: Simulator) -> list[tuple[str, str, Any]]:
    """Requests that change the world from several sides (run ids from `sim`)."""
    first_branch = sim.store.runs_of("pick_a_path")[0].run_id
    live = next(run for run in sim.store.dag_runs if run.state == "running")
    running = next(ti for ti in sim.store.task_instances if ti.state == "running")
    busy = {ti.dag_id for ti in sim.store.active_tis.values()}
    idle = next(d for d in sim.dag_ids() if sim.store.runs_of(d) and d not in busy)
    return [
        ("POST", "/api/v1/dags/refresh_reference_data/dagRuns", {"dag_run_id": "manual_one"}),
        ("PATCH", "/api/v1/pools/tiny", {"name": "tiny", "slots": 2}),
        ("PATCH", "/api/v1/dags/legacy_cleanup", {"is_paused": False}),
        ("PATCH", "/api/v1/dags/one_at_a_time", {"is_paused": True}),
        (
            "POST",
            f"/api/v1/dags/{running.dag_id}/clearTaskInstances",
            {
                "dry_run": False,
                "only_failed": False,
                "only_running": True,
                "task_ids": [running.task_id],
            },
        ),
        ("PATCH", f"/api/v1/dags/{live.dag_id}/dagRuns/{live.run_id}", {"state": "failed"}),
        ("DELETE", f"/api/v1/dags/pick_a_path/dagRuns/{first_branch}", None),
        ("DELETE", f"/api/v1/dags/{idle}", None),
        (
            "POST",
            "/api/v1/users",
            {
                "username": "bob",
                "password": "bob-pass",
                "email": "bob@example.com",
                "first_name": "Bob",
                "last_name": "B",
                "roles": [{"name": "Viewer"}],
            },
        ),
        (
            "PATCH",
            "/api/v1/users/alice?update_mask=password",
            {
                "username": "alice",
                "password": "alice-new",
                "email": "alice@example.com",
                "first_name": "Alice",
                "last_name": "User",
            },
        ),
    ]


class TestRoundTrip:
    def test_ci_snapshot_restore_snapshot_is_the_same_document(self) -> None:
        sim = Simulator(TEST_SETTINGS)
        sim.advance(5 * 3600 + 0.5)
        document = sim.snapshot()
        again = restored(document, SETTINGS)
        assert encoded(again) == orjson.dumps(document)
        assert again.snapshot() == document

    def test_the_same_world_gives_the_same_bytes(self) -> None:
        sim = Simulator(SETTINGS)
        sim.advance(976)
        assert encoded(sim) == encoded(sim)

    def test_the_document_is_plain_json(self) -> None:
        sim = Simulator(SETTINGS)
        sim.advance(61)
        document = sim.snapshot()
        assert json.loads(json.dumps(document)) == document
        assert (document["format"], document["version"]) == (FORMAT, VERSION)
        assert list(document) == [
            "format",
            "version",
            "scenario",
            "settings",
            "clock",
            "random",
            "security",
            "config",
            "tables",
            "dags",
            "dag_runs",
            "task_instances",
            "task_tries",
            "xcoms",
            "event_logs",
            "engine",
            "scheduler",
            "faults",
        ]

    def test_log_rows_of_deleted_runs_read_the_same(self) -> None:
        sim = Simulator(SETTINGS)
        sim.advance(3600)
        sim.actions.delete_run(sim.store.runs_of("etl_orders")[0])
        sim.record_event("trigger", owner="admin", dag_id="etl_orders")  # an audit row
        document = sim.snapshot()
        assert document["event_logs"]["orphans"]
        copy = restored(document)
        assert encoded(copy) == orjson.dumps(document)

        def rows(world: Simulator) -> list[tuple[Any, ...]]:
            return [(e.id, e.when, e.event, e.owner, e.dag_id, e.task_id, e.execution_date)
                    for e in world.store.event_logs]  # fmt: skip

        assert rows(copy) == rows(sim)

    def test_restore_then_reset_is_a_fresh_reset(self) -> None:
        sim = Simulator(TEST_SETTINGS)
        sim.advance(7200)
        other = restored(sim.snapshot(), SETTINGS)
        other.reset()
        assert encoded(other) == encoded(Simulator(TEST_SETTINGS))


@pytest.mark.parametrize("at", sorted(MIDWAY))
async def test_a_restored_world_carries_on_as_the_original(
    at: int, aiohttp_client: Callable[..., Any]
) -> None:
    original = Simulator(SETTINGS)
    original.advance(at)
    states = {ti.state for ti in original.store.task_instances}
    assert MIDWAY[at] <= states
    document = original.snapshot()
    if at == 0:  # instances wait for a pool slot, and one is held back by its DAG
        assert any(document["scheduler"]["waiting"].values())
        assert any(document["scheduler"]["parked"].values())
    copy = restored(document)
    one = await aiohttp_client(create_app(SETTINGS, simulator=original))
    two = await aiohttp_client(create_app(SETTINGS, simulator=copy))
    assert await answers(one) == await answers(two)
    for method, path, body in actions(original):
        first = await one.request(method, path, json=body, headers=ADMIN)
        second = await two.request(method, path, json=body, headers=ADMIN)
        assert first.status < 300, await first.text()
        assert (second.status, await second.read()) == (first.status, await first.read())
    for seconds in (1.5, 60, 600, 3600):
        original.advance(seconds)
        copy.advance(seconds)
        assert encoded(copy) == encoded(original)
        assert await answers(two) == await answers(one)
    again = restored(original.snapshot())  # after all that: deleted runs and DAGs, new users
    for world in (original, again):
        world.advance(900)
    assert encoded(again) == encoded(original)


async def test_logs_of_a_restored_world_read_the_same(aiohttp_client: Callable[..., Any]) -> None:
    original = Simulator(SETTINGS)
    original.advance(976)
    copy = restored(original.snapshot())
    retried = next(ti for ti in original.store.task_instances if ti.state == "up_for_retry")
    base = f"/api/v1/dags/{retried.dag_id}/dagRuns/{retried.run_id}/taskInstances"
    pages = [f"{base}/{retried.task_id}/logs/1", f"{base}/{retried.task_id}", base]
    one = await aiohttp_client(create_app(SETTINGS, simulator=original))
    two = await aiohttp_client(create_app(SETTINGS, simulator=copy))
    assert await answers(two, pages) == await answers(one, pages)
    assert [status for status, _ in await answers(one, pages)] == [200, 200, 200]


class TestScenario:
    def test_restoring_a_snapshot_of_one_world_serves_that_world(self) -> None:
        sim = Simulator(SETTINGS)
        copy = restored(sim.snapshot(), TEST_SETTINGS)  # a simulator serving ci
        assert copy.scenario.name == "snapshot_world"
        assert copy.dag_ids() == sim.dag_ids()
        # Settings.scenario stays what was given, as after Simulator.load.
        assert dataclasses.replace(copy.settings, scenario=WORLD) == sim.settings

    def test_a_bundled_world_is_named_and_another_embedded(self) -> None:
        bundled = Simulator(TEST_SETTINGS).snapshot()["scenario"]
        assert (bundled["name"], bundled["source"]) == ("ci", "bundled")
        assert "content" not in bundled
        embedded = Simulator(SETTINGS).snapshot()["scenario"]
        assert embedded["source"] == "inline"
        assert "include" not in embedded["content"]
        assert {d["dag_id"] for d in embedded["content"]["dags"]} >= {"etl_orders", "tiny_pool"}

    def test_an_embedded_world_resets_to_its_start_without_the_original(self) -> None:
        sim = Simulator(SETTINGS)
        sim.advance(3600)
        copy = restored(sim.snapshot(), TEST_SETTINGS)
        copy.reset()
        fresh = Simulator(SETTINGS)
        # The embedded scenario has no password: its users come back without one.
        assert copy.store.users.require("alice").password_hash == ""
        fresh.store.users.require("alice").password_hash = ""
        fresh._passwords.pop(fresh.store.users.require("alice").id)
        assert encoded(copy) == encoded(fresh)

    def test_a_world_served_already_keeps_its_scenario(self) -> None:
        sim = Simulator(SETTINGS)
        scenario = sim.scenario
        sim.restore(sim.snapshot())
        assert sim.scenario is scenario  # passwords included, for a later reset

    def test_a_world_started_now_keeps_the_instant_it_started(self) -> None:
        settings = dataclasses.replace(TEST_SETTINGS, scenario="default", clock="frozen")
        sim = Simulator(settings)
        document = sim.snapshot()
        later = dataclasses.replace(settings, scenario="ci")
        copy = restored(document, later)
        assert copy.settings.start == sim.settings.start
        copy.reset()
        assert copy.now() == sim.settings.start
        assert copy.scenario.start == "now"

    def test_flags_given_still_win_over_the_scenario(self) -> None:
        document = Simulator(SETTINGS).snapshot()
        flagged = dataclasses.replace(TEST_SETTINGS, fallback_page_limit=7, auth="none")
        copy = restored(document, flagged)
        assert (copy.settings.fallback_page_limit, copy.settings.auth) == (7, "none")
        assert copy.settings.seed == Simulator(SETTINGS).settings.seed


class TestSecrets:
    def test_no_plaintext_password_is_in_a_snapshot(self) -> None:
        sim = Simulator(SETTINGS)
        text = encoded(sim)
        assert b"alice-pass" not in text
        assert b"conn-pass" in text  # as Airflow's database holds it
        alice = sim.store.users.require("alice")
        assert check_password(alice.password_hash, "alice-pass")

    async def test_users_log_in_to_a_restored_world(
        self, aiohttp_client: Callable[..., Any]
    ) -> None:
        copy = restored(Simulator(SETTINGS).snapshot())
        client = await aiohttp_client(create_app(SETTINGS, simulator=copy))
        ok = await client.get("/api/v1/pools", headers=basic("alice", "alice-pass"))
        wrong = await client.get("/api/v1/pools", headers=basic("alice", "nope"))
        assert (ok.status, wrong.status) == (200, 401)

    def test_salts_go_on_where_they_were(self) -> None:
        sim = Simulator(SETTINGS)
        sim.snapshot()  # draws alice's first salt
        copy = restored(sim.snapshot())
        for world in (sim, copy):
            world.set_password(world.store.users.require("alice"), "changed")
        hashes = [w.password_hash(w.store.users.require("alice")) for w in (sim, copy)]
        assert hashes[0] == hashes[1]
        assert hashes[0].split("$")[1] != sim.hash_password("alice", "x").split("$")[1]


class TestClock:
    def test_mode_speed_and_now_are_restored(self) -> None:
        sim = Simulator(SETTINGS)
        sim.clock.configure(mode="realtime", speed=60.0)
        copy = restored(sim.snapshot())
        assert (copy.clock.mode, copy.clock.speed) == ("realtime", 60.0)
        assert copy.clock.now() >= sim.engine.now
        assert copy.engine.now == sim.engine.now


@pytest.mark.parametrize("scenario", ["ci", "default", "demo"])
def test_dag_definitions_read_back_as_the_dags(scenario: str) -> None:
    sim = Simulator(dataclasses.replace(TEST_SETTINGS, scenario=scenario, clock="frozen"))
    for original in sim.store.dags:
        text = json.dumps(definition(original))
        again = dag_from_dict(json.loads(text), sim.settings.secret_key)
        for name in ("id", *(name for name, _ in STATE)):
            setattr(again, name, getattr(original, name))
        assert again == original


def test_instants_in_utc_are_integers_and_others_text() -> None:
    sim = Simulator(SETTINGS)
    document = sim.snapshot()
    start = document["settings"]["start"]
    assert start == int(datetime(2023, 4, 1, tzinfo=UTC).timestamp()) * 1_000_000
    created = document["tables"]["users"]["rows"][0][-2]
    assert created == "2023-03-31T21:00:00"  # FAB's naive time


def test_every_field_of_the_big_tables_is_written() -> None:
    """A field added to an entity needs a column (and a new format version)."""

    def fields(cls: type) -> set[str]:
        return {field.name for field in dataclasses.fields(cls)}

    keys = {"dag_id", "run_id", "task_id", "map_index"}  # from the run and its DAG
    assert fields(DagRun) == {*runs.RUN_COLUMNS, *runs.RUN_OPTIONAL, "dag_id"} - {"dag"}
    derived = {"last_try", "pending"}  # tries; the engine's events
    spec = {"pool", "pool_slots", "queue", "priority_weight", "operator", "unixname"}
    assert fields(TiSpec) == spec
    # duration: written from start and end, read back as `timed` (whether one was stamped)
    written = {*instances.TI_COLUMNS, *keys, *derived, "spec", "timed"} - {"tries", "duration"}
    assert fields(TaskInstance) | spec == written
    flags = {instances.GIVEN_BACK, instances.CLEARED, instances.MAX_TRIES}
    rare = {"deferred_until", "trigger_id", *flags, *instances.EFFECT_COLUMNS}
    assert fields(TaskTry) | rare == {
        *instances.TRY_COLUMNS,
        *instances.ID_COLUMNS,
        *flags,
        "previous",
        "extra",
    }
    assert fields(TryExtra) == rare
    assert fields(XCom) == {*xcoms.COLUMNS, "dag_id", "run_id"} - {"run", "kind"}
    state = {"id", *(name for name, _ in STATE)}
    defined = {*DAG_FIELDS, "tasks", "file_token"}  # file_token: from the secret key
    assert fields(Dag) == state | defined - {"owner", "retries", "retry_delay"}


def test_dags_added_after_the_world_was_built_restore_too(world: Callable[..., World]) -> None:
    w = world(dag("d", task("a", map_count=3), task("b", "a", retries=1, fail_tries=[1])))
    w.trigger("d")
    w.advance(14)
    copy = restored(w.sim.snapshot(), FROZEN)
    assert copy.dag_ids() == ["d"]
    for sim in (w.sim, copy):
        sim.advance(600)
    assert encoded(copy) == encoded(w.sim)


@pytest.mark.parametrize("taken", [23, 40])  # while restarting; after its job killed it
def test_a_try_cleared_while_running_restores(world: Callable[..., World], taken: int) -> None:
    w = world(dag("d", task("a", duration=100, operator="BashOperator")))
    run = w.trigger("d")
    w.advance(20)
    w.sim.actions.clear([w.ti(run, "a")], reset_runs=False)
    w.advance(taken - 20)
    document = w.sim.snapshot()
    copy = restored(document, FROZEN)
    for sim in (w.sim, copy):
        sim.advance(600)
    first = copy.store.task_instances.require(("d", run.run_id, "a", -1)).tries[0]
    assert first.cleared and first.outcome == "up_for_retry"
    assert ("cleared" in document["task_tries"]["columns"]) is (taken == 40)
    assert encoded(copy) == encoded(w.sim)
    texts = [get_log(sim, dag_id="d", dag_run_id=run.run_id, task_id="a", task_try_number=1,
                     accept="text/plain").body for sim in (w.sim, copy)]  # fmt: skip
    assert texts[0] == texts[1] and "externally set to restarting" in texts[0]


def test_instances_and_xcoms_of_no_run_are_kept() -> None:
    sim = Simulator(SETTINGS)
    loose = TaskInstance(dag_id="x", run_id="y", task_id="z", spec=ti_spec(pool="tiny"))
    sim.store.task_instances.add(loose)
    lifecycle.set_state(sim.store, loose, "queued")
    sim.store.xcoms.add(XCom("x", "y", "z", "k", {"a": [1, 2.5]}, sim.now()))
    copy = restored(sim.snapshot())
    assert copy.store.task_instances.loose[0].key == loose.key
    assert copy.store.pool_occupied["tiny"] == sim.store.pool_occupied["tiny"]
    assert copy.store.xcoms.get(("x", "y", "z", -1, "k")).value == {"a": [1, 2.5]}
    assert encoded(copy) == encoded(sim)


def _ids(sim: Simulator) -> list[tuple[int, int, int | None]]:
    return [(ti.id, attempt.job_id, attempt.trigger_id)
            for ti in sim.store.task_instances for attempt in ti.tries]  # fmt: skip


def test_job_and_trigger_ids_and_the_next_ones_are_kept() -> None:
    """Ids are never reused: deleting the newest run does not hand its job
    ids to the next tries of a restored world."""
    sim = Simulator(SETTINGS)
    newest = max(sim.store.dag_runs, key=lambda run: run.id)
    sim.actions.delete_run(newest)
    copy = restored(sim.snapshot(), SETTINGS)
    assert _ids(copy) == _ids(sim)
    assert any(trigger is not None for _, _, trigger in _ids(sim))
    assert (copy.store.next_job_id, copy.store.next_trigger_id) == (
        sim.store.next_job_id,
        sim.store.next_trigger_id,
    )
    sim.advance(1800)
    copy.advance(1800)
    assert _ids(copy) == _ids(sim)


def test_a_snapshot_without_ids_numbers_tries_in_start_order() -> None:
    sim = Simulator(SETTINGS)
    document = orjson.loads(encoded(sim))
    for name in ("job_id", "trigger_id"):
        del document["task_tries"]["columns"][name]
    for name in ("next_job_id", "next_trigger_id"):
        del document["task_tries"][name]
    copy = Simulator(SETTINGS)
    copy.restore(document)
    tries = sorted((attempt.start_date, ti.id, position, attempt.job_id)
                   for ti in copy.store.task_instances
                   for position, attempt in enumerate(ti.tries))  # fmt: skip
    assert [job for *_, job in tries] == list(range(3, 3 + len(tries)))
    assert copy.store.next_job_id == 3 + len(tries)


def test_one_id_column_without_the_other_is_refused() -> None:
    sim = Simulator(SETTINGS)
    document = orjson.loads(encoded(sim))
    del document["task_tries"]["columns"]["trigger_id"]
    with pytest.raises(ValueError, match=r"task_tries\.columns\.trigger_id"):
        Simulator(SETTINGS).restore(document)


def test_a_table_from_before_a_column_was_added_restores_with_its_default() -> None:
    sim = Simulator(SETTINGS)
    sim.store.pools.require("default_pool").include_deferred = True
    document = orjson.loads(encoded(sim))
    pools = document["tables"]["pools"]
    assert pools["columns"][-1] == "include_deferred"
    pools["columns"].pop()
    for row in pools["rows"]:
        row.pop()
    copy = Simulator(SETTINGS)
    copy.restore(document)
    assert copy.store.pools.require("default_pool").include_deferred is False
    # A column missing in the middle is no older snapshot.
    pools["columns"].remove("slots")
    with pytest.raises(ValueError, match=r"tables\.pools\.columns"):
        Simulator(SETTINGS).restore(document)
