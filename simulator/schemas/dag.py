"""DAG bodies (Airflow's DAGSchema, DAGDetailSchema) and the DAG tag's forms.

GET /dags and GET /dags/{id} dump the DagModel row; /details dumps the parsed
(serialized) DAG object, which lacks the row's scheduling columns: marshmallow
skips an attribute the object does not have, so those keys are absent there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from simulator.engine.timetable import description
from simulator.errors import BadRequest
from simulator.schemas.common import isoformat
from simulator.schemas.loading import MISSING, NULL, UNKNOWN
from simulator.state.dag_model import CRON, DATASETS, DELTA, ONCE, Dag, Schedule
from simulator.state.run_model import DagRun, TaskInstance
from simulator.versions import V2_5, V2_10, AirflowVersion

PARAM_CLASS = "airflow.models.param.Param"
# The webserver's DAGs are parsed in the default timezone (pendulum's repr).
TIMEZONE = "Timezone('UTC')"
# DatasetTriggeredTimetable.summary: what DagModel stores as schedule_interval.
DATASET_SUMMARY = "Dataset"


def dump_timedelta(seconds: float | None) -> dict[str, Any] | None:
    """TimeDeltaSchema: a timedelta as days, seconds and microseconds."""
    if seconds is None:
        return None
    delta = timedelta(seconds=seconds)
    return {
        "__type": "TimeDelta",
        "days": delta.days,
        "seconds": delta.seconds,
        "microseconds": delta.microseconds,
    }


def dump_schedule_interval(schedule: Schedule) -> dict[str, Any] | None:
    """ScheduleIntervalSchema: strings (cron, presets, @once, "Dataset") are
    CronExpressions, a timedelta a TimeDelta, no schedule null."""
    if schedule.kind in (CRON, ONCE):
        return {"__type": "CronExpression", "value": str(schedule.value)}
    if schedule.kind == DATASETS:
        return {"__type": "CronExpression", "value": DATASET_SUMMARY}
    if schedule.kind == DELTA:
        return dump_timedelta(schedule.value)
    return None


def owners(dag: Dag) -> list[str]:
    """DAG.owner is ", ".join(task owners), split again on "," (so later
    owners keep a leading space, as in Airflow)."""
    joined = ", ".join(dag.owners)
    return joined.split(",") if joined else []


def dump_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Param.dump() of each DAG param (plain values become Params)."""
    return {
        name: {"__class": PARAM_CLASS, "value": value, "description": None, "schema": {}}
        for name, value in params.items()
    }


def _tags(dag: Dag) -> list[dict[str, str]]:
    return [{"name": tag} for tag in dag.tags]


def dump_dag(dag: Dag, version: AirflowVersion = V2_5) -> dict[str, Any]:
    """DAGSchema over the DagModel row."""
    body = _row(dag)
    if version.at_least("2.10"):
        body.update(_added_2_10(dag))
    return body


def _added_2_10(dag: Dag) -> dict[str, Any]:
    """The DagModel columns Airflow 2.9 added to DAGSchema."""
    return {
        "dag_display_name": dag.dag_display_name or dag.dag_id,
        "max_consecutive_failed_dag_runs": dag.max_consecutive_failed_dag_runs,
    }


def _row(dag: Dag) -> dict[str, Any]:
    return {
        **_parsed(dag),
        "is_paused": dag.is_paused,
        "is_active": dag.is_active,
        "last_parsed_time": isoformat(dag.last_parsed_time),
        "max_active_tasks": dag.max_active_tasks,
        "max_active_runs": dag.max_active_runs,
        "has_import_errors": dag.has_import_errors,
        "next_dagrun": isoformat(dag.next_dagrun),
        "next_dagrun_data_interval_start": isoformat(dag.next_dagrun_data_interval_start),
        "next_dagrun_data_interval_end": isoformat(dag.next_dagrun_data_interval_end),
        "next_dagrun_create_after": isoformat(dag.next_dagrun_create_after),
    }


# The fields a DAG's file fixes (its tasks' owners, schedule and its
# description, tags), made once per Dag object: a page of 100 DAGs would
# otherwise describe 100 timetables per request. Keyed by id() with the
# object kept, so a new Dag never reads another's entry; cleared when full.
_PARSED: dict[int, tuple[Dag, dict[str, Any]]] = {}
MAX_PARSED = 1 << 14


def _parsed(dag: Dag) -> dict[str, Any]:
    found = _PARSED.get(id(dag))
    if found is not None and found[0] is dag:
        return found[1]
    fields = {
        "dag_id": dag.dag_id,
        "root_dag_id": None,
        "is_subdag": False,
        "last_pickled": None,
        "last_expired": None,
        "scheduler_lock": None,
        "pickle_id": None,
        "default_view": dag.default_view,
        "fileloc": dag.fileloc,
        "file_token": dag.file_token,
        "owners": owners(dag),
        "description": dag.description,
        "schedule_interval": dump_schedule_interval(dag.schedule),
        "timetable_description": description(dag.schedule),
        "tags": _tags(dag),
        "has_task_concurrency_limits": dag.has_task_concurrency_limits,
    }
    if len(_PARSED) >= MAX_PARSED:
        _PARSED.clear()
    _PARSED[id(dag)] = (dag, fields)
    return fields


