"""The scheduler and the executor over virtual time: retries, timeouts,
deferral, pools and concurrency limits, run creation (catchup, pause),
dataset triggering, mapped tasks and determinism.

Each test builds a tiny world, moves the clock and asserts on the log of
task instance transitions (see conftest.World).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.engine.executor import retry_delay
from simulator.engine.lifecycle import OCCUPYING
from simulator.state.dag_model import Task
from tests.engine.conftest import T0, World, dag, restored, seconds, task

TRY = ["scheduled", "queued", "running"]  # how every try starts
HOURLY = {"schedule": "@hourly", "start_date": "2023-03-31T21:00:00+00:00"}


def hour(n: float) -> datetime:
    """T0 plus `n` hours."""
    return T0 + timedelta(hours=n)


class TestRetries:
    def test_retries_until_a_try_succeeds(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", retries=2, retry_delay=60, fail_tries=[1, 2]), task("b", "a")))
        run = w.trigger("d")
        w.advance(1000)
        assert w.history("a") == [*TRY, "up_for_retry", *TRY, "up_for_retry", *TRY, "success"]
        # The try number grows when a try starts running.
        assert [t.try_number for t in w.changes("a") if t.new == "running"] == [1, 2, 3]
        ti = w.ti(run, "a")
        assert (ti.try_number, ti.max_tries) == (3, 2)
        assert [t.outcome for t in ti.tries] == ["up_for_retry", "up_for_retry", "success"]
        assert w.states(run) == {"a": "success", "b": "success"}
        assert run.state == "success"

    def test_retry_waits_retry_delay_after_the_failure(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", retries=2, retry_delay=60, fail_tries=[1, 2])))
        w.trigger("d")
        w.advance(1000)
        failed_at = w.entered("a", "up_for_retry")
        rescheduled_at = w.entered("a", "scheduled")[1:]
        assert [round(r - f, 6) for f, r in zip(failed_at, rescheduled_at, strict=True)] == [60, 60]

    def test_out_of_retries_fails_and_downstream_is_upstream_failed(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a", retries=1, retry_delay=30, fail_tries=[1, 2]), task("b", "a")))
        run = w.trigger("d")
        w.advance(1000)
        assert w.history("a") == [*TRY, "up_for_retry", *TRY, "failed"]
        assert w.states(run) == {"a": "failed", "b": "upstream_failed"}
        assert w.ti(run, "a").try_number == 2
        assert run.state == "failed"

    def test_no_retries_fails_at_once(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", failure_rate=1.0)))
        run = w.trigger("d")
        w.advance(100)
        assert w.history("a") == [*TRY, "failed"]
        assert run.state == "failed"

    def test_dag_retries_are_task_defaults(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", fail_tries=[1]), task("b", retries=0), retries=3))
        run = w.trigger("d")
        assert (w.ti(run, "a").max_tries, w.ti(run, "b").max_tries) == (3, 0)

    def test_exponential_backoff(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("a", retries=3, retry_delay=10, retry_exponential_backoff=True,
                     fail_tries=[1, 2, 3]),
            )
        )  # fmt: skip
        run = w.trigger("d")
        w.advance(1000)
        delays = [
            round(r - f, 6)
            for f, r in zip(w.entered("a", "up_for_retry"), w.entered("a", "scheduled")[1:],
                            strict=True)
        ]  # fmt: skip
        # Airflow waits between delay * 2**(n-1) and delay * 2**n after the
        # n-th failure, at a point fixed by the instance and the next try.
        assert len(delays) == 3
        for n, delay in enumerate(delays, start=1):
            assert delay == airflow_backoff("d", "a", run.logical_date, 10, n)

    def test_max_retry_delay_caps_the_backoff(self) -> None:
        spec = Task(task_id="a", retry_delay=10, retry_exponential_backoff=True,
                    max_retry_delay=15)  # fmt: skip
        date = datetime(2024, 1, 1, tzinfo=UTC)
        assert [retry_delay(spec, "d", n, date) for n in (2, 3, 4)] == [15, 15, 15]
        assert retry_delay(spec, "d", 1, date) == min(15, airflow_backoff("d", "a", date, 10, 1))
        plain = Task(task_id="b", retry_delay=10)
        assert [retry_delay(plain, "d", n, date) for n in (1, 2, 3)] == [10, 10, 10]


def airflow_backoff(dag_id: str, task_id: str, date: datetime, delay: int, failed: int) -> int:
    """TaskInstance.next_retry_datetime of Airflow 2.5.3, written out: its
    try_number is the next try's, and the date prints as str() does."""
    minimum = delay * 2 ** (failed - 1)
    digest = hashlib.sha1(f"{dag_id}#{task_id}#{date}#{failed + 1}".encode()).hexdigest()
    return minimum + int(digest, 16) % minimum


