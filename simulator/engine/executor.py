"""The executor and the workers: queued -> running -> a final state.

Each try's pickup delay, duration and outcome are keyed draws (seed, task
instance, try), so a run's story does not depend on what else happens.
Successful tries push XComs and update their outlet datasets; failed tries
go up for retry while retries remain. A branching task's success also
skips the direct downstream tasks it does not follow (engine/branching.py).

Pending work is an engine event keyed by the task instance's natural key;
the instance remembers the event's seq (`pending`) so that clearing or
marking it can cancel the event.

Faults change tries through the `effects` hook and `apply_effect`
(engine/effects.py, which also fails a stuck try: the ZOMBIE and LOST
events). While the scheduler is down, the events it alone acts
on (a queued try's start, a retry coming due, a zombie or a lost queued try
failed) are held and happen when it returns (`release`); a running try
still finishes on its worker.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from simulator.engine import branching
from simulator.engine import lifecycle as lc
from simulator.engine.core import Engine
from simulator.engine.effects import (
    FAIL,
    SLOW,
    EffectHook,
    TaskEffect,
    apply_queued,
    apply_running,
    effect_of,
    fail_lost,
    fail_zombie,
    mark_try,
)
from simulator.engine.kinds import (
    DEFER,
    FINISH,
    HELD_STATE,
    KILLED,
    LOST,
    RESUME,
    RETRY,
    START,
    ZOMBIE,
)
from simulator.engine.outage import Held
from simulator.engine.rng import RandomStreams, gauss, unit, units
from simulator.engine.scheduler import PRIORITY_FINISH, Scheduler
from simulator.state.dag_model import DATE_TIME_SENSORS, Task, target_time
from simulator.state.deployment import WORKER_HOSTS
from simulator.state.run_model import DatasetEvent, RowsXCom, TaskInstance, TaskTry, XCom
from simulator.state.store import Store

WORKERS = len(WORKER_HOSTS)  # worker-0 .. worker-3, Celery workers (state/deployment.py)
HOSTNAMES = WORKER_HOSTS  # shared by every try
PICKUP = (1.0, 3.0)  # seconds from queued to running
PICKUP_LOW, PICKUP_SPAN = PICKUP[0], PICKUP[1] - PICKUP[0]
TRIGGER_RESUME = 1.0  # seconds from a fired trigger to the task being scheduled
HEARTBEAT = timedelta(seconds=5)  # a LocalTaskJob's ([scheduler] job_heartbeat_sec), from its start
DEFER_AFTER = 1.0  # seconds from a deferrable try starting to its deferral
RETURN_VALUE = "return_value"
MAX_DELAY = timedelta.max.total_seconds() - 1  # where Airflow caps a backoff
# What a starting try draws: its worker, its pid, its duration's normal
# draw (two uniforms, when it has jitter) and whether it fails (when it may),
# by (jitter, may fail).
TRY_DRAWS = {
    (jitter, fails): (b"worker", b"pid")
    + ((b"duration/u1", b"duration/u2") if jitter else ())
    + ((b"fail",) if fails else ())
    for jitter in (False, True)
    for fails in (False, True)
}


class Executor:
    def __init__(
        self, store: Store, events: Engine, random: RandomStreams, scheduler: Scheduler
    ) -> None:
        self.store = store
        self.events = events
        self.random = random
        self.scheduler = scheduler
        scheduler.executor = self
        # Set by the faults: what a try about to be made suffers (None: nothing).
        self.effects: EffectHook | None = None
        # Shared values: one object per distinct number drawn (pids, XCom row
        # counts) and per Bash return value.
        self._pids: dict[int, int] = {}
        self._texts: dict[str, str] = {}
        for kind, handler in (
            (START, self._start), (DEFER, self._defer), (FINISH, self._finish),
            (RESUME, self._resume), (RETRY, self._retry), (KILLED, self._killed),
            (ZOMBIE, partial(fail_zombie, self)), (LOST, partial(fail_lost, self)),
        ):  # fmt: skip
            events.on(kind, self._handler(handler))

    def _handler(self, handler: Any) -> Any:
        """An event's handler, given the instance (and task) its key names."""
        run_tis, dags = self.store.instances_by_run, self.store.dags.rows
        instances = self.store.task_instances

        def dispatch(dag_id: str, run_id: str, task_id: str, map_index: int, *rest: Any) -> None:
            tis = run_tis.get((dag_id, run_id))
            ti = tis.find(task_id, map_index) if tis is not None else None
            if ti is None:
                ti = instances.require((dag_id, run_id, task_id, map_index))
            ti.pending = None
            handler(ti, dags[dag_id].tasks[task_id], *rest)

        return dispatch

    def pend(self, ti: TaskInstance, at: datetime, kind: str, *rest: Any,
             priority: int = 0) -> None:  # fmt: skip
        """Schedule the instance's next event: the one it remembers as pending."""
        ti.pending = self.events.schedule(
            at, kind, ti.dag_id, ti.run_id, ti.task_id, ti.map_index, *rest, priority=priority
        )

    def _prefix(self, ti: TaskInstance) -> str:
        """The key text of the current try's draws: (seed, instance, try)."""
        return draw_prefix(self.random.seed, ti, ti.try_number)

    def queue(self, ti: TaskInstance, task: Task) -> None:
        lc.set_state(self.store, ti, lc.QUEUED)
        now = ti.queued_dttm = self.events.now
        effect = self._effect(ti, task) if self.effects is not None else None
        if effect is not None and effect.stuck_queued:
            self.pend(ti, now + timedelta(seconds=effect.wait), LOST, priority=PRIORITY_FINISH)
            return
        # Keyed by the try number before the try starts (as it always was).
        delay = pickup_delay(self._prefix(ti))
        rest = effect.args() if effect is not None else ()  # the effect rides on START
        ti.pending = self.events.schedule(
            now + timedelta(seconds=delay), START, ti.dag_id, ti.run_id, ti.task_id,
            ti.map_index, *rest,
        )  # fmt: skip

    def _effect(self, ti: TaskInstance, task: Task) -> TaskEffect | None:
        """The hook's effect on the try about to be queued (asked once per
        try: a deferred try resumes under the effect it started with)."""
        last = ti.last_try
        if resumes(last):
            return None
        assert self.effects is not None
        return self.effects(ti, task, ti.try_number + 1)

    def _start(self, ti: TaskInstance, task: Task, *carried: Any) -> None:
        if self.scheduler.down:
            self.scheduler.outage.hold(START, ti, *carried)
            return
        now = self.events.now
        last = ti.last_try
        resuming = resumes(last)
        effect = TaskEffect.from_args(carried) if carried else None
        if effect is None and resuming:
            assert last is not None
            effect = effect_of(last)
        if effect is not None and effect.stuck_queued:
            effect = None  # it has started: too late to stay queued
        if not resuming:
            ti.try_number += 1
            self._clear_xcoms(ti, task)
        prefix = self._prefix(ti)
        # A draw that cannot change the outcome is not made (draws are pure).
        jitter = task.jitter != 0
        may_fail = task.failure_rate > 0 and ti.try_number not in task.fail_tries
        drawn = units(prefix, TRY_DRAWS[jitter, may_fail])
        worker, pid_draw = drawn[0], drawn[1]
        normal = gauss(drawn[2], drawn[3]) if jitter else 0.0
        fail = drawn[-1] if may_fail else 1.0
        hostname = ti.hostname = HOSTNAMES[int(worker * WORKERS)]
        pid = 100 + int(pid_draw * 32000)
        pid = ti.pid = self._pids.setdefault(pid, pid)
        if not (resuming and ti.start_date):
            ti.start_date = now
        ti.end_date, ti.timed = None, False
        lc.set_state(self.store, ti, lc.RUNNING)
        attempt = TaskTry(ti.try_number, hostname, pid, now, job_id=self.store.next_job_id)
        self.store.next_job_id += 1
        ti.add_try(attempt)
        # The worker's `airflow tasks run --local` logs its command (cli_task_run),
        # its LocalTaskJob sets the instance running (the `running` row) and
        # forks the `--raw` task, whose `tasks run` logs too: three rows, at
        # the try's start instant here (quirk task-run-rows-at-the-start:
        # Airflow's first comes while the worker parses the DAG file, the
        # last tens of milliseconds after).
        self.store.event_logs.add_try_start(now, ti, hostname)
        if effect is not None:
            mark_try(attempt, effect)
            if effect.stuck_running:  # its worker stops heartbeating
                at = now + timedelta(seconds=effect.wait)
                self.pend(ti, at, ZOMBIE, priority=PRIORITY_FINISH)
                return
        if task.deferral is not None and not resuming:
            self.pend(ti, now + timedelta(seconds=DEFER_AFTER), DEFER)
            return
        seconds, outcome = self._outcome(ti, task, normal, fail, effect)
        ti.pending = self.events.schedule(
            now + timedelta(seconds=seconds), FINISH, ti.dag_id, ti.run_id, ti.task_id,
            ti.map_index, outcome, prefix, priority=PRIORITY_FINISH,
        )  # fmt: skip

    @staticmethod
    def _outcome(
        ti: TaskInstance, task: Task, normal: float, fail: float, effect: TaskEffect | None
    ) -> tuple[float, str]:
        """How long this try runs and whether it succeeds."""
        seconds = max(0.5, task.duration * math.exp(task.jitter * normal))
        failed = ti.try_number in task.fail_tries or fail < task.failure_rate
        if effect is not None:
            if effect.effect == SLOW and effect.factor is not None:
                seconds *= effect.factor
            elif effect.effect == FAIL:
                failed = True
        if task.execution_timeout is not None and seconds > task.execution_timeout:
            return task.execution_timeout, lc.FAILED
        return round(seconds, 3), lc.FAILED if failed else lc.SUCCESS

    def _defer(self, ti: TaskInstance, task: Task) -> None:
        assert task.deferral is not None
        lc.set_state(self.store, ti, lc.DEFERRED)
        attempt = ti.last_try
        assert attempt is not None
        attempt.outcome = lc.DEFERRED
        attempt.trigger_id = self.store.next_trigger_id
        self.store.next_trigger_id += 1
        now = self.events.now
        if task.operator in DATE_TIME_SENSORS:
            # Its DateTimeTrigger waits for the rendered target_time (one
            # already past fires at the triggerer's next loop).
            run = self.store.dag_runs.require((ti.dag_id, ti.run_id))
            until = target_time(task, run.data_interval_end or run.logical_date)
        else:
            until = now + timedelta(seconds=task.deferral)
        attempt.deferred_until = until
        self._log_event(ti, task, lc.DEFERRED)
        self.pend(ti, max(until, now) + timedelta(seconds=TRIGGER_RESUME), RESUME)
        self.scheduler.dispatch()  # a deferred instance gives its pool slot back

    def _resume(self, ti: TaskInstance, task: Task) -> None:
        self.scheduler.requeue(ti)

    def _finish(self, ti: TaskInstance, task: Task, outcome: str, prefix: str) -> None:
        now = self.events.now
        attempt = ti.last_try
        assert attempt is not None
        ti.end_date = attempt.end_date = now
        ti.timed = True
        assert ti.start_date is not None
        if outcome == lc.SUCCESS:
            skipped = self._succeed(ti, task, now, prefix)
            self.scheduler.task_done(ti, skipped, worker=True)
            return
        self.handle_failure(ti, task, attempt)

    def handle_failure(self, ti: TaskInstance, task: Task, attempt: TaskTry) -> None:
        """TaskInstance.handle_failure for a try that ran: up for retry while
        retries remain, else failed."""
        self._log_event(ti, task, lc.FAILED)
        if ti.try_number <= ti.max_tries:
            attempt.outcome = lc.UP_FOR_RETRY
            self.retry_later(ti, task)
            return
        lc.set_state(self.store, ti, lc.FAILED)
        attempt.outcome = lc.FAILED
        self.scheduler.task_done(ti, worker=True)

    def retry_later(self, ti: TaskInstance, task: Task) -> None:
        """Up for retry: it is due after the task's retry delay, and its slot is free."""
        lc.set_state(self.store, ti, lc.UP_FOR_RETRY)
        run = self.store.dag_runs.require((ti.dag_id, ti.run_id))
        delay = retry_delay(task, ti.dag_id, ti.try_number, run.logical_date)
        self.pend(ti, self.events.now + timedelta(seconds=delay), RETRY)
        self.scheduler.dispatch()

    def _succeed(self, ti: TaskInstance, task: Task, now: datetime, prefix: str) -> list[str]:
        """The try succeeded: XComs, datasets and, for a branch, its skips
        (made while it executes, before its own success is recorded)."""
        chosen = branching.choose(task, prefix)
        skipped: list[str] = []
        if chosen is not None:
            dag = self.store.dags.require(ti.dag_id)
            follow = branching.followed(dag, task, chosen)
            for other in branching.skip_all_except(self.store, ti, task, follow, now):
                self.stop(other)
                if other.task_id not in skipped:
                    skipped.append(other.task_id)
            self._push_xcom(ti, branching.XCOM_KEY, {branching.FOLLOWED: follow}, now)
        lc.set_state(self.store, ti, lc.SUCCESS)
        attempt = ti.last_try
        assert attempt is not None
        attempt.outcome = lc.SUCCESS
        self.store.event_logs.add_task_event(now, lc.SUCCESS, ti)
        keys = (RETURN_VALUE, *task.xcom_keys) if returns_value(task) else task.xcom_keys
        for key in keys:
            if chosen is not None and key == RETURN_VALUE:
                self._push_xcom(ti, key, chosen, now)  # what the branch callable returned
            else:
                self.store.xcoms.add(self._xcom(ti, task, key, prefix, now))
        self._update_datasets(ti, task, now)
        return skipped

    def _retry(self, ti: TaskInstance, task: Task) -> None:
        if ti.state == lc.UP_FOR_RETRY:
            if self.scheduler.down:
                self.scheduler.outage.hold(RETRY, ti)
                return
            self.scheduler.requeue(ti)

    def _log_event(self, ti: TaskInstance, task: Task, event: str) -> None:
        """The audit row of a try's step (owner: the task's; execution_date:
        the run's logical date), kept compact by the store."""
        self.store.event_logs.add_task_event(self.events.now, event, ti)

    def _push_xcom(self, ti: TaskInstance, key: str, value: Any, now: datetime) -> None:
        self.store.xcoms.add(XCom(ti.dag_id, ti.run_id, ti.task_id, key, value, now, ti.map_index))

    def _clear_xcoms(self, ti: TaskInstance, task: Task) -> None:
        """Airflow deletes an instance's XComs when a try starts to execute."""
        xcoms = self.store.xcoms
        for xcom in xcoms.of_instance(ti.dag_id, ti.run_id, ti.task_id, ti.map_index):
            if (
                xcom.key == RETURN_VALUE
                or xcom.key in task.xcom_keys
                or (task.branch and xcom.key == branching.XCOM_KEY)
            ):
                xcoms.delete(xcom.ident)

    def _xcom(self, ti: TaskInstance, task: Task, key: str, prefix: str, now: datetime) -> XCom:
        value: Any
        if key == RETURN_VALUE and task.operator == "BashOperator":
            value = self._texts.get(task.task_id)  # one shared text per task id
            if value is None:
                value = self._texts[task.task_id] = f"{task.task_id} done"
            return XCom(ti.dag_id, ti.run_id, ti.task_id, key, value, now, ti.map_index)
        count = int(unit(prefix + "xcom:" + key) * 10000)
        count = self._pids.setdefault(count, count)  # shared, as pids are
        if key == RETURN_VALUE:
            return RowsXCom(ti.dag_id, ti.run_id, ti.task_id, key, count, now, ti.map_index)
        return XCom(ti.dag_id, ti.run_id, ti.task_id, key, count, now, ti.map_index)

    def _update_datasets(self, ti: TaskInstance, task: Task, now: datetime) -> None:
        for uri in task.outlets:
            # Airflow adds the event and leaves the dataset row as it is.
            dataset = self.store.datasets.require(uri)
            event = self.store.dataset_events.add(
                DatasetEvent(dataset_id=dataset.id, source_dag_id=ti.dag_id,
                             source_task_id=ti.task_id, source_run_id=ti.run_id,
                             source_map_index=ti.map_index, timestamp=now)
            )  # fmt: skip
            self.scheduler.dataset_updated(event, uri)

    def restart(self, ti: TaskInstance, task: Task) -> None:
        """A running try was cleared: the instance is restarting until its
        job terminates the task (`killed_at`)."""
        self.stop(ti)
        lc.set_state(self.store, ti, lc.RESTARTING)
        attempt = ti.last_try
        start = attempt.start_date if attempt is not None else self.events.now
        self.pend(ti, killed_at(start, self.events.now), KILLED)

    def _killed(self, ti: TaskInstance, task: Task) -> None:
        """The task's SIGTERM handler raised: handle_failure writes the
        `failed` row and, a restarting instance being always eligible to
        retry, puts it up for retry."""
        now = self.events.now
        ti.end_date, ti.timed = now, True
        attempt = ti.last_try
        if attempt is not None:
            attempt.end_date, attempt.outcome = now, lc.UP_FOR_RETRY
            attempt.cleared = True
        self._log_event(ti, task, lc.FAILED)
        self.retry_later(ti, task)

    def stop(self, ti: TaskInstance) -> None:
        """Forget the instance's pending work (it was cleared or marked)."""
        if ti.pending is not None:
            self.events.cancel(ti.pending)
            ti.pending = None

    # -- the scheduler's return and faults ------------------------------------

    def release(self, held: list[Held]) -> None:
        """The events held while the scheduler was down happen now, in the
        order they came due; those whose instance has moved on since (marked,
        cleared, deleted) are void."""
        now, run_tis = self.events.now, self.store.instances_by_run
        for kind, dag_id, run_id, task_id, map_index, *rest in held:
            tis = run_tis.get((dag_id, run_id))
            ti = tis.find(task_id, map_index) if tis is not None else None
            if ti is not None and ti.pending is None and ti.state == HELD_STATE[kind]:
                self.pend(ti, now, kind, *rest, priority=PRIORITY_FINISH)

    def apply_effect(self, ti: TaskInstance, effect: TaskEffect) -> bool:
        """A fault added while the instance's try is queued or running: the
        effect applies to that try (see engine/effects.py); answers whether
        it did (not to a try that ended, is stuck already or never starts)."""
        if ti.state == lc.QUEUED:
            return apply_queued(self, ti, effect)
        if ti.state == lc.RUNNING:
            return apply_running(self, ti, effect)
        return False