def dump_dag_collection(
    dags: Iterable[Dag], total: int, version: AirflowVersion = V2_5
) -> dict[str, Any]:
    return {"dags": [dump_dag(dag, version) for dag in dags], "total_entries": total}


def dump_dag_detail(dag: Dag, version: AirflowVersion = V2_5) -> dict[str, Any]:
    if version.at_least("2.10"):
        return dump_dag_detail_2_10(dag)
    return _dag_detail(dag)


def dataset_expression(dag: Dag) -> dict[str, Any] | None:
    """DagModel.dataset_expression: a dataset schedule's condition as JSON
    (a list of datasets is DatasetAll of them)."""
    if dag.schedule.kind != DATASETS:
        return None
    return {"all": list(dag.schedule.value)}


def dump_dag_detail_2_10(dag: Dag) -> dict[str, Any]:
    """Airflow 2.10's DAGDetailSchema dumps the DagModel row with the parsed
    DAG's attributes set on it where the row has none: every DAGSchema
    field, plus the DAG's own. Its owners read an `owner` attribute neither
    has, so they are always empty."""
    detail = _dag_detail(dag)
    del detail["owners"]
    return {
        **dump_dag(dag, V2_10),
        **detail,
        "owners": [],
        "timezone": "UTC",
        "template_searchpath": _search_path(dag),
        "dataset_expression": dataset_expression(dag),
    }


def _search_path(dag: Dag) -> str | None:
    # A String field over the DAG's list: its str().
    path = dag.template_search_path
    return None if path is None else str(path)


def _dag_detail(dag: Dag) -> dict[str, Any]:
    """DAGDetailSchema over the serialized DAG object.

    The row-only columns (root_dag_id, last_parsed_time, last_pickled,
    last_expired, scheduler_lock, timetable_description,
    has_task_concurrency_limits, has_import_errors, next_dagrun*) are absent,
    and so is template_search_path: the DAG attribute is template_searchpath.
    """
    return {
        "dag_id": dag.dag_id,
        "is_paused": dag.is_paused,
        "is_active": dag.is_active,
        "is_subdag": False,
        "pickle_id": None,
        "default_view": dag.default_view,
        "fileloc": dag.fileloc,
        "file_token": dag.file_token,
        "owners": owners(dag),
        "description": dag.description,
        "schedule_interval": dump_schedule_interval(dag.schedule),
        "tags": _tags(dag),
        "max_active_tasks": dag.max_active_tasks,
        "max_active_runs": dag.max_active_runs,
        "timezone": TIMEZONE,
        "catchup": dag.catchup,
        "orientation": dag.orientation,
        "concurrency": dag.max_active_tasks,
        "start_date": isoformat(dag.start_date),
        "dag_run_timeout": dump_timedelta(dag.dag_run_timeout),
        "doc_md": dag.doc_md,
        "params": dump_params(dag.params),
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "end_date": isoformat(dag.end_date),
        "render_template_as_native_obj": dag.render_template_as_native_obj,
        "last_parsed": isoformat(dag.last_parsed_time),
    }


def dump_ti_reference(ti: TaskInstance, run: DagRun) -> dict[str, Any]:
    """TaskInstanceReferenceSchema."""
    return {
        "task_id": ti.task_id,
        "dag_run_id": ti.run_id,
        "dag_id": ti.dag_id,
        "execution_date": isoformat(run.logical_date),
    }


def dump_ti_references(pairs: Iterable[tuple[TaskInstance, DagRun]]) -> dict[str, Any]:
    return {"task_instances": [dump_ti_reference(ti, run) for ti, run in pairs]}


# -- request bodies -------------------------------------------------------


def load_dag_patch(body: Mapping[str, Any]) -> dict[str, Any]:
    """DAGSchema.load: only is_paused loads; every other key is unknown
    (the spec layer already refused the read-only ones).

    Airflow stores `"is_paused": null` (a DAG neither paused nor unpaused);
    the simulator refuses it as a non-nullable field instead.
    """
    errors: dict[str, list[str]] = {}
    if "is_paused" in body and body["is_paused"] is None:
        errors["is_paused"] = [NULL]
    errors.update({key: [UNKNOWN] for key in body if key != "is_paused"})
    if errors:
        raise BadRequest(detail=str(errors))
    return dict(body)


