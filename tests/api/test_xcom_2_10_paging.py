"""Airflow 2.10's XCom list read page by page (api/xcom.py): every answer
equals the one of building every matching entry, sorting them all by
(dag_id, task_id, run_id, map_index, key) and slicing the page, over
scenario worlds, a world with runs deleted, entries added out of order,
deleted and added before their run, and that world after a snapshot's
restore; for `~` and specific DAGs, runs and tasks, map_index and key
filters, offsets past the end, and DAG scopes a user's permissions narrow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest

from simulator.api.xcom import ANY, _page_2_10, get_xcom_entries
from simulator.config import Settings
from simulator.schemas.xcom import dump_xcom_collection
from simulator.simulator import Simulator
from simulator.state.run_model import DagRun, XCom

PAGES = [(None, None), (0, 1), (0, 7), (3, 5), (10, 100), (95, 10), (10**6, 10), (0, 10**6)]
T = datetime(2023, 4, 1, tzinfo=UTC)


def oracle(
    sim: Simulator,
    dag_ids: set[str] | None,
    run_id: str,
    task_id: str,
    map_index: int | None,
    key: str | None,
) -> list[tuple[XCom, DagRun]]:
    """The former listing: every matching entry of the scope's runs, sorted."""
    store = sim.store
    if dag_ids is not None and len(dag_ids) == 1 and run_id != ANY:
        found = store.dag_runs.get((next(iter(dag_ids)), run_id))
        runs = [found] if found is not None else []
    elif dag_ids is not None:
        runs = [run for dag_id in sorted(dag_ids) for run in store.runs_of(dag_id)]
    else:
        runs = list(store.dag_runs)
    rows = [
        (xcom, run)
        for run in runs
        if run_id in (ANY, run.run_id)
        for xcom in store.xcoms.of_run(run)
        if task_id in (ANY, xcom.task_id)
        and (map_index is None or xcom.map_index == map_index)
        and (key is None or xcom.key == key)
    ]
    rows.sort(key=lambda row: (row[0].dag_id, row[0].task_id, row[0].run_id,
                               row[0].map_index, row[0].key))  # fmt: skip
    return rows


def scenario(name: str, seconds: int = 0) -> Callable[[], Simulator]:
    def build() -> Simulator:
        sim = Simulator(Settings(scenario=name, clock="frozen", airflow_version="2.10.5"))
        if seconds:
            sim.advance(seconds)
        return sim

    return build


def mutated() -> Simulator:
    """Runs deleted, entries added (a custom key, map indices, a name that
    sorts first), one deleted, and one added before its run exists."""
    sim = scenario("default")()
    store = sim.store
    dag_ids = sorted(store.runs_by_dag)
    for dag_id in dag_ids[:3]:
        sim.actions.delete_run(store.runs_of(dag_id)[0])
    every = list(store.dag_runs)
    for number, run in enumerate(every[::7]):
        store.xcoms.add(XCom(run.dag_id, run.run_id, "aaa", "custom", number, T, number % 3))
        store.xcoms.add(XCom(run.dag_id, run.run_id, "zzz", "a", [number], T))
        store.xcoms.add(XCom(run.dag_id, run.run_id, "zzz", "b", None, T, 2))
        store.xcoms.add(XCom(run.dag_id, run.run_id, "zzz", "a", None, T, 5))
    first = next(xcom for xcom in store.xcoms if xcom.task_id != "aaa")
    store.xcoms.delete(first.ident)
    store.xcoms.add(XCom(dag_ids[0], "no_such_run", "t", "k", 1, T))
    assert store.xcoms.loose
    return sim


def restored() -> Simulator:
    sim = mutated()
    copy = Simulator(Settings(scenario="ci", clock="frozen", airflow_version="2.10.5"))
    copy.restore(orjson.loads(orjson.dumps(sim.snapshot())))
    return copy


WORLDS: dict[str, Callable[[], Simulator]] = {
    "ci": scenario("ci", 600),
    "default": scenario("default"),
    "demo": scenario("demo"),
    "chaos": scenario("chaos"),
    "mutated": mutated,
    "restored": restored,
}


@pytest.fixture(scope="module", params=sorted(WORLDS))
def world(request: pytest.FixtureRequest) -> Simulator:
    return WORLDS[request.param]()


