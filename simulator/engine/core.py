"""Engine: a heap of (time, priority, seq, action), stepped in order.

Same-time events run by priority, then in the order they were scheduled,
so a run never depends on anything but its inputs.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

Action = Callable[[], None]


@dataclass(order=True, slots=True)
class Event:
    time: datetime
    priority: int
    seq: int
    action: Action = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Engine:
    """`now` is the time of the event being processed, or, between runs, the
    instant the engine has caught up to: state changes are stamped with it."""

    def __init__(self, start: datetime) -> None:
        self._heap: list[Event] = []
        self._seq = itertools.count()
        self.now = start

    def __len__(self) -> int:
        return sum(1 for e in self._heap if not e.cancelled)

    def schedule(self, time: datetime, action: Action, priority: int = 0) -> Event:
        event = Event(time, priority, next(self._seq), action)
        heapq.heappush(self._heap, event)
        return event

    def cancel(self, event: Event) -> None:
        event.cancelled = True

    def peek(self) -> datetime | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].time if self._heap else None

    def step(self) -> Event:
        self.peek()
        event = heapq.heappop(self._heap)
        self.now = max(self.now, event.time)
        event.action()
        return event

    def run(self, until: datetime) -> int:
        """Run every event due at or before `until`; return how many ran."""
        ran = 0
        while (due := self.peek()) is not None and due <= until:
            self.step()
            ran += 1
        self.now = max(self.now, until)
        return ran
