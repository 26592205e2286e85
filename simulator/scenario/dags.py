"""DAG definitions from scenario files into Dag entities.

A definition names its tasks in order with their upstream task ids; the
rest has Airflow's defaults. Errors carry the path of the field inside the
definition (`tasks[1].upstream`), so scenario errors can name the file too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from itsdangerous import URLSafeSerializer

from simulator.engine.clock import EARLIEST, LATEST
from simulator.engine.timetable import parse_schedule
from simulator.state.dag_model import Dag, Task

DAGS_FOLDER = "/opt/airflow/dags"
TASK_FIELDS = set(Task.__dataclass_fields__) - {"downstream", "start_date", "end_date"}
DAG_FIELDS = {
    "dag_id", "description", "doc_md", "schedule", "start_date", "end_date", "catchup",
    "max_active_runs", "max_active_tasks", "is_paused", "tags", "params", "default_view",
    "orientation", "dag_run_timeout", "render_template_as_native_obj", "template_search_path",
    "tasks", "fileloc", "owner", "is_paused_upon_creation", "retries", "retry_delay",
    "dag_display_name", "max_consecutive_failed_dag_runs",
}  # fmt: skip
# Airflow 2.5.3's trigger rules (utils/trigger_rule.py); BaseOperator
# renames two deprecated ones, so the API shows the new names.
TRIGGER_RULES = frozenset({
    "all_success", "all_failed", "all_done", "all_skipped", "one_success", "one_failed",
    "one_done", "none_failed", "none_skipped", "none_failed_or_skipped",
    "none_failed_min_one_success", "dummy", "always",
})  # fmt: skip
RENAMED_RULES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}
# Keys of a DAG that become defaults of its tasks (Airflow's default_args).
DEFAULT_ARGS = ("owner", "retries", "retry_delay")


class DagDefinitionError(ValueError):
    def __init__(self, dag_id: str, path: str, message: str) -> None:
        self.dag_id, self.path, self.message = dag_id, path, message
        where = f"dag {dag_id}" if dag_id else "dag"
        super().__init__(f"{where}{'.' + path if path else ''}: {message}")


def parse_instant(value: Any) -> datetime:
    """An ISO 8601 instant with an offset (`Z` allowed) from EARLIEST to
    before LATEST; ValueError otherwise."""
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a timezone is required")
    if parsed >= LATEST:
        raise ValueError(f"instants from {LATEST.date()} on are not supported")
    if parsed < EARLIEST:
        raise ValueError(f"instants before {EARLIEST.date()} are not supported")
    return parsed


def _datetime(value: Any, dag_id: str, path: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise DagDefinitionError(dag_id, path, str(exc)) from None


def file_token(secret_key: str, fileloc: str) -> str:
    """Airflow's URLSafeSerializer([webserver] secret_key).dumps(fileloc)."""
    return str(URLSafeSerializer(secret_key).dumps(fileloc))


def dag_from_dict(data: dict[str, Any], secret_key: str) -> Dag:
    dag_id = str(data.get("dag_id") or "")
    if not dag_id:
        raise DagDefinitionError("", "dag_id", "a dag_id is required")
    unknown = set(data) - DAG_FIELDS
    if unknown:
        raise DagDefinitionError(dag_id, "", f"unknown field(s) {', '.join(sorted(unknown))}")
    try:
        schedule = parse_schedule(data.get("schedule"))
    except ValueError as exc:
        raise DagDefinitionError(dag_id, "schedule", str(exc)) from None
    fileloc = data.get("fileloc") or f"{DAGS_FOLDER}/{dag_id}.py"
    dag = Dag(
        dag_id=dag_id,
        fileloc=fileloc,
        file_token=file_token(secret_key, fileloc),
        schedule=schedule,
        start_date=_datetime(data.get("start_date"), dag_id, "start_date"),
        end_date=_datetime(data.get("end_date"), dag_id, "end_date"),
        **{k: data[k] for k in DAG_FIELDS - {"dag_id", "schedule", "start_date", "end_date",
                                              "tasks", "fileloc", *DEFAULT_ARGS} if k in data},
    )  # fmt: skip
    defaults = {k: data[k] for k in DEFAULT_ARGS if k in data}
    for index, spec in enumerate(data.get("tasks") or []):
        where = f"tasks[{index}]"
        task = _task(spec, defaults, dag_id, where)
        if task.task_id in dag.tasks:
            raise DagDefinitionError(
                dag_id, f"{where}.task_id", f"duplicate task_id {task.task_id!r}"
            )
        task.start_date = dag.start_date
        dag.tasks[task.task_id] = task
    _link(dag)
    return dag


