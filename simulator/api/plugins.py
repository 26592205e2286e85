"""Plugin operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_plugins(sim: Simulator, *, limit: Any = None, offset: Any = None) -> Any:
    """GET /plugins"""
