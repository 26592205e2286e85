"""Role operations: FAB roles and the (action, resource) pairs they grant.

Users hold roles by name here, so renaming or deleting a role carries the
change over to every user that holds it, as FAB's association table does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from simulator.api.params import check_limit, order_ascending
from simulator.errors import BadRequest
from simulator.schemas.role import (
    MISSING,
    dump_role,
    dump_role_collection,
    load_role,
    permission_pairs,
)
from simulator.simulator import Simulator
from simulator.state.entities import Role
from simulator.state.security import DAG_PREFIX

T = TypeVar("T")

ROLE_ORDER: dict[str, Callable[[Role], Any]] = {
    "role_id": lambda role: role.id,
    "name": lambda role: role.name,
}


def get_roles(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET /roles: every role, by name (default) or row id, ascending only."""
    size = check_limit(sim.settings, limit)  # Airflow checks the limit before anything else
    rows = order_ascending(sim.store.roles, order_by, ROLE_ORDER, "name")
    start = offset or 0
    return dump_role_collection(rows[start : start + size], len(sim.store.roles))


def post_role(sim: Simulator, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /roles: create a role with its permissions; Airflow 2.5.3 answers `{}`."""
    data = load_role(body)
    name = data["name"]
    if name in sim.store.roles:
        raise sim.store.roles.exists(name)
    if "actions" not in data:
        # Airflow 2.5.3 reads `actions` unchecked and crashes (500); we answer 400.
        raise BadRequest(detail=str({"actions": [MISSING]}))
    pairs = permission_pairs(data["actions"])
    _check_permissions(sim, pairs)
    sim.store.roles.add(Role(name=name, permissions=_merged([], pairs)))
    # Airflow dumps the role it looked up before creating it (None): the body is {}.
    return {}


def get_role(sim: Simulator, *, role_name: str) -> dict[str, Any]:
    """GET /roles/{role_name}."""
    return dump_role(sim.store.roles.require(role_name))


def delete_role(sim: Simulator, *, role_name: str) -> None:
    """DELETE /roles/{role_name}: users holding the role lose it."""
    sim.store.roles.delete(role_name)
    for user in sim.store.users:
        if role_name in user.roles:
            user.roles = [name for name in user.roles if name != role_name]


def patch_role(
    sim: Simulator,
    *,
    role_name: str,
    update_mask: list[str] | None = None,
    body: dict[str, Any],
) -> dict[str, Any]:
    """PATCH /roles/{role_name}: add permissions (FAB's sync never removes any) and rename."""
    data = load_role(body)  # in full: `name` is required even with a mask
    role = sim.store.roles.require(role_name)
    if update_mask:
        data = _masked(data, update_mask)
    if "actions" in data:
        pairs = permission_pairs(data["actions"])
        _check_permissions(sim, pairs)
        role.permissions = _merged(role.permissions, pairs)
    new_name = data.get("name")
    if new_name is not None and new_name != role.name:
        _rename(sim, role, new_name)
    return dump_role(role)


def _masked(data: dict[str, Any], update_mask: list[str]) -> dict[str, Any]:
    masked: dict[str, Any] = {}
    for field in (name.strip() for name in update_mask):
        if field == "name" and field in data:
            masked[field] = data[field]
        elif field == "actions":
            if "actions" not in data:
                # Airflow 2.5.3 crashes (500) on a masked `actions` the body lacks.
                raise BadRequest(detail=str({"actions": [MISSING]}))
            masked[field] = data[field]
        else:
            raise BadRequest(detail=f"'{field}' in update_mask is unknown")
    return masked


def _check_permissions(sim: Simulator, pairs: list[tuple[str, str]]) -> None:
    """Every action and resource must exist already (per-DAG ones for known DAGs)."""
    actions = set(sim.store.actions)
    resources = set(sim.store.resources)
    resources.update(DAG_PREFIX + dag_id for dag_id in sim.dag_ids())
    for action, resource in pairs:
        if action not in actions:
            raise BadRequest(detail=f"The specified action: {action!r} was not found")
        if resource not in resources:
            raise BadRequest(detail=f"The specified resource: {resource!r} was not found")


def _merged(granted: list[tuple[str, str]], pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged = list(granted)
    for pair in pairs:
        if pair not in merged:
            merged.append(pair)
    return merged


def _rename(sim: Simulator, role: Role, new_name: str) -> None:
    if new_name in sim.store.roles:
        # FAB's update_role swallows the unique-name violation: the role keeps
        # its name and Airflow still answers 200 (quirk role-rename-conflict-ignored).
        return
    old_name = role.name
    role.name = new_name
    sim.store.roles.rekey(old_name, role)
    for user in sim.store.users:
        if old_name in user.roles:
            user.roles = [new_name if name == old_name else name for name in user.roles]
