"""VirtualClock: the only source of time in the simulator.

`frozen` moves only when told; `realtime` follows the wall clock times `speed`
from `start`. Either way it never goes backwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

FROZEN = "frozen"
REALTIME = "realtime"
# The clock never passes this instant: the ticks computed from any instant
# before it (a year ahead at most) stay within datetime's range.
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
# The earliest instant a world takes: the epoch (Airflow's MySQL TIMESTAMP
# columns start there); a history before it (366 days at most) stays far
# inside datetime's range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


class VirtualClock:
    def __init__(
        self,
        start: datetime,
        *,
        mode: str = FROZEN,
        speed: float = 1.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in (FROZEN, REALTIME):
            raise ValueError(f"unknown clock mode {mode!r}")
        self.mode = mode
        self.speed = speed
        self._wall = wall
        self._base = start  # virtual time at _wall_base
        self._wall_base = wall()
        self._last = start

    def now(self) -> datetime:
        if self.mode == REALTIME:
            elapsed = (self._wall() - self._wall_base) * self.speed
            room = (LATEST - self._base).total_seconds() - 1
            # A fast clock left running stops short of the last instant it may show.
            current = self._base + timedelta(seconds=min(elapsed, room))
            if current > self._last:
                self._last = current
        return self._last

    def configure(self, *, mode: str | None = None, speed: float | None = None) -> None:
        """Change mode or speed from the current instant on (time stays continuous)."""
        if mode is not None and mode not in (FROZEN, REALTIME):
            raise ValueError(f"unknown clock mode {mode!r}")
        current = self.now()
        self.mode = mode or self.mode
        self.speed = speed or self.speed
        self._base, self._wall_base = current, self._wall()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock never moves backwards")
        return self.advance_to(self.now() + timedelta(seconds=seconds))

    def advance_to(self, moment: datetime) -> datetime:
        if moment < self.now():
            raise ValueError("the clock never moves backwards")
        self._last = moment
        self._base, self._wall_base = moment, self._wall()
        return moment


def wall_clock_minute() -> datetime:
    """The wall-clock instant, to the minute: where a `start: now` world begins."""
    return datetime.now(UTC).replace(second=0, microsecond=0)
