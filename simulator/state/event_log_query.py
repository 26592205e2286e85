"""Airflow 2.10's filtered audit log, read from the log's columns.

A filter is tested on an entry's columns before any row is built: the
DAG's entries come from the log's per-DAG index, a time window is a
bisection (rows are written in time order), the event filters are a table
of which rows of each label pass (scanned for in the code column at C
speed), and the task filters look at the entry's TaskInstance. Rows are
built for the page only; `total_entries` counts the rest without building
them (by the code column alone when only event and time filters apply).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from simulator.state.deployment import OS_USER
from simulator.state.entities import EventLog
from simulator.state.event_logs import OTHER, EventLogs, try_at
from simulator.state.run_model import TaskInstance

CHUNK = 8192  # entries scanned at a time when reading the code column backwards
# (position, row of the entry, id) of a row that passes.
Match = tuple[int, int, int]
# code -> (the rows that pass when the task filters pass, the rows that pass
# when they do not: `cli_task_run` rows, which have no run, map index or try).
Plan = list[tuple[tuple[int, ...], tuple[int, ...]] | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Criteria:
    """Airflow 2.10's where clauses on the log (None: not filtered)."""

    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    map_index: int | None = None
    try_number: int | None = None
    owner: str | None = None
    event: str | None = None
    included: frozenset[str] | None = None
    excluded: frozenset[str] | None = None
    after: datetime | None = None  # strictly after
    before: datetime | None = None  # strictly before

    def __bool__(self) -> bool:
        return any(getattr(self, name) is not None for name in self.__slots__)

    def event_passes(self, event: str) -> bool:
        return (
            (self.event is None or event == self.event)
            and (self.included is None or event in self.included)
            and (self.excluded is None or event not in self.excluded)
        )

    def keeps(self, row: EventLog) -> bool:
        """Whether a row built whole passes (the API's and components' rows)."""
        for name in ("dag_id", "task_id", "run_id", "map_index", "try_number", "owner"):
            value = getattr(self, name)
            if value is not None and getattr(row, name, None) != value:
                return False
        when = row.when
        return (
            self.event_passes(row.event)
            and (self.before is None or (when is not None and when < self.before))
            and (self.after is None or (when is not None and when > self.after))
        )

    @property
    def of_tasks(self) -> bool:
        """Whether only task rows can pass (a run, map index or try asked for)."""
        return self.run_id is not None or self.map_index is not None or self.try_number is not None


