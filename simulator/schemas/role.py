"""Roles and actions: Airflow's RoleSchema and ActionCollectionSchema.

Loading mirrors the marshmallow-sqlalchemy schemas Airflow 2.5.3 builds from
FAB's models: non-nullable columns are required, string columns carry their
length as a maximum, unknown keys are rejected, and the errors are reported
as marshmallow's message dict (`str(err.messages)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from simulator.errors import BadRequest
from simulator.schemas.loading import (
    MISSING,
    NULL,
    Errors,
    check_items,
    check_string,
    check_unknown,
)
from simulator.state.entities import Role

# FAB's column lengths: ab_role.name, ab_permission.name, ab_view_menu.name.
ROLE_NAME_LENGTH = 64
ACTION_NAME_LENGTH = 100
RESOURCE_NAME_LENGTH = 250


def _named(max_length: int) -> Callable[[Any], Errors]:
    def load(item: Mapping[str, Any]) -> Errors:
        errors: Errors = {}
        check_string(item, "name", max_length, errors, required=True)
        check_unknown(item, ("name",), errors)
        return errors

    return load


_load_action = _named(ACTION_NAME_LENGTH)
_load_resource = _named(RESOURCE_NAME_LENGTH)
load_role_name = _named(ROLE_NAME_LENGTH)


def _load_action_resource(item: Mapping[str, Any]) -> Errors:
    errors: Errors = {}
    for key, load in (("action", _load_action), ("resource", _load_resource)):
        if key in item:
            nested = [NULL] if item[key] is None else load(item[key])
            if nested:
                errors[key] = nested
    check_unknown(item, ("action", "resource"), errors)
    return errors


def load_role(body: Mapping[str, Any]) -> dict[str, Any]:
    """RoleSchema.load: `name` is required (non-nullable column), `actions` is not."""
    errors: Errors = {}
    check_string(body, "name", ROLE_NAME_LENGTH, errors, required=True)
    check_items(body, "actions", _load_action_resource, errors)
    check_unknown(body, ("name", "actions"), errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return dict(body)


def permission_pairs(actions: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The (action, resource) pairs of loaded `actions`; empty items are skipped.

    Airflow 2.5.3 indexes `item["action"]["name"]` and `item["resource"]["name"]`
    unchecked, so an item lacking one crashes with a 500; the simulator answers
    400 in marshmallow's words instead (quirk role-permission-item-incomplete).
    """
    errors: Errors = {}
    for index, item in enumerate(actions):
        missing = {key: [MISSING] for key in ("action", "resource") if key not in item}
        if item and missing:
            errors[index] = missing
    if errors:
        raise BadRequest(detail=str({"actions": errors}))
    return [(item["action"]["name"], item["resource"]["name"]) for item in actions if item]


def dump_role(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "actions": [
            {"action": {"name": action}, "resource": {"name": resource}}
            for action, resource in role.permissions
        ],
    }


def dump_role_collection(roles: Iterable[Role], total: int) -> dict[str, Any]:
    return {"roles": [dump_role(role) for role in roles], "total_entries": total}


def dump_action_collection(actions: Iterable[str], total: int) -> dict[str, Any]:
    return {"actions": [{"name": name} for name in actions], "total_entries": total}
