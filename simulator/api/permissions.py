"""Permission operations: GET /permissions lists FAB's actions, not pairs."""

from __future__ import annotations

from typing import Any

from simulator.api.params import check_limit
from simulator.schemas.role import dump_action_collection
from simulator.simulator import Simulator


def get_permissions(
    sim: Simulator, *, limit: int | None = None, offset: int | None = None
) -> dict[str, Any]:
    """GET /permissions: the actions (can_read, ...) in the order FAB created them."""
    size = check_limit(sim.settings, limit)
    start = offset or 0
    actions = sim.store.actions
    return dump_action_collection(actions[start : start + size], len(actions))
