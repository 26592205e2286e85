"""Dataset operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_datasets(
    sim: Simulator,
    *,
    limit: Any = None,
    offset: Any = None,
    order_by: Any = None,
    uri_pattern: Any = None,
) -> Any:
    """GET /datasets"""


@pending
def get_dataset(sim: Simulator, *, uri: Any = None) -> Any:
    """GET /datasets/{uri}"""


@pending
def get_dataset_events(
    sim: Simulator,
    *,
    limit: Any = None,
    offset: Any = None,
    order_by: Any = None,
    dataset_id: Any = None,
    source_dag_id: Any = None,
    source_task_id: Any = None,
    source_run_id: Any = None,
    source_map_index: Any = None,
) -> Any:
    """GET /datasets/events"""
