"""Airflow 2.10's filtered audit log read from the columns
(state/event_log_query.py) and the log's per-DAG index (state/event_logs.py):
every answer equals the one of building every row and testing it, on worlds
whose log had rows dropped by retention (positions given back), a deleted
run's rows pinned, rows deleted and a hole filled, rows out of time order,
and after a snapshot's restore.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from simulator.api.event_logs import ORDER_BY_2_10, get_event_logs
from simulator.api.params import ordering, parse_datetime
from simulator.simulator import Simulator
from simulator.state.entities import EventLog
from simulator.state.event_logs import EventLogs
from simulator.state.queries import top
from tests.engine.conftest import FROZEN, T0, World, dag, task

HOUR, DAY = 3600, 86400
# What filters a request may carry (the handler's keywords) and the orders.
ORDERS = [None, "-event_log_id", "when", "-when", "event", "-dag_id", "run_id", "-owner"]
PAGES = [(0, 100), (3, 5)]


def build(**settings: Any) -> World:
    """Two DAGs (retries, a mapped task, an owner), runs, and API rows."""
    sim = Simulator(dataclasses.replace(FROZEN, airflow_version="2.10.5", **settings))
    sim.add_dags(
        [
            dag("etl", task("a", retries=1, retry_delay=10, fail_tries=[1]),
                task("b", "a", map_count=3, owner="alice")),
            dag("ml", task("x")),
        ]
    )  # fmt: skip
    sim.catch_up()
    return World(sim)


def day_of_runs(w: World, day: int) -> None:
    for dag_id in ("etl", "ml", "etl"):
        w.trigger(dag_id, f"r{day}_{dag_id}_{w.sim.engine.now.minute}")
        w.sim.record_event("dag_run.create", owner="admin", dag_id=dag_id, extra="[]")
        w.advance(120)
    w.sim.record_event("variable.create", owner="bob")
    w.advance(HOUR)


def plain() -> Simulator:
    w = build()
    day_of_runs(w, 0)
    return w.sim


def dropped() -> Simulator:
    """Retention dropped the first days' rows and gave their positions back."""
    w = build(retention_days=1)
    for day in range(4):
        day_of_runs(w, day)
        w.advance(DAY - 3 * 120 - HOUR)
    day_of_runs(w, 4)
    logs = w.sim.store.event_logs
    assert logs.first_id > 1 and logs._base > 0
    return w.sim


def pinned() -> Simulator:
    """A run deleted: its instances' rows read from their pinned context."""
    w = build()
    day_of_runs(w, 0)
    (run, *_) = w.sim.store.runs_of("etl")
    w.sim.actions.delete_run(run)
    assert w.sim.store.event_logs.pins
    day_of_runs(w, 1)
    return w.sim


def holes() -> Simulator:
    """Rows deleted (a try's start goes whole, another row's hole refilled
    by a row of the other DAG), then a row written out of time order."""
    sim = plain()
    logs = sim.store.event_logs
    starts = [row.id for row in logs if row.event == "running"]
    successes = [row.id for row in logs if row.event == "success" and row.dag_id == "etl"]
    logs.delete(starts[1])
    logs.delete(successes[0])
    logs.delete(successes[1])
    logs.add(EventLog(id=successes[0], when=sim.engine.now, event="trigger", dag_id="ml"))
    assert logs.task_holes == 1 + 1 and not logs.in_time_order
    return sim


def shuffled() -> Simulator:
    sim = plain()
    sim.store.event_logs.add(EventLog(when=T0, event="late", owner="carol", dag_id="etl"))
    assert not sim.store.event_logs.in_time_order
    return sim


def restored(sim: Simulator) -> Simulator:
    """A simulator serving `sim`'s world, through its JSON snapshot."""
    copy = Simulator(dataclasses.replace(FROZEN, airflow_version="2.10.5"))
    copy.restore(orjson.loads(orjson.dumps(sim.snapshot())))
    return copy


def after_restore() -> Simulator:
    return restored(dropped())


WORLDS: dict[str, Callable[[], Simulator]] = {
    "plain": plain,
    "dropped": dropped,
    "pinned": pinned,
    "holes": holes,
    "shuffled": shuffled,
    "restored": after_restore,
}


