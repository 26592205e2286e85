"""A scheduler outage's state: how many outages are in force (counted:
overlapping ones end with the last), since when the scheduler is down, and
the executor's scheduler-side events held meanwhile.

A held event is plain data: `(kind, dag_id, run_id, task_id, map_index,
argument...)`, the event without its time, priority and seq (kinds in
engine/kinds.py HELD_STATE). The scheduler owns one Outage and does the
catching up at the return (Scheduler.outage_end); the executor holds what
comes due meanwhile and releases it then (Executor.release).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.engine.core import Engine
from simulator.state.run_model import TaskInstance

# An event held while the scheduler is down: (kind, dag_id, run_id, task_id,
# map_index, argument...), the event without its time, priority and seq.
Held = tuple[Any, ...]


class Outage:
    def __init__(self, events: Engine) -> None:
        self.events = events
        self.depth = 0  # outages in force (0: the scheduler is up)
        self.since: datetime | None = None  # the instant the scheduler went down
        self._held: list[Held] = []

    @property
    def down(self) -> bool:
        return self.depth > 0

    def begin(self) -> None:
        """One more outage in force; the first takes the scheduler down now."""
        self.depth += 1
        if self.depth == 1:
            self.since = self.events.now

    def end(self) -> list[Held] | None:
        """One outage ends. After the last, the scheduler is up: the events
        held are answered (to release) and forgotten; None while another
        outage is in force, or when none was."""
        if not self.depth:
            return None
        self.depth -= 1
        if self.depth:
            return None
        self.since = None
        held, self._held = self._held, []
        return held

    def hold(self, kind: str, ti: TaskInstance, *rest: Any) -> None:
        """An executor event that came due while the scheduler is down: it
        happens when the scheduler returns."""
        self._held.append((kind, ti.dag_id, ti.run_id, ti.task_id, ti.map_index, *rest))

    def unhold(self, kind: str, ti: TaskInstance) -> Held | None:
        """Take back the instance's held event of `kind`, if any."""
        key = (kind, ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
        for index, entry in enumerate(self._held):
            if entry[:5] == key:
                return self._held.pop(index)
        return None

    @property
    def held(self) -> list[Held]:
        """The events held while the scheduler is down; read, never write."""
        return self._held

    def load(self, depth: int, since: datetime | None, held: list[Held]) -> None:
        """A snapshot's outages in force, since when, and the events held."""
        self.depth, self.since, self._held = depth, since, held
