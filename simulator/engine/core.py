"""Engine: a heap of (time, priority, seq, action), stepped in order.

Same-time events run by priority, then in the order they were scheduled,
so a run never depends on anything but its inputs.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

Action = Callable[[], None]


@dataclass(slots=True)
class Event:
    time: datetime
    action: Action
    cancelled: bool = False


class Engine:
    """`now` is the time of the event being processed, or, between runs, the
    instant the engine has caught up to: state changes are stamped with it."""

    def __init__(self, start: datetime) -> None:
        # Plain tuples (time, priority, seq, event): compared in C, and seq is
        # unique, so the event itself is never compared.
        self._heap: list[tuple[datetime, int, int, Event]] = []
        self._seq = itertools.count()
        self.now = start

    def __len__(self) -> int:
        return sum(1 for entry in self._heap if not entry[3].cancelled)

    def schedule(self, time: datetime, action: Action, priority: int = 0) -> Event:
        event = Event(time, action)
        heapq.heappush(self._heap, (time, priority, next(self._seq), event))
        return event

    def cancel(self, event: Event) -> None:
        event.cancelled = True

    def peek(self) -> datetime | None:
        heap = self._heap
        while heap and heap[0][3].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def step(self) -> Event:
        self.peek()
        event = heapq.heappop(self._heap)[3]
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
