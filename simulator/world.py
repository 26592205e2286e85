"""The default world every simulator starts from: Airflow 2.5.3 as installed.

Reads fixtures/ (security model, providers, plugins, configuration); the
scenario layer builds on top of it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from simulator.state.entities import Plugin, Pool, Provider, Role
from simulator.state.store import DEFAULT_POOL, Store


@cache
def load_fixture(directory: Path, name: str) -> Any:
    with (directory / name).open("rb") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def seed_installation(store: Store, fixtures: Path) -> None:
    """What a fresh `airflow db init` leaves behind, minus users."""
    security = load_fixture(fixtures, "security.yaml")
    store.actions = list(security["actions"])
    store.resources = list(security["resources"])
    for role in security["roles"]:
        store.roles.add(
            Role(name=role["name"], permissions=[(a, r) for a, r in role["permissions"]])
        )
    store.pools.add(Pool(pool=DEFAULT_POOL, slots=128, description="Default pool"))
    for item in load_fixture(fixtures, "providers.yaml"):
        store.providers.add(Provider(**item))
    for item in load_fixture(fixtures, "plugins.yaml") or []:
        store.plugins.add(Plugin(**item))
    store.config = {
        section: {key: str(value) for key, value in options.items()}
        for section, options in load_fixture(fixtures, "config.yaml").items()
    }