class TestExecutionTimeout:
    def test_a_try_longer_than_the_timeout_fails_at_the_timeout(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("slow", duration=100, execution_timeout=30)))
        run = w.trigger("d")
        w.advance(1000)
        assert w.history("slow") == [*TRY, "failed"]
        [(start, end)] = w.busy_intervals("slow")
        assert round(end - start, 6) == 30
        assert w.ti(run, "slow").duration == 30

    def test_timeouts_are_retried(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("slow", duration=100, execution_timeout=30, retries=1,
                                retry_delay=10)))  # fmt: skip
        run = w.trigger("d")
        w.advance(1000)
        assert w.history("slow") == [*TRY, "up_for_retry", *TRY, "failed"]
        assert run.state == "failed"

    def test_a_short_try_is_not_cut(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("quick", duration=10, execution_timeout=30)))
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"quick": "success"}


class TestWhatATaskLeaves:
    EMPTY = {"operator": "EmptyOperator", "module_path": "airflow.operators.empty"}

    def test_an_empty_task_succeeds_without_running(self, world: Callable[..., World]) -> None:
        """DagRun.schedule_tis: an EmptyOperator without outlets goes straight
        to success, start = end, no try, host, log row, event row or XCom."""
        w = world(dag("d", task("a", duration=10), task("join", "a", **self.EMPTY),
                      task("b", "join", duration=10)))  # fmt: skip
        run = w.trigger("d")
        w.advance(100)
        join = w.ti(run, "join")
        assert w.history("join") == ["success"]
        assert (join.try_number, join.hostname, join.pid, len(join.tries)) == (0, "", None, 0)
        assert join.start_date == join.end_date == w.ti(run, "a").end_date
        assert join.duration == 0.0
        assert [e.task_id for e in w.sim.store.event_logs if e.task_id == "join"] == []
        assert {x.task_id for x in w.sim.store.xcoms} == {"a", "b"}
        assert w.history("b") == [*TRY, "success"] and run.state == "success"

    def test_an_empty_task_with_outlets_runs(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("done", outlets=["s3://bucket/done"], **self.EMPTY)))
        run = w.trigger("d")
        w.advance(100)
        assert w.history("done") == [*TRY, "success"]
        assert w.ti(run, "done").try_number == 1
        assert [x.key for x in w.sim.store.xcoms] == []  # execute returns None

    @pytest.mark.parametrize(
        ("operator", "pushed"),
        [("PythonOperator", True), ("BashOperator", True), ("EmailOperator", False),
         ("SQLCheckOperator", False), ("S3KeySensor", False), ("KubernetesPodOperator", False)],
    )  # fmt: skip
    def test_return_value_only_from_operators_that_return_one(
        self, world: Callable[..., World], operator: str, pushed: bool
    ) -> None:
        w = world(dag("d", task("t", operator=operator, xcom_keys=["extra"])))
        w.trigger("d")
        w.advance(100)
        keys = sorted(x.key for x in w.sim.store.xcoms)
        assert keys == (["extra", "return_value"] if pushed else ["extra"])


