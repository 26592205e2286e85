"""Basic auth against the user store, and the permission check.

The password hash is slow on purpose (PBKDF2, 260,000 rounds by default),
so the verdict on a credential is remembered, keyed by a SHA-256 of
username and password (never the password itself) together with the stored
hash it was checked against: a repeat of the same credential, right or
wrong, costs a dictionary lookup, and a password change (a new stored hash)
makes the old verdicts miss. Both memories are bounded LRU maps, apart so
that a flood of wrong passwords never evicts the right ones. The hashes that
do run, run on a small thread pool (hashlib releases the GIL), so that the
event loop keeps serving remembered credentials meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from simulator.errors import PermissionDenied, Unauthenticated
from simulator.server.access import required
from simulator.simulator import Simulator
from simulator.state.entities import User
from simulator.state.security import can, check_password, find_user, user_permissions

CHALLENGE = {"WWW-Authenticate": "Basic"}
REMEMBERED = 4096  # verdicts kept per kind: about 0.5 MB each at most
HASH_WORKERS = 2  # password hashes at once: a flood of new wrong passwords takes two cores
# Looks at the store again after a hash ran (the world may have changed
# meanwhile); a password changed that often during one request is a 401.
LOOKUPS = 3


def basic_pair(header: str | None) -> tuple[str, str] | None:
    """The (username, password) a Basic Authorization header names, the
    password possibly empty; None when it names no user.

    werkzeug's parse_authorization_header, as Airflow 2.5 reads it: the
    scheme and the rest split at whitespace, base64 decoded leniently
    (characters outside the alphabet skipped), split at the first colon,
    both halves UTF-8.
    """
    parts = header.split(None, 1) if header else []
    if len(parts) != 2 or parts[0].lower() != "basic":
        return None
    try:
        username, password = base64.b64decode(parts[1]).split(b":", 1)
        pair = (username.decode(), password.decode())
    except ValueError:  # not ASCII, not base64, no colon, or not UTF-8: no credentials
        return None
    return pair if pair[0] else None


def _credentials(header: str | None) -> tuple[str, str] | None:
    pair = basic_pair(header)
    return pair if pair is not None and pair[1] else None


def _fingerprint(username: str, password: str) -> bytes:
    return hashlib.sha256(f"{username}\0{password}".encode()).digest()


class Verdicts:
    """A bounded LRU map: credential fingerprint -> the stored hash it was
    checked against; an entry for another stored hash is stale."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._entries: OrderedDict[bytes, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def holds(self, key: bytes, stored: str) -> bool:
        if self._entries.get(key) != stored:
            return False
        self._entries.move_to_end(key)
        return True

    def add(self, key: bytes, stored: str) -> None:
        self._entries[key] = stored
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def discard(self, key: bytes) -> None:
        self._entries.pop(key, None)


class Authenticator:
    def __init__(self) -> None:
        self.verified = Verdicts()
        self.refused = Verdicts()
        # One hash per distinct credential in flight: concurrent repeats wait for it.
        self._running: dict[tuple[bytes, str], asyncio.Future[bool]] = {}
        self._pool = ThreadPoolExecutor(HASH_WORKERS, thread_name_prefix="password-hash")

    def close(self) -> None:
        """Stop the hashing threads (app cleanup): queued hashes are dropped."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    async def authenticate(self, sim: Simulator, header: str | None) -> User:
        if sim.settings.auth == "none":
            return self._anonymous_admin(sim)
        creds = _credentials(header)
        if creds is None:
            raise Unauthenticated(headers=CHALLENGE)
        username, password = creds
        key = _fingerprint(username, password)
        for _ in range(LOOKUPS):
            user = find_user(sim.store, username)
            if user is None or not user.active or not sim.password_hash(user):
                raise Unauthenticated(headers=CHALLENGE)
            stored = user.password_hash
            if self.verified.holds(key, stored):
                return user
            if self.refused.holds(key, stored):
                raise Unauthenticated(headers=CHALLENGE)
            await self._check(key, stored, password)
        raise Unauthenticated(headers=CHALLENGE)

    async def _check(self, key: bytes, stored: str, password: str) -> None:
        """Hash `password` off the event loop and remember the verdict."""
        running = self._running.get((key, stored))
        if running is None:
            loop = asyncio.get_running_loop()
            running = loop.run_in_executor(self._pool, check_password, stored, password)
            self._running[(key, stored)] = running
            running.add_done_callback(lambda _: self._running.pop((key, stored), None))
        # Shielded: a waiter that goes away does not cancel the others' hash.
        if await asyncio.shield(running):
            self.verified.add(key, stored)
            self.refused.discard(key)
        else:
            self.refused.add(key, stored)

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
        for action, resource in required(sim.version.name, operation_id, dag_id):
            if not can(granted, action, resource, dag_id, dag_ids):
                raise PermissionDenied()
