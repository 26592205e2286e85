"""XCom operations: the entries a task instance pushed, listed or read one by one.

`dag_id`, `dag_run_id` and `task_id` may each be `~` (any) in the list; with
`dag_id=~` only the DAGs the user can read are listed. There is no XCom of a
run that no longer exists: deleting a run deletes its XComs.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import groupby, islice
from operator import attrgetter
from typing import Any

from simulator.api.params import check_limit
from simulator.errors import BadRequest, NotFound
from simulator.schemas.page import Page
from simulator.schemas.xcom import dump_xcom, dump_xcom_collection
from simulator.simulator import Simulator
from simulator.state.entities import User
from simulator.state.run_model import DagRun, XCom
from simulator.state.run_tis import XComs
from simulator.state.security import readable_scope

ANY = "~"


def get_xcom_entries(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    limit: int | None = None,
    offset: int | None = None,
    map_index: int | None = None,
    xcom_key: str | None = None,
    user: User | None = None,
) -> Page:
    """GET .../xcomEntries: ordered by run logical date, task_id, dag_id, key
    (2.10: by dag_id, task_id, run_id, map_index and key, filtered by
    map_index and xcom_key)."""
    limit = check_limit(sim.settings, limit)
    store = sim.store
    dag_ids: set[str] | None = None
    if dag_id != ANY:
        dag_ids = {dag_id}
    elif user is not None:
        dag_ids = readable_scope(store, user)
    start = offset or 0
    if sim.version.at_least("2.10"):
        page, total = _page_2_10(sim, dag_ids, dag_run_id, task_id, map_index, xcom_key,
                                 start, limit)  # fmt: skip
        return dump_xcom_collection(page, total, sim.version)
    if dag_run_id == ANY and task_id == ANY and not store.xcoms.loose:
        # Every entry of the scope's runs matches: count them, read one page.
        per_dag = store.xcoms.per_dag
        total = sum(per_dag.values()) if dag_ids is None else sum(per_dag[d] for d in dag_ids)
        rows = _in_order(sim, dag_ids, dag_run_id, task_id, start + limit)
        return dump_xcom_collection(list(islice(rows, start, start + limit)), total)
    found = list(_in_order(sim, dag_ids, dag_run_id, task_id, len(store.xcoms)))
    return dump_xcom_collection(found[start : start + limit], len(found))


def _in_order(
    sim: Simulator, dag_ids: set[str] | None, run_id: str, task_id: str, wanted: int
) -> Iterator[tuple[XCom, DagRun]]:
    """The entries of the DAGs' runs (None: every DAG), run by logical date,
    then task_id, dag_id and key; ties in the order they were pushed (the
    database has no further tiebreak; insertion order stands in for it).
    `wanted`: how many a page reads (a paged read stops there)."""
    store = sim.store
    if store.xcoms.loose:
        yield from _with_loose(sim, dag_ids, run_id, task_id)
        return
    if dag_ids is not None and len(dag_ids) == 1:
        (only,) = dag_ids
        dated = store.dates_by_dag.get(only, [])
    else:
        dated = store.run_index.by_date
    every = dag_ids is None and run_id == ANY and task_id == ANY
    for _, same_date in groupby(dated, key=attrgetter("logical_date")):
        runs = list(same_date)  # one logical date's runs, by id
        if every:
            rows = _sorted_group(store.xcoms, runs)[:wanted]
        else:
            rows = _group(store.xcoms, runs, dag_ids, run_id, task_id, wanted)
        yield from rows
        wanted -= len(rows)
        if wanted <= 0:
            return


def _group(
    xcoms: XComs,
    runs: list[DagRun],
    dag_ids: set[str] | None,
    run_id: str,
    task_id: str,
    wanted: int,
) -> list[tuple[XCom, DagRun]]:
    """The first `wanted` matching entries of one date's runs, in order."""
    # One run per DAG on a date: the DAG names an entry's run.
    by_dag = {run.dag_id: run for run in runs if (dag_ids is None or run.dag_id in dag_ids)
              and run_id in (ANY, run.run_id)}  # fmt: skip
    group = [xcom for run in by_dag.values() for xcom in xcoms.of_run(run)
             if task_id in (ANY, xcom.task_id)]  # fmt: skip
    if len(group) > wanted:  # the page ends in this group: its first rows only
        group = heapq.nsmallest(wanted, group, key=SAME_DATE_ORDER)
    else:
        group.sort(key=SAME_DATE_ORDER)
    return [(xcom, by_dag[xcom.dag_id]) for xcom in group]