class TestDeferral:
    def test_deferred_for_the_trigger_time_then_success(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("sensor", deferral=900, duration=2), task("next", "sensor")))
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"sensor": "deferred", "next": None}
        w.advance(1000)
        assert w.history("sensor") == [*TRY, "deferred", *TRY, "success"]
        [deferred_at] = w.entered("sensor", "deferred")
        [_, resumed_at] = w.entered("sensor", "scheduled")
        assert 900 <= resumed_at - deferred_at < 905
        # Resuming from a deferral is the same try.
        ti = w.ti(run, "sensor")
        assert ti.try_number == 1
        assert [t.outcome for t in ti.tries] == ["deferred", "success"]
        assert w.states(run) == {"sensor": "success", "next": "success"}

    def test_a_date_time_sensor_waits_for_its_target_time(
        self, world: Callable[..., World]
    ) -> None:
        """DateTimeSensorAsync defers on DateTimeTrigger(target_time): the
        rendered field (data interval end + the template's offset), not the
        try's start; execute_complete returns None, so no XCom."""
        sensor = {"operator": "DateTimeSensorAsync", "module_path": "airflow.sensors.date_time"}
        w = world(
            dag("d", task("wait", deferral=600, duration=2, **sensor), catchup=False, **HOURLY)
        )
        w.advance(100)  # the 23:00 run, created at T0 (its interval's end), deferred
        run = w.run("d")
        assert run.data_interval_end == T0
        ti = w.ti(run, "wait")
        assert ti.state == "deferred"
        assert ti.last_try is not None
        assert ti.last_try.deferred_until == T0 + timedelta(seconds=600)
        w.advance_to(700)
        [_, resumed_at] = w.entered("wait", "scheduled", run)
        assert resumed_at == 601  # the trigger fired at 00:10, the task resumed
        assert ti.state == "success"
        assert [x.key for x in w.sim.store.xcoms] == []

    def test_deferred_instances_hold_no_pool_slot(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("s1", deferral=300, pool="solo"),
                task("s2", deferral=300, pool="solo"),
            )
        )
        w.add_pool("solo", 1)
        run = w.trigger("d")
        w.advance(60)
        assert w.states(run) == {"s1": "deferred", "s2": "deferred"}
        assert w.sim.store.pool_occupied["solo"] == 0


class TestPools:
    def test_one_slot_serialises_tasks(self, world: Callable[..., World]) -> None:
        w = world(dag("d", *(task(f"t{i}", pool="solo", duration=50) for i in range(3))))
        w.add_pool("solo", 1)
        run = w.trigger("d")
        w.advance(1000)
        assert w.max_concurrent(OCCUPYING) == 1
        spans = sorted(span for i in range(3) for span in w.busy_intervals(f"t{i}"))
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end
        assert run.state == "success"

    def test_higher_priority_goes_first(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("low", pool="solo", priority_weight=1),
                task("high", pool="solo", priority_weight=5),
                task("mid", pool="solo", priority_weight=3),
            )
        )
        w.add_pool("solo", 1)
        w.trigger("d")
        w.advance(1000)
        order = sorted(("low", "high", "mid"), key=lambda t: w.entered(t, "queued")[0])
        assert order == ["high", "mid", "low"]

    def test_pool_slots_count_against_the_pool(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("big1", pool="p", pool_slots=2, duration=50),
                task("big2", pool="p", pool_slots=2, duration=50),
            )
        )
        w.add_pool("p", 3)
        w.trigger("d")
        w.advance(5)
        assert w.sim.store.pool_occupied["p"] == 2
        w.advance(1000)
        (s1, e1), (s2, e2) = w.busy_intervals("big1")[0], w.busy_intervals("big2")[0]
        assert s2 >= e1 or s1 >= e2  # never together: 2 + 2 > 3

    def test_a_task_bigger_than_its_pool_never_runs(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("huge", pool="p", pool_slots=3)))
        w.add_pool("p", 2)
        run = w.trigger("d")
        w.advance(1000)
        assert w.states(run) == {"huge": "scheduled"}
        assert run.state == "running"

    def test_a_missing_pool_never_runs(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("orphan", pool="no_such_pool")))
        run = w.trigger("d")
        w.advance(1000)
        assert w.states(run) == {"orphan": "scheduled"}

    def test_a_big_task_does_not_block_smaller_ones(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("first", pool="p", priority_weight=100, duration=100),
                task("big", pool="p", pool_slots=2, priority_weight=50),
                task("small", pool="p", priority_weight=1),
            )
        )
        w.add_pool("p", 2)
        run = w.trigger("d")
        w.advance(20)
        # `first` holds 1 of 2 slots; `big` needs 2 and waits; `small` fits.
        assert w.states(run) == {"first": "running", "big": "scheduled", "small": "success"}


