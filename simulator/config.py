"""Settings: one frozen dataclass. CLI flags and AIRFLOW_SIM_* variables map onto it.

The world itself comes from a scenario (a bundled name, a file, or an inline
document). Fields left at None take the scenario's values (its seed, auth
mode, clock, configuration); a value given here wins over the file. The
Simulator holds the resolved copy, with every field set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_SCENARIO = "default"
DEFAULT_PAGE_LIMIT = 100  # Airflow's [api] maximum_page_limit and fallback_page_limit


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    # A bundled scenario's name, a scenario file's path, or a scenario document.
    scenario: str | Path | Mapping[str, Any] = DEFAULT_SCENARIO
    # The Airflow release whose API is served (simulator/versions.py);
    # None: the scenario's `airflow_version` (2.5.3 when it sets none).
    airflow_version: str | None = None
    auth: str | None = None  # basic | none
    admin_user: str = "admin"
    admin_password: str = field(default="admin", repr=False)
    seed: int | None = None
    validate_responses: bool = False
    access_log: bool = False
    expose_config: bool | None = None  # None: the scenario's [webserver] expose_config
    clock: str | None = None  # realtime | frozen
    speed: float | None = None
    start: datetime | None = None
    # None: the scenario's [api] options (Airflow's defaults: 100 and 100).
    maximum_page_limit: int | None = None
    fallback_page_limit: int | None = None
    # werkzeug's default cost in Airflow 2.5; tests may lower it.
    password_hash_iterations: int = 260000
    secret_key: str = "simulator-secret-key"
    # When set, every /_sim route but health needs `Authorization: Bearer <token>`.
    control_token: str | None = field(default=None, repr=False)
    # What one POST /_sim/clock/advance may process at most (the body may lower it).
    max_events: int = 1_000_000
    # Entries the request journal keeps (the oldest are dropped); 0 turns it off.
    journal_size: int = 10_000
    # Airflow's [api] access_control_allow_origins / _headers / _methods;
    # None: the scenario's (Airflow's default: empty, no CORS headers).
    cors_origins: str | None = None
    cors_headers: str | None = None
    cors_methods: str | None = None
    # Restored at start when it exists; saved on shutdown and POST /_sim/snapshot/save.
    state_file: Path | None = None
    # Honour an `X-Sim-Fault: <JSON of one http fault>` header on the request it comes with.
    allow_fault_header: bool = False
    # `airflow db clean` on a timer: runs that ended, event logs and dataset
    # events older than this many virtual days are dropped; None: the
    # scenario's `retention` (none: keep everything, as Airflow).
    retention_days: int | None = None

    @property
    def page_limits(self) -> tuple[int, int]:
        """[api] maximum_page_limit and fallback_page_limit."""
        return (
            self.maximum_page_limit or DEFAULT_PAGE_LIMIT,
            self.fallback_page_limit or DEFAULT_PAGE_LIMIT,
        )
