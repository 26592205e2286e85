"""Pages of runs and task instances read through the store's indices
(indices.py): a page costs its size and the filters' selectivity, not the
number of rows.

A query either walks its scope in the page's order and stops once the page
is full (when the counts give the total and matches are dense), or gathers
the matches from its most selective index (a state, a logical-date window,
the scope) and picks the page with a bounded heap. Ties keep the row id
order, as the stable sorts over insertion order they replace did.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby, islice
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

from simulator.state.indices import between
from simulator.state.run_model import DagRun, TaskInstance

if TYPE_CHECKING:
    from simulator.state.store import Store

T = TypeVar("T")
TiRow = tuple[TaskInstance, DagRun]
# Merging the scope's DAGs one by one beats filtering every run when the
# scope holds less than this share of the runs.
MERGE_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Order:
    """An ordering: `name` (id and execution_date come out of the indices),
    the sort value of a row, and its direction."""

    name: str
    key: Callable[[Any], Any]
    descending: bool = False


def _nulls_last(value: Any) -> tuple[int, Any]:
    # PostgreSQL puts NULLs last in ascending order (and first descending).
    return (1, 0) if value is None else (0, value)


def top(rows: Iterable[T], order: Order, ident: Callable[[T], int], count: int) -> list[T]:
    """The first `count` rows by `order`, ties by id: a stable sort's first
    rows, with a heap of `count` rows instead of a sort of all of them."""
    if order.name == "id":  # unique and never null: the id itself is the key
        pick = heapq.nlargest if order.descending else heapq.nsmallest
        return pick(count, rows, key=ident)
    value = order.key
    if order.descending:
        return heapq.nlargest(count, rows, key=lambda row: (_nulls_last(value(row)), -ident(row)))
    return heapq.nsmallest(count, rows, key=lambda row: (_nulls_last(value(row)), ident(row)))


_run_id = attrgetter("id")


def _ti_id(row: TiRow) -> int:
    return row[0].id


@dataclass(frozen=True, slots=True, kw_only=True)
class RunQuery:
    """Runs of `dag_ids` (None: any DAG) in any of `states` (None: any),
    with a logical date in [low, high], that `keep` (the other filters) keeps."""

    dag_ids: Collection[str] | None = None
    states: Collection[str] | None = None
    low: datetime | None = None
    high: datetime | None = None
    keep: Callable[[DagRun], bool] | None = None


def page_runs(
    store: Store, query: RunQuery, order: Order, offset: int, limit: int
) -> tuple[list[DagRun], int]:
    """One page of the matching runs in `order`, and how many match."""
    wanted = offset + limit
    scope = _scope_size(store, query.dag_ids)
    if query.low is None and query.high is None and query.keep is None:
        index = store.run_index
        total = index.count(query.dag_ids, query.states) if query.states else scope
        walk = _in_order(store, query.dag_ids, order)
        if walk is not None:
            listed = index.size(query.states) if query.states else None
            if listed is None or wanted * scope <= total * listed:
                states = query.states
                if states:
                    walk = (run for run in walk if run.state in states)
                return list(islice(walk, offset, wanted)), total
    matches = _gathered(store, query, scope)
    return top(matches, order, _run_id, wanted)[offset:], len(matches)


def _scope_size(store: Store, dag_ids: Collection[str] | None) -> int:
    if dag_ids is None:
        return len(store.dag_runs)
    by_dag = store.runs_by_dag
    return sum(len(by_dag.get(dag_id, ())) for dag_id in dag_ids)


def _gathered(store: Store, query: RunQuery, scope: int) -> list[DagRun]:
    """The matches, read from the most selective index the query can use and
    filtered by what that index does not answer (one cheap pass per filter)."""
    index = store.run_index
    runs: Iterable[DagRun] = _scope_runs(store, query.dag_ids)
    source, size = "scope", scope
    listed = index.size(query.states) if query.states else None
    if listed is not None and listed < size:
        by_state = [index.by_state.get(state, {}) for state in set(query.states or ())]
        source, runs, size = "state", (run for found in by_state for run in found.values()), listed
    if query.low is not None or query.high is not None:
        dated = _dated(store, query.dag_ids, query.low, query.high, scope)
        if len(dated) < size:
            source, runs = "date", dated
    found = list(runs)
    dag_ids, states, low, high = query.dag_ids, query.states, query.low, query.high
    if dag_ids is not None and source != "scope":
        found = [run for run in found if run.dag_id in dag_ids]
    if states and source != "state":
        wanted = set(states)
        found = [run for run in found if run.state in wanted]
    if source != "date":
        if low is not None:
            found = [run for run in found if run.logical_date >= low]
        if high is not None:
            found = [run for run in found if run.logical_date <= high]
    if query.keep is not None:
        found = list(filter(query.keep, found))
    return found


def _scope_runs(
    store: Store, dag_ids: Collection[str] | None, descending: bool = False
) -> Iterator[DagRun]:
    """The scope's runs in id order (or its reverse)."""
    table = store.dag_runs.rows.values()
    if dag_ids is None:
        return reversed(table) if descending else iter(table)
    by_dag = store.runs_by_dag
    if len(dag_ids) == 1:
        (dag_id,) = dag_ids
        runs = by_dag.get(dag_id, {}).values()
        return reversed(runs) if descending else iter(runs)
    if _scope_size(store, dag_ids) < MERGE_SHARE * len(store.dag_runs):
        lists = [by_dag.get(dag_id, {}).values() for dag_id in set(dag_ids)]
        if descending:
            return heapq.merge(*map(reversed, lists), key=_run_id, reverse=True)
        return heapq.merge(*lists, key=_run_id)
    walk = reversed(table) if descending else iter(table)
    return (run for run in walk if run.dag_id in dag_ids)