class TestConcurrency:
    def test_max_active_tasks(self, world: Callable[..., World]) -> None:
        w = world(dag("d", *(task(f"t{i}", duration=30) for i in range(5)), max_active_tasks=2))
        run = w.trigger("d")
        w.advance(1000)
        assert w.max_concurrent(OCCUPYING) == 2
        assert run.state == "success"

    def test_max_active_tasks_counts_across_runs(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=30), task("b", duration=30), max_active_tasks=3))
        w.trigger("d", "r1")
        w.trigger("d", "r2")
        w.advance(5)
        assert sum(1 for run in w.runs("d") for s in w.states(run).values() if s in OCCUPYING) == 3
        w.advance(1000)
        assert w.max_concurrent(OCCUPYING) == 3
        assert [run.state for run in w.runs("d")] == ["success", "success"]

    def test_max_active_runs_keeps_runs_queued(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=30), max_active_runs=1))
        first, second, third = (w.trigger("d", f"r{i}") for i in range(3))
        assert [first.state, second.state, third.state] == ["running", "queued", "queued"]
        assert w.states(second) == {"a": None}
        w.advance(1000)
        assert [first.state, second.state, third.state] == ["success"] * 3
        # Each run starts when the previous one ends.
        assert second.start_date == first.end_date
        assert third.start_date == second.end_date


