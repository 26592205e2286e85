"""A DAG file that stops parsing, then parses again (Actions.break_dag_file
and repair_dag_file): its import error row, has_import_errors and is_active,
what the API shows and refuses meanwhile, runs under way carrying on, and
the scheduler planning the DAG again (catchup rules) once it is repaired."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp.test_utils import TestClient

from simulator.server.app import create_app
from simulator.simulator import Simulator
from tests.conftest import ADMIN
from tests.engine.conftest import FROZEN, T0, World, dag, seconds, task

APP = dataclasses.replace(FROZEN, validate_responses=True)
HOURLY = {"schedule": "@hourly", "start_date": "2023-03-31T23:00:00+00:00"}
TRACE = 'Traceback (most recent call last):\n  File "/opt/airflow/dags/d.py", line 3\n'


async def client_of(w: World, aiohttp_client: Callable[..., Any]) -> TestClient:
    return await aiohttp_client(create_app(APP, simulator=w.sim))


def encoded(sim: Simulator) -> bytes:
    return orjson.dumps(sim.snapshot())


class TestBreak:
    async def test_an_import_error_and_an_inactive_dag(
        self, world: Callable[..., World], aiohttp_client: Callable[..., Any]
    ) -> None:
        w = world(dag("d", task("a"), **HOURLY), dag("other", task("x")))
        client = await client_of(w, aiohttp_client)
        w.advance_to(90)
        d = w.dag("d")
        error = w.sim.actions.break_dag_file(d, TRACE)
        assert (d.has_import_errors, d.is_active) == (True, False)
        response = await client.get("/api/v1/importErrors", headers=ADMIN)
        assert await response.json() == {
            "import_errors": [
                {
                    "filename": d.fileloc,
                    "import_error_id": error.id,
                    "stack_trace": TRACE,
                    "timestamp": "2023-04-01T00:01:30+00:00",
                }
            ],
            "total_entries": 1,
        }
        # GET /dags hides an inactive DAG unless asked for every DAG.
        listed = await (await client.get("/api/v1/dags", headers=ADMIN)).json()
        assert [item["dag_id"] for item in listed["dags"]] == ["other"]
        every = await (await client.get("/api/v1/dags?only_active=false", headers=ADMIN)).json()
        shown = {item["dag_id"]: item for item in every["dags"]}
        assert (shown["d"]["is_active"], shown["d"]["has_import_errors"]) == (False, True)
        # POST dagRuns: Airflow looks for an active DAG first: 404.
        response = await client.post("/api/v1/dags/d/dagRuns", json={}, headers=ADMIN)
        assert response.status == 404
        assert (await response.json())["detail"] == "DAG with dag_id: 'd' not found"

    def test_no_run_is_created_but_runs_under_way_carry_on(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a", duration=600), task("b", "a"), **HOURLY))
        [run] = w.runs("d")
        w.advance_to(100)
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(3 * 3600)
        assert w.runs("d") == [run]
        assert (run.state, w.states(run)) == ("success", {"a": "success", "b": "success"})

    def test_its_run_settles_when_the_scheduler_returns(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=60), **HOURLY))
        [run] = w.runs("d")
        w.advance_to(5)  # a is running
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.sim.scheduler.outage_begin()
        w.advance_to(600)
        assert (w.states(run), run.state) == ({"a": "success"}, "running")
        w.sim.scheduler.outage_end()
        assert (run.state, seconds(run.end_date)) == ("success", 600)
        assert w.runs("d") == [run]  # and still no new run

    def test_a_second_break_updates_the_row(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        first = w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(60)
        second = w.sim.actions.break_dag_file(w.dag("d"), "another trace")
        assert second is first
        assert list(w.sim.store.import_errors) == [first]
        assert (first.stack_trace, seconds(first.timestamp)) == ("another trace", 60)

    def test_every_dag_of_the_file_breaks(self, world: Callable[..., World]) -> None:
        shared = {"fileloc": "/opt/airflow/dags/shared.py"}
        w = world(dag("one", task("a"), **shared), dag("two", task("a"), **shared),
                  dag("three", task("a")))  # fmt: skip
        error = w.sim.actions.break_dag_file(w.dag("one"), TRACE)
        assert error.filename == "/opt/airflow/dags/shared.py"
        assert [d.is_active for d in w.sim.store.dags] == [False, False, True]
        w.sim.actions.repair_dag_file(w.dag("two"))
        assert [d.is_active for d in w.sim.store.dags] == [True, True, True]
        assert list(w.sim.store.import_errors) == []

    def test_another_filename_names_the_row(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        error = w.sim.actions.break_dag_file(w.dag("d"), TRACE, filename="/dags/x.py")
        assert (error.filename, w.dag("d").is_active) == ("/dags/x.py", False)
        w.sim.actions.repair_dag_file(w.dag("d"))  # the DAG's own file had no row
        assert w.dag("d").is_active and len(w.sim.store.import_errors) == 1
        w.sim.actions.repair_dag_file(w.dag("d"), filename="/dags/x.py")
        assert list(w.sim.store.import_errors) == []

    def test_a_dataset_update_waits_for_the_repair(self, world: Callable[..., World]) -> None:
        uri = "s3://bucket/table"
        w = world(
            dag("producer", task("p", outlets=[uri])),
            dag("consumer", task("c"), schedule={"datasets": [uri]}),
        )
        w.sim.actions.break_dag_file(w.dag("consumer"), TRACE)
        w.trigger("producer")
        w.advance_to(100)
        assert w.runs("consumer") == []
        w.sim.actions.repair_dag_file(w.dag("consumer"))
        [run] = w.runs("consumer")
        assert seconds(run.logical_date) == 100


class TestRepair:
    async def test_the_row_goes_and_the_dag_is_back(
        self, world: Callable[..., World], aiohttp_client: Callable[..., Any]
    ) -> None:
        w = world(dag("d", task("a")))
        client = await client_of(w, aiohttp_client)
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(600)
        w.sim.actions.repair_dag_file(w.dag("d"))
        d = w.dag("d")
        assert (d.has_import_errors, d.is_active, seconds(d.last_parsed_time)) == (
            False,
            True,
            600,
        )
        errors = await (await client.get("/api/v1/importErrors", headers=ADMIN)).json()
        assert errors == {"import_errors": [], "total_entries": 0}
        listed = await (await client.get("/api/v1/dags", headers=ADMIN)).json()
        assert [(i["dag_id"], i["is_active"], i["has_import_errors"]) for i in listed["dags"]] == [
            ("d", True, False)
        ]
        response = await client.post("/api/v1/dags/d/dagRuns", json={}, headers=ADMIN)
        assert response.status == 200

    def test_the_missed_runs_are_created_with_catchup(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), **HOURLY))
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(3 * 3600 + 60)
        assert len(w.runs("d")) == 1
        w.sim.actions.repair_dag_file(w.dag("d"))
        w.sim.catch_up()
        assert [seconds(r.logical_date) / 3600 for r in w.runs("d")] == [-1, 0, 1, 2]

    def test_without_catchup_only_the_latest_interval_runs(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), catchup=False, **HOURLY))
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(3 * 3600 + 60)
        w.sim.actions.repair_dag_file(w.dag("d"))
        w.sim.catch_up()
        assert [seconds(r.logical_date) / 3600 for r in w.runs("d")] == [-1, 2]
        assert w.dag("d").next_dagrun == T0.replace(hour=3)

    def test_a_paused_dag_stays_paused(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), **HOURLY))
        w.pause("d")
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(3 * 3600)
        w.sim.actions.repair_dag_file(w.dag("d"))
        w.sim.catch_up()
        assert (w.dag("d").is_paused, len(w.runs("d"))) == (True, 1)

    def test_repaired_while_the_scheduler_is_down_it_plans_at_the_return(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), catchup=False, **HOURLY))
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.sim.scheduler.outage_begin()
        w.advance_to(2 * 3600 + 60)
        w.sim.actions.repair_dag_file(w.dag("d"))
        w.advance_to(2 * 3600 + 120)
        assert len(w.runs("d")) == 1
        w.sim.scheduler.outage_end()
        w.sim.catch_up()
        assert [seconds(r.logical_date) / 3600 for r in w.runs("d")] == [-1, 1]


def test_a_broken_file_survives_a_snapshot(world: Callable[..., World]) -> None:
    w = world(dag("d", task("a"), **HOURLY))
    w.sim.actions.break_dag_file(w.dag("d"), TRACE)
    w.advance_to(1800)
    copy = Simulator(FROZEN)
    copy.restore(orjson.loads(encoded(w.sim)))
    assert encoded(copy) == encoded(w.sim)
    d = copy.store.dags.require("d")
    assert (d.is_active, d.has_import_errors) == (False, True)
    assert [(e.filename, e.stack_trace) for e in copy.store.import_errors] == [(d.fileloc, TRACE)]
    for sim in (w.sim, copy):
        sim.advance(3600)
        sim.actions.repair_dag_file(sim.store.dags.require("d"))
        sim.advance(3600)
    assert encoded(copy) == encoded(w.sim)
    assert len(copy.store.runs_of("d")) == 3  # the first, the missed one, the next
