"""Event log (audit log) bodies, as Airflow's EventLogSchema dumps a Log row."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from simulator.schemas.common import isoformat
from simulator.schemas.page import Item, Page
from simulator.state.entities import EventLog
from simulator.state.event_logs import EventLogs


def dump_event_log(log: EventLog) -> dict[str, Any]:
    return {
        "dag_id": log.dag_id,
        "event": log.event,
        "event_log_id": log.id,
        "execution_date": isoformat(log.execution_date),
        "extra": log.extra,
        "owner": log.owner,
        "task_id": log.task_id,
        "when": isoformat(log.when),
    }


def dump_event_log_collection(
    logs: Iterable[EventLog], total_entries: int, table: EventLogs
) -> Page:
    """Rows by id in `table`: a row never changes (until the table is loaded
    again), but a row read from the log's columns is a new object each time."""
    generation = table.generation
    items: list[Item] = [(table, log.id, generation, partial(dump_event_log, log))
                         for log in logs]  # fmt: skip
    return Page("event_logs", items, total_entries)
