"""Retention (engine/retention.py): `airflow db clean` every virtual hour.

Worlds start at T0 with a retention of one day unless told: the cleans run
at T0 + 1 h, T0 + 2 h, ...; the one at T0 + 25 h is the first whose cutoff
(T0 + 1 h) is after what happened in the first minute.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.engine.retention import CLEAN, PRIORITY_CLEAN, Dropped
from simulator.errors import AlreadyExists
from simulator.simulator import Simulator
from simulator.snapshot import SnapshotError
from simulator.state.deployment import COMPONENTS
from simulator.state.entities import EventLog
from simulator.state.event_logs import EventLogs
from simulator.state.run_model import DagRun, TaskInstance, TaskTry
from tests.conftest import ADMIN, STARTUP_ROWS, problem
from tests.engine.conftest import FROZEN, T0, World, dag, encoded, restored, task

HOUR, DAY = 3600, 86400
X, Y, Z = "s3://retention/x", "s3://retention/y", "s3://retention/z"
FIRST_DROP = 25 * HOUR  # the clean whose cutoff passes T0 + 1 h
FAILS = {"failure_rate": 1.0}  # every try fails

Make = Callable[..., World]


def trigger(w: World, dag_id: str, run_id: str) -> DagRun:
    return w.trigger(dag_id, run_id)


def scheduled(dag_id: str, *tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return dag(dag_id, *tasks, schedule="@hourly", catchup=False, **fields)


# The installation's start-up rows, then a try's start: its worker's
# `tasks run --local`, `running`, its `--raw` task's `tasks run`.
STARTUP = [(None, None, f"cli_{name}") for name, _, _ in COMPONENTS]
STARTED = ["cli_task_run", "running", "cli_task_run"]


def try_rows(sim: Simulator) -> list[tuple[str | None, str | None, str]]:
    return [(row.dag_id, row.task_id, row.event) for row in sim.store.event_logs]


def run_ids(sim: Simulator, dag_id: str) -> list[str]:
    return [run.run_id for run in sim.store.runs_of(dag_id)]


class TestWhatGoes:
    def test_an_ended_run_goes_with_its_instances_xcoms_and_rows_not_before(
        self, world: Make
    ) -> None:
        w = world(dag("etl", task("a", outlets=[X]), task("b", "a")), retention_days=1)
        run = trigger(w, "etl", "r1")
        w.advance(60)
        assert run.state == "success" and run.end_date is not None
        tis = w.sim.store.tis_of(run)
        store = w.sim.store
        w.advance_to(FIRST_DROP - 1)
        assert store.dag_runs.get(("etl", "r1")) is run
        assert store.xcoms.of_instance("etl", "r1", "a", -1)
        assert try_rows(w.sim) == [
            *STARTUP,
            *(("etl", "a", event) for event in STARTED), ("etl", "a", "success"),
            *(("etl", "b", event) for event in STARTED), ("etl", "b", "success"),
        ]  # fmt: skip
        assert len(store.dataset_events) == 1
        w.advance_to(FIRST_DROP)
        assert store.dag_runs.get(("etl", "r1")) is None
        assert all(store.task_instances.get(ti.key) is None for ti in tis)
        assert (len(store.task_instances), len(store.xcoms)) == (0, 0)
        assert try_rows(w.sim) == [] and store.event_logs.get(1) is None
        assert store.event_logs.first_id == STARTUP_ROWS + 9 and store.event_logs.pins == 0
        assert len(store.dataset_events) == 0
        assert not any(ti.id in store.active_tis for ti in tis)

    def test_runs_still_queued_or_running_stay(self, world: Make) -> None:
        w = world(dag("long", task("wait", duration=4 * DAY), max_active_runs=1),
                  retention_days=1)  # fmt: skip
        first, second = trigger(w, "long", "r1"), trigger(w, "long", "r2")
        w.advance_to(DAY + FIRST_DROP)
        assert (first.state, second.state) == ("running", "queued")
        assert run_ids(w.sim, "long") == ["r1", "r2"]
        # The try's `running` row is over a day old: the log drops it all the same.
        assert try_rows(w.sim) == []
        w.advance_to(4 * DAY + HOUR)  # r1 ended at T0 + 4 d and a few seconds
        assert first.state == "success" and second.state == "running"
        w.advance_to(4 * DAY + FIRST_DROP - 1)
        assert run_ids(w.sim, "long") == ["r1", "r2"]
        w.advance_to(4 * DAY + FIRST_DROP)
        assert run_ids(w.sim, "long") == ["r2"]

    def test_a_failed_run_goes_and_a_run_reset_to_queued_stays(self, world: Make) -> None:
        w = world(dag("etl", task("a", **FAILS)), retention_days=1)
        failed, cleared = trigger(w, "etl", "failed"), trigger(w, "etl", "cleared")
        w.advance(60)
        w.pause("etl")  # so that it stays queued:
        w.sim.actions.set_run_state(cleared, "queued")  # end_date stamped, state queued
        w.advance_to(FIRST_DROP)
        assert failed.state == "failed" and run_ids(w.sim, "etl") == ["cleared"]

    def test_a_clean_answers_what_it_dropped(self, world: Make) -> None:
        w = world(dag("etl", task("a", outlets=[X]), task("b", "a")))  # no retention
        trigger(w, "etl", "r1")
        w.advance(60)
        dropped = w.sim.retention.clean(T0 + timedelta(minutes=2))
        rows = STARTUP_ROWS + 8  # and two tries of four rows each
        assert dropped == Dropped(runs=1, task_instances=2, event_logs=rows, dataset_events=1)
        assert w.sim.retention.clean(T0 + timedelta(minutes=2)) == Dropped()

    def test_event_log_rows_go_by_their_own_time(self, world: Make) -> None:
        w = world(retention_days=1)
        w.sim.record_event("variable.create", owner="admin")
        w.advance(2 * HOUR)
        kept = w.sim.record_event("pool.create", owner="admin")
        w.advance_to(FIRST_DROP - 1)
        assert [row.id for row in w.sim.store.event_logs] == list(range(1, STARTUP_ROWS + 3))
        w.advance_to(FIRST_DROP)  # the cutoff passes T0: the start-up rows go too
        assert list(w.sim.store.event_logs) == [kept]
        w.advance_to(FIRST_DROP + HOUR)  # the cutoff reaches T0 + 2 h
        assert list(w.sim.store.event_logs) == [kept]
        w.advance_to(FIRST_DROP + 2 * HOUR)
        assert len(w.sim.store.event_logs) == 0


class TestWhatStays:
    def test_each_dag_keeps_its_latest_scheduled_run(self, world: Make) -> None:
        # db clean's keep_last: the latest run not triggered externally stays.
        w = world(scheduled("hourly", task("a")), retention_days=1)
        w.advance(2 * HOUR)
        trigger(w, "hourly", "manual")
        w.advance(60)  # every run ended
        w.pause("hourly")
        w.advance_to(3 * DAY)
        [kept] = w.sim.store.runs_of("hourly")
        assert kept.run_type == "scheduled"
        assert kept.logical_date == T0 + timedelta(hours=1)  # the later of the two
        assert len(w.sim.store.tis_of(kept)) == 1

    def test_the_scheduler_creates_no_dropped_run_again(self, world: Make) -> None:
        w = world(dag("hourly", task("a"), schedule="@hourly", catchup=True,
                      start_date="2023-03-31T00:00:00+00:00"), retention_days=1)  # fmt: skip
        w.advance_to(3 * DAY)
        w.pause("hourly")
        w.advance(5 * HOUR)
        w.unpause("hourly")  # catchup: the five intervals missed, from next_dagrun on
        w.advance(HOUR)
        dates = [run.logical_date for run in w.sim.store.runs_of("hourly")]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        assert dates[0] >= T0 + timedelta(days=2) - timedelta(hours=1)
        steps = {later - earlier for earlier, later in itertools.pairwise(dates)}
        assert steps == {timedelta(hours=1)}  # none missing, none made twice
        assert dates[-1] == T0 + timedelta(days=3, hours=5)

    def test_depends_on_past_is_met_once_the_failed_previous_run_is_gone(self, world: Make) -> None:
        outcomes = {}
        for days in (None, 1):
            w = world(dag("etl", task("a", depends_on_past=True)), retention_days=days)
            first = trigger(w, "etl", "first")
            w.advance(5)  # a is running
            w.sim.actions.set_run_state(first, "failed")  # and so fails
            w.advance_to(2 * DAY)
            later = trigger(w, "etl", "later")
            w.advance(60)
            outcomes[days] = (run_ids(w.sim, "etl"), w.states(later))
        # Airflow's PrevDagrunDep: the previous run's instance failed, it waits;
        # with no previous run (db clean took it), it is met.
        assert outcomes[None] == (["first", "later"], {"a": None})
        assert outcomes[1] == (["later"], {"a": "success"})

    def test_queued_dataset_events_stay_until_consumed(self, world: Make) -> None:
        w = world(
            dag("producer_x", task("a", outlets=[X])),
            dag("producer_y", task("a", outlets=[Y])),
            dag("on_x", task("a"), schedule={"datasets": [X]}),
            dag("on_y_and_z", task("a"), schedule={"datasets": [Y, Z]}),
            retention_days=1,
        )
        trigger(w, "producer_x", "px")
        trigger(w, "producer_y", "py")
        w.advance(60)
        [consumer] = w.sim.store.runs_of("on_x")
        assert len(consumer.consumed_events) == 1
        w.advance_to(FIRST_DROP)
        [left] = w.sim.store.dataset_events
        assert (left.source_dag_id, left.created_dagruns) == ("producer_y", [])
        # The dataset-triggered run stays (keep_last), without the event it consumed.
        assert run_ids(w.sim, "on_x") == [consumer.run_id] and consumer.consumed_events == []
        assert encoded(restored(w.sim)) == encoded(w.sim)


class TestSnapshots:
    def test_a_world_restored_carries_on_with_the_same_cleans(self, world: Make) -> None:
        w = world(scheduled("hourly", task("a", outlets=[X])), dag("m", task("a")),
                  retention_days=1)  # fmt: skip
        for index in range(3):
            trigger(w, "m", f"r{index}")
            w.advance(DAY)
        document = w.sim.snapshot()
        assert document["settings"]["retention_days"] == 1
        assert document["event_logs"]["first_id"] == w.sim.store.event_logs.first_id > 1
        [clean] = [e for e in document["engine"]["events"] if e[3] == CLEAN]
        assert clean[1:2] == [PRIORITY_CLEAN]
        copy_ = restored(w.sim)
        assert copy_.settings.retention_days == 1 and encoded(copy_) == encoded(w.sim)
        for sim in (w.sim, copy_):
            sim.advance(2 * DAY + 1234)
        assert encoded(copy_) == encoded(w.sim)

    def test_a_flag_wins_over_the_snapshot_and_no_retention_drops_the_event(
        self, world: Make
    ) -> None:
        w = world(dag("m", task("a")), retention_days=3)
        w.advance(HOUR)
        document = orjson.loads(encoded(w.sim))
        flagged = Simulator(dataclasses.replace(FROZEN, retention_days=2))
        flagged.restore(document)
        assert flagged.settings.retention_days == flagged.retention.days == 2
        del document["settings"]["retention_days"]
        off = Simulator(FROZEN)
        off.restore(document)
        assert off.settings.retention_days is None
        assert [e for e in off.engine.pending() if e[3] == CLEAN] == []
        back = Simulator(FROZEN)
        back.restore(orjson.loads(encoded(flagged)))
        [clean] = [e for e in back.engine.pending() if e[3] == CLEAN]
        assert clean[0] == T0 + 2 * timedelta(hours=1)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda events, clean: events.append([*clean[:2], 10**6, CLEAN]),
             "engine.events[1][3]: a second retention clean event"),
            (lambda events, clean: clean.append(1),
             "engine.events[0]: expected 0 arguments for 'retention.clean'"),
        ],
    )  # fmt: skip
    def test_a_damaged_clean_event_is_refused(
        self, world: Make, change: Callable[[list[Any], list[Any]], None], message: str
    ) -> None:
        w = world(retention_days=1)
        document = orjson.loads(encoded(w.sim))
        events = document["engine"]["events"]
        document["engine"]["next_seq"] = 10**6 + 1
        change(events, events[0])
        with pytest.raises(SnapshotError) as caught:
            Simulator(FROZEN).restore(copy.deepcopy(document))
        assert str(caught.value) == f"snapshot: {message}"

    def test_reset_starts_the_cleans_again(self, world: Make) -> None:
        w = world(retention_days=1)
        w.advance(5 * HOUR + 1)
        w.sim.reset()
        cleans = [e[0] for e in w.sim.engine.pending() if e[3] == CLEAN]
        assert cleans == [T0 + timedelta(hours=1)]


class TestSettings:
    def world(self, **settings: Any) -> Simulator:
        scenario = {"name": "kept", "clock": {"start": "2023-04-01T00:00:00Z", "mode": "frozen"},
                    "retention": {"days": 30}}  # fmt: skip
        return Simulator(Settings(scenario=scenario, password_hash_iterations=1000, **settings))

    def test_the_scenario_gives_the_retention_and_the_flag_wins(self) -> None:
        assert self.world().settings.retention_days == 30
        flagged = self.world(retention_days=2)
        assert flagged.settings.retention_days == flagged.retention.days == 2
        flagged.record_event("variable.create", owner="admin")
        flagged.advance(2 * DAY + HOUR)
        assert len(flagged.store.event_logs) == 0

    def test_without_retention_everything_is_kept_and_no_event_runs(self) -> None:
        sim = Simulator(FROZEN)
        assert sim.settings.retention_days is None and sim.engine.pending() == []
        sim.record_event("variable.create", owner="admin")
        sim.advance(400 * DAY)
        assert len(sim.store.event_logs) == STARTUP_ROWS + 1

    def test_the_bundled_worlds_keep_thirty_days(self) -> None:
        for name in ("default", "demo"):
            sim = Simulator(Settings(scenario=name, clock="frozen", start=T0,
                                     password_hash_iterations=1000))  # fmt: skip
            assert sim.settings.retention_days == 30


class TestBoundedAndDeterministic:
    DAGS = (
        scheduled("etl", task("a", outlets=[X], jitter=0.3), task("b", "a", failure_rate=0.2)),
        dag("on_x", task("a"), schedule={"datasets": [X]}),
    )

    def test_a_periodic_world_stops_growing(self, world: Make) -> None:
        w = world(*self.DAGS, retention_days=1)
        sizes = []
        for _ in range(4):
            w.advance(DAY)
            store = w.sim.store
            logs = store.event_logs
            sizes.append((len(store.dag_runs), len(store.dataset_events),
                          len(logs.columns()[0]), logs.pins))  # fmt: skip
        assert sizes[1] == sizes[2] == sizes[3]
        assert sizes[3][0] <= 2 * 26 and sizes[3][3] == 0

    def test_the_same_world_twice_answers_the_same(self, world: Make) -> None:
        first, second = (world(*self.DAGS, retention_days=1, seed=3) for _ in range(2))
        for w in (first, second):
            w.advance(3 * DAY + 17)
        assert encoded(first.sim) == encoded(second.sim)


class TestEventLogs:
    """The compact log's front: rows dropped by age, ids kept."""

    def logs(self, count: int) -> tuple[EventLogs, list[TaskInstance]]:
        tis = [TaskInstance(dag_id="d", run_id=f"r{i}", task_id="t") for i in range(count)]
        logs = EventLogs(lambda ti: ("owner", T0))
        for index, ti in enumerate(tis):
            ti.add_try(TaskTry(1, "worker", 1, T0))
            logs.add_task_event(T0 + timedelta(seconds=index), "running", ti)
        return logs, tis

    def test_dropping_keeps_ids_paging_and_lookups(self) -> None:
        logs, _ = self.logs(10)
        assert logs.drop_before(T0 + timedelta(seconds=3)) == 3
        assert (len(logs), logs.first_id, logs.next_id) == (7, 4, 11)
        assert logs.get(3) is None and logs.require(4).id == 4
        assert [row.id for row in logs.page(0, 2)] == [4, 5]
        assert [row.id for row in logs.page(1, 2, descending=True)] == [9, 8]
        assert logs.drop_before(T0 + timedelta(seconds=6)) == 3  # given back: half went
        assert logs.columns()[1][0] == T0 + timedelta(seconds=6)
        assert [row.id for row in logs] == [7, 8, 9, 10]
        with pytest.raises(AlreadyExists):
            logs.add(EventLog(id=2, when=T0, event="x"))
        assert logs.add(EventLog(when=T0, event="x")).id == 11

    def test_a_pin_goes_once_the_rows_before_it_are_gone(self) -> None:
        logs, tis = self.logs(4)
        logs.pin(tis[:1])  # its run is deleted: rows 1 .. 4 were written before
        assert logs.pins == 1 and logs.require(1).execution_date == T0
        logs.drop_before(T0 + timedelta(seconds=3))
        assert logs.pins == 1
        logs.drop_before(T0 + timedelta(seconds=4))
        assert logs.pins == 0 and len(logs) == 0


