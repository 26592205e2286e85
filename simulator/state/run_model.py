"""What happens when DAGs run: runs, task instances and their tries, XComs,
datasets and dataset events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar


@dataclass(slots=True, kw_only=True)
class DagRun:
    id: int = 0
    dag_id: str
    run_id: str
    logical_date: datetime
    run_type: str  # manual | scheduled | dataset_triggered | backfill
    state: str = "queued"
    external_trigger: bool = False
    conf: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    queued_at: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    last_scheduling_decision: datetime | None = None
    # When the API or the engine last changed the run (its row's onupdate
    # column); None in a world restored from a snapshot that predates it.
    updated_at: datetime | None = None
    # Ids of the dataset events that triggered a dataset_triggered run (the
    # shared empty tuple for other runs).
    consumed_events: list[int] | tuple[()] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.dag_id, self.run_id)


V = TypeVar("V")


class _Rare(Generic[V]):
    """A TaskTry attribute kept in the try's TryExtra, made on the first
    value other than the default."""

    def __init__(self, default: V) -> None:
        self.default = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, attempt: TaskTry | None, owner: type | None = None) -> V:
        extra = attempt.extra if attempt is not None else None
        return self.default if extra is None else getattr(extra, self.name)

    def __set__(self, attempt: TaskTry, value: V) -> None:
        if value != self.default or attempt.extra is not None:
            setattr(attempt._extra(), self.name, value)


@dataclass(slots=True)
class TaskTry:
    """One attempt of a task instance, enough to render its log."""

    try_number: int
    hostname: str
    pid: int
    start_date: datetime
    end_date: datetime | None = None
    outcome: str | None = None  # success | failed | up_for_retry | deferred ...
    # The instance's try before this one: tries are a chain from the last
    # (one reference each, rather than a tuple per task instance).
    previous: TaskTry | None = field(default=None, repr=False, compare=False)
    # The LocalTaskJob row this try ran as: numbered when the try starts, as
    # Airflow numbers its job rows.
    job_id: int = 0
    # What few tries have (a deferral, a fault's effect), in one slot: a
    # large world holds over half a million tries.
    extra: TryExtra | None = None

    def _extra(self) -> TryExtra:
        if self.extra is None:
            self.extra = TryExtra()
        return self.extra

    def mark(self, fault: str | None, effect: str | None, message: str | None = None,
             factor: float | None = None) -> None:  # fmt: skip
        """Remember a fault's effect on this try (engine/effects.py)."""
        extra = self._extra()
        extra.fault, extra.effect, extra.message, extra.factor = fault, effect, message, factor

    # Read (and set) through `extra`; a try without one has the default.
    deferred_until = _Rare[datetime | None](None)  # when its trigger fires
    trigger_id = _Rare[int | None](None)  # the trigger row of a try that deferred
    # Whether the instance was marked (success or failed) while this try was
    # deferred: Airflow then adds back the 1 it took off the try number when
    # the try deferred (api/common/mark_tasks.py).
    given_back = _Rare[bool](False)
    # Whether the instance was cleared while this try ran: its job then
    # terminated it (SIGTERM) and it went up for retry (engine/executor.py).
    cleared = _Rare[bool](False)
    # The instance's max_tries while this try and the ones before it ran, kept
    # when a clear raises it afterwards (their logs print "attempt N of M").
    max_tries = _Rare[int | None](None)
    fault = _Rare[str | None](None)
    effect = _Rare[str | None](None)
    message = _Rare[str | None](None)
    factor = _Rare[float | None](None)


@dataclass(slots=True)
class TryExtra:
    """A try's rare fields: when its trigger fires, the trigger row's id,
    whether a mark gave back its try number, whether a clear terminated it,
    the max_tries its log printed when a clear changed it since; a fault's
    effect (the fault's id, the effect (fail | stuck | slow), a failure's
    message, a slow try's factor)."""

    deferred_until: datetime | None = None
    trigger_id: int | None = None
    given_back: bool = False
    cleared: bool = False
    max_tries: int | None = None
    fault: str | None = None
    effect: str | None = None
    message: str | None = None
    factor: float | None = None


