"""DagWarning operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_dag_warnings(
    sim: Simulator,
    *,
    dag_id: Any = None,
    warning_type: Any = None,
    limit: Any = None,
    offset: Any = None,
    order_by: Any = None,
) -> Any:
    """GET /dagWarnings"""
