"""The executor and the workers: queued -> running -> a final state.

Each try's pickup delay, duration and outcome are keyed draws (seed, task
instance, try), so a run's story does not depend on what else happens.
Successful tries push XComs and update their outlet datasets; failed tries
go up for retry while retries remain.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from simulator.engine import lifecycle as lc
from simulator.engine.core import Engine
from simulator.engine.rng import Draws, RandomStreams
from simulator.engine.scheduler import PRIORITY_FINISH, Scheduler
from simulator.state.dag_model import Task
from simulator.state.run_model import DatasetEvent, TaskInstance, TaskTry, XCom
from simulator.state.store import Store

WORKERS = 4  # hostnames worker-0 .. worker-3, as a Celery deployment names them
PICKUP = (1.0, 3.0)  # seconds from queued to running
TRIGGER_RESUME = 1.0  # seconds from a fired trigger to the task being scheduled
KILL = 5.0  # seconds from clearing a running try to its worker killing it (a heartbeat)


class Executor:
    def __init__(
        self, store: Store, events: Engine, random: RandomStreams, scheduler: Scheduler
    ) -> None:
        self.store = store
        self.events = events
        self.random = random
        self.scheduler = scheduler
        scheduler.executor = self

    def _draws(self, ti: TaskInstance) -> Draws:
        """The current try's draws (its key text is built once per try)."""
        key = (*ti.key, ti.try_number)
        draws = ti.draws
        if draws is None or draws.key != key:
            draws = ti.draws = self.random.draws(*key)
        return draws

    def _draw(self, ti: TaskInstance, what: str) -> float:
        return self._draws(ti).uniform(what)

    def queue(self, ti: TaskInstance, task: Task) -> None:
        lc.set_state(self.store, ti, lc.QUEUED)
        ti.queued_dttm = self.events.now
        low, high = PICKUP
        delay = low + (high - low) * self._draw(ti, "pickup")
        ti.pending = self.events.schedule(
            self.events.now + timedelta(seconds=delay), lambda: self._start(ti, task)
        )

    def _start(self, ti: TaskInstance, task: Task) -> None:
        now = self.events.now
        resuming = bool(ti.tries) and ti.tries[-1].outcome == lc.DEFERRED
        if not resuming:
            ti.try_number += 1
            self._clear_xcoms(ti, task)
        worker = int(self._draw(ti, "worker") * WORKERS)
        ti.hostname = f"worker-{worker}"
        ti.pid = 100 + int(self._draw(ti, "pid") * 32000)
        ti.start_date = ti.start_date if resuming and ti.start_date else now
        ti.end_date = ti.duration = None
        lc.set_state(self.store, ti, lc.RUNNING)
        attempt = TaskTry(try_number=ti.try_number, hostname=ti.hostname, pid=ti.pid,
                          start_date=now)  # fmt: skip
        ti.tries.append(attempt)
        self._log_event(ti, task, lc.RUNNING)
        if task.deferral is not None and not resuming:
            ti.pending = self.events.schedule(
                now + timedelta(seconds=1), lambda: self._defer(ti, task, attempt)
            )
            return
        seconds, outcome = self._outcome(ti, task)
        ti.pending = self.events.schedule(
            now + timedelta(seconds=seconds),
            lambda: self._finish(ti, task, attempt, outcome),
            PRIORITY_FINISH,
        )

    def _outcome(self, ti: TaskInstance, task: Task) -> tuple[float, str]:
        """How long this try runs and whether it succeeds."""
        spread = task.jitter * self._draws(ti).normal("duration")
        seconds = max(0.5, task.duration * math.exp(spread))
        failed = ti.try_number in task.fail_tries or self._draw(ti, "fail") < task.failure_rate
        if task.execution_timeout is not None and seconds > task.execution_timeout:
            return task.execution_timeout, lc.FAILED
        return round(seconds, 3), lc.FAILED if failed else lc.SUCCESS

    def _defer(self, ti: TaskInstance, task: Task, attempt: TaskTry) -> None:
        assert task.deferral is not None
        lc.set_state(self.store, ti, lc.DEFERRED)
        attempt.outcome = lc.DEFERRED
        attempt.deferred_until = self.events.now + timedelta(seconds=task.deferral)
        self._log_event(ti, task, lc.DEFERRED)
        ti.pending = self.events.schedule(
            attempt.deferred_until + timedelta(seconds=TRIGGER_RESUME),
            lambda: self._resume(ti),
        )
        self.scheduler.dispatch()  # a deferred instance gives its pool slot back

    def _resume(self, ti: TaskInstance) -> None:
        ti.pending = None
        self.scheduler.requeue(ti)

    def _finish(self, ti: TaskInstance, task: Task, attempt: TaskTry, outcome: str) -> None:
        now = self.events.now
        ti.pending = None
        ti.end_date = attempt.end_date = now
        assert ti.start_date is not None
        ti.duration = (now - ti.start_date).total_seconds()
        if outcome == lc.SUCCESS:
            lc.set_state(self.store, ti, lc.SUCCESS)
            attempt.outcome = lc.SUCCESS
            self._log_event(ti, task, lc.SUCCESS)
            self._push_xcoms(ti, task, now)
            self._update_datasets(ti, task, now)
        else:
            self._log_event(ti, task, lc.FAILED)
            if ti.try_number <= ti.max_tries:
                lc.set_state(self.store, ti, lc.UP_FOR_RETRY)
                attempt.outcome = lc.UP_FOR_RETRY
                ti.pending = self.events.schedule(
                    now + timedelta(seconds=retry_delay(task, ti.try_number)),
                    lambda: self._retry(ti),
                )
                self.scheduler.dispatch()
                return
            lc.set_state(self.store, ti, lc.FAILED)
            attempt.outcome = lc.FAILED
        self.scheduler.task_done(ti)

    def _retry(self, ti: TaskInstance) -> None:
        ti.pending = None
        if ti.state == lc.UP_FOR_RETRY:
            self.scheduler.requeue(ti)

    def _log_event(self, ti: TaskInstance, task: Task, event: str) -> None:
        run = self.store.dag_runs.get((ti.dag_id, ti.run_id))
        self.scheduler.record(
            event, owner=task.owner, dag_id=ti.dag_id, task_id=ti.task_id,
            execution_date=run.logical_date if run else None,
        )  # fmt: skip

    def _push_xcoms(self, ti: TaskInstance, task: Task, now: datetime) -> None:
        keys = ["return_value", *task.xcom_keys]
        for key in keys:
            self.store.xcoms.add(
                XCom(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                     map_index=ti.map_index, key=key, value=self._xcom_value(ti, task, key),
                     timestamp=now)
            )  # fmt: skip

    def _clear_xcoms(self, ti: TaskInstance, task: Task) -> None:
        """Airflow deletes an instance's XComs when a try starts to execute."""
        for key in ("return_value", *task.xcom_keys):
            if (*ti.key, key) in self.store.xcoms:
                self.store.xcoms.delete((*ti.key, key))

    def _xcom_value(self, ti: TaskInstance, task: Task, key: str) -> Any:
        count = int(self._draw(ti, "xcom:" + key) * 10000)
        if key != "return_value":
            return count
        if task.operator == "BashOperator":
            return f"{task.task_id} done"
        return {"task": task.task_id, "rows": count}

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
        """A running try was cleared: its worker kills it at the next heartbeat
        and, restarting being always eligible, it goes up for retry."""
        self.stop(ti)
        lc.set_state(self.store, ti, lc.RESTARTING)
        ti.pending = self.events.schedule(
            self.events.now + timedelta(seconds=KILL), lambda: self._killed(ti, task)
        )

    def _killed(self, ti: TaskInstance, task: Task) -> None:
        now = self.events.now
        ti.pending = None
        ti.end_date = now
        if ti.start_date is not None:
            ti.duration = (now - ti.start_date).total_seconds()
        if ti.tries:
            ti.tries[-1].end_date, ti.tries[-1].outcome = now, lc.UP_FOR_RETRY
        lc.set_state(self.store, ti, lc.UP_FOR_RETRY)
        ti.pending = self.events.schedule(
            now + timedelta(seconds=retry_delay(task, ti.try_number)), lambda: self._retry(ti)
        )
        self.scheduler.dispatch()

    def stop(self, ti: TaskInstance) -> None:
        """Forget the instance's pending work (it was cleared or marked)."""
        if ti.pending is not None:
            self.events.cancel(ti.pending)
            ti.pending = None


def retry_delay(task: Task, try_number: int) -> float:
    """Airflow's next retry delay: fixed, or doubling with exponential backoff."""
    delay = task.retry_delay
    if task.retry_exponential_backoff:
        delay = delay * 2 ** max(0, try_number - 1)
        if task.max_retry_delay is not None:
            delay = min(delay, task.max_retry_delay)
    return delay