class LogQuery:
    """The rows of `logs` that `criteria` keeps, in id order or back."""

    def __init__(self, logs: EventLogs, criteria: Criteria) -> None:
        self.logs, self.criteria = logs, criteria
        self.subjects, self.whens, self.codes = logs.entry_columns()
        self.plan = _plan(criteria, logs)
        self.lo, self.hi = logs.window(criteria.after, criteria.before)
        # The window is exact while rows are in time order; else test each entry.
        self.timed = not logs.in_time_order and (criteria.after or criteria.before) is not None
        self.instance_tests = (criteria.dag_id, criteria.task_id) != (None, None) or self.timed
        self.task_tests = criteria.of_tasks or criteria.owner is not None
        self._owners: dict[tuple[str, str], str | None] = {}  # a task's rows share its owner

    # -- entries ----------------------------------------------------------------

    def positions(self, *, reverse: bool = False) -> Iterable[int]:
        """Positions of the entries that may pass, ascending (or descending)."""
        lo, hi = self.lo, self.hi
        if self.criteria.dag_id is not None:
            found: Sequence[int] = self.logs.dag_positions(self.criteria.dag_id, lo, hi)
            return reversed(found) if reverse else found
        used = range(len(self.plan))
        if all(self.plan[code] is not None for code in used):
            return reversed(range(lo, hi)) if reverse else range(lo, hi)
        wanted = [code for code in used if self.plan[code] is not None] + [OTHER]
        pattern = re.compile(b"[" + b"".join(b"\\x%02x" % code for code in wanted) + b"]")
        return _scan(pattern, self.codes, lo, hi, reverse=reverse)

    def parts(self, position: int) -> tuple[int, ...]:
        """The rows of the entry at `position` that pass, ascending."""
        subject = self.subjects[position]
        if type(subject) is not TaskInstance:
            if subject is None or not self.criteria.keeps(subject):  # type: ignore[arg-type]
                return ()
            return (0,)
        plan = self.plan[self.codes[position]]
        if plan is None:
            return ()
        if self.instance_tests and not self._instance_passes(subject, position):
            return ()
        if self.task_tests and not self._task_passes(subject, self.whens[position]):
            return plan[1]
        return plan[0]

    def _instance_passes(self, ti: TaskInstance, position: int) -> bool:
        criteria = self.criteria
        if criteria.dag_id is not None and ti.dag_id != criteria.dag_id:
            return False
        if criteria.task_id is not None and ti.task_id != criteria.task_id:
            return False
        when = self.whens[position]
        return not self.timed or (
            when is not None
            and (criteria.before is None or when < criteria.before)
            and (criteria.after is None or when > criteria.after)
        )

    def _task_passes(self, ti: TaskInstance, when: datetime | None) -> bool:
        """The task filters on a task row (not a `cli_task_run` row) of `ti`."""
        criteria = self.criteria
        return (
            (criteria.run_id is None or ti.run_id == criteria.run_id)
            and (criteria.map_index is None or ti.map_index == criteria.map_index)
            and (criteria.owner is None or self._owner(ti) == criteria.owner)
            and (criteria.try_number is None or try_at(ti, when) == criteria.try_number)
        )

    def _owner(self, ti: TaskInstance) -> str | None:
        """A task row's owner: its task's (one lookup per task), or pinned."""
        if self.logs.is_pinned(ti):
            return self.logs.context(ti)[0]
        key = (ti.dag_id, ti.task_id)
        if key not in self._owners:
            self._owners[key] = self.logs.context(ti)[0]
        return self._owners[key]

    # -- answers ------------------------------------------------------------------

    def count(self) -> int:
        """How many rows pass (Airflow's total_entries)."""
        if not (self.instance_tests or self.task_tests or self.logs.task_holes):
            return self._count_codes()
        parts = self.parts
        return sum(len(parts(position)) for position in self.positions())

    def _count_codes(self) -> int:
        """The count from the code column alone: every entry of a code in the
        window passes the same rows (the others' rows are tested whole)."""
        codes, lo, hi = self.codes, self.lo, self.hi
        total = 0
        for code, plan in enumerate(self.plan):
            if plan is not None and plan[0]:
                total += codes.count(code, lo, hi) * len(plan[0])
        position = codes.find(OTHER, lo, hi)
        while position >= 0:
            total += len(self.parts(position))
            position = codes.find(OTHER, position + 1, hi)
        return total

    def matches(self, *, reverse: bool = False) -> Iterator[Match]:
        """The rows that pass, by id (or from the last id back)."""
        subjects, id_at, parts = self.subjects, self.logs.id_at, self.parts
        for position in self.positions(reverse=reverse):
            kept = parts(position)
            if kept:
                subject = subjects[position]
                key = id_at(position) if type(subject) is TaskInstance else subject.id  # type: ignore[union-attr]
                for part in reversed(kept) if reverse else kept:
                    yield position, part, key + part

    def newest_first(self, wanted: int) -> list[Match]:
        """The first `wanted` rows by time, the latest first, rows of one
        time in id order (a stable descending sort): while in time order."""
        order: list[Match] = []
        group: list[Match] = []  # rows of one time, the latest first
        group_when = None
        for match in self.matches(reverse=True):
            when = self._when(match[0])
            if when != group_when:
                order.extend(reversed(group))
                if len(order) >= wanted:
                    return order
                group, group_when = [], when
            group.append(match)
        order.extend(reversed(group))
        return order

    def _when(self, position: int) -> datetime | None:
        subject = self.subjects[position]
        return self.whens[position] if type(subject) is TaskInstance else subject.when  # type: ignore[union-attr]

    def rows(self, matches: Iterable[Match]) -> list[EventLog]:
        read = self.logs.read
        return [read(*match) for match in matches]


def _plan(criteria: Criteria, logs: EventLogs) -> Plan:
    """Per code, the rows of its entries that the event and owner filters
    keep, with and without the rows only task filters can reject."""
    plan: Plan = []
    cli_rows_pass = not criteria.of_tasks and criteria.owner in (None, OS_USER)
    for parts in logs.labels():
        tasks, clis = [], []
        for index, (event, extra) in enumerate(parts):
            if criteria.event_passes(event):
                if extra is None:
                    tasks.append(index)
                elif cli_rows_pass:  # owned by the deployment's OS user
                    clis.append(index)
        both = tuple(sorted(tasks + clis))
        plan.append((both, tuple(clis)) if both else None)
    return plan


def _scan(
    pattern: re.Pattern[bytes], codes: bytearray, lo: int, hi: int, *, reverse: bool
) -> Iterator[int]:
    """Positions in [lo, hi) whose code `pattern` matches, ascending (or not)."""
    if not reverse:
        for found in pattern.finditer(codes, lo, hi):
            yield found.start()
        return
    while hi > lo:
        start = max(lo, hi - CHUNK)
        yield from reversed([found.start() for found in pattern.finditer(codes, start, hi)])
        hi = start
