"""TaskInstance bodies (Airflow's TaskInstanceSchema) and the TI request forms.

A task instance carries its run's logical date, the raw stored try counter,
`executor_config` as the string "{}", the rendered template fields once the
task has started, and, while deferred, its trigger and the triggerer job.
Forms load as marshmallow 3 does in Airflow 2.5.3: fields in declaration
order, then unknown keys, the 400 detail being the Python repr of the errors.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulator.engine import history
from simulator.errors import BadRequest
from simulator.schemas.common import isoformat, strftime
from simulator.schemas.loading import MISSING, NULL, UNKNOWN
from simulator.schemas.page import Item, Page
from simulator.state.dag_model import Task, target_time
from simulator.state.deployment import TRIGGERER_HOST
from simulator.state.queries import TiQuery
from simulator.state.run_model import DagRun, TaskInstance, TaskTry
from simulator.versions import V2_5, AirflowVersion

DEFERRED = "deferred"
NOTE_MAX_LENGTH = 1000
NOT_INTEGER = "Not a valid integer."
TRIGGER_CLASSPATH = "airflow.triggers.temporal.DateTimeTrigger"
# The triggerer's job row: the scheduler took id 1 when the deployment started.
TRIGGERER_JOB_ID = 2
EXECUTOR_CLASS = "CeleryExecutor"
BATCH_DATES = (
    "execution_date_gte",
    "execution_date_lte",
    "start_date_gte",
    "start_date_lte",
    "end_date_gte",
    "end_date_lte",
)


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


# -- request forms -------------------------------------------------------------


def load_update_state(body: Mapping[str, Any]) -> tuple[bool, str]:
    """SetSingleTaskInstanceStateFormSchema: (dry_run, new_state).

    The spec already checked both types and new_state's enum. Without dry_run,
    Airflow 2.5.3 crashes (the field has no load default); later 2.x releases
    default it to true, and so does the simulator.
    """
    errors: dict[str, list[str]] = {}
    if "new_state" not in body:
        errors["new_state"] = [MISSING]
    _unknown(body, ("dry_run", "new_state"), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return bool(body.get("dry_run", True)), str(body["new_state"])


def load_note(body: Mapping[str, Any]) -> str | None:
    """SetTaskInstanceNoteFormSchema: the note (≤ 1000 characters); an integer
    `map_index` is accepted and ignored."""
    errors: dict[str, list[str]] = {}
    if "map_index" in body:
        error = _integer_error(body["map_index"], allow_none=False)
        if error:
            errors["map_index"] = [error]
    note = body.get("note")
    if isinstance(note, str) and len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [f"Longer than maximum length {NOTE_MAX_LENGTH}."]
    _unknown(body, ("map_index", "note"), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return note


@dataclass(frozen=True, slots=True)
class TiFilter:
    """The filters the TI list endpoints share (all optional, AND-ed)."""

    dates: Mapping[str, datetime | None]
    duration_gte: float | None = None
    duration_lte: float | None = None
    states: list[str | None] | None = None
    pools: list[str] | None = None
    queues: list[str] | None = None
    dag_ids: list[str] | None = None
    # Airflow 2.10's filters: the row's updated_at window, the executors
    # (`executor_of` answers an instance's), the batch's runs and tasks.
    updated_gte: datetime | None = None
    updated_lte: datetime | None = None
    executors: list[str] | None = None
    executor_of: Callable[[TaskInstance], str | None] | None = None
    run_ids: list[str] | None = None
    task_ids: list[str] | None = None

    def query(self, dag_ids: Collection[str] | None, run_id: str | None) -> TiQuery:
        """The store query: states, the logical-date window, the runs and the
        tasks go to the indices, the other filters (if any) to `keep`."""
        dates = self.dates
        others = (self.duration_gte, self.duration_lte, self.pools, self.queues,
                  self.updated_gte, self.updated_lte, self.executors,
                  *(dates[name] for name in BATCH_DATES[2:]))  # fmt: skip
        rest = any(value is not None and value != [] for value in others)
        return TiQuery(
            dag_ids=dag_ids,
            run_id=run_id,
            states=self.states or None,
            low=dates["execution_date_gte"],
            high=dates["execution_date_lte"],
            keep=self.matches if rest else None,
            # An empty list is no filter (an empty OR clause), as for states.
            run_ids=self.run_ids or None,
            task_ids=self.task_ids or None,
        )

    def matches(self, ti: TaskInstance, run: DagRun) -> bool:
        dates = self.dates
        ranges: list[tuple[Any, Any, Any]] = [
            (run.logical_date, dates["execution_date_gte"], dates["execution_date_lte"]),
            (ti.start_date, dates["start_date_gte"], dates["start_date_lte"]),
            (ti.end_date, dates["end_date_gte"], dates["end_date_lte"]),
            (ti.duration, self.duration_gte, self.duration_lte),
        ]
        if self.updated_gte is not None or self.updated_lte is not None:
            ranges.append((history.updated_at(ti, run), self.updated_gte, self.updated_lte))
        for value, low, high in ranges:
            if low is None and high is None:
                continue
            # SQL comparisons with NULL are never true.
            if value is None or (low is not None and value < low):
                return False
            if high is not None and value > high:
                return False
        # An empty list is no filter (an empty OR clause).
        for values, value in ((self.states, ti.state), (self.pools, ti.pool),
                              (self.queues, ti.queue), (self.dag_ids, ti.dag_id)):  # fmt: skip
            if values and value not in values:
                return False
        if self.executors and self.executor_of is not None:
            return self.executor_of(ti) in self.executors
        return True


def states_filter(states: Iterable[str] | None) -> list[str | None] | None:
    """Airflow's _convert_state: the literal `none` matches instances without a state."""
    if not states:
        return None
    return [None if state == "none" else state for state in states]


