"""User operations: FAB users, their roles and passwords.

FAB looks usernames up case-insensitively (`lower(username) = lower(:name)`)
and emails exactly; the store keys users by their exact username.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.params import check_limit, order_ascending
from simulator.errors import AlreadyExists, BadRequest
from simulator.schemas.user import dump_user, dump_user_collection, load_user, role_names
from simulator.simulator import Simulator
from simulator.state.entities import User

# FAB's AUTH_USER_REGISTRATION_ROLE: what a user created without roles gets.
REGISTRATION_ROLE = "Public"
# Airflow's allow-list also has user_name, is_active and role, which are not
# User attributes: 2.5.3 crashes (500) on them; they are refused here.
USER_ORDER: dict[str, Callable[[User], Any]] = {
    "id": lambda user: user.id,
    "first_name": lambda user: user.first_name,
    "last_name": lambda user: user.last_name,
    "email": lambda user: user.email,
}


def find_user(sim: Simulator, username: str) -> User | None:
    """FAB's find_user(username=...): case-insensitive."""
    wanted = username.lower()
    return next((u for u in sim.store.users if u.username.lower() == wanted), None)


def _require_user(sim: Simulator, username: str) -> User:
    user = find_user(sim, username)
    if user is None:
        raise sim.store.users.not_found(username)
    return user


def _email_taken(sim: Simulator, email: str) -> bool:
    return any(user.email == email for user in sim.store.users)


def _resolve_roles(sim: Simulator, names: list[str]) -> list[str]:
    missing = [name for name in names if name not in sim.store.roles]
    if missing:
        raise BadRequest(detail=f"Unknown roles: {', '.join(repr(n) for n in missing)}")
    return list(dict.fromkeys(names))  # a role held twice is held once


def get_users(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET /users: every user, by row id (default) or a name/email column, ascending only."""
    size = check_limit(sim.settings, limit)  # Airflow checks the limit before anything else
    rows = order_ascending(sim.store.users, order_by, USER_ORDER, "id")
    start = offset or 0
    return dump_user_collection(rows[start : start + size], len(sim.store.users))


def post_user(sim: Simulator, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /users: create an active user; without roles it gets Public."""
    data = load_user(body)
    username, email = data["username"], data["email"]
    if find_user(sim, username) is not None:
        raise sim.store.users.exists(username)
    if _email_taken(sim, email):
        raise AlreadyExists(detail=f"The email `{email}` is already taken.")
    roles = _resolve_roles(sim, role_names(data))
    if not roles and REGISTRATION_ROLE in sim.store.roles:
        roles = [REGISTRATION_ROLE]
    user = sim.add_user(
        username=username,
        password=data.get("password"),
        first_name=data["first_name"],
        last_name=data["last_name"],
        email=email,
        roles=roles,
    )
    return dump_user(user)


def get_user(sim: Simulator, *, username: str) -> dict[str, Any]:
    """GET /users/{username}."""
    return dump_user(_require_user(sim, username))


def delete_user(sim: Simulator, *, username: str) -> None:
    """DELETE /users/{username}."""
    sim.store.users.delete(_require_user(sim, username).username)


def patch_user(
    sim: Simulator,
    *,
    username: str,
    update_mask: list[str] | None = None,
    body: dict[str, Any],
) -> dict[str, Any]:
    """PATCH /users/{username}: the body is loaded in full, then masked."""
    data = load_user(body)
    user = _require_user(sim, username)
    # Both checks see the whole body, before the mask applies, as Airflow's do.
    new_username = data["username"]
    if new_username != username and find_user(sim, new_username) is not None:
        raise AlreadyExists(detail=f"The username `{new_username}` already exists")
    email = data["email"]
    if email != user.email and _email_taken(sim, email):
        raise AlreadyExists(detail=f"The email `{email}` already exists")
    if update_mask is not None:
        data = _masked(data, update_mask)
    roles = _resolve_roles(sim, role_names(data)) if "roles" in data else None
    _update(sim, user, data, roles)
    return dump_user(user)


def _masked(data: dict[str, Any], update_mask: list[str]) -> dict[str, Any]:
    """Mask names must be keys of the loaded body (even an empty name is checked)."""
    names = [name.strip() for name in update_mask]
    missing = [name for name in names if name not in data]
    if missing:
        raise BadRequest(detail=f"Unknown update masks: {', '.join(repr(n) for n in missing)}")
    return {name: data[name] for name in names}


def _update(sim: Simulator, user: User, data: dict[str, Any], roles: list[str] | None) -> None:
    # FAB's User.changed_on has no onupdate: a PATCH leaves it as it was.
    if roles is not None:
        user.roles = roles
    for key in ("first_name", "last_name", "email"):
        if key in data:
            setattr(user, key, data[key])
    new_username = data.get("username", user.username)
    if new_username != user.username:
        old_username = user.username
        user.username = new_username
        sim.store.users.rekey(old_username, user)
    if "password" in data:
        sim.set_password(user, data["password"])
