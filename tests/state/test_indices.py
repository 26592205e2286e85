"""The store's compact tables: task instances kept per run, XComs kept with
their run, the audit log in columns, and the per-DAG run indices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.errors import AlreadyExists, NotFound
from simulator.state.dag_model import Dag, Task
from simulator.state.entities import EventLog
from simulator.state.run_model import DagRun, RowsXCom, TaskInstance, TaskTry, XCom
from simulator.state.store import Store

T0 = datetime(2023, 4, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def add_run(store: Store, run_id: str, logical: datetime, dag_id: str = "d") -> DagRun:
    """A run of tasks a, b (mapped over 2) and c."""
    run = DagRun(dag_id=dag_id, run_id=run_id, logical_date=logical, run_type="manual")
    by_task = {
        "a": [TaskInstance(dag_id=dag_id, run_id=run_id, task_id="a")],
        "b": [TaskInstance(dag_id=dag_id, run_id=run_id, task_id="b", map_index=i) for i in (0, 1)],
        "c": [TaskInstance(dag_id=dag_id, run_id=run_id, task_id="c")],
    }
    return store.add_run(run, by_task)


def world() -> Store:
    store = Store()
    dag = Dag(dag_id="d", fileloc="/dags/d.py")
    dag.tasks = {t: Task(task_id=t, owner=f"owner-{t}") for t in "abc"}
    store.dags.add(dag)
    return store


class TestTaskInstances:
    def test_lookups_through_the_run(self) -> None:
        store = world()
        add_run(store, "r1", at(0))
        table = store.task_instances
        assert table.require(("d", "r1", "b", 1)).map_index == 1
        assert ("d", "r1", "a", -1) in table
        assert table.get(("d", "r1", "a", 0)) is None  # not mapped
        assert table.get(("d", "r1", "b", -1)) is None  # mapped
        assert table.get(("d", "r1", "b", 2)) is None
        assert table.get(("d", "r2", "a", -1)) is None
        with pytest.raises(NotFound):
            table.require(("d", "r1", "z", -1))

    def test_rows_in_insertion_order_with_increasing_ids(self) -> None:
        store = world()
        add_run(store, "r1", at(0))
        add_run(store, "r2", at(1))
        rows = [(ti.run_id, ti.task_id, ti.map_index, ti.id) for ti in store.task_instances]
        assert rows == [
            ("r1", "a", -1, 1), ("r1", "b", 0, 2), ("r1", "b", 1, 3), ("r1", "c", -1, 4),
            ("r2", "a", -1, 5), ("r2", "b", 0, 6), ("r2", "b", 1, 7), ("r2", "c", -1, 8),
        ]  # fmt: skip
        assert len(store.task_instances) == 8
        assert dict(store.run_tis[("d", "r1")])["b"] == tuple(
            store.tis_of(store.runs_of("d")[0])[1:3]
        )

    def test_deleting_a_run_deletes_its_instances(self) -> None:
        store = world()
        first = add_run(store, "r1", at(0))
        add_run(store, "r2", at(1))
        store.delete_run(first)
        assert [ti.run_id for ti in store.task_instances] == ["r2"] * 4
        assert ("d", "r1", "a", -1) not in store.task_instances

    def test_an_instance_of_no_run(self) -> None:
        store = world()
        loose = store.task_instances.add(TaskInstance(dag_id="x", run_id="y", task_id="z"))
        assert store.task_instances.require(("x", "y", "z", -1)) is loose
        with pytest.raises(AlreadyExists):
            store.task_instances.add(TaskInstance(dag_id="x", run_id="y", task_id="z"))
        store.task_instances.delete(("x", "y", "z", -1))
        assert len(store.task_instances) == 0


class TestXComs:
    def test_kept_with_the_run(self) -> None:
        store = world()
        run = add_run(store, "r1", at(0))
        xcoms = store.xcoms
        xcoms.add(XCom("d", "r1", "a", "return_value", "a done", at(1)))
        xcoms.add(RowsXCom("d", "r1", "b", "return_value", 42, at(2), 1))
        xcoms.add(XCom("d", "r1", "b", "count", 7, at(2), 1))
        assert xcoms.require(("d", "r1", "b", 1, "return_value")).value == {"task": "b", "rows": 42}
        assert [x.key for x in xcoms.of_instance("d", "r1", "b", 1)] == ["return_value", "count"]
        with pytest.raises(AlreadyExists):
            xcoms.add(XCom("d", "r1", "a", "return_value", "again", at(3)))
        xcoms.delete(("d", "r1", "b", 1, "count"))
        assert [(x.task_id, x.key) for x in xcoms] == [("a", "return_value"), ("b", "return_value")]
        store.delete_run(run)
        assert len(xcoms) == 0 and list(xcoms) == []

    def test_an_entry_of_no_run(self) -> None:
        store = world()
        entry = store.xcoms.add(XCom("x", "y", "z", "k", 1, at(0)))
        assert store.xcoms.get(("x", "y", "z", -1, "k")) is entry
        assert list(store.xcoms) == [entry]


class TestEventLogs:
    def test_task_rows_read_as_the_event_logs_written(self) -> None:
        store = world()
        add_run(store, "r1", at(0))
        ti = store.task_instances.require(("d", "r1", "a", -1))
        logs = store.event_logs
        logs.add(EventLog(when=at(0), event="cli_trigger", owner="admin", dag_id="d"))
        logs.add_task_event(at(1), "running", ti)
        logs.add_task_event(at(2), "success", ti)
        assert len(logs) == 3
        row = logs.require(3)
        assert (row.id, row.when, row.event, row.owner, row.dag_id, row.task_id) == (
            3, at(2), "success", "owner-a", "d", "a",
        )  # fmt: skip
        assert (row.execution_date, row.extra) == (at(0), None)
        assert [log.event for log in logs] == ["cli_trigger", "running", "success"]
        assert [log.id for log in logs.page(1, 5, descending=True)] == [2, 1]

    def test_rows_outlive_their_run(self) -> None:
        store = world()
        run = add_run(store, "r1", at(5))
        ti = store.task_instances.require(("d", "r1", "c", -1))
        ti.add_try(TaskTry(1, "worker-0", 123, at(6)))
        store.event_logs.add_task_event(at(6), "running", ti)
        store.delete_run(run)
        store.dags.delete("d")
        row = store.event_logs.require(1)
        assert (row.owner, row.execution_date, row.task_id) == ("owner-c", at(5), "c")


class TestRunIndices:
    def test_adjacent_runs_by_logical_date(self) -> None:
        store = world()
        late = add_run(store, "late", at(30))
        early = add_run(store, "early", at(10))
        middle = add_run(store, "middle", at(20))
        twin = add_run(store, "twin", at(20))  # same date: the first created wins
        assert store.adjacent_run(middle, later=False) is early
        assert store.adjacent_run(middle, later=True) is late
        assert store.adjacent_run(late, later=False) is middle
        assert store.adjacent_run(early, later=True) is middle
        assert store.adjacent_run(early, later=False) is None
        store.delete_run(middle)
        assert store.adjacent_run(late, later=False) is twin

    def test_live_runs_follow_the_state(self) -> None:
        store = world()
        run = add_run(store, "r1", at(0))
        assert store.live_runs["d"] == {"r1": run}  # queued
        store.set_run_state(run, "running")
        assert store.live_runs["d"] == {"r1": run}
        store.set_run_state(run, "success")
        assert store.live_runs["d"] == {}
        store.set_run_state(run, "queued")  # cleared
        assert list(store.live_runs["d"]) == ["r1"]
