"""Provider operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_providers(sim: Simulator) -> Any:
    """GET /providers"""
