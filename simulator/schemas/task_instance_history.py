"""TaskInstanceHistory bodies (Airflow 2.10's TaskInstanceHistorySchema):
one try of a task instance, from a history row or the live instance.

The collection's key is `task_instances`, as Airflow sends it (its spec says
`task_instances_history`), and it is never paged: Airflow ignores the
declared limit, offset and order_by.
"""

from __future__ import annotations

from typing import Any

from simulator.engine.history import TryRow
from simulator.schemas.common import isoformat
from simulator.schemas.task_instance import display_name
from simulator.state.dag_model import Task


def dump_try(row: TryRow, task: Task | None) -> dict[str, Any]:
    ti = row.ti
    return {
        "task_id": ti.task_id,
        "task_display_name": display_name(ti, task),
        "dag_id": ti.dag_id,
        "dag_run_id": ti.run_id,
        "map_index": ti.map_index,
        "start_date": isoformat(row.start_date),
        "end_date": isoformat(row.end_date),
        "duration": row.duration,
        "state": row.state,
        "try_number": row.try_number,
        "max_tries": row.max_tries,
        "hostname": row.hostname,
        "unixname": ti.unixname,
        "pool": ti.pool,
        "pool_slots": ti.pool_slots,
        "queue": ti.queue,
        "priority_weight": ti.priority_weight,
        "operator": ti.operator,
        "queued_when": isoformat(row.queued_dttm),
        "pid": row.pid,
        "executor": task.executor if task is not None else None,
        # A PickleType column dumped by a String field: str({}).
        "executor_config": "{}",
    }


def dump_tries(rows: list[TryRow], task: Task | None) -> dict[str, Any]:
    return {"task_instances": [dump_try(row, task) for row in rows], "total_entries": len(rows)}
