"""The audit log: EventLog rows by id, most of them written by task tries.

A large world writes several rows per task try, so rows are kept in columns
by entry: the entry's task instance (or, for the API's and the components'
own rows, the EventLog itself), its time and a label code. Most entries are
one row; a try's start is one entry of three (`running@<host>`): its
worker's `airflow tasks run --local` (a `cli_task_run` row), the `running`
row, and the `--raw` task's own `airflow tasks run` (another `cli_task_run`),
in that order, at the try's start instant. Ids number the rows in entry
order, an entry's rows consecutive; the id of every BLOCK-th entry is kept,
so an id is found in one block. Retention (engine/retention.py) drops the
oldest entries from the front, and the positions it freed are given back
now and then, so a long run keeps what is recent only. The owner and the
execution date of a task row are looked up when it is read (a task's owner
and a run's logical date never change); a `cli_task_run` row's come from
the deployment (state/deployment.py); reading builds an EventLog equal to
the one written. When a run is deleted, the context of its instances' rows
is pinned first, so that they read the same afterwards; a pin goes once
every row written before it was pinned is gone.

Filtered reads (state/event_log_query.py) test these columns before building
any row. They find a DAG's entries in a per-DAG index of entry numbers (the
position plus the positions given back before it: numbers stay valid when
positions are given back, and the index drops the numbers below them then),
kept on write, on `add` into a hole, and rebuilt by `load`.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from simulator.errors import AlreadyExists, ApiError, NotFound
from simulator.state.deployment import OS_USER, WORKER_COMMAND, cli_extra
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
# A row of an entry: its event, and the extra of a `cli_*` row (None: a
# task row, whose owner and execution date are its instance's context).
Part = tuple[str, str | None]

BLOCK = 64  # entries per kept id
OTHER = 255  # the code of an entry that is an EventLog or a gap: one row
START = "@"  # `running@worker-2`: a try's start on that worker (three rows)
CLI_TASK_RUN = "cli_task_run"


def parts_of(label: str) -> tuple[Part, ...]:
    """The rows of an entry of this label."""
    event, start, host = label.partition(START)
    if not start:
        return ((event, None),)
    extra = cli_extra(host, WORKER_COMMAND)
    return ((CLI_TASK_RUN, extra), (event, None), (CLI_TASK_RUN, extra))


def _not_found(key: int) -> ApiError:
    return NotFound("Event Log not found")


class EventLogs:
    """Table's interface (a deleted row leaves a hole, a try's start rows
    go together; dropped rows leave nothing)."""

    def __init__(self, context: Callable[[TaskInstance], Context]) -> None:
        self._subjects: list[Subject] = []
        self._whens: list[datetime | None] = []
        self._codes = bytearray()
        self._events: list[str] = []  # code -> label
        self._parts: list[tuple[Part, ...]] = []  # code -> its rows
        self._widths = bytearray(b"\x01" * 256)  # code -> rows (a bytes.translate table)
        self._starts = array("q")  # the id of each BLOCK-th position's first row
        self._next_id = 1
        self._count = 0
        self._head = 0  # positions before it were dropped (None until given back)
        self._base = 0  # positions given back so far: an entry's number is base + position
        # dag_id -> the numbers of its entries, ascending (4 bytes an entry).
        self._by_dag: dict[str, array[int]] = {}
        # Deleted task entries still in the log: a hole keeps its code.
        self.task_holes = 0
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
        return self._next_id

    @property
    def first_id(self) -> int:
        """The smallest id a row may have: those below were dropped."""
        return self._id_at(self._head)

    # -- writing --------------------------------------------------------------

    def add_task_event(self, when: datetime, event: str, ti: TaskInstance) -> None:
        """A row about a task try: EventLog(event, owner, dag_id, task_id,
        execution_date) at `when`."""
        self._add_entry(ti, when, self._code(event))

    def add_try_start(self, when: datetime, ti: TaskInstance, host: str) -> None:
        """A try starting on `host`: its `cli_task_run`, `running` and
        `cli_task_run` rows, at `when`."""
        self._add_entry(ti, when, self._code(f"running{START}{host}"))

    def _add_entry(self, ti: TaskInstance, when: datetime, code: int) -> None:
        self._push(ti, when, code)
        self._count += self._widths[code]
        self._written(when, last=True)

    def _code(self, label: str) -> int:
        try:
            return self._events.index(label)
        except ValueError:
            code = len(self._events)
            if code >= OTHER:
                raise ValueError("too many kinds of event log entries") from None
            self._events.append(label)
            self._learn(code, label)
            return code

    def _learn(self, code: int, label: str) -> None:
        parts = parts_of(label)
        self._parts.append(parts)
        self._widths[code] = len(parts)

    def _push(self, subject: Subject, when: datetime | None, code: int) -> None:
        if not len(self._subjects) % BLOCK:
            self._starts.append(self._next_id)
        if subject is not None and subject.dag_id:
            self._index(subject.dag_id).append(self._base + len(self._subjects))
        self._subjects.append(subject)
        self._whens.append(when)
        self._codes.append(code)
        self._next_id += self._widths[code]

    def _written(self, when: datetime | None, *, last: bool) -> None:
        """Keep `in_time_order` true: `last` for a row after every other."""
        if when is None:
            return
        if not last or (self._latest is not None and when < self._latest):
            self.in_time_order = False
        if self._latest is None or when > self._latest:
            self._latest = when

    def add(self, row: EventLog) -> EventLog:
        """The row, under its own id when it has one (a hole's, not below
        first_id)."""
        if row.id and row.id < self._next_id:
            found = self._find(row.id)
            if found is None or found[1] or self._subjects[found[0]] is not None:
                raise AlreadyExists(detail=f"{row.id} already exists")
            position = found[0]
            if self._widths[self._codes[position]] != 1:  # a try's deleted start
                raise AlreadyExists(detail=f"{row.id} already exists")
            self._subjects[position] = row
            if self._codes[position] != OTHER:
                self.task_holes -= 1
            self._codes[position] = OTHER
            if row.dag_id:
                insort(self._index(row.dag_id), self._base + position)
            self._written(row.when, last=False)
        else:
            while row.id > self._next_id:  # a gap up to its id
                self._push(None, None, OTHER)
            self._push(row, None, OTHER)
            row.id = self._next_id - 1
            self._written(row.when, last=True)
        self._count += 1
        return row

    def _index(self, dag_id: str) -> array[int]:
        numbers = self._by_dag.get(dag_id)
        if numbers is None:
            numbers = self._by_dag[dag_id] = array("I")
        return numbers

    # -- ids and positions ----------------------------------------------------

    def _id_at(self, position: int) -> int:
        """The id of the first row of the entry at `position` (up to the
        number of entries: next_id)."""
        if position >= len(self._subjects):
            return self._next_id
        block = position // BLOCK
        skipped = self._codes[block * BLOCK : position].translate(self._widths)
        return self._starts[block] + sum(skipped)

    def _find(self, key: int) -> tuple[int, int] | None:
        """(position, row of the entry) of id `key`; None below first_id
        or from next_id."""
        if not self.first_id <= key < self._next_id:
            return None
        block = bisect_right(self._starts, key) - 1
        position, at = block * BLOCK, self._starts[block]
        codes, widths = self._codes, self._widths
        while True:
            width = widths[codes[position]]
            if key < at + width:
                return position, key - at
            at += width
            position += 1

    # -- reading --------------------------------------------------------------

    def get(self, key: int) -> EventLog | None:
        found = self._find(key)
        return None if found is None else self._read(found[0], found[1], key)

    def require(self, key: int, error: Callable[[int], ApiError] | None = None) -> EventLog:
        row = self.get(key)
        if row is None:
            raise (error or self.not_found)(key)
        return row

    def delete(self, key: int) -> EventLog:
        """The row goes (with the other rows of a try's start)."""
        row = self.require(key)
        found = self._find(key)
        assert found is not None
        position = found[0]
        self._subjects[position] = None
        self._count -= self._widths[self._codes[position]]
        if self._codes[position] != OTHER:
            self.task_holes += 1
        return row

    def _read(self, position: int, part: int, key: int) -> EventLog | None:
        subject = self._subjects[position]
        if type(subject) is TaskInstance:
            code = self._codes[position]
            return TaskEventLog(self, key, subject, self._whens[position], code, part)
        return subject  # type: ignore[return-value]

    def part(self, code: int, part: int) -> Part:
        """The event and extra of row `part` of an entry coded `code`."""
        return self._parts[code][part]

    def context(self, ti: TaskInstance) -> Context:
        pin = self._pinned.get(id(ti))
        return pin[1] if pin is not None and pin[0] is ti else self._context(ti)

    def is_pinned(self, ti: TaskInstance) -> bool:
        """Whether the instance's rows read a pinned context (its run is gone)."""
        pin = self._pinned.get(id(ti))
        return pin is not None and pin[0] is ti

    def _when(self, position: int) -> datetime | None:
        """The time of the entry at `position` (None: no row)."""
        subject = self._subjects[position]
        if type(subject) is TaskInstance:
            return self._whens[position]
        return subject.when if subject is not None else None  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[EventLog]:
        return self._rows(self._head, len(self._subjects))

    def _rows(self, start: int, stop: int) -> Iterator[EventLog]:
        subjects, codes, widths = self._subjects, self._codes, self._widths
        key = self._id_at(start)
        for position in range(start, min(stop, len(subjects))):
            subject, width = subjects[position], widths[codes[position]]
            if type(subject) is TaskInstance:
                for part in range(width):
                    yield self._read(position, part, key + part)  # type: ignore[misc]
            elif subject is not None:
                yield subject  # type: ignore[misc]
            key += width

    def page(self, offset: int, limit: int, *, descending: bool = False) -> list[EventLog]:
        """Rows `offset` .. `offset + limit` in id order (or from the last id):
        a page of the default ordering without reading every row."""
        first = self.first_id
        if self._count != self._next_id - first:  # holes: count rows as the full ordering would
            rows = list(self)
            if descending:
                rows.reverse()
            return rows[offset : offset + limit]
        if descending:
            return self._run(self._next_id - 1 - offset, limit, step=-1)
        return self._run(first + offset, limit, step=1)

    def _run(self, key: int, limit: int, *, step: int) -> list[EventLog]:
        """Up to `limit` rows from id `key` on (step 1) or back (step -1),
        none of them a hole."""
        found = self._find(key)
        if found is None or limit <= 0:
            return []
        position, part = found
        rows: list[EventLog] = []
        size, head = len(self._subjects), self._head
        while True:
            row = self._read(position, part, key)
            assert row is not None
            rows.append(row)
            if len(rows) == limit:
                return rows
            key += step
            part += step
            width = self._widths[self._codes[position]]
            if not 0 <= part < width:
                position += step
                if not head <= position < size:
                    return rows
                part = 0 if step > 0 else self._widths[self._codes[position]] - 1

    def newest_first(self, offset: int, limit: int) -> list[EventLog]:
        """Rows `offset` .. `offset + limit` by time, the latest first, rows
        of one time in id order (a stable descending sort), read from the
        last id back: only while `in_time_order`."""
        assert self.in_time_order
        wanted = offset + limit
        codes, widths = self._codes, self._widths
        order: list[tuple[int, int, int]] = []  # (position, row, id) in the page's order
        group: list[tuple[int, int, int]] = []  # rows of one time, the latest first
        group_when = None
        position, key = len(self._subjects) - 1, self._next_id
        while position >= self._head and len(order) < wanted:
            width = widths[codes[position]]
            key -= width
            when = self._when(position)
            if when is not None:
                if when != group_when:
                    order.extend(reversed(group))
                    group, group_when = [], when
                group.extend((position, part, key + part) for part in reversed(range(width)))
            position -= 1
        order.extend(reversed(group))
        read = self._read
        return [read(*entry) for entry in order[offset:wanted]]  # type: ignore[misc]

    # -- filtered reads (state/event_log_query.py) ----------------------------

    def window(self, after: datetime | None, before: datetime | None) -> tuple[int, int]:
        """Positions [lo, hi) of the entries written strictly after `after`
        and strictly before `before` (None: unbounded), found by bisection
        while `in_time_order`; else every entry's."""
        lo, hi = self._head, len(self._subjects)
        if not self.in_time_order:
            return lo, hi
        if after is not None:
            lo = bisect_right(range(hi), after, lo, hi, key=self._time_key)
        if before is not None:
            hi = bisect_left(range(hi), before, lo, hi, key=self._time_key)
        return lo, hi

    def _time_key(self, position: int) -> datetime:
        """The time of an entry for bisection: a hole's as written, a gap's
        the next entry's (the log's are in time order)."""
        subjects, whens, size = self._subjects, self._whens, len(self._subjects)
        while position < size:
            subject = subjects[position]
            if type(subject) is EventLog:
                return subject.when
            when = whens[position]
            if when is not None:
                return when
            position += 1
        return datetime.max.replace(tzinfo=UTC)

    def dag_positions(self, dag_id: str, lo: int, hi: int) -> range | list[int]:
        """Positions in [lo, hi) of the entries whose rows are the DAG's,
        ascending (and those of rows deleted since)."""
        numbers = self._by_dag.get(dag_id)
        if numbers is None:
            return range(0)
        base = self._base
        first, last = bisect_left(numbers, base + lo), bisect_left(numbers, base + hi)
        return [number - base for number in numbers[first:last]]

    def entry_columns(self) -> tuple[list[Subject], list[datetime | None], bytearray]:
        """Subjects, times and codes by position, to read, never write."""
        return self._subjects, self._whens, self._codes

    def labels(self) -> list[tuple[Part, ...]]:
        """The rows of each code's entries (code -> parts)."""
        return self._parts

    def id_at(self, position: int) -> int:
        """The id of the first row of the entry at `position`."""
        return self._id_at(position)

    def read(self, position: int, part: int, key: int) -> EventLog:
        """Row `part` (id `key`) of the entry at `position`, not a hole."""
        row = self._read(position, part, key)
        assert row is not None
        return row

    # -- snapshots, pins, retention -------------------------------------------

    def columns(self) -> Columns:
        """The entries as they are kept (subjects, whens, codes, labels),
        the first at id first_id, for a snapshot; read, never write."""
        self._give_back()
        return self._subjects, self._whens, bytes(self._codes), self._events

    def load(self, columns: Columns, pinned: Iterable[tuple[TaskInstance, Context]],
             first_id: int = 1) -> None:  # fmt: skip
        """Entries a snapshot held (`columns()`, the first at `first_id`),
        replacing these; `pinned`: the context of the rows of instances
        whose run is gone."""
        subjects, whens, codes, events = columns
        self._subjects, self._whens, self._codes = subjects, whens, bytearray(codes)
        self._events, self._parts = list(events), []
        self._widths = bytearray(b"\x01" * 256)
        for code, label in enumerate(self._events):
            self._learn(code, label)
        for position, subject in enumerate(subjects):
            if type(subject) is not TaskInstance:
                self._codes[position] = OTHER
        self._head = self._base = 0
        self._rebuild(first_id)
        self._count = sum(self._widths[self._codes[p]] for p, s in enumerate(subjects) if s)
        self._reindex()
        self.generation += 1
        bound = self.next_id
        self._pinned = {id(ti): (ti, context, bound) for ti, context in pinned}
        self.in_time_order, self._latest = True, None
        for position in range(len(subjects)):
            self._written(self._when(position), last=True)

    def _reindex(self) -> None:
        """The per-DAG index and the count of task holes, from the columns."""
        self._by_dag, self.task_holes = {}, 0
        codes = self._codes
        for position, subject in enumerate(self._subjects):
            if subject is not None:
                if subject.dag_id:
                    self._index(subject.dag_id).append(position)
            elif codes[position] != OTHER:
                self.task_holes += 1

    def _rebuild(self, first_id: int) -> None:
        """The kept ids, the entry at position 0 starting at `first_id`."""
        self._starts = array("q")
        key, codes, widths = first_id, self._codes, self._widths
        for start in range(0, len(codes), BLOCK):
            self._starts.append(key)
            key += sum(codes[start : start + BLOCK].translate(widths))
        self._next_id = key

    def clear(self) -> None:
        self.__init__(self._context)  # type: ignore[misc]

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
        subjects, whens, codes, widths = self._subjects, self._whens, self._codes, self._widths
        head, size, dropped = self._head, len(subjects), 0
        while head < size:
            if subjects[head] is not None:
                when = self._when(head)
                if when is None or when >= moment:
                    break
                subjects[head] = whens[head] = None
                dropped += widths[codes[head]]
            elif codes[head] != OTHER:
                self.task_holes -= 1
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
            first = self.first_id
            del self._subjects[:head], self._whens[:head], self._codes[:head]
            self._head = 0
            self._base += head
            self._rebuild(first)
            base, by_dag = self._base, self._by_dag
            for dag_id, numbers in list(by_dag.items()):
                del numbers[: bisect_left(numbers, base)]
                if not numbers:
                    del by_dag[dag_id]


def _field(read: Callable[[TaskEventLog], Any]) -> Any:
    """A read-only field of a task row."""
    return property(read)


class TaskEventLog(EventLog):
    """A task row read as an EventLog: its fields come from its entry when
    asked for (listing a large log builds one of these per row, so they are
    cheap; most callers only look at a few fields of most rows)."""

    __slots__ = ("_at", "_code", "_key", "_logs", "_part", "_ti")

    def __init__(self, logs: EventLogs, key: int, ti: TaskInstance, when: datetime | None,
                 code: int, part: int) -> None:  # fmt: skip
        self._logs, self._key, self._ti, self._at = logs, key, ti, when
        self._code, self._part = code, part

    def _extra(self) -> str | None:
        return self._logs.part(self._code, self._part)[1]

    def _context(self) -> Context:
        return (OS_USER, None) if self._extra() is not None else self._logs.context(self._ti)

    id = _field(lambda row: row._key)
    when = _field(lambda row: row._at)
    event = _field(lambda row: row._logs.part(row._code, row._part)[0])
    dag_id = _field(lambda row: row._ti.dag_id)
    task_id = _field(lambda row: row._ti.task_id)
    owner = _field(lambda row: row._context()[0])
    execution_date = _field(lambda row: row._context()[1])
    extra = _field(lambda row: row._extra())
    # Airflow 2.10's columns: a task row's run, map index and try (the try
    # that had started by the row's time); a `cli_*` row has none.
    run_id = _field(lambda row: None if row._extra() is not None else row._ti.run_id)
    map_index = _field(lambda row: None if row._extra() is not None else row._ti.map_index)
    try_number = _field(lambda row: None if row._extra() is not None else row._try_number())

    def _try_number(self) -> int:
        return try_at(self._ti, self._at)


def try_at(ti: TaskInstance, when: datetime | None) -> int:
    """The instance's try that had started by `when` (its first try if none)."""
    attempt = ti.last_try
    while attempt is not None:
        if when is None or attempt.start_date <= when or attempt.previous is None:
            return attempt.try_number
        attempt = attempt.previous
    return ti.try_number
