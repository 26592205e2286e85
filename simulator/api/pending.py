"""Marks operations the simulator routes but does not answer yet (501)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from simulator.errors import NotImplementedYet


def pending(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def not_yet(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedYet(detail="not implemented by the simulator yet")

    not_yet.pending = True  # type: ignore[attr-defined]
    return not_yet


def is_pending(handler: Callable[..., Any]) -> bool:
    return bool(getattr(handler, "pending", False))
