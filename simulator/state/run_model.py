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
    # Ids of the dataset events that triggered a dataset_triggered run.
    consumed_events: list[int] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.dag_id, self.run_id)


@dataclass(slots=True, kw_only=True)
class TaskTry:
    """One attempt of a task instance, enough to render its log."""

    try_number: int
    hostname: str
    pid: int
    start_date: datetime
    end_date: datetime | None = None
    outcome: str | None = None  # success | failed | up_for_retry | deferred ...
    deferred_until: datetime | None = None


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
    tries: list[TaskTry] = field(default_factory=list)
    # The pending engine event for this instance (finish, retry, trigger), if
    # any, and the current try's random draws: engine bookkeeping.
    pending: Any = field(default=None, repr=False, compare=False)
    draws: Any = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.dag_id, self.run_id, self.task_id, self.map_index)


@dataclass(slots=True, kw_only=True)
class XCom:
    id: int = 0
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    key: str
    value: Any
    timestamp: datetime

    @property
    def ident(self) -> tuple[str, str, str, int, str]:
        return (self.dag_id, self.run_id, self.task_id, self.map_index, self.key)


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
