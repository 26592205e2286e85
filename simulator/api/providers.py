"""Provider operation: the installed provider packages."""

from __future__ import annotations

from typing import Any

from simulator.schemas.provider import dump_provider_collection
from simulator.simulator import Simulator


def get_providers(sim: Simulator) -> dict[str, Any]:
    """GET /providers: every installed provider, no pagination."""
    return dump_provider_collection(sim.store.providers)
