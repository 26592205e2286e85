"""The executor's engine events, each keyed (dag_id, run_id, task_id,
map_index, ...): a try's pickup (START, which may carry a task effect's
plain values), deferral, end, resumption after its trigger fired, retry
coming due, kill after a clear; ZOMBIE fails a stuck running try, LOST a
stuck queued one (engine/effects.py)."""

from __future__ import annotations

from simulator.engine import lifecycle as lc

START, DEFER, FINISH = "ti.start", "ti.defer", "ti.finish"
RESUME, RETRY, KILLED = "ti.resume", "ti.retry", "ti.killed"
ZOMBIE, LOST = "ti.zombie", "ti.lost"
# The events the scheduler acts on, held while it is down, and the state
# their instance is in meanwhile (else the event is void at its return).
HELD_STATE = {START: lc.QUEUED, RETRY: lc.UP_FOR_RETRY, ZOMBIE: lc.RUNNING, LOST: lc.QUEUED}
