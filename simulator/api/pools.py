"""Pool operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_pools(
    sim: Simulator, *, limit: Any = None, offset: Any = None, order_by: Any = None
) -> Any:
    """GET /pools"""


@pending
def post_pool(sim: Simulator, *, body: Any = None) -> Any:
    """POST /pools"""


@pending
def get_pool(sim: Simulator, *, pool_name: Any = None) -> Any:
    """GET /pools/{pool_name}"""


@pending
def delete_pool(sim: Simulator, *, pool_name: Any = None) -> Any:
    """DELETE /pools/{pool_name}"""


@pending
def patch_pool(
    sim: Simulator, *, pool_name: Any = None, update_mask: Any = None, body: Any = None
) -> Any:
    """PATCH /pools/{pool_name}"""
