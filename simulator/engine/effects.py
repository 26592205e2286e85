"""Task-try effects: what a fault does to one try of a task instance.

The executor asks its `effects` hook once per try, when the try is queued:
`hook(ti, task, try_number) -> TaskEffect | None` (try_number: the try about
to be made). A `stuck` effect with state `queued` applies at once (the try
never starts); any other effect rides on the try's START event as plain data
(`TaskEffect.args()`) and applies when the try starts. A try that started
keeps its effect on its TaskTry record (fault, effect, message, factor), so
that a deferred try resumes under it and its log can say why it failed.

- fail: the try runs its usual duration, then fails (retries apply); its
  log ends with `airflow.exceptions.AirflowException: <message>`.
- slow: the try's duration is multiplied by `factor` (execution_timeout
  still applies).
- stuck, state running: the try starts, then its worker stops heartbeating:
  it never finishes, and `seconds` later it is failed as Airflow's zombie
  detection fails it (TaskInstance.handle_failure).
- stuck, state queued: the try never starts; `seconds` later it is failed as
  Airflow's scheduler fails a queued instance its executor reports failed.

The effect names, the stuck states, their default waits and the bounds of
`seconds` and `factor` are this module's public constants, shared with the
fault documents (simulator/faults/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from simulator.engine import lifecycle as lc
from simulator.engine.kinds import DEFER, FINISH, LOST, START, ZOMBIE
from simulator.engine.scheduler import PRIORITY_FINISH
from simulator.state.run_model import TaskInstance, TaskTry

if TYPE_CHECKING:
    from simulator.engine.executor import Executor
    from simulator.state.dag_model import Task

__all__ = [
    "EFFECTS", "FAIL", "MAX_FACTOR", "MAX_SECONDS", "QUEUED", "QUEUED_TIMEOUT", "RUNNING",
    "SLOW", "STUCK", "STUCK_SECONDS", "ZOMBIE_THRESHOLD", "EffectHook", "TaskEffect",
    "apply_queued", "apply_running", "default_message", "effect_of", "fail_lost",
    "fail_zombie", "mark_try", "problem",
]  # fmt: skip

FAIL, STUCK, SLOW = "fail", "stuck", "slow"
EFFECTS = (FAIL, STUCK, SLOW)
QUEUED, RUNNING = "queued", "running"  # where a stuck try stays
# Seconds without a heartbeat before a running try is a zombie: [scheduler]
# scheduler_zombie_task_threshold's default (a stuck running try's wait).
ZOMBIE_THRESHOLD = 300.0
# Seconds a stuck queued try waits before it is failed. Airflow 2.5.3 has no
# such timeout on by default ([celery] stalled_task_timeout is 0, off;
# task_adoption_timeout, 600, covers only tasks adopted from a dead
# scheduler): this is 2.6's [scheduler] task_queued_timeout default, which
# replaced them.
QUEUED_TIMEOUT = 600.0
STUCK_SECONDS = {RUNNING: ZOMBIE_THRESHOLD, QUEUED: QUEUED_TIMEOUT}  # by stuck state
# The bounds of an effect's numbers (control.yaml's Fault schema): above 0,
# finite, `seconds` up to 366 days, `factor` up to 1000.
MAX_SECONDS = 31622400.0
MAX_FACTOR = 1000.0
ARGS = 6  # how many plain values an effect is on an event


@dataclass(frozen=True, slots=True)
class TaskEffect:
    fault_id: str
    effect: str  # fail | stuck | slow
    state: str | None = None  # stuck: queued | running (default running)
    seconds: float | None = None  # stuck: how long until it is failed
    factor: float | None = None  # slow: the duration's multiplier
    message: str | None = None  # fail: the exception's text

    @property
    def stuck_queued(self) -> bool:
        return self.effect == STUCK and self.state == QUEUED

    @property
    def stuck_running(self) -> bool:
        return self.effect == STUCK and self.state != QUEUED

    @property
    def wait(self) -> float:
        """A stuck try's seconds until it is failed."""
        if self.seconds is not None:
            return self.seconds
        return STUCK_SECONDS[QUEUED if self.stuck_queued else RUNNING]

    @property
    def failure(self) -> str:
        """A failing try's exception text."""
        return self.message or default_message(self.fault_id)

    def args(self) -> tuple[Any, ...]:
        """The effect as plain values for an event's key."""
        return (
            self.fault_id,
            self.effect,
            self.state,
            None if self.seconds is None else float(self.seconds),
            None if self.factor is None else float(self.factor),
            self.message,
        )

    @classmethod
    def from_args(cls, args: tuple[Any, ...] | list[Any]) -> TaskEffect:
        fault_id, effect, state, seconds, factor, message = args
        return cls(fault_id, effect, state, seconds, factor, message)


EffectHook = Callable[[TaskInstance, "Task", int], TaskEffect | None]


def default_message(fault_id: str) -> str:
    return f"Simulated failure (fault {fault_id})"


def problem(args: tuple[Any, ...] | list[Any]) -> tuple[int, str] | None:
    """What is wrong with an effect's plain values, for a snapshot being
    read: the index of the value at fault and what was expected (None:
    nothing)."""
    if len(args) != ARGS:
        return 0, f"expected {ARGS} values for a task effect"
    fault_id, effect, state, seconds, factor, message = args
    if type(fault_id) is not str or effect not in EFFECTS:
        return 0, "expected a fault id and an effect (fail, stuck or slow)"
    if state not in (None, QUEUED, RUNNING) or (message is not None and type(message) is not str):
        return 2, "expected a stuck state (queued or running) and a message or null"
    for index, number, high in ((3, seconds, MAX_SECONDS), (4, factor, MAX_FACTOR)):
        if number is not None and not _within(number, high):
            return index, f"expected a number above 0 up to {high:.0f}, or null"
    if effect == SLOW and factor is None:
        return 4, "expected the factor of a slow effect"
    return None


