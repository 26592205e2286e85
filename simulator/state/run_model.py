"""What happens when DAGs run: runs, task instances and their tries, XComs,
datasets and dataset events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    # Ids of the dataset events that triggered a dataset_triggered run (the
    # shared empty tuple for other runs).
    consumed_events: list[int] | tuple[()] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.dag_id, self.run_id)


@dataclass(slots=True)
class TaskTry:
    """One attempt of a task instance, enough to render its log."""

    try_number: int
    hostname: str
    pid: int
    start_date: datetime
    end_date: datetime | None = None
    outcome: str | None = None  # success | failed | up_for_retry | deferred ...
    deferred_until: datetime | None = None
    # The instance's try before this one: tries are a chain from the last
    # (one reference each, rather than a tuple per task instance).
    previous: TaskTry | None = field(default=None, repr=False, compare=False)
    # A fault's effect on this try (engine/effects.py): the fault's id, the
    # effect (fail | stuck | slow), a failure's message, a slow try's factor.
    fault: str | None = None
    effect: str | None = None
    message: str | None = None
    factor: float | None = None
    # The LocalTaskJob row this try ran as, and the trigger row of a try that
    # deferred: numbered when the try starts (defers), as Airflow's rows are.
    job_id: int = 0
    trigger_id: int | None = None


@dataclass(slots=True, kw_only=True)
class TaskInstance:
    id: int = 0
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    state: str | None = None
    pool: str = "default_pool"
    pool_slots: int = 1
    queue: str = "default"
    priority_weight: int = 1
    try_number: int = 0
    max_tries: int = 0
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration: float | None = None
    hostname: str = ""
    unixname: str = "airflow"
    pid: int | None = None
    queued_dttm: datetime | None = None
    operator: str | None = None
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
