"""Entities of the simulated world, one dataclass per Airflow model.

Field names follow Airflow's columns (conn_id, val, pool), not the API's
names; schemas/ maps them. `id` is the hidden autoincrement row id that
Airflow orders by by default (insertion order); Table assigns it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True, kw_only=True)
class Connection:
    id: int = 0
    conn_id: str
    conn_type: str
    description: str | None = None
    host: str | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    port: int | None = None
    extra: str | None = None


@dataclass(slots=True, kw_only=True)
class Variable:
    id: int = 0
    key: str
    val: str
    description: str | None = None


@dataclass(slots=True, kw_only=True)
class Pool:
    id: int = 0
    pool: str
    slots: int
    description: str | None = None
    # Airflow 2.7+: deferred instances hold slots of this pool (2.5.3 has
    # no such column: always False there).
    include_deferred: bool = False


@dataclass(slots=True, kw_only=True)
class Role:
    id: int = 0
    name: str
    # (action, resource) pairs in the order they were granted.
    permissions: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class User:
    id: int = 0
    username: str
    first_name: str
    last_name: str
    email: str
    password_hash: str = ""
    active: bool = True
    roles: list[str] = field(default_factory=list)
    last_login: datetime | None = None
    login_count: int | None = None
    fail_login_count: int | None = None
    created_on: datetime | None = None
    changed_on: datetime | None = None


@dataclass(slots=True, kw_only=True)
class EventLog:
    id: int = 0
    when: datetime
    event: str
    owner: str | None = None
    dag_id: str | None = None
    task_id: str | None = None
    execution_date: datetime | None = None
    extra: str | None = None
    # Airflow 2.10's column: the run an API call named (its audit rows).
    run_id: str | None = None


@dataclass(slots=True, kw_only=True)
class DagImportError:
    """Airflow's ImportError model (a DAG file that failed to parse)."""

    id: int = 0
    filename: str
    stack_trace: str
    timestamp: datetime


@dataclass(slots=True, kw_only=True)
class DagWarning:
    id: int = 0
    dag_id: str
    warning_type: str
    message: str
    timestamp: datetime


@dataclass(slots=True, kw_only=True)
class Plugin:
    id: int = 0
    name: str
    source: str | None = None
    hooks: list[str] = field(default_factory=list)
    executors: list[str] = field(default_factory=list)
    macros: list[str] = field(default_factory=list)
    flask_blueprints: list[str] = field(default_factory=list)
    appbuilder_views: list[dict[str, object]] = field(default_factory=list)
    appbuilder_menu_items: list[dict[str, object]] = field(default_factory=list)
    global_operator_extra_links: list[str] = field(default_factory=list)
    operator_extra_links: list[str] = field(default_factory=list)
    # Airflow 2.10's PluginSchema adds these (reprs, as Airflow lists them).
    ti_deps: list[str] = field(default_factory=list)
    listeners: list[str] = field(default_factory=list)
    timetables: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Provider:
    id: int = 0
    package_name: str
    description: str
    version: str
