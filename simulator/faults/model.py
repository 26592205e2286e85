"""Fault documents as the simulator keeps them: one `Fault` per rule, its
parts as small frozen dataclasses, its counters beside it.

A fault's document is the same in a scenario file (`faults:`), a control
API body (`POST /_sim/faults`) and an `X-Sim-Fault` header; documents.py
checks and parses it, registry.py keeps and fires it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulator.engine import effects

HTTP, TASK, OUTAGE = "http", "task", "scheduler_outage"
IMPORT_ERROR, POOL_STARVATION = "import_error", "pool_starvation"
KINDS = (HTTP, TASK, OUTAGE, IMPORT_ERROR, POOL_STARVATION)
WINDOWED = (OUTAGE, IMPORT_ERROR, POOL_STARVATION)  # kinds that hold for a span of time

BEFORE, AFTER = "before", "after"
# HTTP action types: what the client gets instead of (or after) the answer.
STATUS, RESET, EMPTY, TRUNCATE, MALFORMED, DRIBBLE = (
    "status", "reset", "empty", "truncate", "malformed", "dribble",
)  # fmt: skip
ACTIONS = (STATUS, RESET, EMPTY, TRUNCATE, MALFORMED, DRIBBLE)
# Task effects: the engine's (engine/effects.py).
FAIL, STUCK, SLOW = effects.FAIL, effects.STUCK, effects.SLOW


@dataclass(frozen=True, slots=True, kw_only=True)
class Latency:
    """A delay in wall seconds: fixed, uniform over [low, high], or
    lognormal with the given median and sigma (WireMock's three)."""

    fixed: float | None = None
    uniform: tuple[float, float] | None = None
    lognormal: tuple[float, float] | None = None  # (median, sigma)
    cap: float = 300.0  # no draw waits longer than this

    def seconds(self, u1: float, u2: float) -> float:
        """The delay for the uniform draws u1, u2 in [0, 1)."""
        if self.fixed is not None:
            return self.fixed
        if self.uniform is not None:
            low, high = self.uniform
            return low + (high - low) * u1
        assert self.lognormal is not None
        median, sigma = self.lognormal
        normal = math.sqrt(-2.0 * math.log(max(u1, 1e-12))) * math.cos(2.0 * math.pi * u2)
        return min(self.cap, median * math.exp(sigma * normal))


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpAction:
    """What an HTTP fault does to the answer."""

    type: str
    status: int = 503  # type status: the status sent
    retry_after: int | None = None  # seconds, sent as Retry-After
    detail: str | None = None  # the problem body's detail
    body: Any = None  # a body sent instead of the problem body (JSON, or a string as is)
    headers: tuple[tuple[str, str], ...] = ()
    fraction: float = 0.5  # truncate: the share of the real body sent before closing
    chunks: int = 4  # dribble: the real body in this many pieces ...
    seconds: float = 2.0  # ... spread over this many wall seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class When:
    """Conditions that must all hold for a matching request (or try, or
    window occurrence) to fire; None means no condition. Counts are 1-based
    match numbers."""

    probability: float | None = None
    first: int | None = None  # only the first N matches
    every: int | None = None  # only every Nth match (N, 2N, ...)
    after: int | None = None  # not the first N matches
    start: datetime | None = None  # virtual window, from (inclusive) ...
    end: datetime | None = None  # ... until (exclusive)
    limit: int | None = None  # retired after firing N times

    def holds(self, match_number: int, fired: int, now: datetime) -> bool:
        """Every condition but the probability."""
        return (
            (self.first is None or match_number <= self.first)
            and (self.every is None or match_number % self.every == 0)
            and (self.after is None or match_number > self.after)
            and (self.start is None or now >= self.start)
            and (self.end is None or now < self.end)
            and (self.limit is None or fired < self.limit)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """When a windowed fault holds: from `start` to `end` (None: for good),
    again every `repeat` seconds when given."""

    start: datetime
    end: datetime | None = None
    repeat: float | None = None  # seconds between one start and the next


@dataclass(slots=True, kw_only=True)
class Fault:
    """One rule. `document` is the rule as stored and shown (instants made
    absolute, defaults filled in); the other fields are its parsed parts."""

    id: str
    kind: str
    enabled: bool
    document: dict[str, Any]
    # http: operation_id, method, path, tag, user; task: dag_id, task_id,
    # operator, try_number. Names to alternatives (globs for paths and task fields).
    match: dict[str, tuple[str, ...]] = field(default_factory=dict)
    when: When = field(default_factory=When)
    action: HttpAction | None = None
    latency: Latency | None = None
    phase: str = BEFORE
    # task
    effect: str | None = None
    state: str | None = None  # stuck: queued | running
    seconds: float | None = None  # stuck: how long it is held
    factor: float | None = None  # slow
    message: str | None = None  # fail: the exception's text
    # windowed kinds
    window: Window | None = None
    dag_id: str | None = None  # import_error
    stacktrace: str | None = None
    pool: str | None = None  # pool_starvation
    slots: int | None = None
    # counters
    matched: int = 0
    fired: int = 0
    generation: int = 0  # bumped when the fault is changed: older window events are void

    def view(self) -> dict[str, Any]:
        """The fault as GET /_sim/faults shows it."""
        return {**self.document, "enabled": self.enabled,
                "matched": self.matched, "fired": self.fired}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What an HTTP fault's `match` looks at."""

    method: str
    path: str
    operation_id: str | None  # None: no route matched
    tag: str | None
    user: str | None  # the user the request names (Basic auth), checked or not


@dataclass(frozen=True, slots=True)
class Firing:
    """A fault that fired for a request: its action (None: latency only)
    and its delay, applied at its phase."""

    fault_id: str
    phase: str
    action: HttpAction | None
    latency: float  # wall seconds, 0 when none
