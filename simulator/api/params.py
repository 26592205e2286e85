"""Airflow's shared query rules: page limits, offsets, order_by, update_mask."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from simulator.config import Settings
from simulator.errors import BadRequest
from simulator.state.queries import Order

T = TypeVar("T")


def check_limit(settings: Settings, limit: int | None) -> int:
    """Airflow's check_limit: capped at the maximum, 0 means the fallback."""
    maximum, fallback = settings.page_limits
    if limit is None:
        return fallback
    if limit > maximum:
        return maximum
    if limit == 0:
        return fallback
    if limit < 0:
        raise BadRequest("Page limit must be a positive integer")
    return limit


def paginate(
    settings: Settings, rows: Sequence[T], limit: int | None, offset: int | None
) -> list[T]:
    """One page of `rows` with the limit clamped as most list endpoints do."""
    start = offset or 0
    return list(rows[start : start + check_limit(settings, limit)])


def _sort_key(value: Any) -> tuple[int, Any]:
    # PostgreSQL puts NULLs last in ascending order (and first descending).
    return (1, 0) if value is None else (0, value)


def ordering(
    order_by: str | None, allowed: Mapping[str, Callable[[T], Any]], default: str
) -> Order:
    """Airflow's apply_sorting: `-` for descending, names from an allow-list."""
    order_by = default if order_by is None else order_by
    name = order_by.lstrip("-")
    if name not in allowed:
        raise BadRequest(
            detail=f"Ordering with '{name}' is disallowed or "
            "the attribute does not exist on the model"
        )
    return Order(name, allowed[name], order_by.startswith("-"))


def order_rows(
    rows: Iterable[T],
    order_by: str | None,
    allowed: Mapping[str, Callable[[T], Any]],
    default: str,
) -> list[T]:
    """apply_sorting over all of `rows` (small tables).

    Sorting is stable over insertion order, which stands in for the row id
    Airflow does not add as a tiebreak.
    """
    order = ordering(order_by, allowed, default)
    rows = list(rows)
    keys = [order.key(row) for row in rows]
    if None in keys:
        keys = [_sort_key(key) for key in keys]
    positions = sorted(range(len(rows)), key=keys.__getitem__, reverse=order.descending)
    return [rows[i] for i in positions]


def order_ascending(
    rows: Iterable[T], order_by: str | None, allowed: Mapping[str, Callable[[T], Any]], default: str
) -> list[T]:
    """Role and user ordering: Airflow checks the allow-list against the raw value,
    dash included, so any descending order is refused."""
    value = default if order_by is None else order_by
    if value not in allowed:
        raise BadRequest(
            detail=f"Ordering with '{value}' is disallowed or "
            "the attribute does not exist on the model"
        )
    return sorted(rows, key=allowed[value])


def mask_names(update_mask: list[str] | None) -> list[str] | None:
    """Whitespace-trimmed mask names; an empty mask behaves like no mask."""
    if not update_mask:
        return None
    names = [name.strip() for name in update_mask if name.strip()]
    return names or None


def parse_datetime(value: str | None) -> datetime | None:
    """A date-time query value already checked against RFC 3339 by validation."""
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))


def extract_update_mask(
    update_mask: Sequence[str], non_update_fields: Sequence[str], data: Mapping[str, Any]
) -> dict[str, Any]:
    """Airflow's extract_update_mask_data: each trimmed name must be a loaded key.

    Names are matched against the *loaded* keys (conn_id, val, ...), not the
    API names, and `update_mask=` is a mask of one empty name (a 400).
    """
    extracted: dict[str, Any] = {}
    for raw in update_mask:
        name = raw.strip()
        if name not in data or name in non_update_fields:
            raise BadRequest(detail=f"'{name}' is unknown or cannot be updated.")
        extracted[name] = data[name]
    return extracted
