"""Basic auth against the user store, and the permission check.

A verified (user, password) is remembered by a fast digest so that only the
first request pays for the slow password hash; changing a user's password
changes its stored hash, which drops the remembered entry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from simulator.errors import PermissionDenied, Unauthenticated
from simulator.server.access import REQUIRED
from simulator.simulator import Simulator
from simulator.state.entities import User
from simulator.state.security import can, check_password, find_user, user_permissions

CHALLENGE = {"WWW-Authenticate": "Basic"}


def basic_pair(header: str | None) -> tuple[str, str] | None:
    """The (username, password) a Basic Authorization header names, the
    password possibly empty; None when it names no user."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep and username else None


def _credentials(header: str | None) -> tuple[str, str] | None:
    pair = basic_pair(header)
    return pair if pair is not None and pair[1] else None


class Authenticator:
    def __init__(self) -> None:
        self._verified: dict[tuple[str, str], bytes] = {}

    def authenticate(self, sim: Simulator, header: str | None) -> User:
        if sim.settings.auth == "none":
            return self._anonymous_admin(sim)
        creds = _credentials(header)
        if creds is None:
            raise Unauthenticated(headers=CHALLENGE)
        username, password = creds
        user = find_user(sim.store, username)
        if user is None or not user.active or not sim.password_hash(user):
            raise Unauthenticated(headers=CHALLENGE)
        key = (username, user.password_hash)
        digest = hashlib.sha256(password.encode()).digest()
        remembered = self._verified.get(key)
        if remembered is not None and hmac.compare_digest(remembered, digest):
            return user
        if not check_password(user.password_hash, password):
            raise Unauthenticated(headers=CHALLENGE)
        self._verified[key] = digest
        return user

    @staticmethod
    def _anonymous_admin(sim: Simulator) -> User:
        user = sim.store.users.get(sim.settings.admin_user)
        if user is not None:
            return user
        return User(
            username=sim.settings.admin_user, first_name="", last_name="", email="", roles=["Admin"]
        )

    @staticmethod
    def authorize(sim: Simulator, user: User, operation_id: str, dag_id: str | None) -> None:
        granted = user_permissions(sim.store, user)
        dag_ids = sim.dag_ids() if dag_id in (None, "~") else ()
        for action, resource in REQUIRED.get(operation_id, ()):
            if not can(granted, action, resource, dag_id, dag_ids):
                raise PermissionDenied()