def queries(sim: Simulator) -> list[dict[str, Any]]:
    rows = list(sim.store.event_logs)
    run_id = next(row.run_id for row in rows if getattr(row, "run_id", None))
    middle = rows[len(rows) // 2].when.isoformat()
    return [
        {},
        {"dag_id": "etl"},
        {"dag_id": "ml"},
        {"dag_id": "none"},
        {"dag_id": "etl", "task_id": "a"},
        {"task_id": "b"},
        {"run_id": run_id},
        {"run_id": run_id, "event": "running"},
        {"dag_id": "etl", "map_index": 1},
        {"map_index": -1},
        {"map_index": 0, "dag_id": "ml"},
        {"try_number": 1},
        {"dag_id": "etl", "try_number": 2},
        {"event": "running"},
        {"event": "cli_task_run"},
        {"included_events": "cli_task_run,success"},
        {"excluded_events": "running,cli_task_run"},
        {"owner": "airflow"},
        {"owner": "alice"},
        {"dag_id": "etl", "owner": "admin"},
        {"after": middle},
        {"before": middle},
        {"after": T0.isoformat(), "before": middle, "event": "success"},
        {"dag_id": "etl", "owner": "airflow", "after": middle},
        {"dag_id": "etl", "event": "cli_task_run", "before": middle},
    ]


def reference(sim: Simulator, order_by: str | None, offset: int, limit: int,
              **filters: Any) -> dict[str, Any]:  # fmt: skip
    """Every row built and tested (Airflow's where clauses), then ordered."""
    tests: list[Callable[[EventLog], bool]] = []
    for name in ("dag_id", "task_id", "run_id", "map_index", "try_number", "owner", "event"):
        if filters.get(name):
            tests.append(lambda row, n=name, v=filters[name]: getattr(row, n, None) == v)
    if included := filters.get("included_events"):
        tests.append(lambda row: row.event in included.split(","))
    if excluded := filters.get("excluded_events"):
        tests.append(lambda row: row.event not in excluded.split(","))
    if before := parse_datetime(filters.get("before")):
        tests.append(lambda row: row.when < before)
    if after := parse_datetime(filters.get("after")):
        tests.append(lambda row: row.when > after)
    rows = [row for row in sim.store.event_logs if all(test(row) for test in tests)]
    order = ordering(order_by, ORDER_BY_2_10, "event_log_id")
    page = top(rows, order, lambda row: row.id, offset + limit)[offset:]
    return get_event_logs_body(sim, page, len(rows))


def get_event_logs_body(sim: Simulator, rows: list[EventLog], total: int) -> dict[str, Any]:
    from simulator.schemas.event_log import dump_event_log

    return {"event_logs": [dump_event_log(row, sim.version) for row in rows],
            "total_entries": total}  # fmt: skip


def check_index(logs: EventLogs) -> None:
    """The per-DAG index lists every DAG row's entry within the live positions."""
    subjects, _, _ = logs.entry_columns()
    head = logs._head
    for dag_id in ("etl", "ml"):
        indexed = logs.dag_positions(dag_id, head, len(subjects))
        # A deleted row's entry stays listed (and a refilled hole's, under both DAGs).
        live = [p for p in indexed if getattr(subjects[p], "dag_id", None) == dag_id]
        expected = [
            p
            for p in range(head, len(subjects))
            if subjects[p] is not None and subjects[p].dag_id == dag_id  # type: ignore[union-attr]
        ]
        assert live == expected
    assert all(numbers[0] >= logs._base for numbers in logs._by_dag.values())


@pytest.mark.parametrize("name", WORLDS)
def test_filtered_pages_equal_every_row_built_and_tested(name: str) -> None:
    sim = WORLDS[name]()
    check_index(sim.store.event_logs)
    for filters in queries(sim):
        for order_by in ORDERS:
            for offset, limit in PAGES:
                got = get_event_logs(sim, order_by=order_by, offset=offset, limit=limit,
                                     **filters).body()  # fmt: skip
                expected = reference(sim, order_by, offset, limit, **filters)
                assert got == expected, (filters, order_by, offset)


def test_a_try_start_is_three_rows_only_the_middle_one_a_task_row() -> None:
    sim = plain()
    start = next(row for row in sim.store.event_logs if row.event == "running")
    run_id, key = start.run_id, start.id  # type: ignore[attr-defined]

    def ids(**filters: Any) -> list[tuple[int, str]]:
        body = get_event_logs(sim, dag_id="etl", limit=100, **filters).body()
        return [(row["event_log_id"], row["event"]) for row in body["event_logs"]][:3]

    assert ids(run_id=run_id, event="running")[0] == (key, "running")
    # The `cli_task_run` rows have no run, map index or try: a task filter leaves them out.
    assert all(event != "cli_task_run" for _, event in ids(run_id=run_id))
    assert all(event != "cli_task_run" for _, event in ids(try_number=1))
    # Their owner is the deployment's OS user, not the task's (b's is alice).
    b = next(
        row.id for row in sim.store.event_logs if row.event == "running" and row.task_id == "b"
    )
    assert ids(owner="airflow", task_id="b")[:2] == [(b - 1, "cli_task_run"),
                                                     (b + 1, "cli_task_run")]  # fmt: skip
    assert ids(owner="airflow", task_id="a")[:3] == [(key - 1, "cli_task_run"), (key, "running"),
                                                     (key + 1, "cli_task_run")]  # fmt: skip
    alice = ids(owner="alice")
    assert alice and all(event != "cli_task_run" for _, event in alice)
    assert ids(event="cli_task_run", task_id="a")[:2] == [(key - 1, "cli_task_run"),
                                                          (key + 1, "cli_task_run")]  # fmt: skip


def test_a_page_by_id_builds_the_page_rows_only(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = dropped()
    built: list[int] = []
    read = EventLogs.read

    def counting(self: EventLogs, position: int, part: int, key: int) -> EventLog:
        built.append(key)
        return read(self, position, part, key)

    monkeypatch.setattr(EventLogs, "read", counting)
    for filters in ({"dag_id": "etl"}, {"event": "success"}, {"owner": "airflow"}):
        for order_by in (None, "-event_log_id", "when", "-when"):
            built.clear()
            body = get_event_logs(sim, limit=2, order_by=order_by, **filters).body()
            assert len(built) == 2 and body["total_entries"] > 2


def test_the_index_follows_retention_and_snapshots() -> None:
    w = build(retention_days=1)
    logs = w.sim.store.event_logs
    for day in range(6):
        day_of_runs(w, day)
        w.advance(DAY - 3 * 120 - HOUR)
        check_index(logs)
    logs.columns()  # a snapshot gives every dropped position back
    assert logs._head == 0
    check_index(logs)
    copy = restored(w.sim)
    check_index(copy.store.event_logs)
    assert copy.store.event_logs._by_dag.keys() == logs._by_dag.keys()


def test_a_deleted_runs_rows_keep_their_run_and_owner() -> None:
    w = build()
    day_of_runs(w, 0)
    run = w.sim.store.runs_of("etl")[0]
    rows = get_event_logs(w.sim, run_id=run.run_id, owner="alice", limit=100).body()
    w.sim.actions.delete_run(run)
    assert w.sim.store.event_logs.pins == 3 + 1
    after = get_event_logs(w.sim, run_id=run.run_id, owner="alice", limit=100).body()
    assert after == rows and rows["total_entries"] == 6  # b's 3 instances: running, success


def test_moment_strictness() -> None:
    sim = plain()
    first = next(row for row in sim.store.event_logs if row.event == "running")
    at = first.when.isoformat()
    same = [row.id for row in sim.store.event_logs if row.when == first.when]
    after = get_event_logs(sim, after=at, limit=100).body()
    before = get_event_logs(sim, before=(first.when + timedelta(seconds=0)).isoformat(),
                            limit=100).body()  # fmt: skip
    assert not set(same) & {row["event_log_id"] for row in after["event_logs"]}
    assert not set(same) & {row["event_log_id"] for row in before["event_logs"]}
    assert isinstance(first.when, datetime)
