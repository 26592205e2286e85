"""A collection body (`{key: [items], "total_entries": n}`) whose items the
encoder may hold encoded already (server/encoding.py).

A client that polls a page of 100 runs or task instances asks for the same
rows again and again; dumping and encoding each of them anew costs more than
finding them. So an item comes with the row whose identity it belongs to, a
version (everything its dump reads that may change) and the dump itself,
made only when the encoder holds nothing for that row at that version.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

# The row (its identity), a key beside it (rows read through one object,
# such as the event log's), the version of what the dump reads, the dump.
Item = tuple[object, Hashable, Hashable, Callable[[], dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Page:
    key: str
    items: list[Item]
    total: int

    def body(self) -> dict[str, Any]:
        """The body as a plain dict (for callers that are not the encoder)."""
        return {self.key: [dump() for *_, dump in self.items], "total_entries": self.total}
