"""ImportError operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_import_errors(
    sim: Simulator, *, limit: Any = None, offset: Any = None, order_by: Any = None
) -> Any:
    """GET /importErrors"""


@pending
def get_import_error(sim: Simulator, *, import_error_id: Any = None) -> Any:
    """GET /importErrors/{import_error_id}"""
