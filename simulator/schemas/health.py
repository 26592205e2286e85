"""Health and version bodies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator.schemas.common import isoformat
from simulator.versions import V2_5, AirflowVersion

# [scheduler] scheduler_health_check_threshold
HEALTH_CHECK_THRESHOLD = timedelta(seconds=30)
# [triggerer] triggerer_health_check_threshold (2.10)
TRIGGERER_CHECK_THRESHOLD = timedelta(seconds=30)


def _status(now: datetime, heartbeat: datetime | None, threshold: timedelta) -> str:
    healthy = heartbeat is not None and now - heartbeat < threshold
    return "healthy" if healthy else "unhealthy"


def dump_health(
    now: datetime,
    heartbeat: datetime | None,
    version: AirflowVersion = V2_5,
    triggerer: datetime | None = None,
    dag_processor: datetime | None = None,
) -> dict[str, Any]:
    """The components' health; 2.10 adds the triggerer and the standalone DAG
    processor, both null when there is no such job (heartbeats: None)."""
    body: dict[str, Any] = {
        "metadatabase": {"status": "healthy"},
        "scheduler": {
            "latest_scheduler_heartbeat": isoformat(heartbeat),
            "status": _status(now, heartbeat, HEALTH_CHECK_THRESHOLD),
        },
    }
    if version.at_least("2.10"):
        body["triggerer"] = {
            "latest_triggerer_heartbeat": isoformat(triggerer),
            "status": None
            if triggerer is None
            else _status(now, triggerer, TRIGGERER_CHECK_THRESHOLD),
        }
        # A job's own threshold: its heartrate (job_heartbeat_sec, 5 s) times 2.1.
        body["dag_processor"] = {
            "latest_dag_processor_heartbeat": isoformat(dag_processor),
            "status": None
            if dag_processor is None
            else _status(now, dag_processor, timedelta(seconds=5 * 2.1)),
        }
    return body


def dump_version(version: AirflowVersion) -> dict[str, Any]:
    return {"git_version": version.git_version, "version": version.name}