def _dated(
    store: Store,
    dag_ids: Collection[str] | None,
    low: datetime | None,
    high: datetime | None,
    scope: int,
) -> list[DagRun]:
    """The scope's runs with a logical date in [low, high] (a superset when
    the scope is large: the window of every DAG)."""
    if dag_ids is None or scope >= MERGE_SHARE * len(store.dag_runs):
        return store.run_index.dated(low, high)
    dates = store.dates_by_dag
    return [run for dag_id in set(dag_ids) for run in between(dates.get(dag_id, []), low, high)]


def _in_order(
    store: Store, dag_ids: Collection[str] | None, order: Order
) -> Iterator[DagRun] | None:
    """The scope's runs in the order's order, when an index holds them so."""
    if order.name == "id":
        return _scope_runs(store, dag_ids, order.descending)
    if order.name != "execution_date":
        return None
    if dag_ids is not None and len(dag_ids) == 1:
        (dag_id,) = dag_ids
        dated: Sequence[DagRun] = store.dates_by_dag.get(dag_id, [])
    else:
        dated = store.run_index.by_date
    walk = _newest_first(dated) if order.descending else iter(dated)
    if dag_ids is not None and len(dag_ids) > 1:
        walk = (run for run in walk if run.dag_id in dag_ids)
    return walk


def _newest_first(dated: Sequence[DagRun]) -> Iterator[DagRun]:
    """Runs by logical date descending, ties in id order (a stable
    descending sort), from a list sorted by (date, id)."""
    for _, runs in groupby(reversed(dated), key=_logical_date):
        yield from reversed(list(runs))


_logical_date = attrgetter("logical_date")


@dataclass(frozen=True, slots=True, kw_only=True)
class TiQuery:
    """Task instances of the runs of `dag_ids` (None: any DAG) and `run_id`
    (None: any), in any of `states` (None: any), of runs with a logical date
    in [low, high], that `keep` (the other filters) keeps."""

    dag_ids: Collection[str] | None = None
    run_id: str | None = None
    states: Collection[str | None] | None = None
    low: datetime | None = None
    high: datetime | None = None
    keep: Callable[[TaskInstance, DagRun], bool] | None = None
    # Runs named by any of these ids, instances of any of these tasks (the
    # batch form's dag_run_ids and task_ids; None: any).
    run_ids: Collection[str] | None = None
    task_ids: Collection[str] | None = None

    def run_matches(self, run: DagRun) -> bool:
        return (
            (self.dag_ids is None or run.dag_id in self.dag_ids)
            and (self.run_id is None or run.run_id == self.run_id)
            and (self.run_ids is None or run.run_id in self.run_ids)
            and (self.low is None or run.logical_date >= self.low)
            and (self.high is None or run.logical_date <= self.high)
        )

    def matches(self, ti: TaskInstance, run: DagRun) -> bool:
        return (
            (not self.states or ti.state in self.states)
            and (self.task_ids is None or ti.task_id in self.task_ids)
            and (self.keep is None or self.keep(ti, run))
        )


