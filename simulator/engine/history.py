"""A task instance's tries as Airflow 2.10 records them: the rows its
task_instance_history table holds, the live row's try number, and when the
row was last updated.

Airflow 2.10 numbers a try when the scheduler schedules it (the live row of a
scheduled or queued instance already carries the next try number), and
copies the row into task_instance_history when a try fails into a retry and
when a cleared instance had a try (TaskInstanceHistory.record_ti: a state
that is not finished is recorded as failed). The engine keeps every try in
the instance's TaskTry chain; these rows are read from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulator.engine import lifecycle as lc
from simulator.engine.executor import draw_prefix, pickup_delay, resumes
from simulator.engine.plan import EMPTY_OPERATORS
from simulator.state.dag_model import Task
from simulator.state.run_model import DagRun, TaskInstance, TaskTry

# States of a live row whose last try was recorded by a clear since.
CLEARED_STATES = frozenset({None, lc.SCHEDULED, lc.QUEUED})


@dataclass(frozen=True, slots=True)
class TryRow:
    """One row of the tries list: a history row or the live instance."""

    ti: TaskInstance
    try_number: int
    state: str | None
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    hostname: str
    pid: int | None
    max_tries: int
    queued_dttm: datetime | None


def try_number(ti: TaskInstance, task: Task | None) -> int:
    """The live row's try_number in Airflow 2.10: one more than the tries
    started while the next one is scheduled or queued (a resumed deferral
    continues its try), and 1 for an empty task the scheduler marked success."""
    number = ti.try_number
    state = ti.state
    if state in (lc.SCHEDULED, lc.QUEUED) and not resumes(ti.last_try):
        return number + 1
    if state == lc.SUCCESS and ti.last_try is None and _empty(task) and ti.timed:
        return number + 1
    return number


def _empty(task: Task | None) -> bool:
    return task is not None and task.operator in EMPTY_OPERATORS and not task.outlets


def tries(ti: TaskInstance, task: Task | None, seed: int) -> list[TryRow]:
    """GET .../tries: the history rows by try number, then the live row
    unless it is up for retry (its try is in the history already)."""
    rows = list(history(ti, seed))
    if ti.state != lc.UP_FOR_RETRY:
        rows.append(live(ti, task))
    return rows


def find(ti: TaskInstance, task: Task | None, seed: int, number: int) -> TryRow | None:
    """GET .../tries/{n}: the live row when it has that try number, else the history row."""
    row = live(ti, task)
    if row.try_number == number:
        return row
    for row in history(ti, seed):
        if row.try_number == number:
            return row
    return None


def live(ti: TaskInstance, task: Task | None) -> TryRow:
    return TryRow(ti, try_number(ti, task), ti.state, ti.start_date, ti.end_date, ti.duration,
                  ti.hostname, ti.pid, ti.max_tries, ti.queued_dttm)  # fmt: skip


def history(ti: TaskInstance, seed: int) -> Iterator[TryRow]:
    """The task_instance_history rows of the instance's tries, first to last."""
    attempts = ti.tries
    last = len(attempts) - 1
    max_tries = ti.max_tries
    kept: list[int] = []
    # A clear that raised max_tries kept the old value on the try before it.
    for attempt in reversed(attempts):
        if attempt.max_tries is not None:
            max_tries = attempt.max_tries
        kept.append(max_tries)
    kept.reverse()
    for position, attempt in enumerate(attempts):
        if position < last or _recorded_last(ti, attempt):
            yield _row(ti, attempt, kept[position], _queued(ti, attempt, position == last, seed))


def _recorded_last(ti: TaskInstance, attempt: TaskTry) -> bool:
    """Whether the current try has its history row: it failed into a retry,
    or the instance was cleared since (restarting, or waiting to run again)."""
    if attempt.outcome == lc.UP_FOR_RETRY or ti.state == lc.RESTARTING:
        return True
    return ti.state in CLEARED_STATES and (attempt.outcome != lc.DEFERRED or attempt.given_back)


def _row(ti: TaskInstance, attempt: TaskTry, max_tries: int, queued: datetime | None) -> TryRow:
    outcome = attempt.outcome
    # record_ti keeps a finished state; a try that failed into a retry, ran
    # on or waited deferred is recorded as failed.
    state = outcome if outcome in (lc.SUCCESS, lc.FAILED) else lc.FAILED
    end = attempt.end_date
    duration = (end - attempt.start_date).total_seconds() if end is not None else None
    return TryRow(ti, attempt.try_number, state, attempt.start_date, end, duration,
                  attempt.hostname, attempt.pid, max_tries, queued)  # fmt: skip


def _queued(ti: TaskInstance, attempt: TaskTry, is_last: bool, seed: int) -> datetime | None:
    """When the try was queued: the live row's queued_dttm for the current
    try, else its start less the executor's pickup delay for that try."""
    if is_last and ti.queued_dttm is not None and ti.queued_dttm <= attempt.start_date:
        return ti.queued_dttm
    delay = pickup_delay(draw_prefix(seed, ti, attempt.try_number - 1))
    return attempt.start_date - timedelta(seconds=delay)


def updated_at(ti: TaskInstance, run: DagRun) -> datetime | None:
    """The row's updated_at as far as the instance records its changes:
    created with its run, queued, started, deferred, ended (a clear, a note
    or a second mark leave no time of their own)."""
    latest = run.queued_at or run.start_date
    attempt = ti.last_try
    deferred = attempt.start_date + timedelta(seconds=1) if attempt is not None \
        and attempt.outcome == lc.DEFERRED else None  # fmt: skip
    for moment in (ti.queued_dttm, ti.start_date, ti.end_date, deferred):
        if moment is not None and (latest is None or moment > latest):
            latest = moment
    return latest
