"""Table: rows of one entity keyed by their natural key, in insertion order."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from simulator.errors import AlreadyExists, ApiError, NotFound


class Row(Protocol):
    id: int


R = TypeVar("R", bound=Row)
K = TypeVar("K", bound=Hashable)


def _not_found(key: Any) -> ApiError:
    return NotFound(detail=f"{key} not found")


class Table(Generic[K, R]):
    """One entity's rows. `id` is the hidden autoincrement row id (insertion order).

    `not_found`/`exists` build the entity's Airflow error texts, so every
    lookup reports a missing or duplicate row the same way.
    """

    def __init__(
        self,
        key: Callable[[R], K],
        *,
        not_found: Callable[[K], ApiError] = _not_found,
        exists: Callable[[K], ApiError] | None = None,
    ) -> None:
        self._key = key
        self._rows: dict[K, R] = {}
        self.next_id = 1  # the id the next row added gets (ids are never reused)
        self.changes = 0  # rows added, deleted or rekeyed: what caches of the rows check
        self.not_found = not_found
        self.exists = exists or (lambda k: AlreadyExists(detail=f"{k} already exists"))

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def rows(self) -> dict[K, R]:
        """The rows by key, for the engine's hot paths (read, never write)."""
        return self._rows

    def __iter__(self) -> Iterator[R]:
        return iter(self._rows.values())

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def get(self, key: K) -> R | None:
        return self._rows.get(key)

    def require(self, key: K, error: Callable[[K], ApiError] | None = None) -> R:
        row = self._rows.get(key)
        if row is None:
            raise (error or self.not_found)(key)
        return row

    def add(self, row: R, key: K | None = None) -> R:
        """Add `row` (under `key` when given: its key, already built)."""
        assigned = not row.id
        if assigned:
            row.id = self.next_id
        if key is None:
            key = self._key(row)
        if key in self._rows:
            if assigned:
                row.id = 0
            raise self.exists(key)
        self.next_id = max(self.next_id, row.id) + 1
        self._rows[key] = row
        self.changes += 1
        return row

    def delete(self, key: K) -> R:
        row = self.require(key)
        del self._rows[key]
        self.changes += 1
        return row

    def rekey(self, old: K, row: R) -> None:
        """Store `row` under its (changed) key; the row keeps its id."""
        new = self._key(row)
        if new != old and new in self._rows:
            raise self.exists(new)
        del self._rows[old]
        self._rows[new] = row
        self.changes += 1

    def clear(self) -> None:
        self._rows.clear()
        self.next_id = 1
        self.changes += 1