def _task(spec: Any, defaults: dict[str, Any], dag_id: str, where: str) -> Task:
    if not isinstance(spec, dict) or not spec.get("task_id"):
        raise DagDefinitionError(dag_id, where, "a task needs a task_id")
    unknown = set(spec) - TASK_FIELDS
    if unknown:
        raise DagDefinitionError(dag_id, where, f"unknown field(s) {', '.join(sorted(unknown))}")
    if spec.get("trigger_rule", "all_success") not in TRIGGER_RULES:
        rule = spec["trigger_rule"]
        raise DagDefinitionError(dag_id, f"{where}.trigger_rule", f"unknown rule {rule!r}")
    try:
        task = Task(**{**defaults, **spec})
    except TypeError as exc:
        raise DagDefinitionError(dag_id, where, str(exc)) from None
    task.trigger_rule = RENAMED_RULES.get(task.trigger_rule, task.trigger_rule)
    # An operator of Airflow's own has its class's template fields, whatever
    # the definition lists (a provider's or a custom operator keeps its list).
    fields = CORE_TEMPLATE_FIELDS.get((task.module_path, task.operator))
    if fields is not None:
        task.template_fields = list(fields)
    return task


# (module, class) -> template_fields of Airflow 2.5.3's operators and sensors
# (a subclass that sets none has its base class's).
CORE_TEMPLATE_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("airflow.operators.python", "PythonOperator"): ("templates_dict", "op_args", "op_kwargs"),
    ("airflow.operators.python", "BranchPythonOperator"): ("templates_dict", "op_args",
                                                           "op_kwargs"),
    ("airflow.operators.python", "ShortCircuitOperator"): ("templates_dict", "op_args",
                                                           "op_kwargs"),
    ("airflow.operators.bash", "BashOperator"): ("bash_command", "env"),
    ("airflow.operators.empty", "EmptyOperator"): (),
    ("airflow.operators.email", "EmailOperator"): ("to", "subject", "html_content", "files"),
    ("airflow.operators.trigger_dagrun", "TriggerDagRunOperator"): (
        "trigger_dag_id", "trigger_run_id", "execution_date", "conf"),
    ("airflow.sensors.date_time", "DateTimeSensor"): ("target_time",),
    ("airflow.sensors.date_time", "DateTimeSensorAsync"): ("target_time",),
    ("airflow.sensors.python", "PythonSensor"): ("templates_dict", "op_args", "op_kwargs"),
    ("airflow.sensors.external_task", "ExternalTaskSensor"): (
        "external_dag_id", "external_task_id", "external_task_ids"),
}  # fmt: skip


def _link(dag: Dag) -> None:
    for index, task in enumerate(dag.tasks.values()):
        for upstream in task.upstream:
            if upstream not in dag.tasks:
                raise DagDefinitionError(
                    dag.dag_id, f"tasks[{index}].upstream", f"unknown task {upstream!r}"
                )
            dag.tasks[upstream].downstream.append(task.task_id)
    # Topological check: Airflow refuses cycles.
    done: set[str] = set()
    remaining = dict(dag.tasks)
    while remaining:
        ready = [t for t in remaining.values() if all(u in done for u in t.upstream)]
        if not ready:
            cycle = ", ".join(sorted(remaining))
            raise DagDefinitionError(dag.dag_id, "tasks", f"the tasks form a cycle ({cycle})")
        for task in ready:
            done.add(task.task_id)
            del remaining[task.task_id]
