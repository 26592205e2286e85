"""Store: one Table per entity, keyed by natural key, with Airflow's error texts."""

from __future__ import annotations

from simulator.errors import AlreadyExists, NotFound
from simulator.state.entities import (
    Connection,
    DagImportError,
    DagWarning,
    EventLog,
    Plugin,
    Pool,
    Provider,
    Role,
    TaskInstance,
    User,
    Variable,
)
from simulator.state.table import Table

DEFAULT_POOL = "default_pool"


class Store:
    def __init__(self) -> None:
        # The security model's vocabulary (FAB actions and resources).
        self.actions: list[str] = []
        self.resources: list[str] = []
        self.config: dict[str, dict[str, str]] = {}
        self.connections: Table[str, Connection] = Table(
            lambda c: c.conn_id,
            not_found=lambda k: NotFound(
                "Connection not found", f"The Connection with connection_id: `{k}` was not found"
            ),
            exists=lambda k: AlreadyExists(detail=f"Connection already exist. ID: {k}"),
        )
        self.variables: Table[str, Variable] = Table(
            lambda v: v.key, not_found=lambda k: NotFound("Variable not found")
        )
        self.pools: Table[str, Pool] = Table(
            lambda p: p.pool,
            not_found=lambda k: NotFound(detail=f"Pool with name:'{k}' not found"),
            exists=lambda k: AlreadyExists(detail=f"Pool: {k} already exists"),
        )
        self.roles: Table[str, Role] = Table(
            lambda r: r.name,
            not_found=lambda k: NotFound("Role not found", f"Role with name {k!r} was not found"),
            exists=lambda k: AlreadyExists(
                detail=f"Role with name {k!r} already exists; please update with the PATCH endpoint"
            ),
        )
        self.users: Table[str, User] = Table(
            lambda u: u.username,
            not_found=lambda k: NotFound(
                "User not found", f"The User with username `{k}` was not found"
            ),
            exists=lambda k: AlreadyExists(
                detail=f"Username `{k}` already exists. Use PATCH to update."
            ),
        )
        self.event_logs: Table[int, EventLog] = Table(
            lambda e: e.id, not_found=lambda k: NotFound("Event Log not found")
        )
        self.import_errors: Table[int, DagImportError] = Table(
            lambda e: e.id,
            not_found=lambda k: NotFound(
                "Import error not found",
                f"The ImportError with import_error_id: `{k}` was not found",
            ),
        )
        self.dag_warnings: Table[tuple[str, str], DagWarning] = Table(
            lambda w: (w.dag_id, w.warning_type)
        )
        self.plugins: Table[str, Plugin] = Table(lambda p: p.name)
        self.providers: Table[str, Provider] = Table(lambda p: p.package_name)
        self.task_instances: Table[tuple[str, str, str, int], TaskInstance] = Table(lambda t: t.key)
