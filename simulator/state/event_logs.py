"""The audit log: EventLog rows by id, most of them written by task tries.

A large world writes two or more rows per task try, so rows are kept in
columns indexed by id - 1: the row's task instance (or, for the API's own
audit rows, the EventLog itself), its time and an event code. The owner and
the execution date of a task row are looked up when it is read (a task's
owner and a run's logical date never change); reading builds an EventLog
equal to the one written. When a run is deleted, the context of its
instances' rows is pinned first, so that they read the same afterwards.
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


def _not_found(key: int) -> ApiError:
    return NotFound("Event Log not found")


class EventLogs:
    """Table's interface (ids are positions; a deleted row leaves a hole)."""

    def __init__(self, context: Callable[[TaskInstance], Context]) -> None:
        self._subjects: list[TaskInstance | EventLog | None] = []
        self._whens: list[datetime | None] = []
        self._codes = bytearray()
        self._events: list[str] = []  # code -> event name
        self._count = 0
        self._context = context
        self._pinned: dict[int, Context] = {}  # id(ti) -> context, for deleted runs
        self.not_found = _not_found

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and self.get(key) is not None

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

    def add(self, row: EventLog) -> EventLog:
        if row.id and row.id <= len(self._subjects):
            if self._subjects[row.id - 1] is not None:
                raise AlreadyExists(detail=f"{row.id} already exists")
            self._subjects[row.id - 1] = row
        else:
            while row.id > len(self._subjects) + 1:  # keep ids positions
                self._append(None)
            self._append(row)
            row.id = len(self._subjects)
        self._count += 1
        return row

    def _append(self, subject: EventLog | None) -> None:
        self._subjects.append(subject)
        self._whens.append(None)
        self._codes.append(0)

    def get(self, key: int) -> EventLog | None:
        if 0 < key <= len(self._subjects):
            return self._read(key - 1)
        return None

    def require(self, key: int, error: Callable[[int], ApiError] | None = None) -> EventLog:
        row = self.get(key)
        if row is None:
            raise (error or self.not_found)(key)
        return row

    def delete(self, key: int) -> EventLog:
        row = self.require(key)
        self._subjects[key - 1] = None
        self._count -= 1
        return row

    def columns(self) -> tuple[list[TaskInstance | EventLog | None], list[datetime | None],
                               bytes, list[str]]:  # fmt: skip
        """The rows as they are kept (subjects, whens, event codes, event
        names), for a snapshot; read, never write."""
        return self._subjects, self._whens, bytes(self._codes), self._events

    def load(
        self,
        columns: tuple[list[TaskInstance | EventLog | None], list[datetime | None], bytes,
                       list[str]],
        pinned: Iterable[tuple[TaskInstance, Context]],
    ) -> None:  # fmt: skip
        """Rows a snapshot held (`columns()`), replacing these; `pinned`: the
        context of the rows of instances whose run is gone."""
        subjects, whens, codes, events = columns
        self._subjects, self._whens, self._codes = subjects, whens, bytearray(codes)
        self._events = events
        self._count = len(subjects) - subjects.count(None)
        self._pinned = {id(ti): context for ti, context in pinned}

    def clear(self) -> None:
        self.__init__(self._context)  # type: ignore[misc]

    def _read(self, position: int) -> EventLog | None:
        subject = self._subjects[position]
        if type(subject) is TaskInstance:
            return TaskEventLog(self, position)
        return subject  # type: ignore[return-value]

    def task_row(self, position: int) -> tuple[datetime, str, TaskInstance]:
        """A task row's own columns: when, event, task instance."""
        return (
            self._whens[position],  # type: ignore[return-value]
            self._events[self._codes[position]],
            self._subjects[position],
        )

    def context(self, ti: TaskInstance) -> Context:
        return self._pinned.get(id(ti)) or self._context(ti)

    def __iter__(self) -> Iterator[EventLog]:
        return self._rows(0, len(self._subjects))

    def _rows(self, start: int, stop: int) -> Iterator[EventLog]:
        subjects = self._subjects
        for position in range(start, min(stop, len(subjects))):
            subject = subjects[position]
            if type(subject) is TaskInstance:
                yield TaskEventLog(self, position)
            elif subject is not None:
                yield subject  # type: ignore[misc]

    def page(self, offset: int, limit: int, *, descending: bool = False) -> list[EventLog]:
        """Rows `offset` .. `offset + limit` in id order (or from the last id):
        a page of the default ordering without reading every row."""
        size = len(self._subjects)
        if self._count != size:  # holes: count rows as the full ordering would
            rows = list(self)
            if descending:
                rows.reverse()
            return rows[offset : offset + limit]
        if descending:
            stop = size - offset
            rows = list(self._rows(max(0, stop - limit), stop))
            rows.reverse()
            return rows
        return list(self._rows(offset, offset + limit))

    def pin(self, tis: Iterable[TaskInstance]) -> None:
        """The instances' runs are about to go: remember their rows' context."""
        for ti in tis:
            if ti.last_try is not None:  # only instances that ran have rows
                self._pinned[id(ti)] = self._context(ti)


def _column(read: Callable[[EventLogs, int], Any]) -> Any:
    """A read-only field of a task row, read from the columns."""
    return property(lambda row: read(row._logs, row._position))


class TaskEventLog(EventLog):
    """A task row read as an EventLog: its fields come from the columns when
    asked for (listing a large log builds one of these per row, so they are
    cheap; most callers only look at a few fields of most rows)."""

    __slots__ = ("_logs", "_position")

    def __init__(self, logs: EventLogs, position: int) -> None:
        self._logs = logs
        self._position = position

    id = _column(lambda logs, at: at + 1)
    when = _column(lambda logs, at: logs.task_row(at)[0])
    event = _column(lambda logs, at: logs.task_row(at)[1])
    dag_id = _column(lambda logs, at: logs.task_row(at)[2].dag_id)
    task_id = _column(lambda logs, at: logs.task_row(at)[2].task_id)
    owner = _column(lambda logs, at: logs.context(logs.task_row(at)[2])[0])
    execution_date = _column(lambda logs, at: logs.context(logs.task_row(at)[2])[1])
    extra = _column(lambda logs, at: None)