# Entries of runs of one logical date: stable, so ties keep the order pushed.
SAME_DATE_ORDER = attrgetter("task_id", "dag_id", "key")
# Every entry of one logical date's runs, sorted: the first pages read the
# same dates on every call. Kept per (table, first run) with a version of
# each run's entries: they are appended and removed, never changed in place,
# so the count and the last one tell a change. Cleared when full.
_GROUPS: dict[tuple[int, int], tuple[XComs, tuple[Any, ...], list[tuple[XCom, DagRun]]]] = {}
MAX_GROUPS = 64


def _sorted_group(xcoms: XComs, runs: list[DagRun]) -> list[tuple[XCom, DagRun]]:
    lists = [xcoms.of_run(run) for run in runs]
    version = tuple((id(run), len(found), id(found[-1]) if found else 0)
                    for run, found in zip(runs, lists, strict=True))  # fmt: skip
    slot = (id(xcoms), id(runs[0]))
    kept = _GROUPS.get(slot)
    if kept is not None and kept[0] is xcoms and kept[1] == version:
        return kept[2]
    group = _group(xcoms, runs, None, ANY, ANY, sum(map(len, lists)))
    if len(_GROUPS) >= MAX_GROUPS:
        _GROUPS.clear()
    _GROUPS[slot] = (xcoms, version, group)
    return group


def _with_loose(
    sim: Simulator, dag_ids: set[str] | None, run_id: str, task_id: str
) -> Iterator[tuple[XCom, DagRun]]:
    """Every entry read and sorted: the order when some entry was added
    before its run (tests and odd fixtures)."""
    rows: list[tuple[XCom, DagRun]] = []
    for xcom in sim.store.xcoms:
        if dag_ids is not None and xcom.dag_id not in dag_ids:
            continue
        if task_id not in (ANY, xcom.task_id) or run_id not in (ANY, xcom.run_id):
            continue
        run = sim.store.dag_runs.get((xcom.dag_id, xcom.run_id))
        if run is not None:  # Airflow joins the run
            rows.append((xcom, run))
    rows.sort(key=lambda row: (row[1].logical_date, row[0].task_id, row[0].dag_id, row[0].key))
    yield from rows


