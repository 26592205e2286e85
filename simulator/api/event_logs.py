"""EventLog operations: the audit log, read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.params import check_limit, order_rows, paginate
from simulator.schemas.event_log import dump_event_log, dump_event_log_collection
from simulator.simulator import Simulator
from simulator.state.entities import EventLog

# API name -> column, as Airflow's allow-list and alias map
# (event_log_id -> id, when -> dttm).
ORDER_BY: dict[str, Callable[[EventLog], Any]] = {
    "event_log_id": lambda log: log.id,
    "when": lambda log: log.when,
    "dag_id": lambda log: log.dag_id,
    "task_id": lambda log: log.task_id,
    "event": lambda log: log.event,
    "execution_date": lambda log: log.execution_date,
    "owner": lambda log: log.owner,
    "extra": lambda log: log.extra,
}


def get_event_logs(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET /eventLogs: one page of the audit log; total_entries counts every row."""
    # Airflow checks the limit (a decorator) before the handler checks order_by.
    limit = check_limit(sim.settings, limit)
    table = sim.store.event_logs
    if order_by in (None, "event_log_id", "-event_log_id"):
        # Id order is the table's own: read the page, not the whole log.
        descending = order_by == "-event_log_id"
        page = table.page(offset or 0, limit, descending=descending)
        return dump_event_log_collection(page, len(table))
    rows = order_rows(table, order_by, ORDER_BY, "event_log_id")
    return dump_event_log_collection(paginate(sim.settings, rows, limit, offset), len(table))


def get_event_log(sim: Simulator, *, event_log_id: int) -> dict[str, Any]:
    """GET /eventLogs/{event_log_id}: one audit log row."""
    return dump_event_log(sim.store.event_logs.require(event_log_id))
