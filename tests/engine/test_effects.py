"""Task-try effects (engine/effects.py): the executor's `effects` hook, asked
once per try, and `apply_effect` for a try already queued or running. A
failed, slow or stuck try goes on as Airflow 2.5.3 would take it: retries,
event rows, logs, zombie detection, the executor's failure of a queued
instance; snapshots keep every effect exactly."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from simulator.api.responses import Text
from simulator.api.task_instances import get_log
from simulator.engine.effects import TaskEffect, default_message
from simulator.server.app import create_app
from simulator.simulator import Simulator
from simulator.snapshot import SnapshotError
from simulator.state.run_model import DagRun, TaskInstance
from tests.conftest import ADMIN, STARTUP_ROWS
from tests.engine.conftest import FROZEN, World, dag, encoded, restored, seconds, task

TRY = ["scheduled", "queued", "running"]
APP = dataclasses.replace(FROZEN, validate_responses=True)
Calls = list[tuple[str, int]]


def hook(effects: dict[tuple[str, int], TaskEffect], calls: Calls | None = None) -> Any:
    """A hook answering `effects[(task_id, try_number)]`, recording its calls."""

    def effect_for(ti: TaskInstance, _task: Any, try_number: int) -> TaskEffect | None:
        if calls is not None:
            calls.append((ti.task_id, try_number))
        return effects.get((ti.task_id, try_number))

    return effect_for


def with_effects(w: World, effects: dict[tuple[str, int], TaskEffect]) -> Calls:
    calls: Calls = []
    w.sim.executor.effects = hook(effects, calls)
    return calls


def ran(w: World, task_id: str) -> list[float]:
    """How long each try of the instance ran (to the millisecond)."""
    return [round(end - start, 3) for start, end in w.busy_intervals(task_id)]


# The rows of a try's start: its worker's `tasks run --local`, `running`, its `--raw` task.
STARTED = ["cli_task_run", "running", "cli_task_run"]


def events(w: World, task_id: str) -> list[tuple[str, float]]:
    return [(e.event, seconds(e.when)) for e in w.sim.store.event_logs if e.task_id == task_id]


def log(sim: Simulator, run: DagRun, task_id: str, try_number: int) -> str:
    """The try's log as GET .../logs/{try_number} answers it in text."""
    text = get_log(sim, dag_id=run.dag_id, dag_run_id=run.run_id, task_id=task_id,
                   task_try_number=try_number, accept="text/plain")  # fmt: skip
    assert isinstance(text, Text)
    return text.body


FAIL = TaskEffect("f1", "fail")


