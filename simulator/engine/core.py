"""Engine: a heap of plain tuples `(time, priority, seq, kind, *key)`, stepped in order.

Same-time events run by priority, then in the order they were scheduled,
so a run never depends on anything but its inputs. An event is data: `kind`
names a handler registered in `handlers` and `key` holds its arguments
(natural keys, datetimes, numbers), never a closure, so the heap can be
copied, compared and restored exactly. An event is cancelled by its `seq`.
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Callable
from datetime import datetime
from typing import Any

Handler = Callable[..., None]


class Engine:
    """`now` is the time of the event being processed, or, between runs, the
    instant the engine has caught up to: state changes are stamped with it."""

    def __init__(self, start: datetime) -> None:
        # seq is unique, so comparing two entries never reaches `kind` or the key.
        self._heap: list[tuple[Any, ...]] = []
        self._next_seq = 0
        # Seqs of cancelled events still on the heap (dropped when they surface).
        self._cancelled: set[int] = set()
        self.handlers: dict[str, Handler] = {}
        self.now = start

    def __len__(self) -> int:
        return len(self._heap) - len(self._cancelled)

    def on(self, kind: str, handler: Handler) -> None:
        """Register the handler that events of `kind` are dispatched to."""
        self.handlers[kind] = handler

    def schedule(self, time: datetime, kind: str, *key: Any, priority: int = 0) -> int:
        """Put an event on the heap; its seq (to cancel it) is returned."""
        seq = self._next_seq
        self._next_seq = seq + 1
        heapq.heappush(self._heap, (time, priority, seq, kind, *key))
        return seq

    def cancel(self, seq: int) -> None:
        self._cancelled.add(seq)

    def pending(self) -> list[tuple[Any, ...]]:
        """The live events in the order they will run (for inspection and tests)."""
        live = [entry for entry in self._heap if entry[2] not in self._cancelled]
        return sorted(live)  # seq is unique: the comparison never reaches kind or key

    def entry(self, seq: int) -> tuple[Any, ...] | None:
        """The live event of `seq`, if any (a scan of the heap: for rare
        questions, such as a fault changing a pending event)."""
        if seq in self._cancelled:
            return None
        for entry in self._heap:
            if entry[2] == seq:
                return entry
        return None

    @property
    def next_seq(self) -> int:
        """The seq the next event scheduled gets."""
        return self._next_seq

    def load(self, events: list[tuple[Any, ...]], next_seq: int, now: datetime) -> None:
        """A snapshot's live events (as pending() lists them), seq counter and
        now, replacing this engine's; cancelled events were left out."""
        self._heap = sorted(events)  # a sorted list is a heap
        self._cancelled = set()
        self._next_seq = next_seq
        self.now = now

    def peek(self) -> datetime | None:
        heap, cancelled = self._heap, self._cancelled
        while heap and cancelled and heap[0][2] in cancelled:
            cancelled.discard(heapq.heappop(heap)[2])
        return heap[0][0] if heap else None

    def step(self) -> tuple[Any, ...]:
        """Run the next live event; return it."""
        self.peek()
        entry = heapq.heappop(self._heap)
        if entry[0] > self.now:
            self.now = entry[0]
        self.handlers[entry[3]](*entry[4:])
        return entry

    def run(self, until: datetime, limit: int | None = None) -> int:
        """Run every event due at or before `until` (at most `limit` of them);
        return how many ran. Stopped by the limit, `now` stays at the last
        event run rather than moving on to `until`.

        The cyclic garbage collector is paused meanwhile: the events build
        long-lived rows (a history can build millions) and no reference
        cycles, so its passes over the growing world would find nothing; it
        resumes (if it was on) when the run ends.
        """
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run(until, limit)
        finally:
            if collecting:
                gc.enable()

    def _run(self, until: datetime, limit: int | None) -> int:
        heap, cancelled, handlers = self._heap, self._cancelled, self.handlers
        pop = heapq.heappop
        ran = 0
        while heap:
            entry = heap[0]
            if cancelled and entry[2] in cancelled:
                cancelled.discard(pop(heap)[2])
                continue
            if entry[0] > until:
                break
            if ran == limit:
                return ran
            pop(heap)
            if entry[0] > self.now:
                self.now = entry[0]
            handlers[entry[3]](*entry[4:])
            ran += 1
        if until > self.now:
            self.now = until
        return ran
