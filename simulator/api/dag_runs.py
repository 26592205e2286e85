"""DAGRun operations: list (per DAG, `~`, batch), trigger, read, delete, mark,
clear, note, and the dataset events that triggered a run."""

from __future__ import annotations

import operator
import pickle
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from simulator.api.params import check_limit, ordering, parse_datetime
from simulator.engine.scheduler import run_id_for
from simulator.engine.timetable import Interval, manual_interval
from simulator.errors import AlreadyExists, BadRequest, NotFound
from simulator.schemas.dag_run import (
    Trigger,
    dump_dag_run,
    dump_dag_run_collection,
    dump_task_instance_references,
    load_batch_form,
    load_clear_form,
    load_note_form,
    load_state_form,
    load_trigger,
)
from simulator.schemas.dataset_event import dump_dataset_event_collection
from simulator.schemas.fields import pick_run_fields
from simulator.schemas.page import Page
from simulator.simulator import Simulator
from simulator.state.dag_model import DATASETS, DELTA, NONE, ONCE
from simulator.state.entities import User
from simulator.state.enums import DagRunState
from simulator.state.queries import RunQuery, page_runs
from simulator.state.run_model import DagRun
from simulator.state.security import readable_scope


def _pickled_conf(run: DagRun) -> bytes:
    # conf is a PickleType column: the database orders the pickled bytes.
    return pickle.dumps(run.conf or {}, protocol=4)


ORDERING: dict[str, Callable[[DagRun], Any]] = {
    "id": lambda run: run.id,
    "state": lambda run: run.state,
    "dag_id": lambda run: run.dag_id,
    "execution_date": lambda run: run.logical_date,
    "dag_run_id": lambda run: run.run_id,
    "start_date": lambda run: run.start_date,
    "end_date": lambda run: run.end_date,
    "external_trigger": lambda run: run.external_trigger,
    "conf": _pickled_conf,
}
# Airflow 2.10 may order by the row's updated_at too.
ORDERING_2_10: dict[str, Callable[[DagRun], Any]] = {
    **ORDERING,
    "updated_at": lambda run: run.updated_at,
}
# Date filter -> (run attribute, comparison); NULL dates never match.
DATE_FILTERS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "execution_date_gte": ("logical_date", operator.ge),
    "execution_date_lte": ("logical_date", operator.le),
    "start_date_gte": ("start_date", operator.ge),
    "start_date_lte": ("start_date", operator.le),
    "end_date_gte": ("end_date", operator.ge),
    "end_date_lte": ("end_date", operator.le),
    "updated_at_gte": ("updated_at", operator.ge),
    "updated_at_lte": ("updated_at", operator.le),
}
# The logical date bounds, which the run index answers.
LOGICAL_BOUNDS = ("execution_date_gte", "execution_date_lte")
# Timetables whose manual data interval is DataInterval.exact(run_after).
EXACT_MANUAL_INTERVAL = (NONE, ONCE, DATASETS)
# Airflow 2.10's run id patterns: RUN_ID_REGEX and [scheduler]
# allowed_run_id_pattern's default (without their anchors).
BUILT_IN_RUN_ID = (
    r"(?:manual|scheduled|dataset_triggered)__(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00)"
)
ALLOWED_RUN_ID = r"[A-Za-z0-9_.~:+-]+"
# DagRunType values besides manual, in their enum order.
RESERVED_PREFIXES = ("backfill", "scheduled", "dataset_triggered")


def _query(
    sim: Simulator,
    dag_ids: Collection[str] | None,
    states: list[str] | None,
    bounds: Mapping[str, datetime | None],
) -> RunQuery:
    """The runs in any of `states` (if given) and within every date bound,
    inclusive; NULL dates never match."""
    checks = [(*DATE_FILTERS[name], bound) for name, bound in bounds.items()
              if bound is not None and name not in LOGICAL_BOUNDS]  # fmt: skip

    def keep(run: DagRun) -> bool:
        for attr, compare, bound in checks:
            value = getattr(run, attr)
            if value is None or not compare(value, bound):
                return False
        return True

    return RunQuery(
        dag_ids=dag_ids,
        states=states or None,
        low=bounds.get("execution_date_gte"),
        high=bounds.get("execution_date_lte"),
        keep=keep if checks else None,
    )