class TestApi:
    SCENARIO = {
        "name": "retained",
        "clock": {"start": "2023-04-01T00:00:00Z", "mode": "frozen"},
        "retention": {"days": 1},
        "dags": [dag("etl", task("a", outlets=[X]))],
    }

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(scenario=self.SCENARIO, validate_responses=True,
                        password_hash_iterations=1000)  # fmt: skip

    async def test_what_went_answers_404_and_lists_leave_it_out(
        self, client: TestClient, sim: Simulator
    ) -> None:
        url = "/api/v1/dags/etl/dagRuns/r1"
        body = {"dag_run_id": "r1", "logical_date": "2023-04-01T00:00:00+00:00"}
        response = await client.post("/api/v1/dags/etl/dagRuns", json=body, headers=ADMIN)
        assert response.status == 200
        sim.advance(FIRST_DROP - 1)
        assert (await client.get(url, headers=ADMIN)).status == 200
        logs = await (await client.get("/api/v1/eventLogs", headers=ADMIN)).json()
        first_id = logs["event_logs"][0]["event_log_id"]
        sim.advance(1)
        response = await client.get(url, headers=ADMIN)
        assert await response.json() == problem(
            404, "DAGRun not found", "DAGRun with DAG ID: 'etl' and DagRun ID: 'r1' not found",
            "NotFound",
        )  # fmt: skip
        response = await client.get(f"/api/v1/eventLogs/{first_id}", headers=ADMIN)
        assert response.status == 404
        for path, key in (("/api/v1/eventLogs", "event_logs"),
                          ("/api/v1/datasets/events", "dataset_events"),
                          ("/api/v1/dags/~/dagRuns", "dag_runs")):  # fmt: skip
            page = await (await client.get(path, headers=ADMIN)).json()
            assert (page[key], page["total_entries"]) == ([], 0), path
