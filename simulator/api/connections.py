"""Connection operations: CRUD on the connection table, and the connection test."""

from __future__ import annotations

from typing import Any

from simulator.api.params import check_limit, extract_update_mask, order_rows
from simulator.api.responses import Text
from simulator.errors import AlreadyExists, BadRequest
from simulator.schemas.connection import (
    dump_connection,
    dump_connection_collection,
    dump_connection_test,
    load_connection,
)
from simulator.simulator import Simulator
from simulator.state.entities import Connection

# API order_by names -> sort keys (Airflow maps connection_id to the conn_id column).
ORDER_BY = {
    "connection_id": lambda c: c.conn_id,
    "conn_type": lambda c: c.conn_type,
    "description": lambda c: c.description,
    "host": lambda c: c.host,
    "port": lambda c: c.port,
    "id": lambda c: c.id,
}
NON_UPDATE_FIELDS = ("connection_id", "conn_id")

# The hooks of a stock 2.5.3 install, by connection type: (provider package, hook class).
HOOKS = {
    "ftp": ("apache-airflow-providers-ftp", "FTPHook"),
    "ftps": ("apache-airflow-providers-ftp", "FTPSHook"),
    "http": ("apache-airflow-providers-http", "HttpHook"),
    "imap": ("apache-airflow-providers-imap", "ImapHook"),
    "sqlite": ("apache-airflow-providers-sqlite", "SqliteHook"),
}
TESTED = "Connection successfully tested"
TEST_DISABLED = (
    "Testing connections is disabled in Airflow configuration. "
    "Contact your deployment admin to enable it."
)


def get_connections(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET /connections: a page of connections (default order: row id)."""
    size = check_limit(sim.settings, limit)  # before order_by, as in Airflow
    rows = order_rows(sim.store.connections, order_by, ORDER_BY, "id")
    start = offset or 0
    page = rows[start : start + size]
    return dump_connection_collection(page, len(sim.store.connections))


def post_connection(sim: Simulator, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /connections: create; 409 if the id exists (Airflow answers 200, not 201)."""
    data = load_connection(body)
    _check_free(sim, data["conn_id"])
    return dump_connection(sim.store.connections.add(Connection(**data)))


def get_connection(sim: Simulator, *, connection_id: str) -> dict[str, Any]:
    """GET /connections/{connection_id}: with the redacted extra, never the password."""
    return dump_connection(sim.store.connections.require(connection_id))


def delete_connection(sim: Simulator, *, connection_id: str) -> None:
    """DELETE /connections/{connection_id}."""
    sim.store.connections.delete(connection_id)


def patch_connection(
    sim: Simulator,
    *,
    connection_id: str,
    update_mask: list[str] | None = None,
    body: dict[str, Any],
) -> dict[str, Any]:
    """PATCH /connections/{connection_id}: body (partial) -> 404 -> id check -> mask -> apply."""
    table = sim.store.connections
    data = load_connection(body, partial=True)
    conn = table.require(connection_id)
    if data.get("conn_id") and data["conn_id"] != conn.conn_id:
        raise BadRequest(detail="The connection_id cannot be updated.")
    if update_mask:
        data = extract_update_mask(update_mask, NON_UPDATE_FIELDS, data)
    # Airflow only compares a *truthy* connection_id, so "" renames the
    # connection to "" (a duplicate there would be a database error in Airflow).
    new_id = data.get("conn_id", conn.conn_id)
    if new_id != conn.conn_id:
        _check_free(sim, new_id)
    for name, value in data.items():
        setattr(conn, name, value)
    if conn.conn_id != connection_id:
        table.rekey(connection_id, conn)
    return dump_connection(conn)


def _check_free(sim: Simulator, conn_id: str) -> None:
    # Airflow puts this text in the detail (title "Conflict"); store.py's
    # `exists` puts it in the title, so the check is made here for now.
    if conn_id in sim.store.connections:
        raise AlreadyExists(detail=f"Connection already exist. ID: {conn_id}")


def test_connection(sim: Simulator, *, body: dict[str, Any]) -> dict[str, Any] | Text:
    """POST /connections/test: a deterministic stand-in for the hook's own test.

    The body is loaded like POST's (400 on bad fields); nothing is stored. The
    result is {"status", "message"}, never an HTTP error, decided as follows:
    - conn_type without a hook among the installed providers (stock: ftp, ftps,
      http, imap, sqlite): false, 'Unknown hook type "<conn_type>"';
    - imap: false, its hook has no test ("Hook ImapHook doesn't implement or
      inherit test_connection method");
    - sqlite: true (the host is a file path; an empty one is an in-memory DB);
    - ftp, ftps, http: true if a host is given (no network is simulated), else
      false with the error the hook raises without a host: for http
      "Invalid URL 'http://': No host supplied" (scheme from `schema`, port
      kept), for ftp "'NoneType' object has no attribute 'sendall'".
    Success reads "Connection successfully tested", as Airflow's hooks answer.
    """
    if sim.version.at_least("2.10"):
        # 2.7+: the [core] test_connection switch, Disabled by default; its
        # refusal is a bare text response, not a problem body.
        switch = sim.store.config.get("core", {}).get("test_connection", "Disabled")
        if switch.lower().strip() != "enabled":
            return Text(TEST_DISABLED, content_type="text/html; charset=utf-8", status=403)
    data = load_connection(body)
    status, message = _simulated_test(sim, Connection(**data))
    return dump_connection_test(status, message)


def _simulated_test(sim: Simulator, conn: Connection) -> tuple[bool, str]:
    hook = HOOKS.get(conn.conn_type)
    if hook is None or hook[0] not in sim.store.providers:
        return False, f'Unknown hook type "{conn.conn_type}"'
    kind = conn.conn_type
    if kind == "imap":
        return False, f"Hook {hook[1]} doesn't implement or inherit test_connection method"
    if kind == "sqlite" or conn.host:
        return True, TESTED
    if kind == "http":
        port = f":{conn.port}" if conn.port else ""
        return False, f"Invalid URL '{conn.schema or 'http'}://{port}': No host supplied"
    return False, "'NoneType' object has no attribute 'sendall'"