def page_tis(
    store: Store, query: TiQuery, offset: int = 0, limit: int | None = None
) -> tuple[list[TiRow], int]:
    """The matching instances in row id order (one page, or all when `limit`
    is None), and how many match."""
    index = store.ti_index
    simple = query.low is None and query.high is None and query.keep is None \
        and query.run_ids is None and query.task_ids is None  # fmt: skip
    if simple and query.run_id is None and limit is not None:
        total = index.count(query.dag_ids, query.states)
        runs = _scope_runs(store, query.dag_ids)
        states = query.states
        if not states:
            return _skip_runs(store, runs, offset, limit), total
        listed = index.size(states)
        scope = index.count(query.dag_ids, None)
        if listed is None or (offset + limit) * scope <= total * listed:
            walk = ((ti, run) for run in runs for ti in store.tis_of(run)
                    if ti.state in states)  # fmt: skip
            return list(islice(walk, offset, offset + limit)), total
    rows = _ti_matches(store, query)
    if limit is None:
        rows.sort(key=_ti_id)
        return rows[offset:], len(rows)
    return top(rows, _BY_ID, _ti_id, offset + limit)[offset:], len(rows)


_BY_ID = Order("id", _ti_id)


def _skip_runs(store: Store, runs: Iterable[DagRun], offset: int, limit: int) -> list[TiRow]:
    """Instances offset .. offset + limit of the runs, skipping whole runs."""
    page: list[TiRow] = []
    for run in runs:
        tis = store.tis_of(run)
        if offset >= len(tis):
            offset -= len(tis)
            continue
        page.extend((ti, run) for ti in tis[offset : offset + limit - len(page)])
        offset = 0
        if len(page) == limit:
            break
    return page


def _ti_matches(store: Store, query: TiQuery) -> list[TiRow]:
    """Every match, gathered from the most selective index: the scope's
    runs, a state, or the runs of a logical-date window."""
    index = store.ti_index
    runs: Iterable[DagRun]
    if query.run_ids is not None:
        return _named_matches(store, query, query.run_ids)
    if query.run_id is None:
        runs, size = _scope_runs(store, query.dag_ids), index.count(query.dag_ids, None)
    else:
        runs = _named_runs(store, query.dag_ids, query.run_id)
        size = sum(len(store.tis_of(run)) for run in runs)
    listed = index.size(query.states) if query.states else None
    if query.low is not None or query.high is not None:
        scope = _scope_size(store, query.dag_ids)
        dated = _dated(store, query.dag_ids, query.low, query.high, scope)
        in_window = sum(len(store.tis_of(run)) for run in dated)
        if in_window < size and (listed is None or in_window <= listed):
            runs, size = dated, in_window
    if listed is not None and listed < size:
        table = store.dag_runs.rows
        found: list[TiRow] = []
        for ti in index.in_states(query.states or ()):
            run = table.get((ti.dag_id, ti.run_id))
            if run is not None and query.run_matches(run) and query.matches(ti, run):
                found.append((ti, run))
        return found
    return [(ti, run) for run in runs if query.run_matches(run)
            for ti in _tis(store, run, query.task_ids) if query.matches(ti, run)]  # fmt: skip


def _named_matches(store: Store, query: TiQuery, run_ids: Collection[str]) -> list[TiRow]:
    """The matches among the runs named by `run_ids` (of the query's DAGs, or
    of any DAG): a lookup per (DAG, run id), not a walk of the DAGs' runs."""
    dag_ids = query.dag_ids if query.dag_ids is not None else store.dags.rows
    table = store.dag_runs.rows
    found = (table.get((dag_id, run_id)) for dag_id in set(dag_ids) for run_id in set(run_ids))
    runs = sorted((run for run in found if run is not None), key=_run_id)
    return [(ti, run) for run in runs if query.run_matches(run)
            for ti in _tis(store, run, query.task_ids) if query.matches(ti, run)]  # fmt: skip


def _tis(store: Store, run: DagRun, task_ids: Collection[str] | None) -> Iterable[TaskInstance]:
    """The run's instances (of `task_ids` only, when given), in row order."""
    if task_ids is None:
        return store.tis_of(run)
    by_task = store.instances_by_run.get(run.key)
    if by_task is None:
        return ()
    wanted = set(task_ids)
    return [ti for task_id in by_task if task_id in wanted for ti in by_task[task_id]]


def _named_runs(store: Store, dag_ids: Collection[str] | None, run_id: str) -> list[DagRun]:
    """The runs called `run_id` of these DAGs (None: any DAG, which reads every run)."""
    if dag_ids is None:
        return [run for run in store.dag_runs.rows.values() if run.run_id == run_id]
    table = store.dag_runs.rows
    found = [table.get((dag_id, run_id)) for dag_id in set(dag_ids)]
    return sorted((run for run in found if run is not None), key=_run_id)
