"""Scenario: one validated world description, ready to seed a simulator.

Lists hold plain dicts in the file format (already checked); `generate` is
kept as a spec because what it makes depends on the seed, which a flag or a
reset may change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.versions import DEFAULT_VERSION

# A fixed instant, so that worlds without a clock repeat run for run.
DEFAULT_START = datetime(2023, 4, 1, tzinfo=UTC)
NOW = "now"
BUNDLED, INLINE = "bundled", "inline"

Item = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    name: str
    description: str = ""
    seed: int = 0
    # The Airflow release whose API is served (simulator/versions.py).
    airflow_version: str = DEFAULT_VERSION
    # "bundled", "inline" or the path of the file it was read from.
    source: str = INLINE
    # A fixed instant, or NOW: the wall-clock minute when the world is built.
    start: datetime | str = DEFAULT_START
    mode: str = "realtime"
    speed: float = 1.0
    history: timedelta = timedelta(0)
    # `retention.days`: runs that ended, event logs and dataset events older
    # than this are dropped as the clock moves (None: everything is kept).
    retention_days: int | None = None
    auth: str = "basic"
    users: list[Item] = field(default_factory=list)
    roles: list[Item] = field(default_factory=list)
    dags: list[Item] = field(default_factory=list)
    generate: Item = field(default_factory=dict)
    connections: list[Item] = field(default_factory=list)
    variables: list[Item] = field(default_factory=list)
    pools: list[Item] = field(default_factory=list)
    import_errors: list[Item] = field(default_factory=list)
    dag_warnings: list[Item] = field(default_factory=list)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    plugins: list[Item] = field(default_factory=list)
    providers: list[Item] = field(default_factory=list)
    # Fault documents (simulator/faults), as in POST /_sim/faults.
    faults: list[Item] = field(default_factory=list)