def _within(number: object, high: float) -> bool:
    """A number above 0 up to `high` (NaN and the infinities are not: NaN
    compares false, infinity is above any bound)."""
    return (type(number) is int or type(number) is float) and 0 < number <= high


# -- tries' records --------------------------------------------------------------


def mark_try(attempt: TaskTry, effect: TaskEffect) -> None:
    """Remember the effect on the try's record (plain data)."""
    attempt.mark(
        effect.fault_id,
        effect.effect,
        effect.failure if effect.effect == FAIL else None,
        effect.factor if effect.effect == SLOW else None,
    )


def effect_of(attempt: TaskTry) -> TaskEffect | None:
    """The effect a deferred try resumes under (fail or slow)."""
    if attempt.effect not in (FAIL, SLOW):
        return None
    fault = attempt.fault or ""
    return TaskEffect(fault, attempt.effect, factor=attempt.factor, message=attempt.message)


# -- a fault added while a try is under way (Executor.apply_effect) ---------------


def apply_queued(executor: Executor, ti: TaskInstance, effect: TaskEffect) -> bool:
    """The queued try starts under the effect (its START carries it), or,
    stuck queued, never starts. A START held by an outage is changed alike."""
    last = ti.last_try
    if effect.stuck_queued and last is not None and last.outcome == lc.DEFERRED \
            and not last.given_back:  # fmt: skip
        return False  # a deferred try resuming has started already
    outage = executor.scheduler.outage
    entry = executor.events.entry(ti.pending) if ti.pending is not None else None
    if entry is not None and entry[3] != START:
        return False  # lost already: it never starts
    held = entry is None and outage.unhold(START, ti) is not None
    if entry is None and not held:
        return False
    if effect.stuck_queued:
        executor.stop(ti)
        at = executor.events.now + timedelta(seconds=effect.wait)
        executor.pend(ti, at, LOST, priority=PRIORITY_FINISH)
    elif held:
        outage.hold(START, ti, *effect.args())
    else:
        assert entry is not None
        executor.stop(ti)
        executor.pend(ti, entry[0], START, *effect.args(), priority=entry[1])
    return True


def apply_running(executor: Executor, ti: TaskInstance, effect: TaskEffect) -> bool:
    """The running try's FINISH fails at its instant, moves (slow: to its
    start plus the planned duration times the factor, not before now), or
    gives way to a zombie failure `seconds` from now (stuck); a try about to
    defer carries the effect into its resumption."""
    entry = executor.events.entry(ti.pending) if ti.pending is not None else None
    attempt = ti.last_try
    if entry is None or entry[3] not in (FINISH, DEFER) or effect.stuck_queued:
        return False  # ended, stuck already, or not to be queued again
    assert attempt is not None
    mark_try(attempt, effect)
    now = executor.events.now
    if effect.stuck_running:
        executor.stop(ti)
        executor.pend(ti, now + timedelta(seconds=effect.wait), ZOMBIE, priority=PRIORITY_FINISH)
        return True
    if entry[3] == DEFER:
        return True
    at, outcome, prefix = entry[0], entry[8], entry[9]
    if effect.effect == FAIL:
        outcome = lc.FAILED
    elif effect.factor is not None:
        seconds = (at - attempt.start_date).total_seconds() * effect.factor
        timeout = executor.store.dags.rows[ti.dag_id].tasks[ti.task_id].execution_timeout
        if timeout is not None and seconds > timeout:
            seconds, outcome = timeout, lc.FAILED
        at = max(now, attempt.start_date + timedelta(seconds=round(seconds, 3)))
    executor.stop(ti)
    executor.pend(ti, at, FINISH, outcome, prefix, priority=entry[1])
    return True


# -- stuck tries failed (the ZOMBIE and LOST events) -------------------------------


def fail_zombie(executor: Executor, ti: TaskInstance, task: Task) -> None:
    """A stuck running try: the scheduler's _find_zombies finds its job
    without a heartbeat, and the DAG processor's handle_failure fails it
    (nothing more is written to its log: its worker is gone)."""
    if executor.scheduler.down:
        executor.scheduler.outage.hold(ZOMBIE, ti)
        return
    now = executor.events.now
    attempt = ti.last_try
    assert attempt is not None and ti.start_date is not None
    ti.end_date = attempt.end_date = now
    ti.timed = True
    executor.handle_failure(ti, task, attempt)


def fail_lost(executor: Executor, ti: TaskInstance, task: Task) -> None:
    """A stuck queued try: the executor reports it failed while the
    instance says queued (SchedulerJob._process_executor_events), and
    handle_failure fails it. Up for retry, Airflow counts the try that
    never started (its log has no file); failed, it does not."""
    scheduler = executor.scheduler
    if scheduler.down:
        scheduler.outage.hold(LOST, ti)
        return
    now = executor.events.now
    ti.end_date, ti.timed = now, True
    executor.store.event_logs.add_task_event(now, lc.FAILED, ti)
    # is_eligible_to_retry, where a queued instance's try_number is the next try's.
    if task.retries and ti.try_number + 1 <= ti.max_tries:
        ti.try_number += 1
        executor.retry_later(ti, task)
        return
    lc.set_state(executor.store, ti, lc.FAILED)
    scheduler.task_done(ti, worker=True)
