"""DAG operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_dags(
    sim: Simulator,
    *,
    limit: Any = None,
    offset: Any = None,
    order_by: Any = None,
    tags: Any = None,
    only_active: Any = None,
    dag_id_pattern: Any = None,
) -> Any:
    """GET /dags"""


@pending
def patch_dags(
    sim: Simulator,
    *,
    limit: Any = None,
    offset: Any = None,
    tags: Any = None,
    update_mask: Any = None,
    only_active: Any = None,
    dag_id_pattern: Any = None,
    body: Any = None,
) -> Any:
    """PATCH /dags"""


@pending
def get_dag(sim: Simulator, *, dag_id: Any = None) -> Any:
    """GET /dags/{dag_id}"""


@pending
def delete_dag(sim: Simulator, *, dag_id: Any = None) -> Any:
    """DELETE /dags/{dag_id}"""


@pending
def patch_dag(
    sim: Simulator, *, dag_id: Any = None, update_mask: Any = None, body: Any = None
) -> Any:
    """PATCH /dags/{dag_id}"""


@pending
def post_clear_task_instances(sim: Simulator, *, dag_id: Any = None, body: Any = None) -> Any:
    """POST /dags/{dag_id}/clearTaskInstances"""


@pending
def post_set_task_instances_state(sim: Simulator, *, dag_id: Any = None, body: Any = None) -> Any:
    """POST /dags/{dag_id}/updateTaskInstancesState"""


@pending
def get_dag_details(sim: Simulator, *, dag_id: Any = None) -> Any:
    """GET /dags/{dag_id}/details"""


@pending
def get_tasks(sim: Simulator, *, dag_id: Any = None, order_by: Any = None) -> Any:
    """GET /dags/{dag_id}/tasks"""


@pending
def get_task(sim: Simulator, *, dag_id: Any = None, task_id: Any = None) -> Any:
    """GET /dags/{dag_id}/tasks/{task_id}"""


@pending
def get_dag_source(sim: Simulator, *, file_token: Any = None) -> Any:
    """GET /dagSources/{file_token}"""