def get_dag_runs(
    sim: Simulator,
    *,
    dag_id: str,
    limit: int | None = None,
    offset: int | None = None,
    execution_date_gte: str | None = None,
    execution_date_lte: str | None = None,
    start_date_gte: str | None = None,
    start_date_lte: str | None = None,
    end_date_gte: str | None = None,
    end_date_lte: str | None = None,
    updated_at_gte: str | None = None,
    updated_at_lte: str | None = None,
    fields: list[str] | None = None,
    state: list[str] | None = None,
    order_by: str | None = None,
    user: User,
) -> Page | dict[str, Any]:
    """GET /dags/{dag_id}/dagRuns: one DAG's runs (none if unknown), or `~` for all readable."""
    size = check_limit(sim.settings, limit)  # checked before anything else
    raw = {
        "execution_date_gte": execution_date_gte,
        "execution_date_lte": execution_date_lte,
        "start_date_gte": start_date_gte,
        "start_date_lte": start_date_lte,
        "end_date_gte": end_date_gte,
        "end_date_lte": end_date_lte,
        "updated_at_gte": updated_at_gte,
        "updated_at_lte": updated_at_lte,
    }
    bounds = {name: parse_datetime(value) for name, value in raw.items()}
    dag_ids = readable_scope(sim.store, user) if dag_id == "~" else (dag_id,)
    order = ordering(order_by, _orderings(sim), "id")
    query = _query(sim, dag_ids, state, bounds)
    rows, total = page_runs(sim.store, query, order, offset or 0, size)
    page = dump_dag_run_collection(rows, total)
    if not fields:
        return page
    body = page.body()  # each run's dump picks the fields (none dumped: no check)
    title = "DAGRunCollectionSchema error"
    body["dag_runs"] = [pick_run_fields(title, run, fields) for run in body["dag_runs"]]
    return body


def _orderings(sim: Simulator) -> dict[str, Callable[[DagRun], Any]]:
    return ORDERING_2_10 if sim.version.at_least("2.10") else ORDERING


def get_dag_runs_batch(sim: Simulator, *, body: dict[str, Any], user: User) -> Page:
    """POST /dags/~/dagRuns/list: runs of the readable DAGs among `dag_ids`, unclamped pages."""
    form = load_batch_form(body, sim.version)
    dag_ids = readable_scope(sim.store, user, form.dag_ids or None)
    order = ordering(form.order_by, _orderings(sim), "id")
    query = _query(sim, dag_ids, form.states, form.dates)
    rows, total = page_runs(sim.store, query, order, form.page_offset, form.page_limit)
    return dump_dag_run_collection(rows, total)


