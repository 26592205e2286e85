"""Indexed queries against the plain answer: every page and total that
state/queries.py reads through the indices equals filtering every row and
sorting them stably by insertion order, on seeded random worlds, while
states change and runs come and go."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.engine import lifecycle as lc
from simulator.state.dag_model import Dag, Task
from simulator.state.indices import UNLISTED, date_order
from simulator.state.queries import Order, RunQuery, TiQuery, page_runs, page_tis
from simulator.state.run_model import DagRun, TaskInstance
from simulator.state.store import Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAGS = [f"dag_{n}" for n in range(6)]
RUN_STATES = ["queued", "running", "success", "failed"]
TI_STATES = [None, "scheduled", "queued", "running", "success", "failed", "skipped",
             "upstream_failed", "up_for_retry"]  # fmt: skip
RUN_ORDERS: dict[str, Callable[[DagRun], Any]] = {
    "id": lambda run: run.id,
    "execution_date": lambda run: run.logical_date,
    "start_date": lambda run: run.start_date,
    "state": lambda run: run.state,
    "dag_id": lambda run: run.dag_id,
}


def sorted_stably(rows: list[DagRun], order: Order) -> list[DagRun]:
    """What apply_sorting answered before the indices: a stable sort, NULLs last."""
    keyed = [(1, 0) if order.key(r) is None else (0, order.key(r)) for r in rows]
    positions = sorted(range(len(rows)), key=keyed.__getitem__, reverse=order.descending)
    return [rows[i] for i in positions]


def matches(query: RunQuery, run: DagRun) -> bool:
    """What the query means, row by row."""
    return (
        (query.dag_ids is None or run.dag_id in query.dag_ids)
        and (not query.states or run.state in query.states)
        and (query.low is None or run.logical_date >= query.low)
        and (query.high is None or run.logical_date <= query.high)
        and (query.keep is None or query.keep(run))
    )


def build(rng: random.Random, runs: int) -> Store:
    store = Store()
    for dag_id in DAGS:
        dag = Dag(dag_id=dag_id, fileloc=f"/dags/{dag_id}.py")
        dag.tasks = {t: Task(task_id=t) for t in "abc"}
        store.dags.add(dag)
    for _ in range(runs):
        add_run(store, rng, store.dag_runs.next_id)
    return store


def add_run(store: Store, rng: random.Random, n: int) -> DagRun:
    dag_id = rng.choice(DAGS)
    # Hours on a small grid, so that DAGs share logical dates (ties).
    logical = T0 + timedelta(hours=rng.randrange(40))
    while any(r.logical_date == logical for r in store.runs_of(dag_id)):
        logical += timedelta(hours=40)
    state = rng.choice(RUN_STATES)
    run = DagRun(dag_id=dag_id, run_id=f"run_{n}", logical_date=logical, run_type="scheduled",
                 state=state, start_date=None if state == "queued" else logical)  # fmt: skip
    tis = {t: [TaskInstance(dag_id=dag_id, run_id=run.run_id, task_id=t,
                            state=rng.choice(TI_STATES))] for t in "abc"}  # fmt: skip
    return store.add_run(run, tis)


def shake(store: Store, rng: random.Random, steps: int) -> None:
    """State changes, new runs and deleted runs, as the engine makes them."""
    for _ in range(steps):
        roll = rng.random()
        runs = list(store.dag_runs)
        if roll < 0.1 and runs:
            store.delete_run(rng.choice(runs))
        elif roll < 0.2:
            add_run(store, rng, store.dag_runs.next_id)
        elif roll < 0.5 and runs:
            store.set_run_state(rng.choice(runs), rng.choice(RUN_STATES))
        elif runs:
            run = rng.choice(runs)
            lc.set_state(store, rng.choice(store.tis_of(run)), rng.choice(TI_STATES))


def random_scope(rng: random.Random) -> tuple[str, ...] | None:
    return rng.choice([None, None, (rng.choice(DAGS),), tuple(rng.sample(DAGS, 3)), ("nope",)])


def random_window(rng: random.Random) -> tuple[datetime | None, datetime | None]:
    low = T0 + timedelta(hours=rng.randrange(-2, 90)) if rng.random() < 0.5 else None
    high = T0 + timedelta(hours=rng.randrange(-2, 90)) if rng.random() < 0.5 else None
    return low, high


def check_counts(store: Store) -> None:
    """The indices' counts against counting the rows."""
    runs = Counter((run.dag_id, run.state) for run in store.dag_runs)
    assert +store.run_index.counts == runs
    assert [date_order(r) for r in store.run_index.by_date] == sorted(
        date_order(r) for r in store.dag_runs
    )
    tis = Counter((ti.dag_id, ti.state) for run in store.dag_runs for ti in store.tis_of(run))
    assert +store.ti_index.counts == tis
    for state, listed in store.ti_index.by_state.items():
        assert state != UNLISTED
        assert {ti.id for ti in listed.values()} == {
            ti.id for run in store.dag_runs for ti in store.tis_of(run) if ti.state == state
        }


