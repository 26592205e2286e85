"""Indices of runs and task instances that the API's lists read: by state,
by logical date, and counts per DAG and state (what `total_entries` needs
without reading the rows).

The store keeps them true where rows come and go (add_run, delete_run) and
where states change (Store.set_run_state for runs, engine.lifecycle.set_state
for task instances). A successful task instance is the common case: it is
counted but not listed by state, and so is a successful run (half a million
entries would cost ~40 bytes each for lists that read the rows in id order
anyway).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime

from simulator.state.run_model import DagRun, TaskInstance

# The state whose task instances are counted but not listed (see above).
UNLISTED = "success"


def date_order(run: DagRun) -> tuple[datetime, int]:
    return (run.logical_date, run.id)


def _date(run: DagRun) -> datetime:
    return run.logical_date


class RunIndex:
    """Every run by (logical date, id) and by state (all but UNLISTED);
    counts per DAG and state."""

    def __init__(self) -> None:
        self.by_state: dict[str, dict[int, DagRun]] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        self.state_counts: Counter[str] = Counter()
        self.by_date: list[DagRun] = []

    def add(self, run: DagRun) -> None:
        self._enter(run, run.state)
        dated = self.by_date
        if not dated or date_order(dated[-1]) < date_order(run):
            dated.append(run)  # the usual case: the newest run
        else:
            bisect.insort(dated, run, key=date_order)

    def add_all(self, runs: Iterable[DagRun]) -> None:
        """Many runs (a restored world): one sort."""
        for run in runs:
            self._enter(run, run.state)
            self.by_date.append(run)
        self.by_date.sort(key=date_order)

    def remove(self, run: DagRun) -> None:
        self._leave(run, run.state)
        dated = self.by_date
        del dated[bisect.bisect_left(dated, date_order(run), key=date_order)]

    def move(self, run: DagRun, old: str, new: str) -> None:
        if old != new:
            self._leave(run, old)
            self._enter(run, new)

    def _enter(self, run: DagRun, state: str) -> None:
        if state != UNLISTED:
            self.by_state.setdefault(state, {})[run.id] = run
        self.counts[(run.dag_id, state)] += 1
        self.state_counts[state] += 1

    def _leave(self, run: DagRun, state: str) -> None:
        if state != UNLISTED:
            del self.by_state[state][run.id]
        self.counts[(run.dag_id, state)] -= 1
        self.state_counts[state] -= 1

    def size(self, states: Collection[str]) -> int | None:
        """How many runs are listed in `states` (None: one is UNLISTED)."""
        if UNLISTED in states:
            return None
        return sum(len(self.by_state.get(state, ())) for state in set(states))

    def count(self, dag_ids: Collection[str] | None, states: Iterable[str]) -> int:
        """Runs of these DAGs (None: any) in any of `states`."""
        if dag_ids is None:
            return sum(self.state_counts[state] for state in set(states))
        counts = self.counts
        return sum(counts[(dag_id, state)] for state in set(states) for dag_id in dag_ids)

    def dated(self, low: datetime | None, high: datetime | None) -> list[DagRun]:
        """Runs with a logical date in [low, high], by (date, id)."""
        return between(self.by_date, low, high)


def between(dated: list[DagRun], low: datetime | None, high: datetime | None) -> list[DagRun]:
    """The slice of `dated` (sorted by logical date) within [low, high]."""
    start = 0 if low is None else bisect.bisect_left(dated, low, key=_date)
    stop = len(dated) if high is None else bisect.bisect_right(dated, high, key=_date)
    return dated[start:stop]


class TiIndex:
    """Task instances of runs by state (all but UNLISTED); counts per DAG and state."""

    def __init__(self) -> None:
        self.by_state: dict[str | None, dict[int, TaskInstance]] = {}
        self.counts: Counter[tuple[str, str | None]] = Counter()
        self.state_counts: Counter[str | None] = Counter()
        self.per_dag: Counter[str] = Counter()
        self.total = 0

    def add(self, tis: Iterable[TaskInstance]) -> None:
        for ti in tis:
            self._enter(ti, ti.state)
            self.per_dag[ti.dag_id] += 1
            self.total += 1

    def remove(self, tis: Iterable[TaskInstance]) -> None:
        for ti in tis:
            self._leave(ti, ti.state)
            self.per_dag[ti.dag_id] -= 1
            self.total -= 1

    def move(self, ti: TaskInstance, old: str | None, new: str | None) -> None:
        if old != new:
            self._leave(ti, old)
            self._enter(ti, new)

    def _enter(self, ti: TaskInstance, state: str | None) -> None:
        if state != UNLISTED:
            found = self.by_state.get(state)
            if found is None:
                found = self.by_state[state] = {}
            found[ti.id] = ti
        self.counts[(ti.dag_id, state)] += 1
        self.state_counts[state] += 1

    def _leave(self, ti: TaskInstance, state: str | None) -> None:
        if state != UNLISTED:
            del self.by_state[state][ti.id]
        self.counts[(ti.dag_id, state)] -= 1
        self.state_counts[state] -= 1

    def size(self, states: Collection[str | None]) -> int | None:
        """How many instances are listed in `states` (None: one is UNLISTED)."""
        if UNLISTED in states:
            return None
        return sum(len(self.by_state.get(state, ())) for state in set(states))

    def in_states(self, states: Iterable[str | None]) -> Iterator[TaskInstance]:
        """Instances in any of `states` (none of them UNLISTED), in no useful order."""
        for state in set(states):
            yield from self.by_state.get(state, {}).values()

    def count(self, dag_ids: Collection[str] | None, states: Iterable[str | None] | None) -> int:
        """Instances of these DAGs' runs (None: any), in any of `states` (None: any)."""
        if states is None:
            if dag_ids is None:
                return self.total
            return sum(self.per_dag[dag_id] for dag_id in dag_ids)
        if dag_ids is None:
            return sum(self.state_counts[state] for state in set(states))
        counts = self.counts
        return sum(counts[(dag_id, state)] for state in set(states) for dag_id in dag_ids)