@dataclass(frozen=True, slots=True)
class TiSpec:
    """What a task instance takes from its task when its run is created: the
    same for every run of the task, so one shared object (ti_spec) stands in
    for six fields of each of hundreds of thousands of instances."""

    pool: str = "default_pool"
    pool_slots: int = 1
    queue: str = "default"
    priority_weight: int = 1
    operator: str | None = None
    unixname: str = "airflow"


_SPECS: dict[TiSpec, TiSpec] = {}


def ti_spec(**fields: Any) -> TiSpec:
    """The shared TiSpec with these fields."""
    spec = TiSpec(**fields)
    return _SPECS.setdefault(spec, spec)


DEFAULT_SPEC = ti_spec()


@dataclass(slots=True, kw_only=True)
class TaskInstance:
    id: int = 0
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    state: str | None = None
    spec: TiSpec = DEFAULT_SPEC  # pool, pool_slots, queue, priority_weight, operator, unixname
    try_number: int = 0
    max_tries: int = 0
    start_date: datetime | None = None
    end_date: datetime | None = None
    # Whether Airflow's set_duration stamped this end (a branch's skip does not).
    timed: bool = False
    hostname: str = ""
    pid: int | None = None
    queued_dttm: datetime | None = None
    note: str | None = None
    # The current (last) try; `tries` lists them all.
    last_try: TaskTry | None = field(default=None, repr=False)
    # The seq of the instance's pending engine event (pickup, finish, retry,
    # trigger), if any: engine bookkeeping, so that the event can be cancelled.
    pending: int | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.dag_id, self.run_id, self.task_id, self.map_index)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, as Airflow's set_duration stores them
        when it stamps an end (derived: one float object less per instance)."""
        if not self.timed or self.end_date is None or self.start_date is None:
            return None
        return (self.end_date - self.start_date).total_seconds()

    @property
    def pool(self) -> str:
        return self.spec.pool

    @property
    def pool_slots(self) -> int:
        return self.spec.pool_slots

    @property
    def queue(self) -> str:
        return self.spec.queue

    @property
    def priority_weight(self) -> int:
        return self.spec.priority_weight

    @property
    def operator(self) -> str | None:
        return self.spec.operator

    @property
    def unixname(self) -> str:
        return self.spec.unixname

    @property
    def tries(self) -> tuple[TaskTry, ...]:
        """Every try, first to last."""
        found: list[TaskTry] = []
        attempt = self.last_try
        while attempt is not None:
            found.append(attempt)
            attempt = attempt.previous
        return tuple(reversed(found))

    def add_try(self, attempt: TaskTry) -> None:
        attempt.previous = self.last_try
        self.last_try = attempt


@dataclass(slots=True)
class XCom:
    """An XCom entry, without a row id (no answer shows one); positional
    fields first, for the engine's many pushes."""

    dag_id: str
    run_id: str
    task_id: str
    key: str
    value: Any
    timestamp: datetime
    map_index: int = -1

    @property
    def ident(self) -> tuple[str, str, str, int, str]:
        return (self.dag_id, self.run_id, self.task_id, self.map_index, self.key)


_STORED = XCom.__dict__["value"]  # the slot under RowsXCom's property


class RowsXCom(XCom):
    """A return value `{"task": task_id, "rows": n}` as the simulated Python
    and SQL operators push it, holding only `n` in its value slot: the dict
    is built when read (hundreds of thousands live in a large world)."""

    __slots__ = ()

    @property
    def value(self) -> dict[str, Any]:
        return {"task": self.task_id, "rows": _STORED.__get__(self)}

    @value.setter
    def value(self, rows: int | dict[str, Any]) -> None:
        _STORED.__set__(self, rows["rows"] if isinstance(rows, dict) else rows)

    @property
    def rows(self) -> int:
        """n, as it is held."""
        return _STORED.__get__(self)


@dataclass(slots=True, kw_only=True)
class Dataset:
    id: int = 0
    uri: str
    extra: dict[str, Any] = field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True, kw_only=True)
class DatasetEvent:
    id: int = 0
    dataset_id: int
    extra: dict[str, Any] = field(default_factory=dict)
    source_dag_id: str | None = None
    source_task_id: str | None = None
    source_run_id: str | None = None
    source_map_index: int | None = -1
    timestamp: datetime
    created_dagruns: list[tuple[str, str]] = field(default_factory=list)
