"""XCom operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_xcom_entries(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    limit: Any = None,
    offset: Any = None,
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries"""


@pending
def get_xcom_entry(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    xcom_key: Any = None,
    deserialize: Any = None,
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}"""
