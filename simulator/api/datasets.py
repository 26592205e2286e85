"""Dataset operations: datasets and the events their producers emit, read-only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from simulator.api.params import check_limit, order_rows, paginate, parse_datetime
from simulator.engine.datasets import QueueRow
from simulator.errors import NotFound
from simulator.schemas.dataset import (
    dump_dataset,
    dump_dataset_collection,
    dump_queued_event,
    dump_queued_event_collection,
)
from simulator.schemas.dataset_event import (
    dump_dataset_event,
    dump_dataset_event_collection,
    load_create_dataset_event,
)
from simulator.simulator import Simulator
from simulator.state.dag_model import DATASETS
from simulator.state.entities import User
from simulator.state.run_model import Dataset, DatasetEvent
from simulator.state.security import readable_scope

DATASET_ORDER_BY: dict[str, Callable[[Dataset], Any]] = {
    "id": lambda dataset: dataset.id,
    "uri": lambda dataset: dataset.uri,
    "created_at": lambda dataset: dataset.created_at,
    "updated_at": lambda dataset: dataset.updated_at,
}
EVENT_ORDER_BY: dict[str, Callable[[DatasetEvent], Any]] = {
    "source_dag_id": lambda event: event.source_dag_id,
    "source_task_id": lambda event: event.source_task_id,
    "source_run_id": lambda event: event.source_run_id,
    "source_map_index": lambda event: event.source_map_index,
    "timestamp": lambda event: event.timestamp,
}


def ilike(pattern: str) -> re.Pattern[str]:
    """A SQL ILIKE pattern as a regex: `%` any run, `_` one character, and a
    backslash escapes the next character (PostgreSQL's default escape)."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def get_datasets(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
    uri_pattern: str | None = None,
    dag_ids: str | None = None,
) -> dict[str, Any]:
    """GET /datasets: one page of datasets, optionally those whose uri contains a pattern."""
    limit = check_limit(sim.settings, limit)
    table = sim.store.datasets
    # Airflow 2.5.3 counts every dataset, ignoring uri_pattern (still so in 2.10).
    total_entries = len(table)
    rows: list[Dataset] = list(table)
    if dag_ids:  # 2.10: datasets the DAGs consume or produce (a truthiness check too)
        uris = _referenced(sim, set(dag_ids.split(",")))
        rows = [dataset for dataset in rows if dataset.uri in uris]
    if uri_pattern:  # an empty pattern filters nothing, as Airflow's truthiness check
        # Airflow filters with uri ILIKE '%<pattern>%': `%` and `_` in it are wildcards.
        matcher = ilike(f"%{uri_pattern}%")
        rows = [dataset for dataset in rows if matcher.fullmatch(dataset.uri)]
    rows = order_rows(rows, order_by, DATASET_ORDER_BY, "id")
    page = paginate(sim.settings, rows, limit, offset)
    return dump_dataset_collection(sim.store, page, total_entries, sim.version)


def _referenced(sim: Simulator, dag_ids: set[str]) -> set[str]:
    """The URIs the DAGs are scheduled on or their tasks update."""
    uris: set[str] = set()
    for dag_id in dag_ids:
        dag = sim.store.dags.get(dag_id)
        if dag is None:
            continue
        if dag.schedule.kind == DATASETS:
            uris.update(dag.schedule.value)
        for task in dag.tasks.values():
            uris.update(task.outlets)
    return uris


def get_dataset(sim: Simulator, *, uri: str) -> dict[str, Any]:
    """GET /datasets/{uri}: one dataset by its (URL-decoded) uri."""
    return dump_dataset(sim.store, sim.store.datasets.require(uri), sim.version)


def get_dataset_events(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
    dataset_id: int | None = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    source_map_index: int | None = None,
) -> dict[str, Any]:
    """GET /datasets/events: one page of dataset events, filtered by exact matches."""
    limit = check_limit(sim.settings, limit)
    # Airflow tests each filter for truthiness: dataset_id=0, source_map_index=0
    # and empty strings filter nothing.
    filters: list[tuple[Callable[[DatasetEvent], Any], Any]] = [
        (lambda event: event.dataset_id, dataset_id),
        (lambda event: event.source_dag_id, source_dag_id),
        (lambda event: event.source_task_id, source_task_id),
        (lambda event: event.source_run_id, source_run_id),
        (lambda event: event.source_map_index, source_map_index),
    ]
    rows = [
        event
        for event in sim.store.dataset_events
        if all(field(event) == wanted for field, wanted in filters if wanted)
    ]
    rows = order_rows(rows, order_by, EVENT_ORDER_BY, "timestamp")
    page = paginate(sim.settings, rows, limit, offset)
    return dump_dataset_event_collection(sim.store, page, len(rows))


