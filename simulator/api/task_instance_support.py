"""What the TaskInstance handlers share: the list filters and their 2.10
additions, paging, listMapped's order and 404s, and the instance dump with
its run, task and triggerer."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from functools import partial
from typing import Any

from simulator.api.params import parse_datetime
from simulator.errors import BadRequest, NotFound, PermissionDenied
from simulator.schemas.page import Item, Page
from simulator.schemas.task_instance import (
    DEFERRED,
    Triggerer,
    dump_task_instance,
    dump_task_instance_collection,
    ti_version,
)
from simulator.schemas.task_instance_forms import BATCH_DATES, TiFilter, states_filter
from simulator.simulator import Simulator
from simulator.state.dag_model import Task
from simulator.state.entities import User
from simulator.state.run_model import DagRun, TaskInstance
from simulator.state.security import DAG_RESOURCE, can, readable_scope, user_permissions

NEGATIVE_LIMIT = "Page limit must be a positive integer"
Row = tuple[TaskInstance, DagRun]


def check_mappable(sim: Simulator, dag_id: str, task_id: str) -> None:
    """Why a task has no expanded instance: Airflow's three 404 titles."""
    dag = sim.store.dags.get(dag_id)
    if dag is None:
        raise NotFound(f"DAG {dag_id} not found")
    task = dag.tasks.get(task_id)
    if task is None:
        # Airflow 2.5.3 crashes here (dag.get_task raises); this is the 404 it means.
        raise NotFound(f"Task id {task_id} not found")
    if not task.is_mapped:
        raise NotFound(f"Task id {task_id} is not mapped")


def order_mapped(rows: list[Row], order_by: str | None) -> list[Row]:
    """listMapped's own order rules (PostgreSQL puts NULL states last ascending)."""
    rows = sorted(rows, key=lambda row: row[0].map_index)
    if order_by is None:
        return rows
    if order_by == "state":
        return sorted(rows, key=lambda row: (row[0].state is None, row[0].state or ""))
    if order_by == "-state":
        return sorted(
            rows, key=lambda row: (row[0].state is None, row[0].state or ""), reverse=True
        )
    if order_by == "-map_index":
        return rows[::-1]
    raise BadRequest(detail=f"Ordering with '{order_by}' is not supported")


def query_filter(
    dates: tuple[str | None, ...],
    duration_gte: float | None,
    duration_lte: float | None,
    state: list[str] | None,
    pool: list[str] | None,
    queue: list[str] | None,
) -> TiFilter:
    parsed = {name: parse_datetime(value) for name, value in zip(BATCH_DATES, dates, strict=True)}
    return TiFilter(dates=parsed, duration_gte=duration_gte, duration_lte=duration_lte,
                    states=states_filter(state), pools=pool, queues=queue)  # fmt: skip


def batch_scope(
    sim: Simulator, user: User, dag_ids: Collection[str] | None
) -> Collection[str] | None:
    """Airflow 2.10 refuses a batch naming a DAG the user may not read, and
    reads the permitted DAGs when it names none."""
    if dag_ids is None:
        return readable_scope(sim.store, user)
    granted = user_permissions(sim.store, user)
    if not all(can(granted, "can_read", DAG_RESOURCE, dag_id) for dag_id in dag_ids):
        raise PermissionDenied(
            detail=f"User not allowed to access some of these DAGs: {list(dag_ids)}"
        )
    return dag_ids


def filter_2_10(
    sim: Simulator,
    found: TiFilter,
    updated_at_gte: str | None,
    updated_at_lte: str | None,
    executor: list[str] | None,
) -> TiFilter:
    """The list filters Airflow 2.10 adds (2.5.3 never passes them)."""
    if updated_at_gte is None and updated_at_lte is None and not executor:
        return found
    return replace(found, updated_gte=parse_datetime(updated_at_gte),
                   updated_lte=parse_datetime(updated_at_lte), executors=executor,
                   executor_of=partial(executor_of, sim))  # fmt: skip


def executor_of(sim: Simulator, ti: TaskInstance) -> str | None:
    """The instance's executor column: its task's executor (None: the default)."""
    task = task_of(sim, ti)
    return task.executor if task is not None else None


def page_limit(limit: int | None) -> int:
    """Airflow passes the limit straight to the query (no clamp; 0 is an empty page)."""
    if limit is None:
        return 100
    if limit < 0:
        # Airflow 2.5.3 hands -1 to the database, which refuses it (a 500).
        raise BadRequest(NEGATIVE_LIMIT)
    return limit


def page_of(rows: list[Row], limit: int | None, offset: int | None) -> list[Row]:
    start = offset or 0
    return rows[start : start + page_limit(limit)]


def collection(sim: Simulator, rows: list[Row], total: int) -> Page:
    items: list[Item] = []
    for ti, run in rows:
        task = task_of(sim, ti)
        items.append((ti, None, ti_version(ti, run, task), partial(dump, sim, ti, run, task)))
    return dump_task_instance_collection(items, total)


def run_of(sim: Simulator, ti: TaskInstance) -> DagRun:
    return sim.store.dag_runs.require((ti.dag_id, ti.run_id))


def task_of(sim: Simulator, ti: TaskInstance) -> Task | None:
    dag = sim.store.dags.get(ti.dag_id)
    return dag.tasks.get(ti.task_id) if dag else None


def dump(
    sim: Simulator, ti: TaskInstance, run: DagRun | None = None, task: Task | None = None
) -> dict[str, Any]:
    """TaskInstanceSchema (`task`: the instance's, when the caller has it)."""
    task = task or task_of(sim, ti)
    last = ti.last_try
    triggerer, trigger_id = None, None
    if ti.state == DEFERRED and last is not None:
        # The triggerer is a process of its own: it beats on through a scheduler outage.
        triggerer = Triggerer(started=sim.origin, heartbeat=sim.latest_heartbeat())
        trigger_id = last.trigger_id
    return dump_task_instance(ti, run or run_of(sim, ti), task, triggerer, trigger_id, sim.version)
