"""TaskInstance bodies (Airflow's TaskInstanceSchema); the request forms are
in task_instance_forms.py.

A task instance carries its run's logical date, the raw stored try counter
(2.10: counted from scheduling), `executor_config` as the string "{}", the
rendered template fields once the task has started, and, while deferred, its
trigger and the triggerer job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulator.engine import history
from simulator.schemas.common import isoformat, strftime
from simulator.schemas.page import Item, Page
from simulator.state.dag_model import Task, target_time
from simulator.state.deployment import TRIGGERER_HOST
from simulator.state.run_model import DagRun, TaskInstance, TaskTry
from simulator.versions import V2_5, AirflowVersion

DEFERRED = "deferred"
TRIGGER_CLASSPATH = "airflow.triggers.temporal.DateTimeTrigger"
# The triggerer's job row: the scheduler took id 1 when the deployment started.
TRIGGERER_JOB_ID = 2
EXECUTOR_CLASS = "CeleryExecutor"


@dataclass(frozen=True, slots=True)
class Triggerer:
    """What a deferred instance shows of the triggerer: its job row's times."""

    started: datetime
    heartbeat: datetime | None


def airflow_try_number(ti: TaskInstance) -> int:
    """The stored `_try_number`: Airflow decrements it when a task defers so
    that the resumed run continues the same try."""
    last = ti.last_try
    if last is not None and last.outcome == DEFERRED and not last.given_back \
            and ti.try_number > 0:  # fmt: skip
        return ti.try_number - 1
    return ti.try_number


def dump_task_instance(
    ti: TaskInstance,
    run: DagRun,
    task: Task | None,
    triggerer: Triggerer | None,
    trigger_id: int | None = None,
    version: AirflowVersion = V2_5,
) -> dict[str, Any]:
    """TaskInstanceSchema; `triggerer` is needed for a deferred instance only."""
    trigger = _deferral(ti)
    body = {
        "task_id": ti.task_id,
        "dag_id": ti.dag_id,
        "dag_run_id": ti.run_id,
        "map_index": ti.map_index,
        "execution_date": isoformat(run.logical_date),
        "start_date": isoformat(ti.start_date),
        "end_date": isoformat(ti.end_date),
        "duration": ti.duration,
        "state": ti.state,
        "try_number": airflow_try_number(ti),
        "max_tries": ti.max_tries,
        "hostname": ti.hostname,
        "unixname": ti.unixname,
        "pool": ti.pool,
        "pool_slots": ti.pool_slots,
        "queue": ti.queue,
        "priority_weight": ti.priority_weight,
        "operator": ti.operator,
        "queued_when": isoformat(ti.queued_dttm),
        "pid": ti.pid,
        # A PickleType column dumped by a String field: str({}).
        "executor_config": "{}",
        "note": ti.note,
        "sla_miss": None,
        "rendered_fields": rendered_fields(ti, run, task),
        "trigger": dump_trigger(trigger, task, trigger_id) if trigger else None,
        "triggerer_job": dump_triggerer_job(triggerer) if trigger and triggerer else None,
    }
    if version.at_least("2.10"):
        body.update(ti_fields_2_10(ti, task))
    return body


def ti_fields_2_10(ti: TaskInstance, task: Task | None) -> dict[str, Any]:
    """What Airflow 2.10's TaskInstanceSchema adds or counts otherwise: the
    display name and executor its task sets, no rendered map index (no task
    sets a map_index_template), and the try number counted from scheduling."""
    return {
        "task_display_name": display_name(ti, task),
        "executor": task.executor if task is not None else None,
        "rendered_map_index": None,
        "try_number": history.try_number(ti, task),
    }


def display_name(ti: TaskInstance, task: Task | None) -> str:
    return (task.task_display_name if task is not None else None) or ti.task_id


def dump_task_instance_collection(items: list[Item], total: int) -> Page:
    return Page("task_instances", items, total)


