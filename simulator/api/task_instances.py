"""TaskInstance operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def set_task_instance_note(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    body: Any = None,
) -> Any:
    """PATCH /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/setNote"""


@pending
def set_mapped_task_instance_note(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    map_index: Any = None,
    body: Any = None,
) -> Any:
    """PATCH /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}/setNote"""


@pending
def get_task_instances(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    execution_date_gte: Any = None,
    execution_date_lte: Any = None,
    start_date_gte: Any = None,
    start_date_lte: Any = None,
    end_date_gte: Any = None,
    end_date_lte: Any = None,
    duration_gte: Any = None,
    duration_lte: Any = None,
    state: Any = None,
    pool: Any = None,
    queue: Any = None,
    limit: Any = None,
    offset: Any = None,
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances"""


@pending
def get_task_instance(
    sim: Simulator, *, dag_id: Any = None, dag_run_id: Any = None, task_id: Any = None
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"""


@pending
def patch_task_instance(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    body: Any = None,
) -> Any:
    """PATCH /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"""


@pending
def get_mapped_task_instance(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    map_index: Any = None,
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}"""


@pending
def patch_mapped_task_instance(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    map_index: Any = None,
    body: Any = None,
) -> Any:
    """PATCH /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}"""


@pending
def get_mapped_task_instances(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    limit: Any = None,
    offset: Any = None,
    execution_date_gte: Any = None,
    execution_date_lte: Any = None,
    start_date_gte: Any = None,
    start_date_lte: Any = None,
    end_date_gte: Any = None,
    end_date_lte: Any = None,
    duration_gte: Any = None,
    duration_lte: Any = None,
    state: Any = None,
    pool: Any = None,
    queue: Any = None,
    order_by: Any = None,
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/listMapped"""


@pending
def get_task_instances_batch(sim: Simulator, *, body: Any = None) -> Any:
    """POST /dags/~/dagRuns/~/taskInstances/list"""


@pending
def get_extra_links(
    sim: Simulator, *, dag_id: Any = None, dag_run_id: Any = None, task_id: Any = None
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/links"""


@pending
def get_log(
    sim: Simulator,
    *,
    dag_id: Any = None,
    dag_run_id: Any = None,
    task_id: Any = None,
    task_try_number: Any = None,
    full_content: Any = None,
    map_index: Any = None,
    token: Any = None,
) -> Any:
    """GET /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}"""
