"""The API calls Airflow 2.5.3 records in its audit log (event log), and how.

Airflow writes the row before the handler runs, so it also logs requests that
then fail; the simulator writes it only when the request succeeds, because a
failed request changes no state here (quirk `audit-log-on-success-only`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simulator.simulator import Simulator
from simulator.state.entities import User
from simulator.state.redaction import redact

EVENTS = {
    "post_connection": "connection.create",
    "patch_connection": "connection.edit",
    "delete_connection": "connection.delete",
    "post_variables": "variable.create",
    "patch_variable": "variable.edit",
    "delete_variable": "variable.delete",
    "post_dag_run": "dag_run.create",
}


def record(
    sim: Simulator,
    operation_id: str,
    user: User | None,
    query: Iterable[tuple[str, str]],
    path: Mapping[str, Any],
) -> None:
    event = EVENTS.get(operation_id)
    if event is None:
        return
    # Query items then path parameters, as (name, value) pairs; the body is not logged.
    fields = [(k, redact(v, k)) for k, v in (*query, *path.items())]
    values = dict(fields)
    sim.record_event(
        event,
        owner=user.username if user else "anonymous",
        dag_id=values.get("dag_id"),
        task_id=values.get("task_id"),
        extra=str(fields),
    )
