"""Role operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_roles(
    sim: Simulator, *, limit: Any = None, offset: Any = None, order_by: Any = None
) -> Any:
    """GET /roles"""


@pending
def post_role(sim: Simulator, *, body: Any = None) -> Any:
    """POST /roles"""


@pending
def get_role(sim: Simulator, *, role_name: Any = None) -> Any:
    """GET /roles/{role_name}"""


@pending
def delete_role(sim: Simulator, *, role_name: Any = None) -> Any:
    """DELETE /roles/{role_name}"""


@pending
def patch_role(
    sim: Simulator, *, role_name: Any = None, update_mask: Any = None, body: Any = None
) -> Any:
    """PATCH /roles/{role_name}"""
