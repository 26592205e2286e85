"""EventLog operations: the audit log, read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.params import check_limit, ordering
from simulator.schemas.event_log import dump_event_log, dump_event_log_collection
from simulator.schemas.page import Page
from simulator.simulator import Simulator
from simulator.state.entities import EventLog
from simulator.state.queries import top

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
    dag_id: str | None = None,
    task_id: str | None = None,
    run_id: str | None = None,
    map_index: int | None = None,
    try_number: int | None = None,
    event: str | None = None,
    owner: str | None = None,
    before: str | None = None,
    after: str | None = None,
    included_events: str | None = None,
    excluded_events: str | None = None,
) -> Page:
    """GET /eventLogs: one page of the audit log; total_entries counts every row."""
    # Airflow checks the limit (a decorator) before the handler checks order_by.
    limit = check_limit(sim.settings, limit)
    table = sim.store.event_logs
    start = offset or 0
    if order_by in (None, "event_log_id", "-event_log_id") or (
        order_by == "when" and table.in_time_order
    ):
        # Id order is the table's own (and its time order while rows are
        # written at the clock's now): read the page, not the whole log.
        descending = order_by == "-event_log_id"
        page = table.page(start, limit, descending=descending)
    elif order_by == "-when" and table.in_time_order:
        page = table.newest_first(start, limit)
    else:
        order = ordering(order_by, ORDER_BY, "event_log_id")
        page = top(table, order, _event_log_id, start + limit)[start:]
    return dump_event_log_collection(page, len(table), table)


def _event_log_id(row: EventLog) -> int:
    return row.id


def get_event_log(sim: Simulator, *, event_log_id: int) -> dict[str, Any]:
    """GET /eventLogs/{event_log_id}: one audit log row."""
    return dump_event_log(sim.store.event_logs.require(event_log_id))
