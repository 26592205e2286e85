"""Field formats shared by every serializer."""

from __future__ import annotations

from datetime import datetime


def isoformat(value: datetime | None) -> str | None:
    """Airflow's datetime rendering: isoformat with +00:00, microseconds only when set."""
    return value.isoformat() if value is not None else None