def _page_2_10(
    sim: Simulator,
    dag_ids: set[str] | None,
    run_id: str,
    task_id: str,
    map_index: int | None,
    key: str | None,
    start: int,
    limit: int,
) -> tuple[list[tuple[XCom, DagRun]], int]:
    """One page of the matching entries of the scope's runs in 2.10's index
    order (dag_id, task_id, run_id, map_index, key), and how many match.

    A DAG's entries all sort before the next DAG's: DAGs are walked by id,
    and only those the page overlaps have their entries sorted (the first
    ones only). A DAG's count is its counter's (every entry), the sum of
    its (task, map index, key) shapes' counts the filters match, or its one
    run's matching entries."""
    if start < 0:  # a slice from the end: every row first
        rows, total = _page_2_10(
            sim, dag_ids, run_id, task_id, map_index, key, 0, len(sim.store.xcoms)
        )
        return rows[start : start + limit], total
    store = sim.store
    by_dag, xcoms, per_dag = store.runs_by_dag, store.xcoms, store.xcoms.per_dag
    end = start + limit
    filtered = task_id != ANY or map_index is not None or key is not None
    page: list[tuple[XCom, DagRun]] = []
    total = 0

    def wanted(xcom: XCom) -> bool:
        return (
            task_id in (ANY, xcom.task_id)
            and (map_index is None or xcom.map_index == map_index)
            and (key is None or xcom.key == key)
        )

    for dag_id in sorted(by_dag if dag_ids is None else dag_ids):
        runs_by_id = by_dag.get(dag_id)
        if not runs_by_id:
            continue
        if run_id == ANY:
            runs: Iterable[DagRun] = runs_by_id.values()
        elif (one := runs_by_id.get(run_id)) is not None:
            runs = (one,)
        else:
            continue
        matches: list[XCom] | None = None
        if filtered and run_id != ANY:
            matches = [xcom for run in runs for xcom in xcoms.of_run(run) if wanted(xcom)]
            count = len(matches)
        elif filtered:
            shapes = xcoms.shapes.get(dag_id) or Counter()
            count = sum(n for (task, index, name), n in shapes.items()
                        if task_id in (ANY, task) and map_index in (None, index)
                        and key in (None, name))  # fmt: skip
        elif run_id == ANY:
            count = per_dag[dag_id]
        else:
            count = sum(len(xcoms.of_run(run)) for run in runs)
        if count and total < end and total + count > start:
            if matches is None:
                matches = [xcom for run in runs for xcom in xcoms.of_run(run)
                           if not filtered or wanted(xcom)]  # fmt: skip
            first = heapq.nsmallest(end - total, matches, key=DAG_ORDER)
            page.extend((xcom, runs_by_id[xcom.run_id]) for xcom in first[max(start - total, 0) :])
        total += count
    return page, total


# Entries of one DAG in 2.10's order (their DAG is the same).
DAG_ORDER = attrgetter("task_id", "run_id", "map_index", "key")


def get_xcom_entry(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    xcom_key: str,
    deserialize: bool = False,
    map_index: int | None = None,
    stringify: bool = True,
) -> dict[str, Any]:
    """GET .../xcomEntries/{xcom_key}: one entry with its value as str()
    (2.10: of one map index, -1 by default; its JSON value itself when not
    `stringify`)."""
    if sim.version.at_least("2.10"):
        return _entry_2_10(
            sim, (dag_id, dag_run_id, task_id, -1 if map_index is None else map_index, xcom_key),
            deserialize=deserialize, stringify=stringify,
        )  # fmt: skip
    # `deserialize` only matters for custom XCom backends: the answer is the same.
    # A mapped task has one entry per map index; Airflow 2.5.3 crashes there
    # (several rows for a single lookup): the simulator answers the first by map index.
    run = sim.store.dag_runs.get((dag_id, dag_run_id))
    tis = sim.store.run_tis.get((dag_id, dag_run_id), {}).get(task_id, [])
    keys = [(dag_id, dag_run_id, task_id, ti.map_index, xcom_key) for ti in tis]
    matches = [xcom for key in keys if (xcom := sim.store.xcoms.get(key)) is not None]
    if run is None or not matches:
        raise NotFound("XCom entry not found")
    return dump_xcom(min(matches, key=lambda xcom: xcom.map_index), run)


def _entry_2_10(
    sim: Simulator, ident: tuple[str, str, str, int, str], *, deserialize: bool, stringify: bool
) -> dict[str, Any]:
    config = sim.store.config
    if deserialize and not _flag(config.get("api", {}).get("enable_xcom_deserialize_support")):
        raise BadRequest(detail="XCom deserialization is disabled in configuration.")
    run = sim.store.dag_runs.get((ident[0], ident[1]))
    xcom = sim.store.xcoms.get(ident)
    if run is None or xcom is None:
        raise NotFound("XCom entry not found")
    # XCom pickling forces the string form.
    native = not stringify and not _flag(config.get("core", {}).get("enable_xcom_pickling"))
    return dump_xcom(xcom, run, sim.version, native=native)


def _flag(value: str | None) -> bool:
    """conf.getboolean's reading of an option's text (absent: False)."""
    return value is not None and value.strip().lower() in ("t", "true", "1")
