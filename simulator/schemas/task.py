"""Task bodies (Airflow's TaskSchema) and ordering by operator attribute.

The webserver's DAGs come from the serialized DAG table, so each task is a
SerializedBaseOperator (a MappedOperator when mapped). marshmallow's Number
fields dump floats: retries, pool_slots and priority_weight read `1.0`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from simulator.errors import BadRequest
from simulator.schemas.common import isoformat
from simulator.schemas.dag import dump_params, dump_timedelta
from simulator.state.dag_model import Dag, Task
from simulator.versions import V2_5, AirflowVersion

# BaseOperator's colours; an operator class usually declares its own.
BASE_UI_COLOR, BASE_UI_FGCOLOR = "#fff", "#000"
OPERATOR_UI_COLORS = {
    "BashOperator": "#f0ede4",
    "PythonOperator": "#ffefeb",
    "EmptyOperator": "#e8f7e4",
    "SQLExecuteQueryOperator": "#cdaaed",
    "SimpleHttpOperator": "#f4a460",
    "DateTimeSensor": "#e6f1f2",
    "DateTimeSensorAsync": "#e6f1f2",
    "ExternalTaskSensor": "#4db7db",
}


def ui_color(task: Task) -> str:
    if task.ui_color != BASE_UI_COLOR:
        return task.ui_color
    return OPERATOR_UI_COLORS.get(task.operator, BASE_UI_COLOR)


def _end_date(dag: Dag, task: Task) -> datetime | None:
    # Deserialization gives a task without its own end date the DAG's.
    return task.end_date or dag.end_date


def _start_date(dag: Dag, task: Task) -> datetime | None:
    return task.start_date or dag.start_date


def dump_task(dag: Dag, task: Task, version: AirflowVersion = V2_5) -> dict[str, Any]:
    """TaskSchema (no `sub_dag`: operators have no such attribute). Airflow
    2.10's adds the display name and doc_md; its spec's `executor` is no
    field of the schema, so no body has it."""
    body = _task(dag, task)
    if version.at_least("2.10"):
        body["task_display_name"] = task.task_display_name or task.task_id
        body["doc_md"] = task.doc_md
    return body


def _task(dag: Dag, task: Task) -> dict[str, Any]:
    return {
        "class_ref": {"module_path": task.module_path, "class_name": task.operator},
        "operator_name": task.operator,
        "task_id": task.task_id,
        "owner": task.owner,
        "start_date": isoformat(_start_date(dag, task)),
        "end_date": isoformat(_end_date(dag, task)),
        "trigger_rule": task.trigger_rule,
        "extra_links": [
            {"class_ref": {"module_path": task.module_path, "class_name": name}}
            for name in task.extra_links
        ],
        "depends_on_past": task.depends_on_past,
        "wait_for_downstream": task.wait_for_downstream,
        "retries": float(task.retries),
        "queue": task.queue,
        "pool": task.pool,
        "pool_slots": float(task.pool_slots),
        "execution_timeout": dump_timedelta(task.execution_timeout),
        "retry_delay": dump_timedelta(task.retry_delay),
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "priority_weight": float(task.priority_weight),
        "weight_rule": task.weight_rule,
        "ui_color": ui_color(task),
        "ui_fgcolor": task.ui_fgcolor,
        "template_fields": list(task.template_fields),
        "downstream_task_ids": list(task.downstream),
        # A task's params are its DAG's, merged with its own (it has none here).
        "params": dump_params(dag.params),
        "is_mapped": task.is_mapped,
    }


def dump_task_collection(
    dag: Dag, tasks: list[Task], version: AirflowVersion = V2_5
) -> dict[str, Any]:
    return {
        "tasks": [dump_task(dag, task, version) for task in tasks],
        "total_entries": len(tasks),
    }


def _delta(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


Getter = Callable[[Dag, Task], Any]


def _base_operator_only(name: str, value: Any) -> Getter:
    """An attribute BaseOperator sets (to its default here) and 2.5.3's
    MappedOperator lacks."""

    def get(dag: Dag, task: Task) -> Any:
        if task.is_mapped:
            raise AttributeError(f"'MappedOperator' object has no attribute '{name}'")
        return value

    return get


# Operator attributes get_tasks can order by (attrgetter on the operator).
ATTRIBUTES: dict[str, Getter] = {
    "task_id": lambda d, t: t.task_id,
    "label": lambda d, t: t.task_id,
    "dag_id": lambda d, t: d.dag_id,
    "owner": lambda d, t: t.owner,
    "operator_name": lambda d, t: t.operator,
    "task_type": lambda d, t: t.operator,
    "start_date": lambda d, t: _start_date(d, t),
    "end_date": lambda d, t: _end_date(d, t),
    "trigger_rule": lambda d, t: t.trigger_rule,
    "depends_on_past": lambda d, t: t.depends_on_past,
    "wait_for_downstream": lambda d, t: t.wait_for_downstream,
    "retries": lambda d, t: t.retries,
    "retry_delay": lambda d, t: _delta(t.retry_delay),
    "retry_exponential_backoff": lambda d, t: t.retry_exponential_backoff,
    "max_retry_delay": lambda d, t: _delta(t.max_retry_delay),
    "execution_timeout": lambda d, t: _delta(t.execution_timeout),
    "queue": lambda d, t: t.queue,
    "pool": lambda d, t: t.pool,
    "pool_slots": lambda d, t: t.pool_slots,
    "priority_weight": lambda d, t: t.priority_weight,
    "weight_rule": lambda d, t: t.weight_rule,
    "ui_color": lambda d, t: ui_color(t),
    "ui_fgcolor": lambda d, t: t.ui_fgcolor,
    "template_fields": lambda d, t: tuple(t.template_fields),
    "doc_md": lambda d, t: t.doc_md,
    # Sets, compared as Python compares them (subset order).
    "upstream_task_ids": lambda d, t: set(t.upstream),
    "downstream_task_ids": lambda d, t: set(t.downstream),
    "ignore_first_depends_on_past": lambda d, t: False,
    "do_xcom_push": _base_operator_only("do_xcom_push", True),
    "email_on_failure": _base_operator_only("email_on_failure", True),
    "email_on_retry": _base_operator_only("email_on_retry", True),
    # No `is_mapped`: 2.5.3's operators have none (only the serialized `_is_mapped`).
}


def _operator_class(task: Task) -> str:
    return "MappedOperator" if task.is_mapped else "SerializedBaseOperator"


def _sort_key(value: Any) -> tuple[int, Any]:
    # Airflow compares raw values (None with anything is a TypeError, a 500);
    # the simulator puts None last.
    return (1, 0) if value is None else (0, value)


def _attribute(dag: Dag, task: Task, name: str) -> Any:
    """attrgetter(name)(operator): dotted names walk into the value."""
    head, *rest = name.split(".")
    getter = ATTRIBUTES.get(head)
    if getter is None:
        raise AttributeError(f"'{_operator_class(task)}' object has no attribute '{head}'")
    value = getter(dag, task)
    for part in rest:
        value = getattr(value, part)
    return value


def order_tasks(dag: Dag, order_by: str | None) -> list[Task]:
    """sorted(dag.tasks, key=attrgetter(name.lstrip("-")), reverse=name[:1] == "-");
    an unknown attribute is a 400 with Python's AttributeError text."""
    order_by = "task_id" if order_by is None else order_by
    name = order_by.lstrip("-")
    tasks = list(dag.tasks.values())
    try:
        keys = [_sort_key(_attribute(dag, task, name)) for task in tasks]
    except AttributeError as err:
        raise BadRequest(detail=str(err)) from None
    order = sorted(range(len(tasks)), key=keys.__getitem__, reverse=order_by[:1] == "-")
    return [tasks[i] for i in order]


def task_ids(tasks: Iterable[Task]) -> list[str]:
    return [task.task_id for task in tasks]
