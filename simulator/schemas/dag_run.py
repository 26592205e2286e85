"""DAGRun bodies (Airflow's DAGRunSchema and its request forms).

Loading follows marshmallow 3 as Airflow 2.5.3 configures it: fields in
declaration order, then unknown keys, the 400 detail being the Python repr
of the error dict. The trigger form's pre-load step (dates, generated run
id) raises its own titled errors first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

from simulator.errors import BadRequest
from simulator.schemas.common import isoformat
from simulator.schemas.page import Page
from simulator.state.run_model import DagRun, TaskInstance
from simulator.versions import V2_5, AirflowVersion

# StringID columns are String(250); a note is String(1000).
RUN_ID_MAX_LENGTH = 250
NOTE_MAX_LENGTH = 1000
MISSING = "Missing data for required field."
NULL = "Field may not be null."
UNKNOWN = "Unknown field."
NOT_DATETIME = "Not a valid datetime."
# marshmallow's from_iso_datetime: what its DateTime(format="iso") accepts.
_ISO_DATETIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:\.(?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
BATCH_DATES = (
    "execution_date_gte",
    "execution_date_lte",
    "start_date_gte",
    "start_date_lte",
    "end_date_gte",
    "end_date_lte",
)
BATCH_FIELDS = ("order_by", "page_offset", "page_limit", "dag_ids", "states", *BATCH_DATES)
# Airflow 2.10's batch form loads these too, and its query ignores them.
BATCH_UPDATED = ("updated_at_gte", "updated_at_lte")
TRIGGER_FIELDS = ("dag_run_id", "logical_date", "conf", "note")
# Airflow 2.10 lets a trigger give the run's data interval (both or neither).
INTERVAL_FIELDS = ("data_interval_start", "data_interval_end")
BOTH_BOUNDS = "Both 'data_interval_start' and 'data_interval_end' must be specified together"
_ABSENT = object()


def dump_dag_run(run: DagRun) -> dict[str, Any]:
    logical = isoformat(run.logical_date)
    return {
        "dag_run_id": run.run_id,
        "dag_id": run.dag_id,
        "logical_date": logical,
        "execution_date": logical,  # always the logical date
        "start_date": isoformat(run.start_date),
        "end_date": isoformat(run.end_date),
        "data_interval_start": isoformat(run.data_interval_start),
        "data_interval_end": isoformat(run.data_interval_end),
        "last_scheduling_decision": isoformat(run.last_scheduling_decision),
        "run_type": run.run_type,
        "state": run.state,
        "external_trigger": run.external_trigger,
        "conf": run.conf or {},
        "note": run.note,
    }


def dump_dag_run_collection(runs: Iterable[DagRun], total: int) -> Page:
    return Page("dag_runs", [(run, None, run_version(run), partial(dump_dag_run, run))
                             for run in runs], total)  # fmt: skip


def run_version(run: DagRun) -> tuple[Any, ...]:
    """What dump_dag_run reads that may change (a new conf is a new dict)."""
    return (run.state, run.start_date, run.end_date, run.last_scheduling_decision, run.note,
            run.logical_date, run.data_interval_start, run.data_interval_end, run.run_type,
            run.external_trigger, id(run.conf))  # fmt: skip


def dump_task_instance_references(run: DagRun, tis: Iterable[TaskInstance]) -> dict[str, Any]:
    """TaskInstanceReferenceCollectionSchema: no map_index, no total_entries."""
    when = isoformat(run.logical_date)
    return {
        "task_instances": [
            {"task_id": ti.task_id, "dag_run_id": ti.run_id, "dag_id": ti.dag_id,
             "execution_date": when}
            for ti in tis
        ]
    }  # fmt: skip


def parse_iso_datetime(value: Any) -> datetime | None:
    """marshmallow's iso DateTime: None when the value is not one."""
    match = _ISO_DATETIME.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    parts = match.groupdict()
    tz = parts.pop("tzinfo")
    micro = parts.pop("microsecond")
    numbers = {key: int(text) for key, text in parts.items() if text is not None}
    numbers["microsecond"] = int(micro.ljust(6, "0")) if micro else 0
    zone: timezone | None = None
    if tz == "Z":
        zone = UTC
    elif tz is not None:
        sign = -1 if tz[0] == "-" else 1
        hours, minutes = int(tz[1:3]), int(tz[-2:]) if len(tz) > 3 else 0
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(**numbers, tzinfo=zone)
    except ValueError:
        return None


def _unknown(body: Mapping[str, Any], known: Iterable[str], errors: dict[str, Any]) -> None:
    allowed = set(known)
    errors.update({key: [UNKNOWN] for key in body if key not in allowed})


# -- the trigger form (POST /dags/{dag_id}/dagRuns) -----------------------


@dataclass(frozen=True, slots=True)
class Trigger:
    run_id: str
    logical_date: datetime  # with the offset the request gave
    conf: dict[str, Any] | None
    note: str | None
    interval: tuple[datetime, datetime] | None = None  # as given, offsets kept


