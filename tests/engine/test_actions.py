"""What the API does to runs and task instances (engine/actions.py): clear,
mark a run success/failed/queued, mark task instances, delete runs and DAGs
(Airflow 2.5.3 semantics, section 10), and how the scheduler carries on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from simulator.state.run_model import DatasetEvent
from tests.engine.conftest import T0, World, dag, seconds, task

TRY = ["scheduled", "queued", "running"]


def chain(**fields: object) -> dict[str, object]:
    """a -> b -> c; `a` fails its first try."""
    return dag("d", task("a", fail_tries=[1], **fields), task("b", "a"), task("c", "b"))


class TestClear:
    def test_cleared_run_runs_again_with_the_next_try(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", retries=1), task("b", "a")))
        run = w.trigger("d")
        w.advance(100)
        assert run.state == "success"
        cleared_at = w.now
        w.sim.actions.clear_run(run)
        # Queued again with no start date, then started by the scheduler's next loop.
        assert (run.state, run.start_date) == ("queued", None)
        w.advance(1)
        assert run.start_date == w.sim.engine.now
        assert run.end_date is None
        assert run.last_scheduling_decision is not None  # examined since
        ti = w.ti(run, "a")
        assert (ti.state, ti.try_number, ti.max_tries) == ("queued", 1, 2)
        w.advance(100)
        assert w.history("a") == [*TRY, "success", None, *TRY, "success"]
        assert w.history("b") == [*TRY, "success", None, *TRY, "success"]
        assert (ti.try_number, ti.max_tries) == (2, 2)
        assert [t.try_number for t in ti.tries] == [1, 2]
        assert run.state == "success"
        assert seconds(run.start_date) == cleared_at + 1

    def test_a_new_try_replaces_the_xcoms(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", xcom_keys=["rows"])))
        run = w.trigger("d")
        w.advance(100)
        first = {x.key: x.timestamp for x in w.sim.store.xcoms}
        w.sim.actions.clear([w.ti(run, "a")], reset_runs=True)
        w.advance(4)  # the new try is picked up and starts: no XCom until it ends
        assert w.states(run) == {"a": "running"}
        assert list(w.sim.store.xcoms) == []
        w.advance(100)
        second = {x.key: x.timestamp for x in w.sim.store.xcoms}
        assert set(second) == set(first) == {"return_value", "rows"}
        assert all(second[key] > first[key] for key in first)

    def test_clear_raises_max_tries_so_a_failed_task_can_retry(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a", retries=1, retry_delay=10, fail_tries=[1, 2, 3])))
        run = w.trigger("d")
        w.advance(200)
        ti = w.ti(run, "a")
        assert (ti.state, ti.try_number, ti.max_tries) == ("failed", 2, 1)
        w.sim.actions.clear([ti], reset_runs=True)
        assert ti.max_tries == 3  # try_number + retries
        w.advance(200)
        # Try 3 fails and is retried (3 <= 3); try 4 succeeds.
        assert w.history("a")[-9:] == [None, *TRY, "up_for_retry", *TRY, "success"]
        assert (ti.try_number, run.state) == (4, "success")

    def test_the_old_end_date_stays_until_the_next_try_starts(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), task("b", "a")))
        run = w.trigger("d")
        w.advance(200)
        a, b = w.ti(run, "a"), w.ti(run, "b")
        ends, durations = (a.end_date, b.end_date), (a.duration, b.duration)
        w.pause("d")  # nothing starts again meanwhile
        w.sim.actions.clear([a, b], reset_runs=True)
        # clear_task_instances resets the state only.
        assert (a.state, a.end_date, a.duration) == (None, ends[0], durations[0])
        # A later set_state keeps it (end_date = end_date or now).
        w.sim.actions.set_state([b], "success")
        assert (b.end_date, b.duration) == (ends[1], durations[1])
        w.unpause("d")
        w.advance(5)
        assert a.state == "running" and a.end_date is None and a.duration is None

    def test_without_reset_a_finished_run_is_left_alone(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance(100)
        w.sim.actions.clear([w.ti(run, "a")], reset_runs=False)
        w.advance(100)
        assert w.states(run) == {"a": None}
        assert run.state == "success"

    def test_without_reset_a_running_run_carries_on(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", fail_tries=[1]), task("b", "a"), task("slow", duration=500)))
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"a": "failed", "b": "upstream_failed", "slow": "running"}
        w.sim.actions.clear([w.ti(run, "a"), w.ti(run, "b")], reset_runs=False)
        assert run.state == "running"
        w.advance(1000)
        assert w.states(run) == {"a": "success", "b": "success", "slow": "success"}
        assert run.state == "success"

    def test_a_running_instance_restarts(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=100, retry_delay=30)))
        run = w.trigger("d")
        w.advance(20)
        ti = w.ti(run, "a")
        w.sim.actions.clear([ti], reset_runs=True)
        assert ti.state == "restarting"
        w.advance(1000)
        assert w.history("a") == [*TRY, "restarting", "up_for_retry", *TRY, "success"]
        assert ti.try_number == 2
        # Its job heartbeats every 5 s from the start: the first beat after
        # the clear lets the change pass, the second terminates the task.
        started = w.entered("a", "running")[0]
        beat = started + 5 * ((20 - started) // 5 + 1)
        assert 20 < beat <= 25 and w.entered("a", "up_for_retry") == [beat + 5]
        assert ti.tries[0].cleared and not ti.tries[1].cleared


class TestSetRunState:
    def busy_run(self, w: World) -> None:
        """One instance in each unfinished state, and one finished."""
        w.add_pool("solo", 1)
        w.trigger("d")
        w.advance(20)

    @pytest.fixture
    def busy(self, world: Callable[..., World]) -> World:
        w = world(
            dag(
                "d",
                task("long", pool="solo", duration=1000, priority_weight=9),
                task("waiting", pool="solo"),
                task("after", "long"),
                task("flaky", retries=1, retry_delay=1000, fail_tries=[1]),
                task("quick", duration=5),
            )
        )
        self.busy_run(w)
        assert w.states(w.run("d")) == {
            "long": "running",
            "waiting": "scheduled",
            "after": None,
            "flaky": "up_for_retry",
            "quick": "success",
        }
        return w

    def test_success_marks_every_instance(self, busy: World) -> None:
        run = busy.run("d")
        busy.sim.actions.set_run_state(run, "success")
        assert set(busy.states(run).values()) == {"success"}
        assert (run.state, run.end_date) == ("success", busy.sim.engine.now)
        marked = len(busy.log)
        busy.advance(5000)
        assert len(busy.log) == marked  # nothing left running or waiting
        assert busy.sim.store.pool_occupied["solo"] == 0
        assert not busy.sim.store.active_tis

    def test_failed(self, busy: World) -> None:
        run = busy.run("d")
        busy.sim.actions.set_run_state(run, "failed")
        assert busy.states(run) == {
            "long": "failed",  # running -> failed
            "waiting": "skipped",  # other unfinished states -> skipped
            "after": None,  # 2.5.3 leaves instances with no state alone
            "flaky": "skipped",
            "quick": "success",  # finished: untouched
        }
        assert (run.state, run.end_date) == ("failed", busy.sim.engine.now)
        marked = len(busy.log)
        busy.advance(5000)
        assert len(busy.log) == marked
        assert busy.sim.store.pool_occupied["solo"] == 0

    def test_failed_skips_queued_instances(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        assert w.states(run) == {"a": "queued"}
        w.sim.actions.set_run_state(run, "failed")
        assert w.states(run) == {"a": "skipped"}
        w.advance(100)
        assert w.states(run) == {"a": "skipped"}

    def test_queued_stamps_end_date_and_leaves_instances(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a")))
        run = w.trigger("d")
        w.advance(100)
        w.pause("d")  # so that nothing starts the run again
        started = run.start_date
        w.advance(50)
        w.sim.actions.set_run_state(run, "queued")
        assert (run.state, run.end_date, run.start_date) == ("queued", w.sim.engine.now, started)
        assert w.states(run) == {"a": "success"}

    def test_queued_run_is_started_and_settles_again(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", fail_tries=[1])))
        run = w.trigger("d")
        w.advance(100)
        assert run.state == "failed"
        marked = len(w.log)
        w.sim.actions.set_run_state(run, "queued")
        assert run.state == "queued"
        # The scheduler's next loop starts it; every instance is finished, so it fails again.
        w.advance(1)
        assert run.state == "failed"
        assert run.start_date == run.end_date == w.sim.engine.now
        assert len(w.log) == marked


class TestSetTaskState:
    def test_success_clears_failed_downstream_and_reruns(self, world: Callable[..., World]) -> None:
        w = world(chain())
        run = w.trigger("d")
        w.advance(100)
        assert (w.states(run), run.state) == (
            {"a": "failed", "b": "upstream_failed", "c": "upstream_failed"},
            "failed",
        )
        a = w.ti(run, "a")
        w.sim.actions.set_state([a], "success")
        assert a.try_number == 1  # marked, not run
        assert run.state == "queued"  # cleared downstream: until the next loop
        w.advance(100)
        assert w.history("a") == [*TRY, "failed", "success"]
        assert w.history("b") == ["upstream_failed", None, *TRY, "success"]
        assert (w.ti(run, "b").try_number, w.ti(run, "b").max_tries) == (1, 0)
        assert run.state == "success"

    def test_instances_already_in_the_state_are_skipped(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), task("b", "a")))
        run = w.trigger("d")
        w.advance(100)
        marked = len(w.log)
        w.sim.actions.set_state([w.ti(run, "a")], "success")
        assert len(w.log) == marked
        assert run.state == "success"

    def test_success_on_a_running_instance_stops_its_try(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=1000), task("b", "a")))
        run = w.trigger("d")
        w.advance(10)
        w.sim.actions.set_state([w.ti(run, "a")], "success")
        w.advance(100)
        assert w.history("a") == [*TRY, "success"]
        assert w.states(run) == {"a": "success", "b": "success"}
        assert run.state == "success"
        w.advance(2000)
        assert w.history("a") == [*TRY, "success"]  # the old try never finishes

    def test_failed_leaves_successful_downstream_and_the_run(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("a"), task("b", "a")))
        run = w.trigger("d")
        w.advance(100)
        w.sim.actions.set_state([w.ti(run, "a")], "failed")
        w.advance(100)
        assert w.states(run) == {"a": "failed", "b": "success"}
        assert run.state == "success"

    def test_failed_in_a_running_run_fails_downstream(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=1000), task("b", "a")))
        run = w.trigger("d")
        w.advance(10)
        w.sim.actions.set_state([w.ti(run, "a")], "failed")
        assert w.states(run) == {"a": "failed", "b": "upstream_failed"}
        assert run.state == "failed"


class TestDelete:
    def test_delete_run_cascades(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a"), task("b", "a", duration=500, pool="solo")))
        w.add_pool("solo", 1)
        keep = w.trigger("d", "keep")
        w.advance(100)
        doomed = w.trigger("d", "doomed")
        w.advance(30)
        assert w.states(doomed) == {"a": "success", "b": "scheduled"}  # `keep` holds the slot
        w.sim.actions.delete_run(doomed)
        store = w.sim.store
        assert doomed.key not in store.dag_runs
        assert [ti.run_id for ti in store.task_instances] == ["keep", "keep"]
        assert {x.run_id for x in store.xcoms} == {"keep"}
        assert doomed.key not in store.run_tis
        assert [r.run_id for r in w.runs("d")] == ["keep"]
        marked = len(w.log)
        w.advance(2000)
        assert all(t.run_id == "keep" for t in w.log[marked:])
        assert keep.state == "success"
        assert store.pool_occupied["solo"] == 0
        assert not store.active_tis

    def test_deleting_a_running_run_frees_its_slots(self, world: Callable[..., World]) -> None:
        w = world(dag("d", task("a", duration=500, pool="solo")))
        w.add_pool("solo", 1)
        run = w.trigger("d")
        w.advance(10)
        assert w.sim.store.pool_occupied["solo"] == 1
        w.sim.actions.delete_run(run)
        assert w.sim.store.pool_occupied["solo"] == 0
        assert w.sim.store.dag_busy["d"] == 0
        w.advance(1000)  # the cancelled try never finishes
        assert w.runs("d") == []

    def test_the_caller_resumes_queued_runs(self, world: Callable[..., World]) -> None:
        # delete_run leaves max_active_runs bookkeeping to the caller, which
        # resumes the DAG as Airflow's next scheduler loop would.
        w = world(dag("d", task("a", duration=500), max_active_runs=1))
        first, second = w.trigger("d", "first"), w.trigger("d", "second")
        w.sim.actions.delete_run(first)
        assert second.state == "queued"
        w.sim.scheduler.resume(w.dag("d"))
        assert second.state == "running"

    def test_delete_dag_cascades_and_stops_scheduling(self, world: Callable[..., World]) -> None:
        w = world(
            dag("prod", task("publish", outlets=["s3://x"]), schedule="@hourly",
                start_date="2023-03-31T22:00:00+00:00"),
            dag("cons", task("use"), schedule={"datasets": ["s3://x"]}),
        )  # fmt: skip
        w.advance(100)
        store = w.sim.store
        assert len(w.runs("prod")) == 2
        assert len(store.dataset_events) == 2
        w.sim.actions.delete_dag(w.dag("prod"))
        assert "prod" not in store.dags
        assert w.runs("prod") == []
        assert not [ti for ti in store.task_instances if ti.dag_id == "prod"]
        assert not [x for x in store.xcoms if x.dag_id == "prod"]
        # Datasets and their events outlive the DAG, as in Airflow.
        assert "s3://x" in store.datasets
        assert [e.source_dag_id for e in store.dataset_events] == ["prod", "prod"]
        marked = len(w.log)
        w.advance(5 * 3600)
        assert w.runs("prod") == []
        assert len(w.log) == marked
        assert len(w.runs("cons")) == 2

    def test_deleting_a_consumer_stops_its_triggers(self, world: Callable[..., World]) -> None:
        w = world(
            dag("prod", task("publish", outlets=["s3://x"])),
            dag("cons", task("use"), schedule={"datasets": ["s3://x"]}),
        )
        w.sim.actions.delete_dag(w.dag("cons"))
        w.trigger("prod")
        w.advance(100)
        [event] = w.sim.store.dataset_events
        assert isinstance(event, DatasetEvent)
        assert event.created_dagruns == []
        assert w.runs("cons") == []
        assert seconds(event.timestamp) > seconds(T0)
