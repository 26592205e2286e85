"""Passwords and permissions, as Flask-AppBuilder keeps them for Airflow 2.5.

Passwords are stored in werkzeug's `pbkdf2:sha256:<n>$salt$hash` form, never
in clear. Permissions are (action, resource) pairs granted through roles;
`DAG:<dag_id>` resources grant access to one DAG.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable

from simulator.state.entities import User
from simulator.state.store import Store

DAG_RESOURCE = "DAGs"
DAG_PREFIX = "DAG:"
DAG_ACTIONS = frozenset({"can_read", "can_edit", "can_delete"})

Permission = tuple[str, str]


def hash_password(password: str, salt: str, iterations: int) -> str:
    return f"pbkdf2:sha256:{iterations}${salt}${_derive(password, salt, iterations)}"


@functools.lru_cache(maxsize=256)
def _derive(password: str, salt: str, iterations: int) -> str:
    # Remembered: a reset re-creates the same users with the same seeded
    # salts, and the server warms the admin's hash while it imports.
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations).hex()


def check_password(stored: str, password: str) -> bool:
    try:
        method, salt, expected = stored.split("$", 2)
        _, algorithm, iterations = method.split(":")
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


def find_user(store: Store, login: str) -> User | None:
    """FAB's lookup: the username case-insensitively, then an exact email."""
    user = store.users.get(login)
    if user is not None:
        return user
    lowered = login.lower()
    for candidate in store.users:
        if candidate.username.lower() == lowered:
            return candidate
    return next((u for u in store.users if u.email == login), None)


def user_permissions(store: Store, user: User) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for name in user.roles:
        role = store.roles.get(name)
        if role is not None:
            granted.update(role.permissions)
    return frozenset(granted)


def can(
    granted: frozenset[Permission],
    action: str,
    resource: str,
    dag_id: str | None = None,
    dag_ids: Iterable[str] = (),
) -> bool:
    """Airflow's check: a DAG pair passes on `DAGs`, else on `DAG:<dag_id>`.

    Without a dag_id (or with `~`) it passes when the user holds the action
    on at least one DAG of `dag_ids`.
    """
    if (action, resource) in granted:
        return True
    if resource != DAG_RESOURCE or action not in DAG_ACTIONS:
        return False
    if dag_id and dag_id != "~":
        return (action, DAG_PREFIX + dag_id) in granted
    return any((action, DAG_PREFIX + d) in granted for d in dag_ids)


def on_every_dag(granted: frozenset[Permission], action: str) -> bool:
    """Whether the user holds `action` on the DAGs resource (so on every DAG)."""
    return (action, DAG_RESOURCE) in granted


def accessible_dag_ids(
    granted: frozenset[Permission], action: str, dag_ids: Iterable[str]
) -> set[str]:
    if (action, DAG_RESOURCE) in granted:
        return set(dag_ids)
    return {d for d in dag_ids if (action, DAG_PREFIX + d) in granted}


def readable_scope(
    store: Store, user: User, wanted: Iterable[str] | None = None
) -> set[str] | None:
    """The DAGs `user` can read among `wanted` (None: all of them); None when
    that is every DAG with runs, so that a query of runs needs no DAG filter."""
    granted = user_permissions(store, user)
    if wanted is None and on_every_dag(granted, "can_read"):
        return None
    readable = accessible_dag_ids(granted, "can_read", [dag.dag_id for dag in store.dags])
    if wanted is not None:
        return set(wanted) & readable
    if all(dag_id in readable for dag_id in store.runs_by_dag):
        return None
    return readable