@pytest.mark.parametrize("seed", range(6))
def test_run_pages_equal_the_sorted_rows(seed: int) -> None:
    rng = random.Random(seed)
    store = build(rng, rng.choice([0, 5, 60, 200]))
    for _ in range(40):
        shake(store, rng, 15)
        check_counts(store)
        low, high = random_window(rng)
        states = rng.choice([None, None, ["success"], ["running", "queued"], ["nope"], []])
        keep = rng.choice([None, lambda run: run.start_date is not None])
        query = RunQuery(dag_ids=random_scope(rng), states=states, low=low, high=high, keep=keep)
        name = rng.choice(list(RUN_ORDERS))
        order = Order(name, RUN_ORDERS[name], rng.random() < 0.5)
        offset, limit = rng.choice([0, 0, 3, 50]), rng.choice([1, 7, 100])
        expected = sorted_stably([r for r in store.dag_runs if matches(query, r)], order)
        page, total = page_runs(store, query, order, offset, limit)
        assert total == len(expected)
        assert [r.id for r in page] == [r.id for r in expected[offset : offset + limit]]


@pytest.mark.parametrize("seed", range(6))
def test_task_instance_pages_equal_the_rows_in_id_order(seed: int) -> None:
    rng = random.Random(100 + seed)
    store = build(rng, rng.choice([0, 5, 60, 200]))
    for _ in range(40):
        shake(store, rng, 15)
        check_counts(store)
        low, high = random_window(rng)
        states = rng.choice([None, None, ["success"], ["running"], [None, "failed"], ["nope"]])
        keep = rng.choice([None, lambda ti, run: ti.task_id != "b"])
        runs = list(store.dag_runs)
        run_id = rng.choice([None, None, rng.choice(runs).run_id if runs else "x", "nope"])
        query = TiQuery(dag_ids=random_scope(rng), run_id=run_id, states=states, low=low,
                        high=high, keep=keep)  # fmt: skip
        expected = [(ti.id, run.id) for run in store.dag_runs if query.run_matches(run)
                    for ti in store.tis_of(run) if query.matches(ti, run)]  # fmt: skip
        offset = rng.choice([0, 0, 4, 100])
        limit = rng.choice([None, 1, 10, 100])
        rows, total = page_tis(store, query, offset, limit)
        assert total == len(expected)
        stop = None if limit is None else offset + limit
        assert [(ti.id, run.id) for ti, run in rows] == expected[offset:stop]


def test_newest_first_keeps_ties_in_id_order() -> None:
    store = build(random.Random(1), 0)
    for n, dag_id in enumerate(["dag_1", "dag_0", "dag_2"]):
        store.add_run(DagRun(dag_id=dag_id, run_id=f"r{n}", logical_date=T0,
                             run_type="manual"), {})  # fmt: skip
    store.add_run(DagRun(dag_id="dag_0", run_id="late", logical_date=T0 + timedelta(1),
                         run_type="manual"), {})  # fmt: skip
    order = Order("execution_date", RUN_ORDERS["execution_date"], descending=True)
    page, total = page_runs(store, RunQuery(), order, 0, 10)
    assert [r.run_id for r in page] == ["late", "r0", "r1", "r2"]
    assert total == 4


@pytest.mark.parametrize("seed", range(4))
def test_id_pages_of_a_window(seed: int) -> None:
    """A window with many matches: its first pages by id, picked by a heap."""
    rng = random.Random(200 + seed)
    store = build(rng, 300)
    shake(store, rng, 100)
    for _ in range(60):
        low = T0 + timedelta(hours=rng.randrange(0, 30))
        high = low + timedelta(hours=rng.randrange(5, 60))
        states = rng.choice([None, ["success", "failed"], ["running"]])
        query = RunQuery(dag_ids=random_scope(rng), states=states, low=low, high=high)
        order = Order("id", RUN_ORDERS["id"], rng.random() < 0.5)
        offset, limit = rng.choice([0, 2]), rng.choice([1, 3, 10])
        expected = sorted_stably([r for r in store.dag_runs if matches(query, r)], order)
        page, total = page_runs(store, query, order, offset, limit)
        assert total == len(expected)
        assert [r.id for r in page] == [r.id for r in expected[offset : offset + limit]]
