"""Import error bodies, as Airflow's ImportErrorSchema dumps a DAG file parse failure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.schemas.common import isoformat
from simulator.state.entities import DagImportError


def dump_import_error(error: DagImportError) -> dict[str, Any]:
    return {
        "filename": error.filename,
        "import_error_id": error.id,
        "stack_trace": error.stack_trace,
        "timestamp": isoformat(error.timestamp),
    }


def dump_import_error_collection(
    errors: Iterable[DagImportError], total_entries: int
) -> dict[str, Any]:
    return {
        "import_errors": [dump_import_error(error) for error in errors],
        "total_entries": total_entries,
    }
