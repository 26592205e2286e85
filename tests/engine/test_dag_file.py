"""A DAG file that stops parsing, then parses again (Actions.break_dag_file
and repair_dag_file, engine/dag_files.py): its import error row,
has_import_errors at once and is_active false STALE_AFTER later (the DAG
processor's stale-DAG check), what the API shows and refuses meanwhile, runs
under way carrying on, and the scheduler planning the DAG again (catchup
rules) once it is repaired."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from simulator.engine.dag_files import DEACTIVATE, STALE_AFTER, STALE_CHECK_INTERVAL
from simulator.server.app import create_app
from simulator.simulator import Simulator
from simulator.snapshot import SnapshotError
from tests.conftest import ADMIN, problem
from tests.engine.conftest import FROZEN, World, dag, encoded, seconds, task

APP = dataclasses.replace(FROZEN, validate_responses=True)
HOURLY = {"schedule": "@hourly", "start_date": "2023-03-31T23:00:00+00:00"}
TRACE = 'Traceback (most recent call last):\n  File "/opt/airflow/dags/d.py", line 3\n'


async def client_of(w: World, aiohttp_client: Callable[..., Any]) -> TestClient:
    return await aiohttp_client(create_app(APP, simulator=w.sim))


def deactivations(sim: Simulator) -> list[tuple[float, str]]:
    """The pending deactivation events: (seconds since T0, dag_id)."""
    return [(seconds(e[0]), e[4]) for e in sim.engine.pending() if e[3] == DEACTIVATE]


class TestBreak:
    async def test_import_errors_at_once_then_an_inactive_dag(
        self, world: Callable[..., World], aiohttp_client: Callable[..., Any]
    ) -> None:
        w = world(dag("d", task("a"), **HOURLY), dag("other", task("x")))
        client = await client_of(w, aiohttp_client)
        w.advance_to(90)
        d = w.dag("d")
        error = w.sim.actions.break_dag_file(d, TRACE)
        assert (d.has_import_errors, d.is_active) == (True, True)
        assert STALE_AFTER == 110  # [core] dag_file_processor_timeout + one stale-DAG check
        assert deactivations(w.sim) == [(200, "d")]
        # Still active: listed, and a trigger is refused for its import errors.
        listed = await (await client.get("/api/v1/dags", headers=ADMIN)).json()
        shown = {item["dag_id"]: item for item in listed["dags"]}
        assert (shown["d"]["is_active"], shown["d"]["has_import_errors"]) == (True, True)
        response = await client.post("/api/v1/dags/d/dagRuns", json={}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "DAG cannot be triggered", "DAG with dag_id: 'd' has import errors", "BadRequest"
        )
        w.advance_to(199)
        assert d.is_active
        w.advance_to(200)  # the DAG processor finds it stale
        assert (d.has_import_errors, d.is_active, deactivations(w.sim)) == (True, False, [])
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
        # Inactive, GET /dags hides it unless asked for every DAG.
        listed = await (await client.get("/api/v1/dags", headers=ADMIN)).json()
        assert [item["dag_id"] for item in listed["dags"]] == ["other"]
        every = await (await client.get("/api/v1/dags?only_active=false", headers=ADMIN)).json()
        shown = {item["dag_id"]: item for item in every["dags"]}
        assert (shown["d"]["is_active"], shown["d"]["has_import_errors"]) == (False, True)
        # POST dagRuns: Airflow looks for an active DAG first: now 404.
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

    def test_no_run_is_created_while_it_is_still_active(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), **HOURLY))
        [run] = w.runs("d")
        w.advance_to(3590)
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(3650)  # the run of [00:00, 01:00] was due at 01:00
        assert (w.dag("d").is_active, w.runs("d")) == (True, [run])
        w.sim.actions.repair_dag_file(w.dag("d"))
        w.sim.catch_up()
        assert [seconds(r.logical_date) for r in w.runs("d")] == [-3600, 0]

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
        assert [d.has_import_errors for d in w.sim.store.dags] == [True, True, False]
        assert deactivations(w.sim) == [(110, "one"), (110, "two")]
        w.advance_to(110)
        assert [d.is_active for d in w.sim.store.dags] == [False, False, True]
        w.sim.actions.repair_dag_file(w.dag("two"))
        assert [d.is_active for d in w.sim.store.dags] == [True, True, True]
        assert [d.has_import_errors for d in w.sim.store.dags] == [False] * 3
        assert list(w.sim.store.import_errors) == []

    def test_another_filename_names_the_row(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        error = w.sim.actions.break_dag_file(w.dag("d"), TRACE, filename="/dags/x.py")
        assert (error.filename, w.dag("d").has_import_errors) == ("/dags/x.py", True)
        w.sim.actions.repair_dag_file(w.dag("d"))  # the DAG's own file had no row
        assert not w.dag("d").has_import_errors and len(w.sim.store.import_errors) == 1
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
        w.advance_to(100)  # the producer succeeded; the consumer is still active
        assert (w.dag("consumer").is_active, w.runs("consumer")) == (True, [])
        w.sim.actions.repair_dag_file(w.dag("consumer"))
        [run] = w.runs("consumer")
        assert seconds(run.queued_at) == 100
        # The logical date is the queue row's: the dataset event's time.
        assert run.logical_date == w.sim.store.dataset_events.require(1).timestamp


class TestDeactivation:
    def test_a_repair_in_time_cancels_it(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(100)
        w.sim.actions.repair_dag_file(w.dag("d"))
        assert deactivations(w.sim) == []
        w.advance_to(120)
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)  # the count starts again
        assert deactivations(w.sim) == [(230, "d")]
        w.advance_to(229)
        assert w.dag("d").is_active
        w.advance_to(230)
        assert not w.dag("d").is_active

    def test_a_second_break_keeps_the_first_deadline(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(60)
        w.sim.actions.break_dag_file(w.dag("d"), "another trace")
        assert deactivations(w.sim) == [(110, "d")]
        w.advance_to(200)
        w.sim.actions.break_dag_file(w.dag("d"), "a third trace")  # inactive already
        assert (w.dag("d").is_active, deactivations(w.sim)) == (False, [])

    def test_due_while_the_scheduler_is_down_it_waits_for_a_check_after_the_return(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")), dag("e", task("a")))
        w.sim.scheduler.outage_begin()
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.advance_to(50)
        w.sim.actions.break_dag_file(w.dag("e"), TRACE)
        w.advance_to(300)  # theirs came due at 110 and 160: the DAG processor is down
        assert ([d.is_active for d in w.sim.store.dags], deactivations(w.sim)) == ([True] * 2, [])
        w.sim.scheduler.outage_end()
        assert STALE_CHECK_INTERVAL == 60  # [scheduler] parsing_cleanup_interval
        assert deactivations(w.sim) == [(360, "d"), (360, "e")]
        w.advance_to(359)
        assert [d.is_active for d in w.sim.store.dags] == [True] * 2
        w.advance_to(360)
        assert [d.is_active for d in w.sim.store.dags] == [False] * 2

    def test_a_deleted_dag_drops_it(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.sim.actions.delete_dag(w.dag("d"))
        assert deactivations(w.sim) == []
        w.advance_to(200)


class TestSnapshot:
    def test_a_world_restored_before_the_deactivation_carries_on(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), **HOURLY), dag("e", task("a")))
        w.advance_to(30)
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        w.sim.actions.break_dag_file(w.dag("e"), TRACE)
        w.advance_to(60)
        document = orjson.loads(encoded(w.sim))
        assert [e[3:] for e in document["engine"]["events"] if e[3] == DEACTIVATE] == [
            [DEACTIVATE, "d"], [DEACTIVATE, "e"]
        ]  # fmt: skip
        copy = Simulator(FROZEN)
        copy.restore(document)
        assert encoded(copy) == encoded(w.sim)
        for sim in (w.sim, copy):
            sim.actions.repair_dag_file(sim.store.dags.require("e"))  # cancels its deactivation
            sim.advance(120)
            assert [d.is_active for d in sim.store.dags] == [False, True]
        assert encoded(copy) == encoded(w.sim)

    @pytest.mark.parametrize("target", ["nope", "e", "f", "twice"])
    def test_a_deactivation_of_no_broken_active_dag_is_refused(
        self, world: Callable[..., World], target: str
    ) -> None:
        # d broken (still active), e fine, f broken and inactive already.
        w = world(dag("d", task("a")), dag("e", task("a")), dag("f", task("a")))
        w.sim.actions.break_dag_file(w.dag("f"), TRACE)
        w.advance_to(110)
        w.sim.actions.break_dag_file(w.dag("d"), TRACE)
        document = orjson.loads(encoded(w.sim))
        events, engine = document["engine"]["events"], document["engine"]
        [index] = [i for i, e in enumerate(events) if e[3] == DEACTIVATE]
        if target == "twice":
            events.append([*events[index][:2], engine["next_seq"], DEACTIVATE, "d"])
            engine["next_seq"] += 1
            index = len(events) - 1
        else:
            events[index][4] = target
        with pytest.raises(SnapshotError) as caught:
            Simulator(FROZEN).restore(document)
        assert str(caught.value) == (
            f"snapshot: engine.events[{index}][4]: expected an active DAG with import errors, "
            "without another deactivation"
        )