class TestHook:
    def test_asked_once_per_try_with_its_number(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", retries=2, retry_delay=5, fail_tries=[1, 2]), task("b", "a")))
        calls = with_effects(w, {})
        w.trigger("d")
        w.advance(200)
        assert calls == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]

    def test_a_resumed_deferral_is_the_same_try(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("s", deferral=30, duration=5)))
        calls = with_effects(w, {("s", 1): TaskEffect("f1", "slow", factor=4.0)})
        run = w.trigger("d")
        w.advance(200)
        assert calls == [("s", 1)]
        # The resumed part runs under the effect the try started with.
        first, second = w.ti(run, "s").tries
        assert (first.outcome, second.outcome) == ("deferred", "success")
        assert (second.end_date - second.start_date).total_seconds() == 20
        assert (second.fault, second.effect, second.factor) == ("f1", "slow", 4.0)

    def test_no_hook_no_effect(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance(100)
        [attempt] = w.ti(run, "a").tries
        assert (attempt.fault, attempt.effect, attempt.message, attempt.factor) == (None,) * 4


class TestFail:
    def test_the_try_fails_after_its_duration_and_retries(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a", retries=1, retry_delay=30, operator="PythonOperator")))
        with_effects(w, {("a", 1): FAIL})
        run = w.trigger("d")
        w.advance(300)
        ti = w.ti(run, "a")
        assert w.history("a") == [*TRY, "up_for_retry", *TRY, "success"]
        assert ran(w, "a") == [10, 10]  # its usual duration
        assert [(t.outcome, t.effect, t.message) for t in ti.tries] == [
            ("up_for_retry", "fail", "Simulated failure (fault f1)"),
            ("success", None, None),
        ]
        assert [e for e, _ in events(w, "a")] == [*STARTED, "failed", *STARTED, "success"]
        assert w.entered("a", "scheduled")[1] - w.entered("a", "up_for_retry")[0] == 30
        text = log(w.sim, run, "a", 1)
        assert (
            "ERROR - Task failed with exception\nTraceback (most recent call last):\n"
            '  File "/home/airflow/.local/lib/python3.7/site-packages/airflow/operators/python.py"'
        ) in text
        assert "\nairflow.exceptions.AirflowException: Simulated failure (fault f1)\n" in text
        assert "INFO - Marking task as UP_FOR_RETRY. dag_id=d, task_id=a, " in text
        assert (
            f"ERROR - Failed to execute job 3 for task a (Simulated failure (fault f1); "
            f"{ti.tries[0].pid})"
        ) in text
        assert "airflow.exceptions.AirflowException" not in log(w.sim, run, "a", 2)

    def test_without_retries_it_fails_and_downstream_is_upstream_failed(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), task("b", "a")))
        with_effects(w, {("a", 1): TaskEffect("disk", "fail", message="No space left on device")})
        run = w.trigger("d")
        w.advance(100)
        assert (w.states(run), run.state) == ({"a": "failed", "b": "upstream_failed"}, "failed")
        text = log(w.sim, run, "a", 1)
        assert "airflow.exceptions.AirflowException: No space left on device\n" in text
        assert "INFO - Marking task as FAILED. dag_id=d, task_id=a, " in text

    async def test_the_api_serves_the_failed_try_and_its_log(
        self, world: Callable[..., World], aiohttp_client: Callable[..., Any]
    ) -> None:
        w = world(dag("d", task("a", retries=1, retry_delay=30)))
        with_effects(w, {("a", 1): TaskEffect("f9", "fail", message="Disk quota exceeded")})
        run = w.trigger("d")
        w.advance(20)
        client = await aiohttp_client(create_app(APP, simulator=w.sim))
        url = f"/api/v1/dags/d/dagRuns/{run.run_id}/taskInstances/a"
        body = await (await client.get(url, headers=ADMIN)).json()
        assert (body["state"], body["try_number"], body["max_tries"]) == ("up_for_retry", 1, 1)
        response = await client.get(f"{url}/logs/1", headers={**ADMIN, "Accept": "text/plain"})
        assert response.status == 200
        text = await response.text()
        assert "airflow.exceptions.AirflowException: Disk quota exceeded\n" in text
        assert "{taskinstance.py:1332} INFO - Marking task as UP_FOR_RETRY." in text
        rows = await (await client.get("/api/v1/eventLogs", headers=ADMIN)).json()
        assert [(r["event"], r["task_id"]) for r in rows["event_logs"][STARTUP_ROWS:]] == [
            *((event, "a") for event in STARTED),
            ("failed", "a"),
        ]

    def test_a_timeout_comes_first(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=100, execution_timeout=30)))
        with_effects(w, {("a", 1): FAIL})
        run = w.trigger("d")
        w.advance(200)
        assert ran(w, "a") == [30]
        assert "AirflowTaskTimeout: Timeout, PID" in log(w.sim, run, "a", 1)

    def test_the_default_message_names_the_fault(self) -> None:
        assert default_message("f7") == "Simulated failure (fault f7)"
        assert TaskEffect("f7", "fail", message="boom").failure == "boom"


