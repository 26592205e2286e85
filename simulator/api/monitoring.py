"""Monitoring: health and version. Neither needs authentication."""

from __future__ import annotations

from typing import Any

from simulator.schemas.health import dump_health, dump_version
from simulator.simulator import Simulator


def get_health(sim: Simulator) -> dict[str, Any]:
    """GET /health: the metadatabase and the scheduler's latest heartbeat
    (2.10: the triggerer's too, which beats on through a scheduler outage;
    the deployment runs no standalone DAG processor)."""
    return dump_health(
        sim.now(), sim.latest_scheduler_heartbeat(), sim.version, triggerer=sim.latest_heartbeat()
    )


def get_version(sim: Simulator) -> dict[str, Any]:
    """GET /version."""
    return dump_version(sim.version)
