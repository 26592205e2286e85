"""Variable operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_variables(
    sim: Simulator, *, limit: Any = None, offset: Any = None, order_by: Any = None
) -> Any:
    """GET /variables"""


@pending
def post_variables(sim: Simulator, *, body: Any = None) -> Any:
    """POST /variables"""


@pending
def get_variable(sim: Simulator, *, variable_key: Any = None) -> Any:
    """GET /variables/{variable_key}"""


@pending
def delete_variable(sim: Simulator, *, variable_key: Any = None) -> Any:
    """DELETE /variables/{variable_key}"""


@pending
def patch_variable(
    sim: Simulator, *, variable_key: Any = None, update_mask: Any = None, body: Any = None
) -> Any:
    """PATCH /variables/{variable_key}"""