def _pre_load(body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """DAGRunSchema.autogenerate: the logical date and, if absent, the run id."""
    data = dict(body)
    logical = data.get("logical_date", _ABSENT)
    execution = data.pop("execution_date", _ABSENT)
    if logical is _ABSENT and execution is _ABSENT:
        data["logical_date"] = str(now)
    elif logical is _ABSENT:
        data["logical_date"] = execution
    elif execution is not _ABSENT and logical != execution:
        # The raw strings are compared: the same instant spelled twice conflicts.
        raise BadRequest(
            "logical_date conflicts with execution_date", detail=f"{logical!r} != {execution!r}"
        )
    if "dag_run_id" not in data:
        value = data["logical_date"]
        if value is None:
            # pendulum cannot parse null; its C parser words the TypeError
            # this way [unverified].
            raise BadRequest(
                "Incorrect datetime argument", detail="argument 1 must be str, not None"
            )
        parsed = parse_iso_datetime(value)
        # A value marshmallow rejects fails the load below; its id is moot.
        data["dag_run_id"] = "manual__" + (parsed.isoformat() if parsed else str(value))
    return data


def load_trigger(body: Mapping[str, Any], now: datetime, with_interval: bool = False) -> Trigger:
    """DAGRunSchema.load for a trigger request, or Airflow's 400;
    `with_interval`: Airflow 2.10's, which loads the data interval too."""
    data = _pre_load(body, now)
    errors: dict[str, Any] = {}
    run_id = data["dag_run_id"]
    if run_id is None:
        errors["dag_run_id"] = [NULL]
    elif len(run_id) > RUN_ID_MAX_LENGTH:
        errors["dag_run_id"] = [f"Longer than maximum length {RUN_ID_MAX_LENGTH}."]
    logical = parse_iso_datetime(data["logical_date"])
    if data["logical_date"] is None:
        errors["logical_date"] = [NULL]
    elif logical is None:
        errors["logical_date"] = [NOT_DATETIME]
    bounds = _interval(data, errors) if with_interval else {}
    note = data.get("note")
    if isinstance(note, str) and len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [f"Longer than maximum length {NOTE_MAX_LENGTH}."]
    _unknown(data, TRIGGER_FIELDS + (INTERVAL_FIELDS if with_interval else ()), errors)
    if not errors and len(bounds) == 1:  # the schema's check, after the fields'
        errors["_schema"] = [BOTH_BOUNDS]
    if errors:
        raise BadRequest(detail=str(errors))
    assert logical is not None
    interval = (bounds[INTERVAL_FIELDS[0]], bounds[INTERVAL_FIELDS[1]]) if bounds else None
    return Trigger(run_id=run_id, logical_date=logical, conf=data.get("conf"), note=note,
                   interval=interval)  # fmt: skip


def _interval(data: Mapping[str, Any], errors: dict[str, Any]) -> dict[str, datetime]:
    """The data interval's bounds given (null ones are not)."""
    bounds: dict[str, datetime] = {}
    for name in INTERVAL_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        parsed = parse_iso_datetime(value)
        if parsed is None:
            errors[name] = [NOT_DATETIME]
        else:
            bounds[name] = parsed
    return bounds


# -- the batch form (POST /dags/~/dagRuns/list) ---------------------------


@dataclass(frozen=True, slots=True)
class BatchForm:
    order_by: str
    page_offset: int
    page_limit: int
    dag_ids: list[str] | None
    states: list[str] | None
    dates: dict[str, datetime | None]


def load_batch_form(body: Mapping[str, Any], version: AirflowVersion = V2_5) -> BatchForm:
    """DagRunsBatchFormSchema.load: defaults offset 0, limit 100, order by id."""
    errors: dict[str, Any] = {}
    dates: dict[str, datetime | None] = {}
    names = (*BATCH_DATES, *BATCH_UPDATED) if version.at_least("2.10") else BATCH_DATES
    for name in names:
        value = body.get(name)
        dates[name] = parse_iso_datetime(value) if value is not None else None
        if value is not None and dates[name] is None:
            errors[name] = [NOT_DATETIME]
    _unknown(body, (*BATCH_FIELDS, *names), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    for name in BATCH_UPDATED:
        dates.pop(name, None)  # loaded, never applied
    return BatchForm(
        order_by=body.get("order_by", "id"),
        page_offset=body.get("page_offset", 0),
        page_limit=body.get("page_limit", 100),
        dag_ids=body.get("dag_ids"),
        states=body.get("states"),
        dates=dates,
    )


# -- the small forms --------------------------------------------------------


def load_state_form(body: Mapping[str, Any]) -> str:
    """SetDagRunStateFormSchema: the spec already limits `state` to
    success, failed and queued."""
    errors: dict[str, Any] = {}
    if "state" not in body:
        # Airflow 2.5.3 crashes (KeyError) on a body without `state`.
        errors["state"] = [MISSING]
    _unknown(body, ("state",), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return str(body["state"])


def load_clear_form(body: Mapping[str, Any]) -> bool:
    """ClearDagRunStateFormSchema: `dry_run` defaults to true."""
    errors: dict[str, Any] = {}
    _unknown(body, ("dry_run",), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return bool(body.get("dry_run", True))


def load_note_form(body: Mapping[str, Any]) -> str | None:
    """SetDagRunNoteFormSchema: a note of at most 1000 characters."""
    errors: dict[str, Any] = {}
    note = body.get("note")
    if "note" not in body:
        # Airflow 2.5.3 crashes (KeyError) on a body without `note`.
        errors["note"] = [MISSING]
    elif isinstance(note, str) and len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [f"Longer than maximum length {NOTE_MAX_LENGTH}."]
    _unknown(body, ("note",), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return note