def filters(sim: Simulator) -> list[dict[str, object]]:
    """Query parameters chosen from the world: `~` and specific values."""
    xcoms = sorted(sim.store.xcoms, key=lambda x: x.ident)
    assert xcoms
    mapped = next((x for x in xcoms if x.map_index >= 0), xcoms[0])
    some, other = xcoms[len(xcoms) // 2], xcoms[-1]
    return [
        {},
        {"dag_id": some.dag_id},
        {"dag_id": some.dag_id, "dag_run_id": some.run_id},
        {"dag_id": some.dag_id, "dag_run_id": some.run_id, "task_id": some.task_id},
        {"dag_run_id": some.run_id},
        {"task_id": some.task_id},
        {"dag_id": other.dag_id, "task_id": other.task_id},
        {"map_index": mapped.map_index},
        {"map_index": -1},
        {"map_index": 99},
        {"xcom_key": some.key},
        {"xcom_key": "custom", "map_index": 1},
        {"dag_id": mapped.dag_id, "map_index": mapped.map_index, "xcom_key": mapped.key},
        {"dag_id": "no_such_dag"},
        {"dag_id": some.dag_id, "dag_run_id": "no_such_run"},
        {"task_id": "no_such_task"},
        {"xcom_key": "no_such_key"},
    ]


def expected(sim: Simulator, dag_ids: set[str] | None, params: dict[str, object],
             offset: int | None, limit: int | None) -> dict[str, object]:  # fmt: skip
    found = oracle(sim, dag_ids, str(params.get("dag_run_id", ANY)),
                   str(params.get("task_id", ANY)), params.get("map_index"),  # type: ignore[arg-type]
                   params.get("xcom_key"))  # type: ignore[arg-type]  # fmt: skip
    size = 100 if limit is None else min(limit, 100)
    start = offset or 0
    page = found[start : start + size]
    return dump_xcom_collection(page, len(found), sim.version).body()  # type: ignore[no-any-return]


def test_every_page_equals_the_sorted_listing(world: Simulator) -> None:
    for params in filters(world):
        dag_id = str(params.get("dag_id", ANY))
        scope = None if dag_id == ANY else {dag_id}
        for offset, limit in PAGES:
            query = {"dag_id": ANY, "dag_run_id": ANY, "task_id": ANY, **params}
            got = get_xcom_entries(world, limit=limit, offset=offset, **query).body()  # type: ignore[arg-type]
            assert got == expected(world, scope, params, offset, limit), (params, offset, limit)


def test_walking_the_pages_reads_every_entry_once(world: Simulator) -> None:
    found = oracle(world, None, ANY, ANY, None, None)
    whole = dump_xcom_collection(found, len(found), world.version).body()
    walked: list[object] = []
    for offset in range(0, len(found) + 100, 100):
        page = get_xcom_entries(world, dag_id=ANY, dag_run_id=ANY, task_id=ANY,
                                limit=100, offset=offset).body()  # fmt: skip
        assert page["total_entries"] == len(found)
        walked.extend(page["xcom_entries"])
    assert walked == whole["xcom_entries"]


@pytest.mark.parametrize("pick", ["none", "one", "odd", "even", "absent", "all"])
def test_permission_scopes(world: Simulator, pick: str) -> None:
    """The DAG sets a user's permissions leave (readable_scope's answers),
    DAGs without runs and unknown names among them."""
    names = sorted(world.store.runs_by_dag)
    scope: set[str] = {
        "none": set(),
        "one": set(names[1:2]),
        "odd": set(names[1::2]) | {"no_such_dag"},
        "even": set(names[::2]),
        "absent": {"no_such_dag", "another"},
        "all": set(names),
    }[pick]
    for params in filters(world):
        if "dag_id" in params:
            continue
        for offset, limit in PAGES:
            start, size = offset or 0, min(limit or 100, 100)
            rows, total = _page_2_10(world, scope, str(params.get("dag_run_id", ANY)),
                                     str(params.get("task_id", ANY)), params.get("map_index"),  # type: ignore[arg-type]
                                     params.get("xcom_key"), start, size)  # type: ignore[arg-type]  # fmt: skip
            got = dump_xcom_collection(rows, total, world.version).body()
            assert got == expected(world, scope, params, offset, limit), (params, offset, limit)


def test_a_negative_offset_slices_as_before() -> None:
    sim = WORLDS["default"]()
    found = oracle(sim, None, ANY, ANY, None, None)
    for start in (-1, -5, -(10**6)):
        rows, total = _page_2_10(sim, None, ANY, ANY, None, None, start, 3)
        assert total == len(found)
        assert [id(x) for x, _ in rows] == [id(x) for x, _ in found[start : start + 3]]


def test_the_per_dag_counts_follow_deletes_and_restores(world: Simulator) -> None:
    """The counts a page of every entry reads equal the runs' entries."""
    counts: dict[str, int] = {}
    for run in world.store.dag_runs:
        counts[run.dag_id] = counts.get(run.dag_id, 0) + len(world.store.xcoms.of_run(run))
    kept = {dag_id: n for dag_id, n in world.store.xcoms.per_dag.items() if n}
    assert kept == {dag_id: n for dag_id, n in counts.items() if n}


def test_the_shape_counts_follow_deletes_and_restores(world: Simulator) -> None:
    """The (task, map index, key) counts a filtered page reads equal the runs' entries."""
    counts: dict[str, Counter[tuple[str, int, str]]] = {}
    for run in world.store.dag_runs:
        for xcom in world.store.xcoms.of_run(run):
            shape = (xcom.task_id, xcom.map_index, xcom.key)
            counts.setdefault(run.dag_id, Counter())[shape] += 1
    assert {d: c for d, c in world.store.xcoms.shapes.items() if c} == counts