class TestSlow:
    def test_the_duration_is_multiplied(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        with_effects(w, {("a", 1): TaskEffect("f1", "slow", factor=3.0)})
        run = w.trigger("d")
        w.advance(100)
        assert (ran(w, "a"), w.ti(run, "a").state) == ([30], "success")

    def test_past_its_timeout_a_slow_try_times_out(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", execution_timeout=25, retries=1, retry_delay=5)))
        with_effects(w, {("a", 1): TaskEffect("f1", "slow", factor=3.0)})
        run = w.trigger("d")
        w.advance(200)
        assert ran(w, "a") == [25, 10]
        assert w.history("a") == [*TRY, "up_for_retry", *TRY, "success"]
        assert "AirflowTaskTimeout: Timeout, PID" in log(w.sim, run, "a", 1)


class TestStuckRunning:
    def test_a_zombie_is_failed_seconds_after_it_started(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", retries=1, retry_delay=30), task("b", "a")))
        with_effects(w, {("a", 1): TaskEffect("f1", "stuck", state="running", seconds=100)})
        run = w.trigger("d")
        w.advance(50)
        ti = w.ti(run, "a")
        assert (ti.state, ti.end_date) == ("running", None)
        started = w.entered("a", "running")[0]
        w.advance(300)
        assert w.entered("a", "up_for_retry") == [started + 100]
        first = ti.tries[0]
        assert (first.outcome, seconds(first.end_date), first.effect) == (
            "up_for_retry",
            started + 100,
            "stuck",
        )
        assert [e for e, _ in events(w, "a")] == [*STARTED, "failed", *STARTED, "success"]
        assert events(w, "a")[3] == ("failed", started + 100)
        # Its log ends where the worker stopped: nothing about the end.
        text = log(w.sim, run, "a", 1)
        assert text.endswith("{subprocess.py:86} INFO - Output:\n\n")  # BashOperator's start
        assert "Marking task" not in text and "exited" not in text
        assert w.states(run) == {"a": "success", "b": "success"}

    def test_without_retries_the_zombie_fails(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), task("b", "a")))
        with_effects(w, {("a", 1): TaskEffect("f1", "stuck")})  # 300 s: the zombie threshold
        run = w.trigger("d")
        w.advance(1000)
        started = w.entered("a", "running")[0]
        ti = w.ti(run, "a")
        assert (ti.state, seconds(ti.end_date), ti.duration) == ("failed", started + 300, 300.0)
        assert (w.states(run), run.state) == ({"a": "failed", "b": "upstream_failed"}, "failed")

    async def test_the_api_shows_a_running_try_then_a_failed_one(
        self, world: Callable[..., World], aiohttp_client: Callable[..., Any]
    ) -> None:
        w = world(dag("d", task("a")))
        with_effects(w, {("a", 1): TaskEffect("f1", "stuck", seconds=60)})
        run = w.trigger("d")
        client = await aiohttp_client(create_app(APP, simulator=w.sim))
        url = f"/api/v1/dags/d/dagRuns/{run.run_id}/taskInstances/a"
        w.advance(30)
        body = await (await client.get(url, headers=ADMIN)).json()
        assert (body["state"], body["try_number"], body["end_date"]) == ("running", 1, None)
        w.advance(100)
        body = await (await client.get(url, headers=ADMIN)).json()
        assert (body["state"], body["try_number"]) == ("failed", 1)
        assert body["end_date"] is not None


class TestStuckQueued:
    def test_up_for_retry_counts_the_try_that_never_started(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a", retries=1, retry_delay=30)))
        with_effects(w, {("a", 1): TaskEffect("f1", "stuck", state="queued", seconds=50)})
        run = w.trigger("d")
        w.advance(40)
        ti = w.ti(run, "a")
        assert (ti.state, ti.try_number) == ("queued", 0)
        w.advance(10)
        assert (ti.state, ti.try_number, seconds(ti.end_date), ti.duration) == (
            "up_for_retry",
            1,
            50,
            None,
        )
        assert ti.tries == ()
        assert events(w, "a") == [("failed", 50)]
        w.advance(100)
        assert w.history("a") == ["scheduled", "queued", "up_for_retry", *TRY, "success"]
        assert w.entered("a", "scheduled")[1] == 80
        assert [t.try_number for t in ti.tries] == [2]
        assert "*** Log file does not exist" in log(w.sim, run, "a", 1)
        assert "Starting attempt 2 of 2" in log(w.sim, run, "a", 2)

    def test_failed_it_keeps_its_try_number(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), task("b", "a")))
        with_effects(w, {("a", 1): TaskEffect("f1", "stuck", state="queued")})  # 600 s
        run = w.trigger("d")
        w.advance(1000)
        ti = w.ti(run, "a")
        assert (ti.state, ti.try_number, seconds(ti.end_date)) == ("failed", 0, 600)
        assert (w.states(run), run.state) == ({"a": "failed", "b": "upstream_failed"}, "failed")
        assert events(w, "a") == [("failed", 600)]


