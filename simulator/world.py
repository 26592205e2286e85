"""The world a simulator starts from: the served Airflow release as installed
(fixtures/: security model, providers, plugins, configuration) with its components
started (their `cli_*` audit rows), then what the scenario adds to it
(roles, pools, connections, variables, import errors, DAG warnings,
configuration, plugins, providers). DAGs and users are the simulator's own
steps, since the engine and the password hashing own them.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

import yaml

from simulator.scenario.dags import parse_instant
from simulator.scenario.documents import bundled_dir
from simulator.scenario.model import Scenario
from simulator.state.deployment import COMPONENTS, component_started
from simulator.state.entities import (
    Connection,
    DagImportError,
    DagWarning,
    Plugin,
    Pool,
    Provider,
    Role,
    Variable,
)
from simulator.state.store import DEFAULT_POOL, Store
from simulator.versions import V2_5, AirflowVersion

FIXTURES = ("security", "providers", "plugins", "config")
# The fixtures each release installs its own way: fixtures/<name>-<release>.yaml
# for every release but 2.5.3, whose files are fixtures/<name>.yaml.
PER_RELEASE = frozenset({"providers", "config"})


def fixture_file(name: str, release: str = V2_5.name) -> str:
    """The file of installation fixture `name` for Airflow `release`."""
    if name in PER_RELEASE and release != V2_5.name:
        return f"{name}-{release}.yaml"
    return f"{name}.yaml"


@functools.cache
def installation(release: str = V2_5.name) -> dict[str, Any]:
    """Each installation fixture of Airflow `release`, read once."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = {}
    for name in FIXTURES:
        with (bundled_dir("fixtures") / fixture_file(name, release)).open("rb") as fh:
            data[name] = yaml.load(fh, Loader=loader)
    return data


# What Airflow 2.10's default roles grant beyond 2.5's on the resources the
# API checks (the FAB provider's security manager): events may be posted to
# datasets (User, Op, Admin) and their queued events deleted (Op, Admin).
GRANTS_2_10: dict[str, list[tuple[str, str]]] = {
    "Admin": [("can_create", "Datasets"), ("can_delete", "Datasets")],
    "Op": [("can_create", "Datasets"), ("can_delete", "Datasets")],
    "User": [("can_create", "Datasets")],
}


def seed_installation(store: Store, scenario: Scenario, version: AirflowVersion = V2_5) -> None:
    """What a fresh `airflow db init` leaves behind (minus users), with the
    scenario's roles, plugins, providers and configuration on top."""
    fixtures = installation(version.name)
    security = fixtures["security"]
    store.actions = list(security["actions"])
    store.resources = list(security["resources"])
    for role in [*security["roles"], *scenario.roles]:
        permissions = [(a, r) for a, r in role.get("permissions", [])]
        if version.at_least("2.10") and role in security["roles"]:
            permissions += GRANTS_2_10.get(role["name"], [])
        existing = store.roles.get(role["name"])
        if existing is not None:  # a scenario role of a default name replaces its grants
            existing.permissions = permissions
        else:
            store.roles.add(Role(name=role["name"], permissions=permissions))
    store.pools.add(Pool(pool=DEFAULT_POOL, slots=128, description="Default pool"))
    providers = {p["package_name"]: p for p in [*fixtures["providers"], *scenario.providers]}
    for item in sorted(providers.values(), key=lambda p: p["package_name"]):
        store.providers.add(Provider(**{"description": "", **item}))
    for item in [*(fixtures["plugins"] or []), *scenario.plugins]:
        store.plugins.add(Plugin(**item))
    store.config = {
        section: {key: str(value) for key, value in options.items()}
        for section, options in fixtures["config"].items()
    }
    for section, options in scenario.config.items():
        # Values as Airflow prints them: str() (booleans as True/False).
        store.config.setdefault(section, {}).update({k: str(v) for k, v in options.items()})


def start_components(store: Store, at: datetime) -> None:
    """The installation's components start (state/deployment.py): each
    `airflow` command logs itself (utils/cli.py action_cli), a `cli_<name>`
    row with no DAG or task."""
    for component in COMPONENTS:
        store.event_logs.add(component_started(component, at))


def seed_resources(store: Store, scenario: Scenario, parsed_at: datetime) -> None:
    """Pools, connections, variables, import errors and DAG warnings."""
    for pool in scenario.pools:
        existing = store.pools.get(pool["name"])
        if existing is None:
            existing = store.pools.add(Pool(pool=pool["name"], slots=pool["slots"]))
        # default_pool: the scenario sets its size too
        existing.slots, existing.description = pool["slots"], pool.get("description")
        existing.include_deferred = pool.get("include_deferred", False)
    for conn in scenario.connections:
        extra = conn.get("extra")
        fields = {**conn, "extra": json.dumps(extra) if isinstance(extra, dict) else extra}
        store.connections.add(Connection(**fields))
    for var in scenario.variables:
        value = var["value"]
        text = value if isinstance(value, str) else json.dumps(value)
        store.variables.add(Variable(key=var["key"], val=text, description=var.get("description")))
    for error in scenario.import_errors:
        stamp = _stamp(error.get("timestamp"), parsed_at)
        store.import_errors.add(
            DagImportError(filename=error["filename"], stack_trace=error["stack_trace"],
                           timestamp=stamp)
        )  # fmt: skip
    for warning in scenario.dag_warnings:
        store.dag_warnings.add(
            DagWarning(dag_id=warning["dag_id"], message=warning["message"],
                       warning_type=warning.get("warning_type", "non-existent pool"),
                       timestamp=_stamp(warning.get("timestamp"), parsed_at))
        )  # fmt: skip


def _stamp(value: str | None, default: datetime) -> datetime:
    return parse_instant(value) if value is not None else default
