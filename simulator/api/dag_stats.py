"""DagStats: being implemented (issue 12)."""

from __future__ import annotations

from typing import Any

from simulator.simulator import Simulator


def get_dag_stats(sim: Simulator, *, dag_ids: Any = None) -> Any:
    """GET /dagStats: being implemented (issue 12)."""
    raise NotImplementedError("get_dag_stats")
