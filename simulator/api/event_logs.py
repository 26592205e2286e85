"""EventLog operations (routed; answered by the simulation engine issue)."""

from __future__ import annotations

from typing import Any

from simulator.api.pending import pending
from simulator.simulator import Simulator


@pending
def get_event_logs(
    sim: Simulator, *, limit: Any = None, offset: Any = None, order_by: Any = None
) -> Any:
    """GET /eventLogs"""


@pending
def get_event_log(sim: Simulator, *, event_log_id: Any = None) -> Any:
    """GET /eventLogs/{event_log_id}"""
