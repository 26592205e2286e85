"""The store's compact tables: task instances kept per run, XComs kept with
their run, the audit log in columns, and the per-DAG run indices."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from simulator.errors import AlreadyExists, NotFound
from simulator.state.dag_model import Dag, Task
from simulator.state.entities import EventLog
from simulator.state.event_logs import EventLogs
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

    def test_a_try_start_is_three_rows(self) -> None:
        store = world()
        add_run(store, "r1", at(0))
        ti = store.task_instances.require(("d", "r1", "a", -1))
        logs = store.event_logs
        logs.add(EventLog(when=at(0), event="cli_scheduler", owner="airflow"))
        logs.add_try_start(at(1), ti, "worker-3")
        logs.add_task_event(at(2), "success", ti)
        extra = (
            '{"host_name": "worker-3", "full_command": '
            "\"['/home/airflow/.local/bin/airflow', 'celery', 'worker']\"}"
        )
        assert [fields(row) for row in logs] == [
            (1, at(0), "cli_scheduler", "airflow", None, None, None, None),
            (2, at(1), "cli_task_run", "airflow", "d", "a", None, extra),
            (3, at(1), "running", "owner-a", "d", "a", at(0), None),
            (4, at(1), "cli_task_run", "airflow", "d", "a", None, extra),
            (5, at(2), "success", "owner-a", "d", "a", at(0), None),
        ]
        assert (len(logs), logs.next_id) == (5, 6)
        assert fields(logs.require(4)) == fields(list(logs)[3])
        assert [row.id for row in logs.page(2, 2)] == [3, 4]
        assert [row.id for row in logs.page(1, 3, descending=True)] == [4, 3, 2]
        assert [row.id for row in logs.newest_first(0, 5)] == [5, 2, 3, 4, 1]
        logs.delete(3)  # a try's start rows go together
        assert [row.id for row in logs] == [1, 5] and len(logs) == 2
        assert logs.get(2) is None and logs.get(4) is None
        with pytest.raises(AlreadyExists):  # not a hole a row can take
            logs.add(EventLog(id=3, when=at(3), event="x"))

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_ids_pages_and_retention_over_many_blocks(self, seed: int) -> None:
        """Rows read by id, by page and by time agree with the whole log read
        in order, through retention and a snapshot's columns."""
        store = world()
        add_run(store, "r1", at(0))
        tis = [store.task_instances.require(("d", "r1", t, -1)) for t in "ac"]
        logs, draw = store.event_logs, random.Random(seed)
        for step in range(900):  # entries of one to three rows, over many blocks
            when, ti = at(step // 4), draw.choice(tis)
            kind = draw.random()
            if kind < 0.4:
                logs.add_try_start(when, ti, f"worker-{draw.randrange(4)}")
            elif kind < 0.8:
                logs.add_task_event(when, draw.choice(["success", "failed"]), ti)
            else:
                logs.add(EventLog(when=when, event="pool.create", owner="admin"))
        self.agree(logs)
        for minutes in (30, 31, 120, 200):
            dropped = logs.drop_before(at(minutes))
            assert dropped > 0
            assert all(row.when >= at(minutes) for row in logs)
            assert logs.get(logs.first_id - 1) is None
            self.agree(logs)
        copy = EventLogs(logs.context)  # the same store's context
        copy.load(logs.columns(), [], logs.first_id)
        assert [fields(row) for row in copy] == [fields(row) for row in logs]
        assert (copy.first_id, copy.next_id, len(copy)) == (logs.first_id, logs.next_id, len(logs))
        logs.add(EventLog(when=at(300), event="variable.create", owner="admin"))
        assert logs.require(logs.next_id - 1).event == "variable.create"
        self.agree(logs)

    @staticmethod
    def agree(logs: EventLogs) -> None:
        rows = [fields(row) for row in logs]
        ids = [row[0] for row in rows]
        assert ids == list(range(logs.first_id, logs.next_id)) and len(rows) == len(logs)
        assert [fields(logs.require(key)) for key in ids] == rows
        for offset in (0, 1, 2, 64, len(rows) - 3):
            assert [fields(r) for r in logs.page(offset, 70)] == rows[offset : offset + 70]
            backwards = rows[::-1][offset : offset + 70]
            assert [fields(r) for r in logs.page(offset, 70, descending=True)] == backwards
            by_time = sorted(rows, key=lambda row: row[1], reverse=True)  # stable: ids ascending
            newest = [fields(r) for r in logs.newest_first(offset, 70)]
            assert newest == by_time[offset : offset + 70]


def fields(row: EventLog) -> tuple[object, ...]:
    return (row.id, row.when, row.event, row.owner, row.dag_id, row.task_id,
            row.execution_date, row.extra)  # fmt: skip


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
