"""Connection bodies, and the second (marshmallow) validation layer Airflow
runs on write bodies after connexion has checked them against the spec.

`load` reproduces marshmallow 3's load as Airflow's schemas configure it:
fields in declaration order, then unknown fields; errors become a 400 whose
detail is the Python repr of the error dict, e.g.
"{'conn_type': ['Missing data for required field.']}".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.errors import BadRequest
from simulator.state.entities import Connection
from simulator.state.redaction import redact


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


# ConnectionSchema (SQLAlchemySchema over the Connection model): the lengths
# come from the model's String columns; description is Text (no limit).
CONNECTION_FIELDS = (
    Field("connection_id", "conn_id", required=True, allow_none=False, max_length=250),
    Field("conn_type", "conn_type", required=True, allow_none=False, max_length=500),
    Field("description", "description"),
    Field("host", "host", max_length=500),
    Field("login", "login", max_length=500),
    Field("schema", "schema", max_length=500),
    Field("port", "port", kind=int),
    Field("password", "password"),
    Field("extra", "extra"),
)


def load_connection(body: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The loaded connection fields keyed by Airflow's column names (conn_id, ...)."""
    return load(body, CONNECTION_FIELDS, partial=partial)


def redact_extra(extra: str | None) -> str | None:
    """Airflow's serialize_extra: JSON is redacted and re-serialized, anything else verbatim."""
    if extra is None:
        return None
    try:
        parsed = json.loads(extra)
    except ValueError:  # json.JSONDecodeError: unstructured extra cannot be redacted
        return extra
    return json.dumps(redact(parsed))


def dump_connection_item(conn: Connection) -> dict[str, Any]:
    """A connection as listed: no password, no extra."""
    return {
        "connection_id": conn.conn_id,
        "conn_type": conn.conn_type,
        "description": conn.description,
        "host": conn.host,
        "login": conn.login,
        "schema": conn.schema,
        "port": conn.port,
    }


def dump_connection(conn: Connection) -> dict[str, Any]:
    """A single connection: adds the redacted extra; the password is write-only."""
    return {**dump_connection_item(conn), "extra": redact_extra(conn.extra)}


def dump_connection_collection(connections: Sequence[Connection], total: int) -> dict[str, Any]:
    return {
        "connections": [dump_connection_item(conn) for conn in connections],
        "total_entries": total,
    }


def dump_connection_test(status: bool, message: str) -> dict[str, Any]:
    return {"status": status, "message": message}


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