# marshmallow 3's from_iso_datetime pattern.
_ISO_DATETIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:\.(?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


class _Invalid(Exception):
    pass


def _parse_iso(value: Any) -> datetime:
    """marshmallow's DateTime field: ISO 8601, then Airflow's validate_istimezone."""
    match = _ISO_DATETIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise _Invalid("Not a valid datetime.")
    parts = match.groupdict()
    zone = parts.pop("tzinfo")
    micro = parts.pop("microsecond")
    numbers = {k: int(v) for k, v in parts.items() if v is not None}
    try:
        moment = datetime(
            numbers["year"],
            numbers["month"],
            numbers["day"],
            numbers["hour"],
            numbers["minute"],
            numbers.get("second", 0),
            int(micro.ljust(6, "0")) if micro else 0,
        )
    except ValueError:
        raise _Invalid("Not a valid datetime.") from None
    if zone is None:
        raise BadRequest("Invalid datetime format", detail="Naive datetime is disallowed")
    if zone == "Z":
        return moment.replace(tzinfo=UTC)
    minutes = 60 * int(zone[1:3]) + (int(zone[-2:]) if len(zone) > 3 else 0)
    offset = timedelta(minutes=-minutes if zone[0] == "-" else minutes)
    return moment.replace(tzinfo=timezone(offset))


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    kind: str  # bool | str | datetime | list
    required: bool = False
    default: Any = None
    has_default: bool = False


def _form_value(field: FormField, value: Any) -> Any:
    if value is None:
        # Only fields whose load default is None accept null.
        if field.has_default and field.default is None:
            return None
        raise _Invalid(NULL)
    if field.kind == "datetime":
        return _parse_iso(value)
    return value  # the spec layer has checked the JSON type


def load_form(body: Mapping[str, Any], fields: Iterable[FormField]) -> dict[str, Any]:
    """Schema.load for the DAG tag's action forms: fields in declaration order
    (a naive datetime aborts at once), then unknown keys, then load defaults."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    known = set()
    for field in fields:
        known.add(field.name)
        if field.name not in body:
            if field.required:
                errors[field.name] = [MISSING]
            elif field.has_default:
                data[field.name] = field.default
            continue
        try:
            data[field.name] = _form_value(field, body[field.name])
        except _Invalid as invalid:
            errors[field.name] = [str(invalid)]
    for key in body:
        if key not in known:
            errors[key] = [UNKNOWN]
    if errors:
        raise BadRequest(detail=str(errors))
    return data


def _opt(name: str, kind: str, default: Any) -> FormField:
    return FormField(name, kind, default=default, has_default=True)


CLEAR_FORM = (
    _opt("dry_run", "bool", True),
    _opt("start_date", "datetime", None),
    _opt("end_date", "datetime", None),
    _opt("only_failed", "bool", True),
    _opt("only_running", "bool", False),
    _opt("include_subdags", "bool", False),
    _opt("include_parentdag", "bool", False),
    _opt("reset_dag_runs", "bool", False),
    FormField("task_ids", "list"),
    _opt("dag_run_id", "str", None),
    _opt("include_upstream", "bool", False),
    _opt("include_downstream", "bool", False),
    _opt("include_future", "bool", False),
    _opt("include_past", "bool", False),
)

SET_STATE_FORM = (
    # Airflow 2.5.3 has no load default here and crashes without dry_run;
    # later releases default it to true, as the spec says.
    _opt("dry_run", "bool", True),
    FormField("task_id", "str", required=True),
    FormField("execution_date", "datetime"),
    FormField("dag_run_id", "str"),
    FormField("include_upstream", "bool", required=True),
    FormField("include_downstream", "bool", required=True),
    FormField("include_future", "bool", required=True),
    FormField("include_past", "bool", required=True),
    FormField("new_state", "str", required=True),
)


def _schema_error(message: str) -> BadRequest:
    return BadRequest(detail=str({"_schema": [message]}))


def load_clear_form(body: Mapping[str, Any]) -> dict[str, Any]:
    """ClearTaskInstanceFormSchema with its validates_schema rules."""
    data = load_form(body, CLEAR_FORM)
    start, end, run_id = data["start_date"], data["end_date"], data["dag_run_id"]
    if data["only_failed"] and data["only_running"]:
        raise _schema_error("only_failed and only_running both are set to True")
    if start and end and start > end:
        raise _schema_error("end_date is sooner than start_date")
    if start and end and run_id:
        raise _schema_error(
            "Exactly one of dag_run_id or (start_date and end_date) must be provided"
        )
    if start and run_id:
        raise _schema_error("Exactly one of dag_run_id or start_date must be provided")
    if end and run_id:
        raise _schema_error("Exactly one of dag_run_id or end_date must be provided")
    return data


def load_set_state_form(body: Mapping[str, Any]) -> dict[str, Any]:
    """SetTaskInstanceStateFormSchema: exactly one (truthy) of execution_date
    and dag_run_id."""
    data = load_form(body, SET_STATE_FORM)
    if bool(data.get("execution_date")) == bool(data.get("dag_run_id")):
        raise _schema_error("Exactly one of execution_date or dag_run_id must be provided")
    return data
