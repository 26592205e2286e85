"""Dataset bodies, as Airflow's DatasetSchema dumps a DatasetModel.

Airflow keeps a dataset's producers and consumers in reference tables that
the DAG processor fills from the DAG files (task outlets, dataset schedules);
the simulator derives them from the DAG definitions in the store, so a
deleted DAG's references go with it, as Airflow's delete cascade does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.engine.datasets import QueueRow
from simulator.schemas.common import isoformat
from simulator.state.dag_model import DATASETS
from simulator.state.run_model import Dataset
from simulator.state.store import Store
from simulator.versions import V2_5, AirflowVersion


def _producing_tasks(store: Store, dataset: Dataset, stamp: str | None) -> list[dict[str, Any]]:
    return [
        {"created_at": stamp, "dag_id": dag.dag_id, "task_id": task.task_id, "updated_at": stamp}
        for dag in store.dags
        for task in dag.tasks.values()
        if dataset.uri in task.outlets
    ]


def _consuming_dags(store: Store, dataset: Dataset, stamp: str | None) -> list[dict[str, Any]]:
    return [
        {"created_at": stamp, "dag_id": dag.dag_id, "updated_at": stamp}
        for dag in store.dags
        if dag.schedule.kind == DATASETS and dataset.uri in dag.schedule.value
    ]


def dump_dataset(store: Store, dataset: Dataset, version: AirflowVersion = V2_5) -> dict[str, Any]:
    # A reference row is written when the DAG file is parsed, as the dataset is.
    stamp = isoformat(dataset.created_at)
    body = {
        "consuming_dags": _consuming_dags(store, dataset, stamp),
        "created_at": stamp,
        "extra": dataset.extra or {},
        "id": dataset.id,
        "producing_tasks": _producing_tasks(store, dataset, stamp),
        "updated_at": isoformat(dataset.updated_at),
        "uri": dataset.uri,
    }
    if version.at_least("2.10"):
        body["aliases"] = []  # 2.10's dataset aliases; scenarios define none
    return body


def dump_dataset_collection(
    store: Store, datasets: Iterable[Dataset], total_entries: int, version: AirflowVersion = V2_5
) -> dict[str, Any]:
    return {
        "datasets": [dump_dataset(store, dataset, version) for dataset in datasets],
        "total_entries": total_entries,
    }


def dump_queued_event(row: QueueRow) -> dict[str, Any]:
    """QueuedEventSchema: a DatasetDagRunQueue row."""
    return {"created_at": isoformat(row.created_at), "dag_id": row.dag_id, "uri": row.uri}


def dump_queued_event_collection(rows: list[QueueRow]) -> dict[str, Any]:
    return {"queued_events": [dump_queued_event(row) for row in rows], "total_entries": len(rows)}
