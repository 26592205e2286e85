"""DAGRun operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_dag_runs(
    sim: Simulator,
    *,
    dag_id: Any = None,
    limit: Any = None,
    offset: Any = None,
    execution_date_gte: Any = None,
    execution_date_lte: Any = None,
    start_date_gte: Any = None,
    start_date_lte: Any = None,
    end_date_gte: Any = None,
    end_date_lte: Any = None,
    state: Any = None,
    order_by: Any = None,
) -> Any:
    """GET /dags/{dag_id}/dagRuns"""


@pending
def post_dag_run(sim: Simulator, *, dag_id: Any = None, body: Any = None) -> Any:
    """POST /dags/{dag_id}/dagRuns"""


@pending
def get_dag_runs_batch(sim: Simulator, *, body: Any = None) -> Any:
    """POST /dags/~/dagRuns/list"""


@pending
def get_dag_run(sim: Simulator, *, dag_id: Any = None, dag_run_id: Any = None) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}"""


@pending
def delete_dag_run(sim: Simulator, *, dag_id: Any = None, dag_run_id: Any = None) -> Any:
    """DELETE /dags/{dag_id}/dagRuns/{dag_run_id}"""


@pending
def update_dag_run_state(
    sim: Simulator, *, dag_id: Any = None, dag_run_id: Any = None, body: Any = None
) -> Any:
    """PATCH /dags/{dag_id}/dagRuns/{dag_run_id}"""


@pending
def clear_dag_run(
    sim: Simulator, *, dag_id: Any = None, dag_run_id: Any = None, body: Any = None
) -> Any:
    """POST /dags/{dag_id}/dagRuns/{dag_run_id}/clear"""


@pending
def get_upstream_dataset_events(
    sim: Simulator, *, dag_id: Any = None, dag_run_id: Any = None
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/upstreamDatasetEvents"""


@pending
def set_dag_run_note(
    sim: Simulator, *, dag_id: Any = None, dag_run_id: Any = None, body: Any = None
) -> Any:
    """PATCH /dags/{dag_id}/dagRuns/{dag_run_id}/setNote"""
