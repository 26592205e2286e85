"""User operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_users(
    sim: Simulator, *, limit: Any = None, offset: Any = None, order_by: Any = None
) -> Any:
    """GET /users"""


@pending
def post_user(sim: Simulator, *, body: Any = None) -> Any:
    """POST /users"""


@pending
def get_user(sim: Simulator, *, username: Any = None) -> Any:
    """GET /users/{username}"""


@pending
def delete_user(sim: Simulator, *, username: Any = None) -> Any:
    """DELETE /users/{username}"""


@pending
def patch_user(
    sim: Simulator, *, username: Any = None, update_mask: Any = None, body: Any = None
) -> Any:
    """PATCH /users/{username}"""
