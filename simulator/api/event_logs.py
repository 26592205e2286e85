"""EventLog operations: the audit log, read-only."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from simulator.api.params import check_limit, ordering, parse_datetime
from simulator.schemas.event_log import dump_event_log, dump_event_log_collection
from simulator.schemas.page import Page
from simulator.simulator import Simulator
from simulator.state.entities import EventLog
from simulator.state.event_log_query import Criteria, LogQuery
from simulator.state.event_logs import EventLogs
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
ORDER_BY_2_10 = {**ORDER_BY, "run_id": lambda log: getattr(log, "run_id", None)}


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
    """GET /eventLogs: one page of the audit log; total_entries counts every row
    (2.10: the rows its filters keep)."""
    # Airflow checks the limit (a decorator) before the handler checks order_by.
    limit = check_limit(sim.settings, limit)
    table = sim.store.event_logs
    start = offset or 0
    wanted = _criteria(dag_id, task_id, run_id, map_index, try_number, event, owner,
                       before, after, included_events, excluded_events)  # fmt: skip
    if sim.version.at_least("2.10") and (wanted or order_by in ("run_id", "-run_id")):
        found, total = _filtered(table, wanted, order_by, start, limit)
        return dump_event_log_collection(found, total, table, sim.version)
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
    return dump_event_log_collection(page, len(table), table, sim.version)


def _event_log_id(row: EventLog) -> int:
    return row.id


def _filtered(
    table: EventLogs, wanted: Criteria, order_by: str | None, start: int, limit: int
) -> tuple[list[EventLog], int]:
    """A page of the rows `wanted` keeps, and their count: rows are built
    for the page only while the order is the log's own (ids, or times while
    rows are in time order); another order builds the rows kept."""
    order = ordering(order_by, ORDER_BY_2_10, "event_log_id")
    query = LogQuery(table, wanted)
    total, end = query.count(), start + limit
    if order.name == "event_log_id" or (order.name == "when" and table.in_time_order):
        if order.name == "when" and order.descending:
            return query.rows(query.newest_first(end)[start:end]), total
        return query.rows(islice(query.matches(reverse=order.descending), start, end)), total
    rows = query.rows(query.matches())
    return top(rows, order, _event_log_id, end)[start:], total


def _criteria(
    dag_id: str | None, task_id: str | None, run_id: str | None, map_index: int | None,
    try_number: int | None, event: str | None, owner: str | None, before: str | None,
    after: str | None, included: str | None, excluded: str | None,
) -> Criteria:  # fmt: skip
    """Airflow 2.10's where clauses: each applies only when its value is
    truthy (map_index=0 filters nothing); exact, case-sensitive matches;
    event lists split on commas; `when` strictly before / after."""
    return Criteria(
        dag_id=dag_id or None,
        task_id=task_id or None,
        run_id=run_id or None,
        map_index=map_index or None,
        try_number=try_number or None,
        owner=owner or None,
        event=event or None,
        included=frozenset(included.split(",")) if included else None,
        excluded=frozenset(excluded.split(",")) if excluded else None,
        after=parse_datetime(after) if after else None,
        before=parse_datetime(before) if before else None,
    )


def get_event_log(sim: Simulator, *, event_log_id: int) -> dict[str, Any]:
    """GET /eventLogs/{event_log_id}: one audit log row."""
    return dump_event_log(sim.store.event_logs.require(event_log_id), sim.version)