class TestScheduledRuns:
    def test_catchup_creates_every_missed_interval(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), catchup=True, **HOURLY))
        runs = w.runs("d")
        described = [
            (r.run_id, r.run_type, r.data_interval_start, r.data_interval_end) for r in runs
        ]
        assert described == [
            ("scheduled__2023-03-31T21:00:00+00:00", "scheduled", hour(-3), hour(-2)),
            ("scheduled__2023-03-31T22:00:00+00:00", "scheduled", hour(-2), hour(-1)),
            ("scheduled__2023-03-31T23:00:00+00:00", "scheduled", hour(-1), T0),
        ]  # fmt: skip
        assert [r.logical_date for r in runs] == [hour(-3), hour(-2), hour(-1)]
        assert all(r.queued_at == T0 and not r.external_trigger for r in runs)
        dag_model = w.dag("d")
        assert (dag_model.next_dagrun, dag_model.next_dagrun_create_after) == (T0, hour(1))

    def test_without_catchup_only_the_latest_interval(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), catchup=False, **HOURLY))
        [run] = w.runs("d")
        assert run.run_id == "scheduled__2023-03-31T23:00:00+00:00"
        assert (run.data_interval_start, run.data_interval_end) == (hour(-1), T0)

    def test_a_run_per_interval_as_time_passes(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), catchup=False, **HOURLY))
        w.advance(3 * 3600 + 60)
        runs = w.runs("d")
        assert [r.run_id[len("scheduled__") :] for r in runs] == [
            "2023-03-31T23:00:00+00:00",
            "2023-04-01T00:00:00+00:00",
            "2023-04-01T01:00:00+00:00",
            "2023-04-01T02:00:00+00:00",
        ]
        # Each run is created (queued) when its interval ends.
        assert [r.queued_at for r in runs] == [T0, hour(1), hour(2), hour(3)]
        assert all(r.state == "success" for r in runs)

    def test_timedelta_schedule(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), schedule={"timedelta": 5400},
                      start_date="2023-03-31T21:00:00+00:00"))  # fmt: skip
        assert [(r.data_interval_start, r.data_interval_end) for r in w.runs("d")] == [
            (hour(-3), hour(-1.5)),
            (hour(-1.5), T0),
        ]
        w.advance(5400)
        assert [r.data_interval_end for r in w.runs("d")] == [hour(-1.5), T0, hour(1.5)]

    def test_once(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), schedule="@once"))
        w.advance(86400)
        [run] = w.runs("d")
        assert run.run_id == "scheduled__2023-03-01T00:00:00+00:00"
        assert run.data_interval_start == run.data_interval_end == run.logical_date

    def test_no_schedule_no_runs(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        w.advance(86400)
        assert w.runs("d") == []

    def test_end_date(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), end_date="2023-03-31T22:00:00+00:00", **HOURLY))
        w.advance(86400)
        assert [r.logical_date for r in w.runs("d")] == [hour(-3), hour(-2)]

    def test_creation_skipped_at_max_active_runs_resumes_after_a_manual_run(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a", duration=30), catchup=False, max_active_runs=1, **HOURLY))
        w.advance_to(3590)
        w.trigger("d", "manual_run")  # still running at 01:00, when the next interval ends
        w.advance_to(7300)
        assert [r.run_id for r in w.runs("d")] == [
            "scheduled__2023-03-31T23:00:00+00:00",
            "manual_run",
            "scheduled__2023-04-01T00:00:00+00:00",
            "scheduled__2023-04-01T01:00:00+00:00",
        ]

    def test_at_max_active_runs_next_dagrun_stays_on_the_last_run(
        self, world: Callable[..., World]
    ) -> None:
        """_should_update_dag_next_dagruns: at max_active_runs, next_dagrun
        names the run just created and next_dagrun_create_after is null."""
        w = world(dag("d", task("a", duration=30), catchup=True, max_active_runs=1, **HOURLY))
        d = w.dag("d")
        fields = (d.next_dagrun, d.next_dagrun_data_interval_end, d.next_dagrun_create_after)
        assert fields == (hour(-3), hour(-2), None)
        assert [r.logical_date for r in w.runs("d")] == [hour(-3)]
        w.advance(40)  # the first ended: the next is created, and fills the slot again
        assert [r.logical_date for r in w.runs("d")] == [hour(-3), hour(-2)]
        assert (d.next_dagrun, d.next_dagrun_create_after) == (hour(-2), None)
        w.advance(3000)  # caught up: below the limit, the next run is planned again
        assert [r.state for r in w.runs("d")] == ["success"] * 3
        fields = (d.next_dagrun, d.next_dagrun_data_interval_end, d.next_dagrun_create_after)
        assert fields == (T0, hour(1), hour(1))

    def test_a_due_run_is_created_queued_behind_manual_runs(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a", duration=100), max_active_runs=1, catchup=False, **HOURLY))
        w.advance_to(3590)
        w.trigger("d", "manual_run")
        w.advance_to(3600)  # 01:00: the 00:00 interval is due while the manual run runs
        created = w.runs("d")[-1]
        assert (created.run_id, created.state) == ("scheduled__2023-04-01T00:00:00+00:00", "queued")
        assert w.dag("d").next_dagrun_create_after is None


class TestLoop:
    """The scheduler loop's and the DAG processor's beats (engine/loop.py)."""

    def test_running_runs_carry_the_latest_loop(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=600)), dag("p", task("a", duration=600)))
        run, paused = w.trigger("d"), w.trigger("p")
        w.pause("p")
        w.advance(42.5)
        assert run.last_scheduling_decision == T0 + timedelta(seconds=42)
        assert paused.last_scheduling_decision == T0  # the scheduler skips paused DAGs
        w.sim.scheduler.outage_begin()
        w.advance(30)
        assert run.last_scheduling_decision == T0 + timedelta(seconds=42)  # no loop while down
        w.sim.scheduler.outage_end()  # back: it examines every running run at once
        assert run.last_scheduling_decision == T0 + timedelta(seconds=72.5)

    def test_files_parse_every_30_seconds(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")), dag("e", task("a")))
        w.advance(75)
        assert w.dag("d").last_parsed_time == T0 + timedelta(seconds=60)
        w.sim.actions.break_dag_file(w.dag("e"), "SyntaxError")
        w.advance(60)
        assert w.dag("d").last_parsed_time == T0 + timedelta(seconds=120)
        assert w.dag("e").last_parsed_time == T0 + timedelta(seconds=60)  # its last good parse

    def test_a_paused_dag_without_catchup_moves_its_next_run_on(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), catchup=False, is_paused=True, **HOURLY),
                  dag("c", task("a"), catchup=True, is_paused=True, **HOURLY))  # fmt: skip
        assert w.dag("d").next_dagrun == hour(-1)
        w.advance(2 * 3600 + 45)
        d = w.dag("d")
        assert (d.next_dagrun, d.next_dagrun_create_after) == (hour(1), hour(2))
        assert w.dag("c").next_dagrun == hour(-3)  # catchup: the first missed interval stays
        assert w.runs("d") == []