def _rows(
    sim: Simulator, *, dag_id: str | None = None, uri: str | None = None,
    before: str | None = None, dag_ids: set[str] | None = None,
) -> list[QueueRow]:  # fmt: skip
    """DatasetDagRunQueue rows matching Airflow's where clause (created_at
    strictly before `before`; `dag_ids`: the permitted DAGs, None for all),
    in the table's key order: dataset id, then DAG id."""
    bound = parse_datetime(before)
    datasets = sim.store.datasets
    rows = [
        row
        for row in sim.scheduler.datasets.rows(dag_id, uri)
        if (bound is None or row.created_at < bound)
        and (dag_ids is None or row.dag_id in dag_ids)
        and row.uri in datasets
    ]
    rows.sort(key=lambda row: (datasets.require(row.uri).id, row.dag_id))
    return rows


def _not_queued(dag_id: str | None = None, uri: str | None = None) -> NotFound:
    if dag_id is not None and uri is not None:
        detail = f"Queue event with dag_id: `{dag_id}` and dataset uri: `{uri}` was not found"
    elif dag_id is not None:
        detail = f"Queue event with dag_id: `{dag_id}` was not found"
    else:
        detail = f"Queue event with dataset uri: `{uri}` was not found"
    return NotFound("Queue event not found", detail=detail)


def _permitted(sim: Simulator, user: User | None) -> set[str] | None:
    return readable_scope(sim.store, user) if user is not None else None


def get_dag_dataset_queued_event(
    sim: Simulator, *, dag_id: str, uri: str, before: str | None = None
) -> dict[str, Any]:
    """GET /dags/{dag_id}/datasets/queuedEvent/{uri}: since when the DAG waits on the dataset."""
    rows = _rows(sim, dag_id=dag_id, uri=uri, before=before)
    if not rows:
        raise _not_queued(dag_id, uri)
    return dump_queued_event(rows[0])


def delete_dag_dataset_queued_event(
    sim: Simulator, *, dag_id: str, uri: str, before: str | None = None
) -> None:
    """DELETE /dags/{dag_id}/datasets/queuedEvent/{uri}: the DAG no longer waits on it."""
    rows = _rows(sim, dag_id=dag_id, uri=uri, before=before)
    if not rows:
        raise _not_queued(dag_id, uri)
    sim.actions.delete_queue_rows(rows)


def get_dag_dataset_queued_events(
    sim: Simulator, *, dag_id: str, before: str | None = None
) -> dict[str, Any]:
    """GET /dags/{dag_id}/datasets/queuedEvent: every dataset the DAG waits on."""
    rows = _rows(sim, dag_id=dag_id, before=before)
    if not rows:
        raise _not_queued(dag_id)
    return dump_queued_event_collection(rows)


def delete_dag_dataset_queued_events(
    sim: Simulator, *, dag_id: str, before: str | None = None
) -> None:
    """DELETE /dags/{dag_id}/datasets/queuedEvent: the DAG waits on nothing."""
    rows = _rows(sim, dag_id=dag_id, before=before)
    if not rows:
        raise _not_queued(dag_id)
    sim.actions.delete_queue_rows(rows)


def get_dataset_queued_events(
    sim: Simulator, *, uri: str, before: str | None = None, user: User | None = None
) -> dict[str, Any]:
    """GET /datasets/queuedEvent/{uri}: the readable DAGs waiting on the dataset."""
    rows = _rows(sim, uri=uri, before=before, dag_ids=_permitted(sim, user))
    if not rows:
        raise _not_queued(uri=uri)
    return dump_queued_event_collection(rows)


def delete_dataset_queued_events(
    sim: Simulator, *, uri: str, before: str | None = None, user: User | None = None
) -> None:
    """DELETE /datasets/queuedEvent/{uri}: the readable DAGs no longer wait on it."""
    rows = _rows(sim, uri=uri, before=before, dag_ids=_permitted(sim, user))
    if not rows:
        raise _not_queued(uri=uri)
    sim.actions.delete_queue_rows(rows)


def create_dataset_event(sim: Simulator, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /datasets/events: a dataset updated from outside Airflow's tasks."""
    form = load_create_dataset_event(body)
    uri = form["dataset_uri"]
    dataset = sim.store.datasets.get(uri)
    if dataset is None:
        raise NotFound("Dataset not found", detail=f"Dataset with uri: '{uri}' not found")
    extra = {**(form.get("extra") or {}), "from_rest_api": True}
    event = sim.actions.add_dataset_event(dataset, extra)
    # The answer comes before the scheduler's next loop reads the queue: no run yet.
    return {**dump_dataset_event(sim.store, event), "created_dagruns": []}
