"""ImportError operations: DAG files that failed to parse, read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.params import check_limit, order_rows, paginate
from simulator.schemas.import_error import dump_import_error, dump_import_error_collection
from simulator.simulator import Simulator
from simulator.state.entities import DagImportError

# API name -> column, as Airflow's allow-list and alias map (import_error_id -> id).
ORDER_BY: dict[str, Callable[[DagImportError], Any]] = {
    "import_error_id": lambda error: error.id,
    "timestamp": lambda error: error.timestamp,
    "filename": lambda error: error.filename,
}


def get_import_errors(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET /importErrors: one page of import errors; total_entries counts every row."""
    # Airflow checks the limit (a decorator) before the handler checks order_by.
    limit = check_limit(sim.settings, limit)
    table = sim.store.import_errors
    rows = order_rows(table, order_by, ORDER_BY, "import_error_id")
    return dump_import_error_collection(paginate(sim.settings, rows, limit, offset), len(table))


def get_import_error(sim: Simulator, *, import_error_id: int) -> dict[str, Any]:
    """GET /importErrors/{import_error_id}: one import error."""
    return dump_import_error(sim.store.import_errors.require(import_error_id))
