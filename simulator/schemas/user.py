"""Users: Airflow's UserSchema / UserCollectionItemSchema.

The password is load-only: it is never dumped. FAB keeps `created_on` and
`changed_on` as naive local times, so they render without an offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simulator.errors import BadRequest
from simulator.schemas.common import isoformat
from simulator.schemas.loading import Errors, check_items, check_string, check_unknown
from simulator.schemas.role import load_role_name
from simulator.state.entities import User

# FAB's non-nullable ab_user columns and their lengths, in the schema's field order.
REQUIRED_COLUMNS = (("first_name", 64), ("last_name", 64), ("username", 256), ("email", 256))
PASSWORD_LENGTH = 256
LOAD_FIELDS = ("first_name", "last_name", "username", "email", "roles", "password")


def load_user(body: Mapping[str, Any]) -> dict[str, Any]:
    """UserSchema.load: the four non-nullable columns are required (POST and PATCH)."""
    errors: Errors = {}
    for name, length in REQUIRED_COLUMNS:
        check_string(body, name, length, errors, required=True)
    check_items(body, "roles", load_role_name, errors)
    check_string(body, "password", PASSWORD_LENGTH, errors, required=False)
    # Dump-only fields (active, login counts, dates) are unknown to a load too.
    check_unknown(body, LOAD_FIELDS, errors)
    if errors:
        raise BadRequest(detail=str(errors))
    return dict(body)


def role_names(data: Mapping[str, Any]) -> list[str]:
    """The role names a loaded body asks for, in its order."""
    return [item["name"] for item in data.get("roles") or ()]


def dump_user(user: User) -> dict[str, Any]:
    # Airflow names the field fail_login_count (the spec says failed_login_count).
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "email": user.email,
        "active": user.active,
        "last_login": isoformat(user.last_login),
        "login_count": user.login_count,
        "fail_login_count": user.fail_login_count,
        "roles": [{"name": name} for name in user.roles],
        "created_on": isoformat(user.created_on),
        "changed_on": isoformat(user.changed_on),
    }


def dump_user_collection(users: Iterable[User], total: int) -> dict[str, Any]:
    return {"users": [dump_user(user) for user in users], "total_entries": total}