class TestApplyEffect:
    def test_fail_on_a_running_try_fails_it_when_it_would_have_ended(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance(5)
        ti = w.ti(run, "a")
        assert w.sim.executor.apply_effect(ti, FAIL)
        w.advance(100)
        assert (ti.state, ran(w, "a")) == ("failed", [10])
        assert ti.tries[0].message == "Simulated failure (fault f1)"

    def test_slow_on_a_running_try_moves_its_end(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance(5)
        ti = w.ti(run, "a")
        assert w.sim.executor.apply_effect(ti, TaskEffect("f1", "slow", factor=2.5))
        w.advance(100)
        assert (ti.state, ran(w, "a")) == ("success", [25])

    def test_slow_never_ends_a_try_before_now(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance(9)
        ti = w.ti(run, "a")
        assert w.sim.executor.apply_effect(ti, TaskEffect("f1", "slow", factor=0.1))
        w.advance(0)
        assert (ti.state, seconds(ti.end_date)) == ("success", 9)

    def test_stuck_on_a_running_try_makes_it_a_zombie(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance(5)
        ti = w.ti(run, "a")
        assert w.sim.executor.apply_effect(ti, TaskEffect("f1", "stuck", seconds=60))
        w.advance(59)
        assert ti.state == "running"
        w.advance(1)
        assert (ti.state, seconds(ti.end_date)) == ("failed", 65)
        assert not w.sim.executor.apply_effect(ti, FAIL)  # it has ended

    def test_stuck_queued_on_a_queued_try_cancels_its_start(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        ti = w.ti(run, "a")
        assert ti.state == "queued"
        assert w.sim.executor.apply_effect(ti, TaskEffect("f1", "stuck", state="queued", seconds=9))
        w.advance(100)
        assert w.history("a") == ["scheduled", "queued", "failed"]
        assert seconds(ti.end_date) == 9

    def test_any_other_effect_on_a_queued_try_applies_when_it_starts(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        ti = w.ti(run, "a")
        assert w.sim.executor.apply_effect(ti, TaskEffect("f1", "slow", factor=2.0))
        w.advance(100)
        assert ran(w, "a") == [20]

    def test_it_does_not_apply_where_no_try_is_under_way(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), task("b", "a")))
        run = w.trigger("d")
        a, b = w.ti(run, "a"), w.ti(run, "b")
        assert not w.sim.executor.apply_effect(b, FAIL)  # no state yet
        w.advance(5)
        assert not w.sim.executor.apply_effect(a, TaskEffect("f1", "stuck", state="queued"))
        w.advance(100)
        assert not w.sim.executor.apply_effect(a, FAIL)  # success

    def test_on_a_start_held_by_an_outage(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.sim.scheduler.outage_begin()
        w.advance(50)
        ti = w.ti(run, "a")
        assert w.sim.executor.apply_effect(ti, TaskEffect("f1", "slow", factor=3.0))
        w.sim.scheduler.outage_end()
        w.advance(100)
        assert w.busy_intervals("a") == [(50, 80)]


class TestOutage:
    def test_a_zombie_is_failed_when_the_scheduler_returns(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        with_effects(w, {("a", 1): TaskEffect("f1", "stuck", seconds=30)})
        run = w.trigger("d")
        w.advance(5)
        w.sim.scheduler.outage_begin()
        w.advance(100)
        ti = w.ti(run, "a")
        assert ti.state == "running"
        w.sim.scheduler.outage_end()
        w.advance(0)
        assert (ti.state, seconds(ti.end_date)) == ("failed", 105)


class TestSnapshot:
    @pytest.mark.parametrize("at", [1, 30, 60])
    def test_a_world_restored_mid_effect_carries_on_as_the_original(
        self, world: Callable[..., World], at: float
    ) -> None:
        w = world(
            dag("d", task("a", retries=1, retry_delay=5), task("b", retries=1, retry_delay=5),
                task("c"), task("s", deferral=20, duration=5)),
        )  # fmt: skip
        effects = {
            ("a", 1): TaskEffect("f1", "stuck", state="running", seconds=50),
            ("b", 1): TaskEffect("f2", "stuck", state="queued", seconds=40),
            ("c", 1): TaskEffect("f3", "fail", message="boom"),
            ("s", 1): TaskEffect("f4", "slow", factor=3.0),
        }
        with_effects(w, effects)
        w.trigger("d")
        w.advance(at)
        document = w.sim.snapshot()
        copy = restored(w.sim)
        assert encoded(copy) == orjson.dumps(document)
        copy.executor.effects = hook(effects)
        for sim in (w.sim, copy):
            sim.advance(300)
        assert encoded(copy) == encoded(w.sim)
        [run] = copy.store.runs_of("d")
        tries = {ti.task_id: [(t.effect, t.outcome) for t in ti.tries]
                 for ti in copy.store.tis_of(run)}  # fmt: skip
        assert tries == {
            "a": [("stuck", "up_for_retry"), (None, "success")],
            "b": [(None, "success")],
            "c": [("fail", "failed")],
            "s": [("slow", "deferred"), ("slow", "success")],
        }

    def test_tries_without_effects_write_no_effect_columns(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        w.trigger("d")
        w.advance(100)
        assert set(w.sim.snapshot()["task_tries"]["columns"]) == {
            "try_number", "hostname", "pid", "outcome", "start_date", "end_date", "deferred_until",
            "job_id", "trigger_id",
        }  # fmt: skip


class TestDamagedSnapshot:
    def document(self, w: World) -> dict[str, Any]:
        return orjson.loads(encoded(w.sim))  # type: ignore[no-any-return]

    def test_an_unknown_effect_on_a_start_is_refused(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        with_effects(w, {("a", 1): FAIL})
        w.trigger("d")
        document = self.document(w)
        [start] = [e for e in document["engine"]["events"] if e[3] == "ti.start"]
        assert start[4:] == ["d", start[5], "a", -1, "f1", "fail", None, None, None, None]
        start[9] = "explode"
        with pytest.raises(SnapshotError, match=r"engine.events\[\d+\]\[8\]: expected a fault"):
            Simulator(FROZEN).restore(document)

    def test_a_held_event_of_an_instance_not_waiting_for_it_is_refused(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a")))
        w.trigger("d")
        w.sim.scheduler.outage_begin()
        w.advance(10)
        document = self.document(w)
        [held] = document["scheduler"]["outage"]["held"]
        assert held == ["ti.start", "d", held[2], "a", -1]
        document["scheduler"]["outage"]["held"].append(held)
        with pytest.raises(SnapshotError, match=r"scheduler.outage.held\[1\]: expected a task"):
            Simulator(FROZEN).restore(document)
        held[0] = "ti.finish"
        with pytest.raises(SnapshotError, match=r"scheduler.outage.held\[0\]\[0\]: expected one"):
            Simulator(FROZEN).restore(document)

    def test_half_the_effect_columns_are_refused(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        with_effects(w, {("a", 1): FAIL})
        w.trigger("d")
        w.advance(100)
        document = self.document(w)
        del document["task_tries"]["columns"]["factor"]
        with pytest.raises(SnapshotError, match=r"task_tries.columns.factor: missing"):
            Simulator(FROZEN).restore(document)

    @pytest.mark.parametrize(
        ("index", "value", "bound"),
        [
            (11, 1e308, "31622400"),
            (11, float("inf"), "31622400"),
            (11, float("nan"), "31622400"),
            (11, 0, "31622400"),
            (12, 1e308, "1000"),
            (12, 1000.5, "1000"),
            (12, float("-inf"), "1000"),
            (12, -1, "1000"),
        ],
    )
    def test_seconds_and_factor_beyond_the_fault_schema_are_refused(
        self, world: Callable[..., World], index: int, value: object, bound: str
    ) -> None:
        # Unbounded, they passed here and overflowed a timedelta in catch_up.
        w = world(dag("d", task("a")))
        with_effects(w, {("a", 1): TaskEffect("f1", "slow", factor=2.0)})
        w.trigger("d")
        document = self.document(w)
        [start] = [e for e in document["engine"]["events"] if e[3] == "ti.start"]
        assert start[11:13] == [None, 2.0]
        start[index] = value
        expected = rf"engine.events\[\d+\]\[{index}\]: expected a number above 0 up to {bound},"
        with pytest.raises(SnapshotError, match=expected):
            Simulator(FROZEN).restore(document)

    def test_the_bounds_hold_for_a_held_start(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        with_effects(w, {("a", 1): TaskEffect("f1", "stuck", seconds=60)})
        w.trigger("d")
        w.sim.scheduler.outage_begin()
        w.advance(10)
        [held] = w.sim.scheduler.outage.held
        document = self.document(w)
        document["scheduler"]["outage"]["held"][0][8] = 1e308  # checked before the faults
        with pytest.raises(SnapshotError, match=r"scheduler.outage.held\[0\]\[8\]: expected a n"):
            Simulator(FROZEN).restore(document)
        assert held[8] == 60.0

    def test_a_try_resuming_under_a_huge_factor_is_refused(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("s", deferral=20, duration=5)))
        with_effects(w, {("s", 1): TaskEffect("f1", "slow", factor=3.0)})
        w.trigger("d")
        w.advance(10)  # deferred: its resumption runs under the try's factor
        document = self.document(w)
        factor = document["task_tries"]["columns"]["factor"]
        assert factor == [3.0]
        document["task_tries"]["columns"]["factor"] = [1e308]
        with pytest.raises(SnapshotError, match=r"task_tries.columns.factor\[0\]: expected a n"):
            Simulator(FROZEN).restore(document)
