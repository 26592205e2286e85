"""Health and version bodies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator.schemas.common import isoformat

VERSION = "2.5.3"
# The content of the 2.5.3 release's airflow/git_version file.
GIT_VERSION = ".release:2.5.3+cb842dd8aa8749b4d0a474c6e2fda11505d9ba99"
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


def dump_version() -> dict[str, Any]:
    return {"git_version": GIT_VERSION, "version": VERSION}
