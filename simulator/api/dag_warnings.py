"""DagWarning operations: warnings the DAG processor raised, read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.params import check_limit, order_rows, paginate
from simulator.schemas.dag_warning import dump_dag_warning_collection
from simulator.simulator import Simulator
from simulator.state.entities import DagWarning

# Airflow's allow-list; the names are the columns (no aliases).
ORDER_BY: dict[str, Callable[[DagWarning], Any]] = {
    "dag_id": lambda warning: warning.dag_id,
    "warning_type": lambda warning: warning.warning_type,
    "message": lambda warning: warning.message,
    "timestamp": lambda warning: warning.timestamp,
}


def get_dag_warnings(
    sim: Simulator,
    *,
    dag_id: str | None = None,
    warning_type: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET /dagWarnings: exact-match filters, then one page; total_entries counts matches."""
    # Airflow checks the limit (a decorator) before the handler checks order_by.
    limit = check_limit(sim.settings, limit)
    # An empty filter value filters nothing (Airflow tests truthiness).
    rows = [
        warning
        for warning in sim.store.dag_warnings
        if (not dag_id or warning.dag_id == dag_id)
        and (not warning_type or warning.warning_type == warning_type)
    ]
    ordered = order_rows(rows, order_by, ORDER_BY, "timestamp")
    return dump_dag_warning_collection(paginate(sim.settings, ordered, limit, offset), len(rows))
