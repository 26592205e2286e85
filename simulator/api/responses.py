"""Results a handler returns besides a plain dict (200 JSON) or None (204)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Text:
    body: str
    content_type: str = "text/plain"
    status: int = 200


@dataclass(frozen=True, slots=True)
class Json:
    """JSON in a format other than the usual 2-space sorted one."""

    body: Any
    indent: int | None = None
    sort_keys: bool = False
