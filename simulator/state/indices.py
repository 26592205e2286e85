"""Indices of runs and task instances that the API's lists read: by state,
by logical date, and counts per DAG and state (what `total_entries` needs
without reading the rows).

The store keeps them true where rows come and go (add_run, delete_run) and
where states change (Store.set_run_state for runs, engine.lifecycle.set_state
for task instances). Success is the common state: a successful run or task
instance is counted but not listed by state (half a million entries would
cost ~40 bytes each, for lists that read the rows in id order anyway).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from simulator.state.run_model import DagRun, TaskInstance

# The state whose rows are counted but not listed (see above).
UNLISTED = "success"


class Row(Protocol):
    id: int
    dag_id: str


R = TypeVar("R", bound=Row)


class ByState(Generic[R]):
    """Rows by state (all but UNLISTED), by row id; counts per DAG and
    state, per state, per DAG and in all."""

    def __init__(self) -> None:
        self.by_state: dict[str | None, dict[int, R]] = {}
        self.counts: Counter[tuple[str, str | None]] = Counter()
        self.state_counts: Counter[str | None] = Counter()
        self.per_dag: Counter[str] = Counter()
        self.total = 0

    def add(self, row: R, state: str | None) -> None:
        self._enter(row, state)
        self.per_dag[row.dag_id] += 1
        self.total += 1

    def remove(self, row: R, state: str | None) -> None:
        self._leave(row, state)
        self.per_dag[row.dag_id] -= 1
        self.total -= 1

    def move(self, row: R, old: str | None, new: str | None) -> None:
        if old != new:
            self._leave(row, old)
            self._enter(row, new)

    def _enter(self, row: R, state: str | None) -> None:
        if state != UNLISTED:
            found = self.by_state.get(state)
            if found is None:
                found = self.by_state[state] = {}
            found[row.id] = row
        self.counts[(row.dag_id, state)] += 1
        self.state_counts[state] += 1

    def _leave(self, row: R, state: str | None) -> None:
        if state != UNLISTED:
            del self.by_state[state][row.id]
        self.counts[(row.dag_id, state)] -= 1
        self.state_counts[state] -= 1

    def size(self, states: Collection[str | None]) -> int | None:
        """How many rows are listed in `states` (None: one is UNLISTED)."""
        if UNLISTED in states:
            return None
        return sum(len(self.by_state.get(state, ())) for state in set(states))

    def in_states(self, states: Iterable[str | None]) -> Iterator[R]:
        """Rows in any of `states` (none of them UNLISTED), in no useful order."""
        for state in set(states):
            yield from self.by_state.get(state, {}).values()

    def count(self, dag_ids: Collection[str] | None, states: Iterable[str | None] | None) -> int:
        """Rows of these DAGs (None: any) in any of `states` (None: any)."""
        if states is None:
            if dag_ids is None:
                return self.total
            return sum(self.per_dag[dag_id] for dag_id in dag_ids)
        if dag_ids is None:
            return sum(self.state_counts[state] for state in set(states))
        counts = self.counts
        return sum(counts[(dag_id, state)] for state in set(states) for dag_id in dag_ids)


def date_order(run: DagRun) -> tuple[datetime, int]:
    return (run.logical_date, run.id)


def _date(run: DagRun) -> datetime:
    return run.logical_date


class RunIndex(ByState[DagRun]):
    """Every run by state and by (logical date, id)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_date: list[DagRun] = []

    def add_run(self, run: DagRun) -> None:
        self.add(run, run.state)
        dated = self.by_date
        if not dated or date_order(dated[-1]) < date_order(run):
            dated.append(run)  # the usual case: the newest run
        else:
            bisect.insort(dated, run, key=date_order)

    def add_runs(self, runs: Iterable[DagRun]) -> None:
        """Many runs (a restored world): one sort."""
        for run in runs:
            self.add(run, run.state)
            self.by_date.append(run)
        self.by_date.sort(key=date_order)

    def remove_run(self, run: DagRun) -> None:
        self.remove(run, run.state)
        dated = self.by_date
        del dated[bisect.bisect_left(dated, date_order(run), key=date_order)]

    def dated(self, low: datetime | None, high: datetime | None) -> list[DagRun]:
        """Runs with a logical date in [low, high], by (date, id)."""
        return between(self.by_date, low, high)


def between(dated: list[DagRun], low: datetime | None, high: datetime | None) -> list[DagRun]:
    """The slice of `dated` (sorted by logical date) within [low, high]."""
    start = 0 if low is None else bisect.bisect_left(dated, low, key=_date)
    stop = len(dated) if high is None else bisect.bisect_right(dated, high, key=_date)
    return dated[start:stop]


class TiIndex(ByState[TaskInstance]):
    """Task instances of runs by state."""

    def add_all(self, tis: Iterable[TaskInstance]) -> None:
        for ti in tis:
            self.add(ti, ti.state)

    def remove_all(self, tis: Iterable[TaskInstance]) -> None:
        for ti in tis:
            self.remove(ti, ti.state)
