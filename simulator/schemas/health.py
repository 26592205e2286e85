"""Health and version bodies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator.schemas.common import isoformat
from simulator.versions import AirflowVersion

# [scheduler] scheduler_health_check_threshold
HEALTH_CHECK_THRESHOLD = timedelta(seconds=30)


def dump_health(now: datetime, heartbeat: datetime | None) -> dict[str, Any]:
    healthy = heartbeat is not None and now - heartbeat < HEALTH_CHECK_THRESHOLD
    return {
        "metadatabase": {"status": "healthy"},
        "scheduler": {
            "latest_scheduler_heartbeat": isoformat(heartbeat),
            "status": "healthy" if healthy else "unhealthy",
        },
    }


def dump_version(version: AirflowVersion) -> dict[str, Any]:
    return {"git_version": version.git_version, "version": version.name}
