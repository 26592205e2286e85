"""Connections: Airflow's ConnectionSchema for loading, and the dumps with
the password left out and `extra` redacted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulator.schemas.loading import Field, load
from simulator.state.entities import Connection
from simulator.state.redaction import redact_extra

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
