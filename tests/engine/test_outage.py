"""A scheduler outage (Scheduler.outage_begin / outage_end): no heartbeat,
nothing scheduled, queued, started, created or settled by the scheduler
while it is down; tries already running finish on their workers; at its
return the scheduler catches up as Airflow's does. Outages are counted, and
a world snapshot mid-outage carries on exactly as the original."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
import pytest

from simulator.server.app import create_app
from tests.conftest import ADMIN, STARTUP_ROWS
from tests.engine.conftest import FROZEN, T0, World, dag, encoded, restored, seconds, task

TRY = ["scheduled", "queued", "running"]
APP = dataclasses.replace(FROZEN, validate_responses=True)
# Hourly from an hour before T0: the run of [T0-1h, T0] is created at T0.
HOURLY = {"schedule": "@hourly", "start_date": "2023-03-31T23:00:00+00:00"}


def down(w: World, at: float) -> None:
    w.advance_to(at)
    w.sim.scheduler.outage_begin()


def outage_fault(w: World, begin: float, end: float) -> None:
    """A scheduler_outage fault's window from `begin` to `end` seconds after
    now (a snapshot keeps the outages in force as the windows of faults)."""
    w.sim.faults.add({"kind": "scheduler_outage", "from": f"+{begin:g}s", "until": f"+{end:g}s"})


def up(w: World, at: float) -> None:
    w.advance_to(at)
    w.sim.scheduler.outage_end()
    w.sim.catch_up()  # what became due at the return instant


class TestHeartbeat:
    def test_the_latest_beat_is_the_last_before_the_outage(
        self, world: Callable[..., World]
    ) -> None:
        w = world()
        down(w, 12)
        beat = T0 + timedelta(seconds=10)
        assert w.sim.latest_scheduler_heartbeat() == beat
        w.advance_to(500)
        assert w.sim.latest_scheduler_heartbeat() == beat
        up(w, 601)
        assert w.sim.latest_scheduler_heartbeat() == T0 + timedelta(seconds=600)
        assert w.sim.scheduler.down_since is None

    def test_a_beat_at_the_instant_the_outage_begins_counts(
        self, world: Callable[..., World]
    ) -> None:
        w = world()
        down(w, 15)
        w.advance(100)
        assert w.sim.latest_scheduler_heartbeat() == T0 + timedelta(seconds=15)

    async def test_health_turns_unhealthy_after_30_seconds(
        self, world: Callable[..., World], aiohttp_client: Callable[..., Any]
    ) -> None:
        w = world()
        client = await aiohttp_client(create_app(APP, simulator=w.sim))
        down(w, 12)

        async def scheduler() -> dict[str, Any]:
            response = await client.get("/api/v1/health", headers=ADMIN)
            assert response.status == 200
            return (await response.json())["scheduler"]

        w.advance_to(39)  # 29 s after the last beat (at 10 s)
        assert await scheduler() == {
            "latest_scheduler_heartbeat": "2023-04-01T00:00:10+00:00",
            "status": "healthy",
        }
        w.advance_to(40)
        assert await scheduler() == {
            "latest_scheduler_heartbeat": "2023-04-01T00:00:10+00:00",
            "status": "unhealthy",
        }
        up(w, 300)
        assert await scheduler() == {
            "latest_scheduler_heartbeat": "2023-04-01T00:05:00+00:00",
            "status": "healthy",
        }


class TestWhileDown:
    def test_a_queued_try_starts_when_the_scheduler_returns(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        assert w.states(run) == {"a": "queued"}  # picked up 1-3 s later
        down(w, 0)
        w.advance_to(100)
        assert w.states(run) == {"a": "queued"}
        assert [entry[0] for entry in w.sim.scheduler.outage.held] == ["ti.start"]
        up(w, 200)
        assert w.entered("a", "running") == [200]
        assert w.sim.scheduler.outage.held == []
        w.advance_to(300)
        assert w.history("a") == [*TRY, "success"]
        assert (run.state, seconds(run.end_date)) == ("success", 210)

    def test_a_running_try_finishes_but_its_run_stays_running(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a", xcom_keys=["rows"]), task("b", "a")))
        run = w.trigger("d")
        w.advance_to(5)
        assert w.states(run) == {"a": "running", "b": None}
        down(w, 5)
        w.advance_to(100)
        a = w.ti(run, "a")
        # The try ends on its worker: its own state, XComs, event rows.
        assert a.state == "success"
        assert seconds(a.end_date) < 15
        assert {x.key for x in w.sim.store.xcoms} == {"return_value", "rows"}
        rows = [(e.event, e.task_id) for e in list(w.sim.store.event_logs)[STARTUP_ROWS:]]
        assert rows == [("cli_task_run", "a"), ("running", "a"), ("cli_task_run", "a"),
                        ("success", "a")]  # fmt: skip
        # Its job's mini scheduler schedules b, which waits for the scheduler.
        assert w.history("b") == ["scheduled"]
        assert run.state == "running"
        up(w, 200)
        assert w.entered("b", "queued") == [200]
        w.advance_to(300)
        assert w.states(run) == {"a": "success", "b": "success"}
        assert run.state == "success"

    def test_a_run_whose_tasks_are_done_settles_when_the_scheduler_returns(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance_to(5)
        down(w, 5)
        w.advance_to(100)
        assert (w.states(run), run.state, run.end_date) == ({"a": "success"}, "running", None)
        decided = run.last_scheduling_decision
        up(w, 200)
        assert (run.state, seconds(run.end_date)) == ("success", 200)
        assert run.last_scheduling_decision != decided

    def test_a_retry_waits_for_the_scheduler(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", retries=1, retry_delay=30, fail_tries=[1])))
        run = w.trigger("d")
        w.advance_to(20)
        assert w.history("a") == [*TRY, "up_for_retry"]
        down(w, 20)
        w.advance_to(100)  # the retry came due at about 40 s
        assert w.history("a") == [*TRY, "up_for_retry"]
        assert [entry[0] for entry in w.sim.scheduler.outage.held] == ["ti.retry"]
        up(w, 200)
        assert w.entered("a", "scheduled") == [0, 200]
        w.advance_to(300)
        assert w.history("a") == [*TRY, "up_for_retry", *TRY, "success"]
        assert run.state == "success"

    def test_a_deferred_task_resumed_by_the_triggerer_waits_scheduled(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("s", deferral=60, duration=5)))
        run = w.trigger("d")
        w.advance_to(10)
        assert w.states(run) == {"s": "deferred"}
        down(w, 10)
        w.advance_to(200)
        # The triggerer fires and marks it scheduled; nothing queues it.
        assert w.history("s") == [*TRY, "deferred", "scheduled"]
        up(w, 300)
        assert w.entered("s", "queued")[-1] == 300
        w.advance_to(400)
        assert (w.states(run), run.state) == ({"s": "success"}, "success")

    def test_no_run_is_created_and_the_scheduler_catches_up(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), **HOURLY))
        assert len(w.runs("d")) == 1
        down(w, 60)
        w.advance_to(3 * 3600 + 60)  # three hourly runs were due meanwhile
        assert len(w.runs("d")) == 1
        up(w, 3 * 3600 + 120)
        runs = w.runs("d")
        assert [seconds(r.logical_date) / 3600 for r in runs] == [-1, 0, 1, 2]
        assert {seconds(r.queued_at) for r in runs[1:]} == {3 * 3600 + 120}

    def test_catchup_false_jumps_to_the_latest_interval(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), catchup=False, **HOURLY))
        down(w, 60)
        w.advance_to(3 * 3600 + 60)
        up(w, 3 * 3600 + 120)
        assert [seconds(r.logical_date) / 3600 for r in w.runs("d")] == [-1, 2]

    def test_max_active_runs_holds_at_the_return(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=600), max_active_runs=2, **HOURLY))
        down(w, 60)
        w.advance_to(3 * 3600 + 60)
        up(w, 3 * 3600 + 120)
        # The first run finished long ago: one more is created, up to two live.
        states = [r.state for r in w.runs("d")]
        assert states == ["success", "running", "running"]

    def test_a_dataset_update_triggers_its_consumer_at_the_return(
        self, world: Callable[..., World]
    ) -> None:
        uri = "s3://bucket/table"
        w = world(
            dag("producer", task("p", outlets=[uri])),
            dag("consumer", task("c"), schedule={"datasets": [uri]}),
        )
        w.trigger("producer")
        w.advance_to(5)
        down(w, 5)
        w.advance_to(100)
        assert len(w.sim.store.dataset_events) == 1
        assert w.runs("consumer") == []
        up(w, 200)
        [run] = w.runs("consumer")
        # Made at the return; its logical date is the queue row's: the event's.
        event = w.sim.store.dataset_events.require(1)
        assert (run.run_type, run.logical_date, run.consumed_events) == (
            "dataset_triggered",
            event.timestamp,
            [1],
        )
        assert seconds(run.queued_at) == 200

    def test_queued_runs_start_when_the_scheduler_returns(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), max_active_runs=1))
        first = w.trigger("d", "first")
        second = w.trigger("d", "second")
        assert (first.state, second.state) == ("running", "queued")
        w.advance_to(5)
        down(w, 5)
        w.advance_to(100)
        assert (first.state, second.state) == ("running", "queued")
        up(w, 200)
        assert (first.state, second.state) == ("success", "running")
        assert seconds(second.start_date) == 200


class TestApiActionsWhileDown:
    def test_marking_a_run_changes_it_but_nothing_else_moves(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), task("b", "a"), max_active_runs=1))
        first = w.trigger("d", "first")
        second = w.trigger("d", "second")
        down(w, 0)
        w.sim.actions.set_run_state(first, "success")
        assert (first.state, seconds(first.end_date)) == ("success", 0)
        assert w.states(first) == {"a": "success", "b": "success"}
        w.advance_to(100)
        assert second.state == "queued"
        up(w, 200)
        assert (second.state, seconds(second.start_date)) == ("running", 200)
        assert w.states(second) == {"a": "queued", "b": None}

    def test_a_marked_instance_does_not_schedule_downstream(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), task("b", "a")))
        run = w.trigger("d")
        down(w, 0)
        w.sim.actions.set_state([w.ti(run, "a")], "success")
        w.advance_to(100)
        assert w.states(run) == {"a": "success", "b": None}
        up(w, 200)
        assert w.entered("b", "scheduled") == [200]

    def test_a_cleared_run_is_queued_until_the_scheduler_returns(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance_to(100)
        assert run.state == "success"
        down(w, 100)
        w.sim.actions.clear_run(run)
        assert (run.state, w.states(run)) == ("queued", {"a": None})
        w.advance_to(150)
        assert run.state == "queued"
        up(w, 200)
        assert (run.state, w.states(run)) == ("running", {"a": "queued"})

    def test_a_held_start_of_a_marked_instance_is_void(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        down(w, 0)
        w.advance_to(50)
        assert len(w.sim.scheduler.outage.held) == 1
        w.sim.actions.set_state([w.ti(run, "a")], "failed")
        up(w, 200)
        w.advance_to(300)
        assert w.history("a") == ["scheduled", "queued", "failed"]
        assert run.state == "failed"


class TestCounted:
    def test_overlapping_outages_end_with_the_last(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        down(w, 0)
        down(w, 20)
        assert w.sim.scheduler.outages == 2
        up(w, 50)
        assert w.sim.scheduler.down
        assert w.states(run) == {"a": "queued"}
        assert w.sim.latest_scheduler_heartbeat() == T0
        up(w, 80)
        assert not w.sim.scheduler.down
        assert w.entered("a", "running") == [80]
        # The restarted scheduler's command logs itself once, at the last end.
        restarts = [e.when for e in w.sim.store.event_logs if e.event == "cli_scheduler"]
        assert restarts == [T0, T0 + timedelta(seconds=80)]

    def test_an_end_without_an_outage_does_nothing(self, world: Callable[..., World]) -> None:
        w = world()
        rows = len(w.sim.store.event_logs)
        w.sim.scheduler.outage_end()
        assert (w.sim.scheduler.outages, w.sim.scheduler.down) == (0, False)
        assert len(w.sim.store.event_logs) == rows


class TestSnapshot:
    @pytest.mark.parametrize("at", [30, 45])
    def test_a_world_restored_mid_outage_carries_on_as_the_original(
        self, world: Callable[..., World], at: float
    ) -> None:
        w = world(
            dag("d", task("a", retries=1, retry_delay=5, fail_tries=[1]), task("b"),
                task("c", "a", "b"), **HOURLY),
            dag("e", task("x", duration=100)),
        )  # fmt: skip
        outage_fault(w, 12, 3600)
        outage_fault(w, 20, 3601)
        w.advance_to(12)
        w.trigger("e")
        w.advance_to(at)
        document = w.sim.snapshot()
        assert document["scheduler"]["outage"]["depth"] == 2
        assert document["scheduler"]["outage"]["held"]
        copy = restored(w.sim)
        assert copy.scheduler.outage.held == w.sim.scheduler.outage.held
        assert copy.latest_scheduler_heartbeat() == w.sim.latest_scheduler_heartbeat()
        assert encoded(copy) == orjson.dumps(document)
        for sim in (w.sim, copy):
            sim.advance_to(T0 + timedelta(seconds=3600.5))
            assert sim.scheduler.outages == 1
            sim.advance(3 * 3600 + 0.5)
        assert encoded(copy) == encoded(w.sim)
        assert len(copy.store.runs_of("d")) == 5

    def test_a_snapshot_without_an_outage_has_none(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        w.trigger("d")
        assert "outage" not in w.sim.snapshot()["scheduler"]
        down(w, 1)
        up(w, 2)
        document = w.sim.snapshot()
        assert "outage" not in document["scheduler"]
        assert not restored(w.sim).scheduler.down

    def test_held_events_of_a_deleted_run_are_left_out(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        outage_fault(w, 0, 3600)
        w.advance_to(10)
        w.sim.actions.delete_run(run)
        assert len(w.sim.scheduler.outage.held) == 1
        outage = w.sim.snapshot()["scheduler"]["outage"]
        assert outage == {"depth": 1, "since": outage["since"], "held": []}
        copy = restored(w.sim)
        assert copy.scheduler.down and copy.scheduler.outage.held == []