BATCH_FIELDS = ("page_offset", "page_limit", "dag_ids", *BATCH_DATES, "duration_gte",
                "duration_lte", "state", "pool", "queue")  # fmt: skip
# Airflow 2.10's form adds the runs and tasks (after dag_ids) and the executors.
BATCH_FIELDS_2_10 = ("page_offset", "page_limit", "dag_ids", "dag_run_ids", "task_ids",
                     *BATCH_FIELDS[3:], "executor")  # fmt: skip
BATCH_LIMIT = 100  # page_limit's load default in 2.10


@dataclass(frozen=True, slots=True)
class BatchForm:
    found: TiFilter
    offset: int = 0
    limit: int | None = None  # None: every match (2.5.3 never pages)


def load_batch_form(body: Mapping[str, Any], version: AirflowVersion = V2_5) -> BatchForm:
    """TaskInstanceBatchFormSchema; durations load as integers. Airflow 2.5.3
    declares the page fields (so accepts and checks them) but never pages;
    2.10 pages (100 by default) and filters by runs, tasks and executors."""
    errors: dict[str, list[str]] = {}
    for name, minimum in (("page_offset", 0), ("page_limit", 1)):
        if name in body:
            error = _integer_error(body[name], allow_none=False, minimum=minimum)
            if error:
                errors[name] = [error]
    later = version.at_least("2.10")
    _unknown(body, BATCH_FIELDS_2_10 if later else BATCH_FIELDS, errors)
    if errors:
        raise BadRequest(detail=str(errors))
    dates = {name: _datetime(body.get(name)) for name in BATCH_DATES}
    found = TiFilter(
        dates=dates,
        duration_gte=_truncated(body.get("duration_gte")),
        duration_lte=_truncated(body.get("duration_lte")),
        states=states_filter(body.get("state")),
        pools=body.get("pool"),
        queues=body.get("queue"),
        dag_ids=body.get("dag_ids"),
        executors=body.get("executor") if later else None,
        run_ids=body.get("dag_run_ids") if later else None,
        task_ids=body.get("task_ids") if later else None,
    )
    if not later:
        return BatchForm(found)
    offset = int(body.get("page_offset", 0))
    return BatchForm(found, offset, int(body.get("page_limit", BATCH_LIMIT)))


def _truncated(value: Any) -> int | None:
    # fields.Int(strict=False): 1.9 loads as 1.
    return None if value is None else int(value)


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00").replace("z", "+00:00"))


def _integer_error(value: Any, *, allow_none: bool, minimum: int | None = None) -> str | None:
    """marshmallow's Integer(strict=False) with an optional Range(min=...)."""
    if value is None:
        return None if allow_none else NULL
    if isinstance(value, bool):
        return NOT_INTEGER
    try:
        number = int(value)
    except (TypeError, ValueError):
        return NOT_INTEGER
    if minimum is not None and number < minimum:
        return f"Must be greater than or equal to {minimum}."
    return None


def _unknown(body: Mapping[str, Any], known: Iterable[str], errors: dict[str, list[str]]) -> None:
    allowed = set(known)
    for key in body:
        if key not in allowed:
            errors[key] = [UNKNOWN]