class TestPause:
    def test_no_runs_while_paused(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), is_paused=True, **HOURLY))
        w.advance(3 * 3600)
        assert w.runs("d") == []

    def test_unpause_with_catchup_creates_the_missed_runs(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), catchup=True, **HOURLY))
        w.pause("d")
        w.advance(2 * 3600 + 60)
        assert len(w.runs("d")) == 3  # created at T0, before the pause
        w.unpause("d")
        assert [r.logical_date for r in w.runs("d")[3:]] == [T0, hour(1)]

    def test_unpause_without_catchup_skips_to_the_latest(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), catchup=False, **HOURLY))
        w.pause("d")
        w.advance(5 * 3600 + 60)
        w.unpause("d")
        assert [r.logical_date for r in w.runs("d")] == [hour(-1), hour(4)]

    def test_manual_runs_of_a_paused_dag_stay_queued(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), is_paused=True))
        run = w.trigger("d")
        w.advance(3600)
        assert run.state == "queued"
        assert w.states(run) == {"a": None}
        assert w.log == []
        w.unpause("d")
        assert run.state == "running"
        assert run.start_date is not None
        assert seconds(run.start_date) == 3600  # started at unpause
        w.advance(100)
        assert run.state == "success"

    def test_pausing_freezes_a_running_run(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=30), task("b", "a")))
        run = w.trigger("d")
        w.advance(10)
        w.pause("d")
        w.advance(1000)
        # `a` finishes on its worker; its mini scheduler marks `b` scheduled,
        # but no task of a paused DAG is queued.
        assert w.states(run) == {"a": "success", "b": "scheduled"}
        assert w.history("b") == ["scheduled"]
        assert run.state == "running"
        w.unpause("d")
        w.advance(100)
        assert run.state == "success"


CLEANED = "s3://lake/cleaned.parquet"
STOCK = "s3://lake/stock.parquet"


def producer(dag_id: str, *uris: str, **fields: Any) -> dict[str, Any]:
    return dag(dag_id, task("publish", outlets=list(uris), **fields))


def consumer(dag_id: str, *uris: str, **fields: Any) -> dict[str, Any]:
    return dag(dag_id, task("use"), schedule={"datasets": list(uris)}, **fields)


