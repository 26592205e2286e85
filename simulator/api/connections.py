"""Connection operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_connections(
    sim: Simulator, *, limit: Any = None, offset: Any = None, order_by: Any = None
) -> Any:
    """GET /connections"""


@pending
def post_connection(sim: Simulator, *, body: Any = None) -> Any:
    """POST /connections"""


@pending
def get_connection(sim: Simulator, *, connection_id: Any = None) -> Any:
    """GET /connections/{connection_id}"""


@pending
def delete_connection(sim: Simulator, *, connection_id: Any = None) -> Any:
    """DELETE /connections/{connection_id}"""


@pending
def patch_connection(
    sim: Simulator, *, connection_id: Any = None, update_mask: Any = None, body: Any = None
) -> Any:
    """PATCH /connections/{connection_id}"""


@pending
def test_connection(sim: Simulator, *, body: Any = None) -> Any:
    """POST /connections/test"""
