"""Dataset operations: datasets and the events their producers emit, read-only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from simulator.api.params import check_limit, order_rows, paginate
from simulator.schemas.dataset import dump_dataset, dump_dataset_collection
from simulator.schemas.dataset_event import dump_dataset_event_collection
from simulator.simulator import Simulator
from simulator.state.run_model import Dataset, DatasetEvent

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
    if uri_pattern:  # an empty pattern filters nothing, as Airflow's truthiness check
        # Airflow filters with uri ILIKE '%<pattern>%': `%` and `_` in it are wildcards.
        matcher = ilike(f"%{uri_pattern}%")
        rows = [dataset for dataset in rows if matcher.fullmatch(dataset.uri)]
    rows = order_rows(rows, order_by, DATASET_ORDER_BY, "id")
    page = paginate(sim.settings, rows, limit, offset)
    return dump_dataset_collection(sim.store, page, total_entries)


def get_dataset(sim: Simulator, *, uri: str) -> dict[str, Any]:
    """GET /datasets/{uri}: one dataset by its (URL-decoded) uri."""
    return dump_dataset(sim.store, sim.store.datasets.require(uri))


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


def get_dag_dataset_queued_event(
    sim: Simulator, *, dag_id: Any = None, uri: Any = None, before: Any = None
) -> Any:
    """GET /dags/{dag_id}/datasets/queuedEvent/{uri}: being implemented (issue 12)."""
    raise NotImplementedError("get_dag_dataset_queued_event")


def delete_dag_dataset_queued_event(
    sim: Simulator, *, dag_id: Any = None, uri: Any = None, before: Any = None
) -> Any:
    """DELETE /dags/{dag_id}/datasets/queuedEvent/{uri}: being implemented (issue 12)."""
    raise NotImplementedError("delete_dag_dataset_queued_event")


def get_dag_dataset_queued_events(sim: Simulator, *, dag_id: Any = None, before: Any = None) -> Any:
    """GET /dags/{dag_id}/datasets/queuedEvent: being implemented (issue 12)."""
    raise NotImplementedError("get_dag_dataset_queued_events")


def delete_dag_dataset_queued_events(
    sim: Simulator, *, dag_id: Any = None, before: Any = None
) -> Any:
    """DELETE /dags/{dag_id}/datasets/queuedEvent: being implemented (issue 12)."""
    raise NotImplementedError("delete_dag_dataset_queued_events")


def get_dataset_queued_events(sim: Simulator, *, uri: Any = None, before: Any = None) -> Any:
    """GET /datasets/queuedEvent/{uri}: being implemented (issue 12)."""
    raise NotImplementedError("get_dataset_queued_events")


def delete_dataset_queued_events(sim: Simulator, *, uri: Any = None, before: Any = None) -> Any:
    """DELETE /datasets/queuedEvent/{uri}: being implemented (issue 12)."""
    raise NotImplementedError("delete_dataset_queued_events")


def create_dataset_event(sim: Simulator, *, body: Any = None) -> Any:
    """POST /datasets/events: being implemented (issue 12)."""
    raise NotImplementedError("create_dataset_event")