class TestDatasets:
    def test_producer_success_triggers_the_consumer(self, world: Callable[..., World]) -> None:
        w = world(producer("prod", CLEANED), consumer("cons", CLEANED))
        source = w.trigger("prod")
        assert w.runs("cons") == []
        w.advance(100)
        [event] = w.sim.store.dataset_events
        dataset = w.sim.store.datasets.require(CLEANED)
        assert (event.dataset_id, event.source_dag_id, event.source_task_id) == (
            dataset.id,
            "prod",
            "publish",
        )
        assert (event.source_run_id, event.source_map_index) == (source.run_id, -1)
        assert event.timestamp == w.ti(source, "publish").end_date
        [run] = w.runs("cons")
        assert run.run_type == "dataset_triggered"
        assert run.run_id == f"dataset_triggered__{event.timestamp.isoformat()}"
        assert run.logical_date == event.timestamp
        assert not run.external_trigger
        assert run.consumed_events == [event.id]
        assert event.created_dagruns == [run.key]
        assert run.state == "success"

    def test_a_failed_producer_emits_nothing(self, world: Callable[..., World]) -> None:
        w = world(producer("prod", CLEANED, fail_tries=[1]), consumer("cons", CLEANED))
        w.trigger("prod")
        w.advance(100)
        assert list(w.sim.store.dataset_events) == []
        assert w.runs("cons") == []

    def test_a_consumer_of_two_datasets_waits_for_both(self, world: Callable[..., World]) -> None:
        w = world(
            producer("prod_a", CLEANED),
            producer("prod_b", STOCK),
            consumer("cons", CLEANED, STOCK),
        )
        w.trigger("prod_a")
        w.advance(100)
        assert len(w.sim.store.dataset_events) == 1
        assert w.runs("cons") == []
        w.trigger("prod_a")  # a second update of the same dataset: still waiting
        w.advance(100)
        assert w.runs("cons") == []
        w.trigger("prod_b")
        w.advance(100)
        [run] = w.runs("cons")
        assert run.consumed_events == [1, 2, 3]
        assert [e.created_dagruns for e in w.sim.store.dataset_events] == [[run.key]] * 3

    def test_the_first_queued_event_dates_the_run(self, world: Callable[..., World]) -> None:
        """The queue row is insert-on-conflict-do-nothing: it keeps the first
        event's time, which becomes the run's logical date; only events up
        to it are consumed, the later one waits for the next run."""
        w = world(producer("prod", CLEANED), consumer("cons", CLEANED))
        w.pause("cons")
        w.trigger("prod", "r1")
        w.advance(100)
        w.trigger("prod", "r2")
        w.advance(100)
        first, _ = w.sim.store.dataset_events
        w.unpause("cons")
        [run] = w.runs("cons")
        assert (run.logical_date, run.consumed_events) == (first.timestamp, [first.id])
        assert run.run_id == f"dataset_triggered__{first.timestamp.isoformat()}"
        assert seconds(run.queued_at) == w.now
        w.advance(100)
        assert len(w.runs("cons")) == 1  # the second event made no queue row: it came before
        w.trigger("prod", "r3")
        w.advance(100)
        third = w.sim.store.dataset_events.require(3)
        [_, later] = w.runs("cons")
        assert (later.logical_date, later.consumed_events) == (third.timestamp, [2, 3])
        assert restored(w.sim).scheduler.datasets.after == {"cons": 3}  # a snapshot keeps it

    def test_every_consumer_is_triggered(self, world: Callable[..., World]) -> None:
        w = world(producer("prod", CLEANED), consumer("c1", CLEANED), consumer("c2", CLEANED))
        w.trigger("prod")
        w.advance(100)
        [event] = w.sim.store.dataset_events
        assert event.created_dagruns == [w.run("c1").key, w.run("c2").key]

    def test_mapped_producer_emits_one_event_per_instance(
        self, world: Callable[..., World]
    ) -> None:
        w = world(producer("prod", CLEANED, map_count=3), consumer("cons", CLEANED))
        w.trigger("prod")
        w.advance(100)
        events = sorted(w.sim.store.dataset_events, key=lambda e: e.source_map_index or 0)
        assert [e.source_map_index for e in events] == [0, 1, 2]
        assert w.runs("cons")

    def test_consumer_data_interval_spans_the_source_runs(
        self, world: Callable[..., World]
    ) -> None:
        w = world(
            dag("prod", task("publish", outlets=[CLEANED]), catchup=False, **HOURLY),
            consumer("cons", CLEANED),
        )
        w.advance(100)
        [run] = w.runs("cons")
        assert (run.data_interval_start, run.data_interval_end) == (hour(-1), T0)

    def test_an_event_leaves_the_dataset_row_alone(self, world: Callable[..., World]) -> None:
        w = world(producer("prod", CLEANED), consumer("cons", CLEANED))
        w.trigger("prod")
        w.advance(100)
        dataset = w.sim.store.datasets.require(CLEANED)
        assert dataset.updated_at == dataset.created_at == T0

    def test_a_paused_consumer_runs_when_unpaused(self, world: Callable[..., World]) -> None:
        w = world(producer("prod", CLEANED), consumer("cons", CLEANED, is_paused=True))
        w.trigger("prod")
        w.advance(100)
        assert w.runs("cons") == []
        w.unpause("cons")
        w.advance(100)
        [run] = w.runs("cons")
        assert run.run_type == "dataset_triggered"


