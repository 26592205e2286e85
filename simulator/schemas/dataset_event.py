"""Dataset event bodies (Airflow's DatasetEventSchema) and the runs they
created (BasicDAGRunSchema).

Airflow 2.5.3 names a basic run's id `dag_run_id` (the spec says `run_id`)
and adds the event's `id`, which the spec does not list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simulator.errors import BadRequest
from simulator.schemas.common import isoformat
from simulator.schemas.loading import MISSING, NULL, UNKNOWN, Errors
from simulator.state.run_model import DagRun, DatasetEvent
from simulator.state.store import Store


def dump_basic_dag_run(run: DagRun) -> dict[str, Any]:
    return {
        "dag_run_id": run.run_id,
        "dag_id": run.dag_id,
        "logical_date": isoformat(run.logical_date),
        "start_date": isoformat(run.start_date),
        "end_date": isoformat(run.end_date),
        "state": run.state,
        "data_interval_start": isoformat(run.data_interval_start),
        "data_interval_end": isoformat(run.data_interval_end),
    }


def _dataset_uri(store: Store, dataset_id: int) -> str | None:
    return next((d.uri for d in store.datasets if d.id == dataset_id), None)


def dump_dataset_event(store: Store, event: DatasetEvent) -> dict[str, Any]:
    # Runs deleted since the event was recorded drop out, as their
    # association rows do in Airflow's database.
    runs = (store.dag_runs.get(key) for key in event.created_dagruns)
    return {
        "id": event.id,
        "dataset_id": event.dataset_id,
        "dataset_uri": _dataset_uri(store, event.dataset_id),
        "extra": event.extra or {},
        "source_task_id": event.source_task_id,
        "source_dag_id": event.source_dag_id,
        "source_run_id": event.source_run_id,
        "source_map_index": event.source_map_index,
        "created_dagruns": [dump_basic_dag_run(run) for run in runs if run is not None],
        "timestamp": isoformat(event.timestamp),
    }


def dump_dataset_event_collection(
    store: Store, events: Iterable[DatasetEvent], total: int
) -> dict[str, Any]:
    return {
        "dataset_events": [dump_dataset_event(store, event) for event in events],
        "total_entries": total,
    }


def load_create_dataset_event(body: Mapping[str, Any]) -> dict[str, Any]:
    """CreateDatasetEventSchema: dataset_uri a string, extra a JSON object
    field (neither may be null); the spec has required dataset_uri already,
    so marshmallow's own errors are left."""
    errors: Errors = {}
    for name in ("dataset_uri", "extra"):
        if name in body and body[name] is None:
            errors[name] = [NULL]
    if not isinstance(body.get("dataset_uri", ""), str):
        errors["dataset_uri"] = ["Not a valid string."]
    if "dataset_uri" not in body:
        errors["dataset_uri"] = [MISSING]  # pragma: no cover - the spec requires it
    for name in body:
        if name not in ("dataset_uri", "extra"):
            errors[name] = [UNKNOWN]
    if errors:
        raise BadRequest(detail=str(errors))
    return dict(body)
