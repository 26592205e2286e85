"""The request journal: the Airflow API calls the server answered, newest
first, bounded (the oldest are dropped), for tests to assert what their code
asked. Not part of the world: a snapshot leaves it out, a reset clears it.

Bodies and query values are shown redacted as Airflow's secrets masker would
show them (state/redaction), never with a password in them.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from simulator.state import strict_json
from simulator.state.redaction import MASK, is_sensitive, redact, redact_extra

DEFAULT_SIZE = 10_000  # entries kept
MAX_BODY = 16 * 1024  # bytes of a request body kept; a larger one is noted, not kept
MAX_SIZE = 1_000_000  # the most entries --journal-size may ask for


@dataclass(slots=True, frozen=True, kw_only=True)
class Entry:
    """One request as it came: what it shows is redacted when it is read,
    so that recording costs a request next to nothing."""

    id: int
    time: datetime  # virtual
    wall_time: float  # seconds since the epoch
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    operation_id: str | None  # None: no route matched
    status: int | None  # None: a fault closed the connection before any status was sent
    user: str | None
    body: bytes  # empty when there was none or it was too large to keep
    body_size: int
    duration_ms: float
    fault: str | None = None  # the id of the fault that answered or delayed it

    def shown_query(self) -> dict[str, str | list[str]]:
        return redacted_query(self.query)

    def shown_body(self) -> Any:
        return redacted_body(self.body, self.body_size, self.path)


@dataclass(slots=True, frozen=True, kw_only=True)
class Filters:
    """A journal query; None means any."""

    operation_id: str | None = None
    method: str | None = None
    path: str | None = None  # a glob: `*` also matches `/`
    status: int | None = None
    since: datetime | None = None  # virtual instant, inclusive

    def match(self, entry: Entry) -> bool:
        return (
            (self.operation_id is None or entry.operation_id == self.operation_id)
            and (self.method is None or entry.method == self.method.upper())
            and (self.status is None or entry.status == self.status)
            and (self.since is None or entry.time >= self.since)
            and (self.path is None or fnmatch.fnmatchcase(entry.path, self.path))
        )


class Journal:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size or None)
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._entries)

    def next_id(self) -> int:
        """The id of the next entry (ids keep growing across clears)."""
        found = self._next_id
        self._next_id += 1
        return found

    def add(self, entry: Entry) -> None:
        if self.size:
            self._entries.append(entry)

    def clear(self) -> None:
        self._entries.clear()

    def newest_first(self, filters: Filters) -> Iterator[Entry]:
        return (entry for entry in reversed(self._entries) if filters.match(entry))

    def page(self, filters: Filters, limit: int, offset: int) -> tuple[list[Entry], int]:
        """The matching entries from `offset`, at most `limit`, and how many match."""
        matching = list(self.newest_first(filters))
        return matching[offset : offset + limit], len(matching)


def redacted_query(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Query parameters by name (a list when repeated), sensitive ones masked."""
    query: dict[str, str | list[str]] = {}
    for name, value in pairs:
        shown = MASK if is_sensitive(name) else value
        before = query.get(name)
        if before is None:
            query[name] = shown
        elif isinstance(before, list):
            before.append(shown)
        else:
            query[name] = [before, shown]
    return query


def kept_body(raw: bytes) -> bytes:
    """What an entry keeps of a body: all of it up to MAX_BODY, else nothing."""
    return raw if len(raw) <= MAX_BODY else b""


def redacted_body(raw: bytes, size: int, path: str = "") -> Any:
    """A JSON body as the masker shows it; None for none, a note for the rest.
    The path's last segment may name what the body sets (a variable's key)."""
    if not size:
        return None
    if size > MAX_BODY:
        return f"({size} bytes, not kept)"
    try:
        body = strict_json.loads(raw)
    except (ValueError, RecursionError):  # the text may hold anything: not shown
        return f"(not JSON, {size} bytes)"
    return _mask(redact(body), unquote(path.rsplit("/", 1)[-1]))


def _mask(value: Any, path_key: str) -> Any:
    """What the generic masker misses in API bodies: a variable's value when
    its key (in the body or the path) is sensitive, and a connection's
    `extra` JSON text (as the API shows it)."""
    if isinstance(value, list):
        return [_mask(item, "") for item in value]
    if not isinstance(value, dict):
        return value
    value = {k: _mask(v, "") for k, v in value.items()}
    key = value.get("key")
    named = path_key if not isinstance(key, str) else f"{key} {path_key}"
    if "value" in value and is_sensitive(named):
        value["value"] = MASK
    if isinstance(value.get("extra"), str):
        value["extra"] = redact_extra(value["extra"])
    return value
