"""DAG definitions: what the simulated DAG files declare (Airflow's DagBag and
DagModel rows in one), plus the simulation knobs of each task."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Schedule kinds; `value` is the cron expression or preset, the timedelta in
# seconds, or the dataset URIs.
CRON, DELTA, ONCE, NONE, DATASETS = "cron", "timedelta", "once", "none", "datasets"


@dataclass(slots=True, kw_only=True)
class Schedule:
    kind: str = NONE
    value: Any = None


@dataclass(slots=True, kw_only=True)
class Task:
    task_id: str
    operator: str = "BashOperator"
    module_path: str = "airflow.operators.bash"
    upstream: list[str] = field(default_factory=list)
    downstream: list[str] = field(default_factory=list)
    trigger_rule: str = "all_success"
    retries: int = 0
    retry_delay: float = 300.0  # seconds
    retry_exponential_backoff: bool = False
    max_retry_delay: float | None = None
    pool: str = "default_pool"
    pool_slots: int = 1
    conn_id: str | None = None  # the connection its hook uses (named in its log)
    queue: str = "default"
    priority_weight: int = 1
    weight_rule: str = "downstream"
    owner: str = "airflow"
    execution_timeout: float | None = None  # seconds
    depends_on_past: bool = False
    wait_for_downstream: bool = False
    map_count: int | None = None  # mapped task: map_index 0..n-1
    outlets: list[str] = field(default_factory=list)  # dataset URIs
    xcom_keys: list[str] = field(default_factory=list)  # pushed besides return_value
    template_fields: list[str] = field(default_factory=list)
    extra_links: list[str] = field(default_factory=list)
    ui_color: str = "#fff"
    ui_fgcolor: str = "#000"
    start_date: datetime | None = None
    end_date: datetime | None = None
    doc_md: str | None = None
    # Airflow 2.9+: the name UIs show (None: the task_id) and the executor
    # that runs it (None: the deployment's default).
    task_display_name: str | None = None
    executor: str | None = None
    # Simulation: duration ~ lognormal around `duration` seconds with `jitter`
    # (relative spread); each try fails with `failure_rate`; `fail_tries`
    # lists tries that always fail; sensors defer for `deferral` seconds.
    duration: float = 60.0
    jitter: float = 0.25
    failure_rate: float = 0.0
    fail_tries: list[int] = field(default_factory=list)
    deferral: float | None = None
    # A branch operator: on success it follows one direct downstream task.
    branch: bool = False

    @property
    def is_mapped(self) -> bool:
        return self.map_count is not None


DATE_TIME_SENSORS = frozenset({"DateTimeSensor", "DateTimeSensorAsync"})


def target_time(task: Task, interval_end: datetime) -> datetime:
    """A DateTimeSensor's rendered target_time: its run's data interval end,
    plus the task's `deferral` seconds when it has one (the template adds
    that timedelta)."""
    return interval_end + timedelta(seconds=task.deferral or 0)


@dataclass(slots=True, kw_only=True)
class Dag:
    id: int = 0
    dag_id: str
    fileloc: str
    file_token: str = ""
    description: str | None = None
    doc_md: str | None = None
    schedule: Schedule = field(default_factory=Schedule)
    start_date: datetime | None = None
    end_date: datetime | None = None
    catchup: bool = True
    max_active_runs: int = 16
    max_active_tasks: int = 16
    is_paused: bool = False
    is_active: bool = True
    is_paused_upon_creation: bool | None = None
    tags: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    default_view: str = "grid"
    orientation: str = "LR"
    dag_run_timeout: float | None = None
    render_template_as_native_obj: bool = False
    # Airflow 2.9+: the name UIs show (None: the dag_id), and how many
    # consecutive failed runs pause the DAG (0: never).
    dag_display_name: str | None = None
    max_consecutive_failed_dag_runs: int = 0
    template_search_path: list[str] | None = None
    tasks: dict[str, Task] = field(default_factory=dict)
    last_parsed_time: datetime | None = None
    has_import_errors: bool = False
    # Kept true by the scheduler as time passes (DagModel.next_dagrun*).
    next_dagrun: datetime | None = None
    next_dagrun_data_interval_start: datetime | None = None
    next_dagrun_data_interval_end: datetime | None = None
    next_dagrun_create_after: datetime | None = None

    @property
    def owners(self) -> list[str]:
        seen: list[str] = []
        for task in self.tasks.values():
            if task.owner not in seen:
                seen.append(task.owner)
        return seen

    @property
    def has_task_concurrency_limits(self) -> bool:
        return False

    def roots(self) -> list[Task]:
        return [t for t in self.tasks.values() if not t.upstream]
