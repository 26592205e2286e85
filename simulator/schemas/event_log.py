"""Event log (audit log) bodies, as Airflow's EventLogSchema dumps a Log row."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from simulator.schemas.common import isoformat
from simulator.schemas.page import Item, Page
from simulator.state.entities import EventLog
from simulator.state.event_logs import EventLogs
from simulator.versions import V2_5, AirflowVersion


def dump_event_log(log: EventLog, version: AirflowVersion = V2_5) -> dict[str, Any]:
    body = {
        "dag_id": log.dag_id,
        "event": log.event,
        "event_log_id": log.id,
        "execution_date": isoformat(log.execution_date),
        "extra": log.extra,
        "owner": log.owner,
        "task_id": log.task_id,
        "when": isoformat(log.when),
    }
    if version.at_least("2.10"):
        # Task rows carry them (TaskEventLog); the API's and the components' rows do not.
        body["run_id"] = getattr(log, "run_id", None)
        body["map_index"] = getattr(log, "map_index", None)
        body["try_number"] = getattr(log, "try_number", None)
    return body


def dump_event_log_collection(
    logs: Iterable[EventLog], total_entries: int, table: EventLogs, version: AirflowVersion = V2_5
) -> Page:
    """Rows by id in `table`: a row never changes (until the table is loaded
    again), but a row read from the log's columns is a new object each time."""
    generation = table.generation
    items: list[Item] = [(table, log.id, generation, partial(dump_event_log, log, version))
                         for log in logs]  # fmt: skip
    return Page("event_logs", items, total_entries)
