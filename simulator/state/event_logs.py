"""The audit log: EventLog rows by id, most of them written by task tries.

A large world writes two or more rows per task try, so rows are kept in
columns by position: the row's task instance (or, for the API's own audit
rows, the EventLog itself), its time and an event code. Row `id` sits at
position `id - 1 - base`: retention (engine/retention.py) drops the oldest
rows from the front, and the positions it freed are given back now and then
(`base` grows), so a long run keeps what is recent only. The owner and the
execution date of a task row are looked up when it is read (a task's owner
and a run's logical date never change); reading builds an EventLog equal to
the one written. When a run is deleted, the context of its instances' rows
is pinned first, so that they read the same afterwards; a pin goes once
every row written before it was pinned is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from simulator.errors import AlreadyExists, ApiError, NotFound
from simulator.state.entities import EventLog
from simulator.state.run_model import TaskInstance

# (owner, execution_date) of a task instance's rows.
Context = tuple[str | None, datetime | None]
# A pinned instance (held, so that its id() stays its own), its rows'
# context, and the id the next row got when it was pinned: all its rows
# have smaller ids.
Pin = tuple[TaskInstance, Context, int]
Subject = TaskInstance | EventLog | None
Columns = tuple[list[Subject], list[datetime | None], bytes, list[str]]


def _not_found(key: int) -> ApiError:
    return NotFound("Event Log not found")


class EventLogs:
    """Table's interface (ids are positions from `base`; a deleted row
    leaves a hole; dropped rows leave nothing)."""

    def __init__(self, context: Callable[[TaskInstance], Context]) -> None:
        self._subjects: list[Subject] = []
        self._whens: list[datetime | None] = []
        self._codes = bytearray()
        self._events: list[str] = []  # code -> event name
        self._count = 0
        self._base = 0  # ids given back: position p holds id base + p + 1
        self._head = 0  # positions before it were dropped (None until given back)
        self._context = context
        self._pinned: dict[int, Pin] = {}  # id(ti) -> pin, in the order pinned
        # Whether rows by id are rows by time too (the engine and the API
        # write at the clock's now; a row given its own id or an earlier time
        # breaks it), and the latest time written.
        self.in_time_order = True
        self._latest: datetime | None = None
        # A row never changes once written; load() and clear() replace them
        # all: what a copy of rows read earlier checks (server/encoding.py).
        self.generation = getattr(self, "generation", -1) + 1
        self.not_found = _not_found

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and self.get(key) is not None

    @property
    def next_id(self) -> int:
        """The id the next row gets."""
        return self._base + len(self._subjects) + 1

    @property
    def first_id(self) -> int:
        """The smallest id a row may have: those below were dropped."""
        return self._base + self._head + 1

    def add_task_event(self, when: datetime, event: str, ti: TaskInstance) -> None:
        """A row about a task try: EventLog(event, owner, dag_id, task_id,
        execution_date) at `when`."""
        try:
            code = self._events.index(event)
        except ValueError:
            code = len(self._events)
            self._events.append(event)
        self._subjects.append(ti)
        self._whens.append(when)
        self._codes.append(code)
        self._count += 1
        self._written(when, last=True)

    def _written(self, when: datetime | None, *, last: bool) -> None:
        """Keep `in_time_order` true: `last` for a row after every other."""
        if when is None:
            return
        if not last or (self._latest is not None and when < self._latest):
            self.in_time_order = False
        if self._latest is None or when > self._latest:
            self._latest = when

    def add(self, row: EventLog) -> EventLog:
        """The row, under its own id when it has one (not below first_id)."""
        if row.id and row.id < self.next_id:
            position = row.id - self._base - 1
            if position < self._head or self._subjects[position] is not None:
                raise AlreadyExists(detail=f"{row.id} already exists")
            self._subjects[position] = row
            self._written(row.when, last=False)
        else:
            while row.id > self.next_id:  # keep ids positions
                self._append(None)
            self._append(row)
            row.id = self.next_id - 1
            self._written(row.when, last=True)
        self._count += 1
        return row

    def _append(self, subject: EventLog | None) -> None:
        self._subjects.append(subject)
        self._whens.append(None)
        self._codes.append(0)

    def get(self, key: int) -> EventLog | None:
        position = key - self._base - 1
        if self._head <= position < len(self._subjects):
            return self._read(position)
        return None

    def require(self, key: int, error: Callable[[int], ApiError] | None = None) -> EventLog:
        row = self.get(key)
        if row is None:
            raise (error or self.not_found)(key)
        return row

    def delete(self, key: int) -> EventLog:
        row = self.require(key)
        self._subjects[key - self._base - 1] = None
        self._count -= 1
        return row

    def columns(self) -> Columns:
        """The rows as they are kept (subjects, whens, event codes, event
        names), the first at id first_id, for a snapshot; read, never write."""
        self._give_back()
        return self._subjects, self._whens, bytes(self._codes), self._events

    def load(self, columns: Columns, pinned: Iterable[tuple[TaskInstance, Context]],
             first_id: int = 1) -> None:  # fmt: skip
        """Rows a snapshot held (`columns()`, the first at `first_id`),
        replacing these; `pinned`: the context of the rows of instances
        whose run is gone."""
        subjects, whens, codes, events = columns
        self._subjects, self._whens, self._codes = subjects, whens, bytearray(codes)
        self._events = events
        self._count = len(subjects) - subjects.count(None)
        self._base, self._head = first_id - 1, 0
        self.generation += 1
        bound = self.next_id
        self._pinned = {id(ti): (ti, context, bound) for ti, context in pinned}
        self.in_time_order, self._latest = True, None
        for position in range(len(subjects)):
            self._written(self._when(position), last=True)

    def _when(self, position: int) -> datetime | None:
        """The time of the row at `position` (None: no row)."""
        subject = self._subjects[position]
        if type(subject) is TaskInstance:
            return self._whens[position]
        return subject.when if subject is not None else None  # type: ignore[union-attr]

    def clear(self) -> None:
        self.__init__(self._context)  # type: ignore[misc]

    def _read(self, position: int) -> EventLog | None:
        subject = self._subjects[position]
        if type(subject) is TaskInstance:
            return TaskEventLog(self, self._base + position + 1)
        return subject  # type: ignore[return-value]

    def task_row(self, key: int) -> tuple[datetime, str, TaskInstance]:
        """A task row's own columns (by id): when, event, task instance."""
        position = key - self._base - 1
        return (
            self._whens[position],  # type: ignore[return-value]
            self._events[self._codes[position]],
            self._subjects[position],
        )

    def context(self, ti: TaskInstance) -> Context:
        pin = self._pinned.get(id(ti))
        return pin[1] if pin is not None and pin[0] is ti else self._context(ti)

    def __iter__(self) -> Iterator[EventLog]:
        return self._rows(self._head, len(self._subjects))

    def _rows(self, start: int, stop: int) -> Iterator[EventLog]:
        subjects, base = self._subjects, self._base
        for position in range(start, min(stop, len(subjects))):
            subject = subjects[position]
            if type(subject) is TaskInstance:
                yield TaskEventLog(self, base + position + 1)
            elif subject is not None:
                yield subject  # type: ignore[misc]

    def page(self, offset: int, limit: int, *, descending: bool = False) -> list[EventLog]:
        """Rows `offset` .. `offset + limit` in id order (or from the last id):
        a page of the default ordering without reading every row."""
        head, size = self._head, len(self._subjects)
        if self._count != size - head:  # holes: count rows as the full ordering would
            rows = list(self)
            if descending:
                rows.reverse()
            return rows[offset : offset + limit]
        if descending:
            stop = size - offset
            rows = list(self._rows(max(head, stop - limit), stop))
            rows.reverse()
            return rows
        return list(self._rows(head + offset, head + offset + limit))

    def newest_first(self, offset: int, limit: int) -> list[EventLog]:
        """Rows `offset` .. `offset + limit` by time, the latest first, rows
        of one time in id order (a stable descending sort), read from the
        last id back: only while `in_time_order`."""
        assert self.in_time_order
        wanted = offset + limit
        order: list[int] = []  # positions in the page's order
        group: list[int] = []  # positions of one time, the latest first
        group_when = None
        position = len(self._subjects) - 1
        while position >= self._head and len(order) < wanted:
            when = self._when(position)
            if when is not None:
                if when != group_when:
                    order.extend(reversed(group))
                    group, group_when = [], when
                group.append(position)
            position -= 1
        order.extend(reversed(group))
        read = self._read
        return [read(position) for position in order[offset:wanted]]  # type: ignore[misc]

    def pin(self, tis: Iterable[TaskInstance]) -> None:
        """The instances' runs are about to go: remember their rows' context."""
        bound = self.next_id
        for ti in tis:
            if ti.last_try is not None:  # only instances that ran have rows
                context = self._context(ti)
                self._pinned.pop(id(ti), None)  # the order pinned stays the order of bounds
                self._pinned[id(ti)] = (ti, context, bound)

    def unpin(self, tis: Iterable[TaskInstance]) -> None:
        """Forget the pins of instances none of whose rows is left (their
        rows were dropped before their run was)."""
        pinned = self._pinned
        for ti in tis:
            pin = pinned.get(id(ti))
            if pin is not None and pin[0] is ti:
                del pinned[id(ti)]

    @property
    def pins(self) -> int:
        """How many instances' contexts are pinned."""
        return len(self._pinned)

    def drop_before(self, moment: datetime) -> int:
        """Drop the oldest rows, those written before `moment`, from the
        front (rows are written in time order: the first row at or after
        `moment` stops it); answer how many went. Costs the rows dropped."""
        subjects, whens = self._subjects, self._whens
        head, size, dropped = self._head, len(subjects), 0
        while head < size:
            if subjects[head] is not None:
                when = self._when(head)
                if when is None or when >= moment:
                    break
                subjects[head] = whens[head] = None
                dropped += 1
            head += 1
        self._head = head
        self._count -= dropped
        self._release()
        if head and head * 2 >= size:
            self._give_back()
        return dropped

    def _release(self) -> None:
        """Pins whose rows are all gone (all older than first_id)."""
        pinned, first = self._pinned, self.first_id
        while pinned:
            key = next(iter(pinned))
            if pinned[key][2] > first:
                break
            del pinned[key]

    def _give_back(self) -> None:
        """Positions of dropped rows are freed; ids stay as they were."""
        head = self._head
        if head:
            del self._subjects[:head], self._whens[:head], self._codes[:head]
            self._base += head
            self._head = 0


def _column(read: Callable[[EventLogs, int], Any]) -> Any:
    """A read-only field of a task row (by its id), read from the columns."""
    return property(lambda row: read(row._logs, row._id))


class TaskEventLog(EventLog):
    """A task row read as an EventLog: its fields come from the columns when
    asked for (listing a large log builds one of these per row, so they are
    cheap; most callers only look at a few fields of most rows)."""

    __slots__ = ("_id", "_logs")

    def __init__(self, logs: EventLogs, key: int) -> None:
        self._logs = logs
        self._id = key

    id = _column(lambda logs, key: key)
    when = _column(lambda logs, at: logs.task_row(at)[0])
    event = _column(lambda logs, at: logs.task_row(at)[1])
    dag_id = _column(lambda logs, at: logs.task_row(at)[2].dag_id)
    task_id = _column(lambda logs, at: logs.task_row(at)[2].task_id)
    owner = _column(lambda logs, at: logs.context(logs.task_row(at)[2])[0])
    execution_date = _column(lambda logs, at: logs.context(logs.task_row(at)[2])[1])
    extra = _column(lambda logs, at: None)
