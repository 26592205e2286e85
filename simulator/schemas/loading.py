"""The second validation layer Airflow runs on write bodies: marshmallow 3.

After connexion has checked a body against the spec, Airflow loads it with a
marshmallow schema; failures are a 400 whose detail is the Python repr of
marshmallow's error dict, e.g. "{'conn_type': ['Missing data for required field.']}".
Fields load in declaration order, then unknown fields are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.errors import BadRequest

MISSING = "Missing data for required field."
UNKNOWN = "Unknown field."
NULL = "Field may not be null."

Errors = dict[Any, Any]


def check_string(
    data: Mapping[str, Any], name: str, max_length: int, errors: Errors, *, required: bool
) -> None:
    """A String auto_field: required if its column is not nullable, length-capped."""
    if name not in data:
        if required:
            errors[name] = [MISSING]
        return
    value = data[name]
    if isinstance(value, str) and len(value) > max_length:
        errors[name] = [f"Longer than maximum length {max_length}."]


def check_unknown(data: Mapping[str, Any], known: Iterable[str], errors: Errors) -> None:
    """marshmallow reports unknown keys after the fields' own errors."""
    allowed = set(known)
    for key in data:
        if key not in allowed:
            errors[key] = [UNKNOWN]


def check_items(
    data: Mapping[str, Any], name: str, load_item: Callable[[Any], Errors], errors: Errors
) -> None:
    """A List(Nested(...)) field: errors keyed by item index."""
    items = data.get(name)
    if not isinstance(items, list):
        return
    found: Errors = {}
    for index, item in enumerate(items):
        item_errors = [NULL] if item is None else load_item(item)
        if item_errors:
            found[index] = item_errors
    if found:
        errors[name] = found


@dataclass(frozen=True, slots=True)
class Field:
    """One marshmallow field: the API name, the attribute it loads into, its rules."""

    name: str
    attribute: str
    kind: type = str
    required: bool = False
    allow_none: bool = True
    max_length: int | None = None


def _load_value(field: Field, value: Any) -> tuple[Any, str | None]:
    """marshmallow's deserialize of one present value: (value, error message)."""
    if value is None:
        return None, None if field.allow_none else "Field may not be null."
    if field.kind is int:
        # fields.Integer(strict=False): booleans and non-numbers are invalid.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "Not a valid integer."
        return int(value), None
    if not isinstance(value, str):
        return None, "Not a valid string."
    if field.max_length is not None and len(value) > field.max_length:
        return None, f"Longer than maximum length {field.max_length}."
    return value, None


def load(
    body: Mapping[str, Any],
    fields: Sequence[Field],
    *,
    partial: bool = False,
    title: str | None = None,
) -> dict[str, Any]:
    """Load `body` into {attribute: value}, or raise Airflow's 400 (dict repr detail)."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in fields:
        if field.name not in body:
            if field.required and not partial:
                errors[field.name] = ["Missing data for required field."]
            continue
        value, error = _load_value(field, body[field.name])
        if error is not None:
            errors[field.name] = [error]
        else:
            data[field.attribute] = value
    known = {field.name for field in fields}
    # marshmallow walks a set here, so with several unknown fields their order in
    # Airflow's message varies by process; the simulator keeps the body's order.
    for name in body:
        if name not in known:
            errors[name] = ["Unknown field."]
    if errors:
        raise BadRequest(title, detail=str(errors))
    return data