def retry_delay(task: Task, dag_id: str, try_number: int, logical_date: datetime) -> float:
    """Airflow's next retry delay after try `try_number` failed: fixed, or
    with exponential backoff a deterministic spread keyed on the instance
    (TaskInstance.next_retry_datetime): min + sha1(dag#task#date#next try)
    % min, where min = ceil(delay * 2**(try - 1)), at least 1 second."""
    delay = task.retry_delay
    if task.retry_exponential_backoff:
        least = max(1, math.ceil(delay * 2 ** (try_number - 1)))
        key = f"{dag_id}#{task.task_id}#{logical_date}#{try_number + 1}"
        spread = int(hashlib.sha1(key.encode()).hexdigest(), 16) % least
        delay = min(least + spread, MAX_DELAY)
        if task.max_retry_delay:
            delay = min(delay, task.max_retry_delay)
    return delay


# Operators whose execute (or execute_complete) returns None: Airflow pushes
# no return_value XCom for them. Sensors return None too (a PokeReturnValue
# aside), as do KubernetesPodOperator without do_xcom_push and the transfers.
SILENT_OPERATORS = frozenset({
    "EmptyOperator", "DummyOperator", "EmailOperator", "SQLCheckOperator",
    "SQLValueCheckOperator", "SQLIntervalCheckOperator", "SQLThresholdCheckOperator",
    "S3ToRedshiftOperator", "RedshiftToS3Operator", "KubernetesPodOperator",
    "TriggerDagRunOperator", "SlackWebhookOperator", "SlackAPIPostOperator",
})  # fmt: skip