def ti_version(ti: TaskInstance, run: DagRun, task: Task | None) -> tuple[Any, ...] | None:
    """What dump_task_instance reads that may change; None for a deferred
    instance, whose triggerer's heartbeat moves with the clock."""
    if ti.state == DEFERRED:
        return None
    last = ti.last_try
    return (ti.state, ti.start_date, ti.end_date, ti.timed, ti.try_number, ti.max_tries,
            ti.hostname, ti.pid, ti.queued_dttm, ti.note, ti.spec, id(last),
            last.outcome if last is not None else None, run.logical_date,
            run.data_interval_end, id(task))  # fmt: skip


def dump_task_instance_reference(ti: TaskInstance, run: DagRun) -> dict[str, Any]:
    return {
        "task_id": ti.task_id,
        "dag_run_id": ti.run_id,
        "dag_id": ti.dag_id,
        "execution_date": isoformat(run.logical_date),
    }


def _deferral(ti: TaskInstance) -> TaskTry | None:
    """The try whose trigger the instance waits on, while it is deferred."""
    last = ti.last_try
    if ti.state == DEFERRED and last is not None and last.outcome == DEFERRED:
        return last
    return None


def deferred_at(attempt: TaskTry) -> datetime:
    """When the try handed over to the triggerer (the trigger row's
    created_date): a second into the try (engine/executor.py DEFER_AFTER)."""
    return attempt.start_date + timedelta(seconds=1)


def dump_trigger(attempt: TaskTry, task: Task | None, trigger_id: int | None) -> dict[str, Any]:
    moment = attempt.deferred_until or deferred_at(attempt)
    return {
        "id": trigger_id,
        "classpath": TRIGGER_CLASSPATH,
        # An ExtendedJSON column dumped by a String field: str() of the kwargs.
        "kwargs": "{'moment': " + pendulum_repr(moment) + "}",
        "created_date": isoformat(deferred_at(attempt)),
        "triggerer_id": TRIGGERER_JOB_ID,
    }


def dump_triggerer_job(triggerer: Triggerer) -> dict[str, Any]:
    return {
        "id": TRIGGERER_JOB_ID,
        "dag_id": None,
        "state": "running",
        "job_type": "TriggererJob",
        "start_date": isoformat(triggerer.started),
        "end_date": None,
        "latest_heartbeat": isoformat(triggerer.heartbeat),
        "executor_class": EXECUTOR_CLASS,
        "hostname": TRIGGERER_HOST,
        "unixname": "airflow",
    }


def pendulum_repr(moment: datetime) -> str:
    """repr() of a pendulum 2 DateTime in UTC, as trigger kwargs hold it."""
    parts = [moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second]
    if moment.microsecond:
        parts.append(moment.microsecond)
    return f"DateTime({', '.join(str(p) for p in parts)}, tzinfo=Timezone('UTC'))"


# -- rendered template fields ------------------------------------------------


def rendered_fields(ti: TaskInstance, run: DagRun, task: Task | None) -> dict[str, Any]:
    """Airflow writes the rendered fields when a try starts executing; before
    the first try they are absent and dump as {}."""
    if task is None or ti.last_try is None:
        return {}
    return {name: rendered_value(name, ti, run, task) for name in task.template_fields}


def rendered_value(name: str, ti: TaskInstance, run: DagRun, task: Task | None = None) -> Any:
    """A plausible rendered value of a template field (None for unknown ones)."""
    if name == "bash_command":
        # A BashOperator returns its last output line: the engine's "<task> done".
        return f'echo "{ti.task_id} done"'
    if name == "sql":
        ds = strftime(run.logical_date, "%Y-%m-%d")
        return f"SELECT * FROM {ti.task_id} WHERE ds = '{ds}'"
    if name == "target_time":
        end = run.data_interval_end or run.logical_date
        return isoformat(target_time(task, end) if task is not None else end)
    if name == "endpoint":
        return f"api/v1/{ti.task_id}"
    empty = EMPTY_RENDERED.get(name)
    return empty() if empty is not None else None


# Template fields that render empty: a new value each time (answers are dicts).
EMPTY_RENDERED: dict[str, Callable[[], Any]] = {
    "op_args": list, "op_kwargs": dict, "data": dict, "headers": dict,
}  # fmt: skip
