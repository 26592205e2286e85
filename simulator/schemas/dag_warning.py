"""DAG warning bodies, as Airflow's DagWarningSchema dumps them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.schemas.common import isoformat
from simulator.state.entities import DagWarning


def dump_dag_warning(warning: DagWarning) -> dict[str, Any]:
    return {
        "dag_id": warning.dag_id,
        "message": warning.message,
        "timestamp": isoformat(warning.timestamp),
        "warning_type": warning.warning_type,
    }


def dump_dag_warning_collection(
    warnings: Iterable[DagWarning], total_entries: int
) -> dict[str, Any]:
    # Airflow's key is `dag_warnings`; the spec says `import_errors` (quirk dag-warnings-key).
    return {
        "dag_warnings": [dump_dag_warning(warning) for warning in warnings],
        "total_entries": total_entries,
    }