def draw_prefix(seed: int, ti: TaskInstance, try_number: int) -> str:
    """The key text of the draws made for an instance at a try number."""
    return f"{seed}:{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}/{try_number}/"


def pickup_delay(prefix: str) -> float:
    """Seconds from queued to running of the try whose draws `prefix` keys."""
    return PICKUP_LOW + PICKUP_SPAN * unit(prefix + "pickup")


def returns_value(task: Task) -> bool:
    """Whether a successful try pushes a return_value XCom."""
    name = task.operator
    return name not in SILENT_OPERATORS and "Sensor" not in name


def resumes(last: TaskTry | None) -> bool:
    """Whether the instance's next run resumes its deferred try (one that a
    mark ended, giving its try number back, does not: the next run is a try
    of its own)."""
    return last is not None and last.outcome == lc.DEFERRED and not last.given_back


def killed_at(start: datetime, cleared: datetime) -> datetime:
    """When the job of a try started at `start` terminates it, the instance
    cleared at `cleared` (jobs/local_task_job.py heartbeat_callback): its
    first heartbeat after the clear finds the state changed and lets it pass
    once (`_state_change_checks`, in case the task itself just set it); the
    next logs "externally set to restarting" and terminates the task."""
    first = start + ((cleared - start) // HEARTBEAT + 1) * HEARTBEAT
    return first + HEARTBEAT