class TestMappedTasks:
    def test_map_indexes_and_a_downstream_join(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("split"), task("work", "split", map_count=3), task("join", "work")))
        run = w.trigger("d")
        assert w.states(run) == {
            "split": "queued",
            "work[0]": None,
            "work[1]": None,
            "work[2]": None,
            "join": None,
        }
        w.advance(1000)
        assert set(w.states(run).values()) == {"success"}
        for index in range(3):
            assert w.history("work", map_index=index) == [*TRY, "success"]
            assert w.sim.store.xcoms.get((run.dag_id, run.run_id, "work", index, "return_value"))
        # The join waits for every mapped instance.
        assert w.entered("join", "scheduled")[0] == max(
            w.entered("work", "success", map_index=i)[0] for i in range(3)
        )

    def test_one_failed_instance_fails_the_join(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("work", map_count=3, fail_tries=[1]), task("join", "work")))
        run = w.trigger("d")
        w.advance(1000)
        assert w.states(run)["join"] == "upstream_failed"
        assert run.state == "failed"


def story(w: World) -> list[tuple[Any, ...]]:
    return [
        (ti.key, ti.state, ti.start_date, ti.end_date, ti.try_number, ti.hostname, ti.pid)
        for ti in w.sim.store.task_instances
    ]


FLAKY_WORLD = (
    dag(
        "etl",
        task("extract", duration=40, jitter=0.3, failure_rate=0.3, retries=2, retry_delay=30),
        task("transform", "extract", duration=60, jitter=0.3, map_count=3),
        task("load", "transform", duration=20, jitter=0.3, trigger_rule="all_done"),
        schedule="*/20 * * * *",
        start_date="2023-03-31T22:00:00+00:00",
    ),
)


class TestDeterminism:
    def test_same_seed_same_story(self, world: Callable[..., World]) -> None:
        first, second = world(*FLAKY_WORLD, seed=7), world(*FLAKY_WORLD, seed=7)
        for w in (first, second):
            w.advance(600)
            w.trigger("etl", "by_hand")
            w.advance(3 * 3600)
        assert story(first) == story(second)
        assert first.log == second.log
        assert len(first.log) > 100

    def test_another_seed_changes_durations(self, world: Callable[..., World]) -> None:
        first, second = world(*FLAKY_WORLD, seed=7), world(*FLAKY_WORLD, seed=8)
        for w in (first, second):
            w.advance(3 * 3600)
        assert [ti.key for ti in first.sim.store.task_instances] == [
            ti.key for ti in second.sim.store.task_instances
        ]
        assert [ti.duration for ti in first.sim.store.task_instances] != [
            ti.duration for ti in second.sim.store.task_instances
        ]

    def test_advancing_in_steps_or_at_once_is_the_same(self, world: Callable[..., World]) -> None:
        stepwise, at_once = world(*FLAKY_WORLD), world(*FLAKY_WORLD)
        for _ in range(36):
            stepwise.advance(300)
        at_once.advance(36 * 300)
        assert story(stepwise) == story(at_once)

    def test_another_dag_does_not_change_the_story(self, world: Callable[..., World]) -> None:
        alone = world(*FLAKY_WORLD)
        crowded = world(*FLAKY_WORLD, dag("other", task("x", duration=5), schedule="@hourly"))
        for w in (alone, crowded):
            w.advance(3 * 3600)
        assert story(alone) == [row for row in story(crowded) if row[0][0] == "etl"]


class TestDependsOnPast:
    def test_waits_for_its_previous_instance(self, world: Callable[..., World]) -> None:
        w = world(
            dag("d", task("a", depends_on_past=True, duration=30, fail_tries=[1])),
        )
        first = w.trigger("d")
        w.advance(1)
        second = w.trigger("d")
        w.advance(100)
        assert w.states(first) == {"a": "failed"}
        assert w.states(second) == {"a": None}  # the past failed: it never starts
        assert w.ti(second, "a").try_number == 0
        w.sim.actions.set_state([w.ti(first, "a")], "success")
        w.advance(100)
        assert w.ti(second, "a").try_number == 1  # it ran (and its own first try failed)
        assert w.states(second) == {"a": "failed"}