def post_dag_run(sim: Simulator, *, dag_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /dags/{dag_id}/dagRuns: trigger a manual run, queued until the scheduler starts it."""
    dag = sim.store.dags.get(dag_id)
    if dag is None or not dag.is_active:
        raise NotFound("DAG not found", f"DAG with dag_id: '{dag_id}' not found")
    if dag.has_import_errors:
        raise BadRequest(
            "DAG cannot be triggered", f"DAG with dag_id: '{dag_id}' has import errors"
        )
    newer = sim.version.at_least("2.10")
    form = load_trigger(body, sim.engine.now, with_interval=newer)
    _check_duplicate(sim, dag_id, form)
    _check_reserved(form.run_id)
    if newer:
        _check_pattern(form.run_id)
    # An empty run id passes the checks above; the run then gets a generated one.
    run_id = form.run_id or run_id_for("manual", form.logical_date)
    if (dag_id, run_id) in sim.store.dag_runs:
        # Airflow 2.5.3 fails on the database's unique key here (500).
        raise AlreadyExists(
            detail=f"DAGRun with DAG ID: '{dag_id}' and DAGRun ID: '{run_id}' already exists"
        )
    logical = form.logical_date.astimezone(UTC)
    if form.interval is not None:
        interval = Interval(*(bound.astimezone(UTC) for bound in form.interval))
    else:
        interval = manual_interval(dag.schedule, logical)
    run = sim.scheduler.create_run(
        dag,
        run_id=run_id,
        logical=logical,
        interval=interval,
        run_type="manual",
        conf=form.conf,
        note=form.note or None,  # an empty note is not stored
        external=True,
        at_once=False,
    )
    # Airflow answers the run as created (the scheduler starts it later), and
    # dumps the object it just made, before any reload: its dates keep the
    # request's offset where the timetable kept it (later reads are UTC).
    given = form.logical_date
    start, end = run.data_interval_start, run.data_interval_end
    if dag.schedule.kind in EXACT_MANUAL_INTERVAL:
        start = end = given
    elif dag.schedule.kind == DELTA:
        end = given  # its start is convert_to_utc(run_after - delta)
    if form.interval is not None:
        start, end = form.interval
    answered = _as_queued(run, start_date=None, end_date=None, logical_date=given,
                          data_interval_start=start, data_interval_end=end)  # fmt: skip
    return dump_dag_run(answered)


def _check_duplicate(sim: Simulator, dag_id: str, form: Trigger) -> None:
    """409 for the first run (by row id) with the same run id or logical date."""
    for run in sim.store.runs_of(dag_id):
        if run.logical_date == form.logical_date:
            when = form.logical_date.isoformat(sep=" ")
            raise AlreadyExists(
                detail=f"DAGRun with DAG ID: '{dag_id}' and "
                f"DAGRun logical date: '{when}' already exists"
            )
        if run.run_id == form.run_id:
            raise AlreadyExists(
                detail=f"DAGRun with DAG ID: '{dag_id}' and "
                f"DAGRun ID: '{form.run_id}' already exists"
            )


def _check_pattern(run_id: str) -> None:
    """Airflow 2.10's create_dagrun: a run id matches the built-in pattern or
    [scheduler] allowed_run_id_pattern. Airflow fails with a 500 (an
    AirflowException); the simulator answers its text as a 400 (the quirk
    `run-id-pattern-400`)."""
    if run_id and not (
        re.fullmatch(BUILT_IN_RUN_ID, run_id) or re.fullmatch(ALLOWED_RUN_ID, run_id)
    ):
        raise BadRequest(
            detail=f"The provided run ID '{run_id}' is invalid. It does not match either "
            f"the configured pattern: '^{ALLOWED_RUN_ID}$' or the built-in pattern: "
            f"'^{BUILT_IN_RUN_ID}$'"
        )


def _check_reserved(run_id: str) -> None:
    for run_type in RESERVED_PREFIXES:
        if run_id.startswith(f"{run_type}__"):
            raise BadRequest(
                detail=f"A manual DAG run cannot use ID {run_id!r} since it "
                f"is reserved for {run_type} runs"
            )


def _as_queued(run: DagRun, **changes: Any) -> DagRun:
    """The run as Airflow answers it right after queuing it.

    The engine starts a queued run at once when its DAG has room, but in
    Airflow the scheduler does that on a later loop: the response still
    shows the run queued.
    """
    return replace(run, state=DagRunState.QUEUED, last_scheduling_decision=None, **changes)


def _require_run(sim: Simulator, dag_id: str, dag_run_id: str, title: str) -> DagRun:
    run = sim.store.dag_runs.get((dag_id, dag_run_id))
    if run is None:
        raise NotFound(title)
    return run


def get_dag_run(
    sim: Simulator, *, dag_id: str, dag_run_id: str, fields: list[str] | None = None
) -> dict[str, Any]:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}."""
    body = dump_dag_run(sim.store.dag_runs.require((dag_id, dag_run_id)))
    return pick_run_fields("DAGRunSchema error", body, fields) if fields else body


def delete_dag_run(sim: Simulator, *, dag_id: str, dag_run_id: str) -> None:
    """DELETE /dags/{dag_id}/dagRuns/{dag_run_id}: the run, its task instances and XComs."""
    run = sim.store.dag_runs.get((dag_id, dag_run_id))
    if run is None:
        raise NotFound(
            detail=f"DAGRun with DAG ID: '{dag_id}' and DagRun ID: '{dag_run_id}' not found"
        )
    sim.actions.delete_run(run)
    dag = sim.store.dags.get(dag_id)
    if dag is not None:
        # The freed max_active_runs slot: Airflow's scheduler fills it on its next loop.
        sim.scheduler.resume(dag)


def update_dag_run_state(
    sim: Simulator, *, dag_id: str, dag_run_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """PATCH /dags/{dag_id}/dagRuns/{dag_run_id}: mark the run success, failed or queued."""
    run = _require_run(
        sim, dag_id, dag_run_id, f"Dag Run id {dag_run_id} not found in dag {dag_id}"
    )
    state = load_state_form(body)
    before = replace(run)
    sim.actions.set_run_state(run, state, skip_unset=sim.version.at_least("2.10"))
    if state == DagRunState.QUEUED:
        # Re-queuing stamps end_date; start date and last decision stay.
        return dump_dag_run(replace(before, state=DagRunState.QUEUED, end_date=sim.engine.now))
    return dump_dag_run(run)


def clear_dag_run(
    sim: Simulator, *, dag_id: str, dag_run_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """POST .../clear: list every task instance (dry run, the default) or clear them all."""
    # Airflow's title has three spaces before the DAG id.
    run = _require_run(
        sim, dag_id, dag_run_id, f"Dag Run id {dag_run_id} not found in dag   {dag_id}"
    )
    dry_run = load_clear_form(body)
    tis = sim.store.tis_of(run)
    if dry_run:
        return dump_task_instance_references(run, tis)
    if not tis:
        return dump_dag_run(run)  # nothing to clear: the run is left as it is
    before = replace(run)
    sim.actions.clear_run(run)
    # A state change to queued resets end_date; the start date is dropped.
    end_date = before.end_date if before.state == DagRunState.QUEUED else None
    return dump_dag_run(_as_queued(before, start_date=None, end_date=end_date))


def get_upstream_dataset_events(sim: Simulator, *, dag_id: str, dag_run_id: str) -> dict[str, Any]:
    """GET .../upstreamDatasetEvents: the dataset events a dataset-triggered run consumed."""
    run = sim.store.dag_runs.require((dag_id, dag_run_id))
    events = [
        event
        for event_id in run.consumed_events
        if (event := sim.store.dataset_events.get(event_id)) is not None
    ]
    return dump_dataset_event_collection(sim.store, events, len(events))


def set_dag_run_note(
    sim: Simulator, *, dag_id: str, dag_run_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """PATCH .../setNote: set (or replace) the run's note."""
    run = _require_run(
        sim, dag_id, dag_run_id, f"Dag Run id {dag_run_id} not found in dag {dag_id}"
    )
    sim.actions.set_run_note(run, load_note_form(body))
    return dump_dag_run(run)
