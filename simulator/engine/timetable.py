"""Timetables: when a DAG's runs are due and what data interval each covers.

Cron expressions (and presets) go through croniter; a timedelta schedule
covers [logical, logical + delta]; `@once` runs once at start_date; no
schedule never runs by itself; dataset schedules run on dataset events.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter

from simulator.engine import cron as cron_ticks
from simulator.state.dag_model import CRON, DATASETS, DELTA, NONE, ONCE, Dag, Schedule

PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}


RUN_TYPE_PREFIX = {
    "scheduled": "scheduled__",
    "manual": "manual__",
    "dataset_triggered": "dataset_triggered__",
    "backfill": "backfill__",
}


def run_id_for(run_type: str, logical: datetime) -> str:
    return RUN_TYPE_PREFIX[run_type] + logical.isoformat()


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime


def parse_schedule(value: Any) -> Schedule:
    """A DAG file's `schedule`: None, "@once", a cron string or preset,
    {"timedelta": seconds}, or {"datasets": [uri, ...]}."""
    if value is None:
        return Schedule(kind=NONE)
    if value == "@once":
        return Schedule(kind=ONCE, value="@once")
    if isinstance(value, str):
        expression = PRESETS.get(value, value)
        if not croniter.is_valid(expression):
            raise ValueError(f"invalid cron expression {value!r}")
        return Schedule(kind=CRON, value=value)
    if isinstance(value, dict) and "timedelta" in value:
        return Schedule(kind=DELTA, value=float(value["timedelta"]))
    if isinstance(value, dict) and "datasets" in value:
        return Schedule(kind=DATASETS, value=list(value["datasets"]))
    raise ValueError(f"unsupported schedule {value!r}")


def _cron(schedule: Schedule) -> str:
    return PRESETS.get(schedule.value, schedule.value)


def _cron_next(schedule: Schedule, after: datetime) -> datetime:
    return _tick(_cron(schedule), after, True)


def _cron_prev(schedule: Schedule, before: datetime) -> datetime:
    return _tick(_cron(schedule), before, False)


@functools.lru_cache(maxsize=4096)
def _tick(expression: str, moment: datetime, forward: bool) -> datetime:
    # Remembered: DAGs on the same schedule ask for the same ticks (and share
    # the datetimes). Daily schedules in UTC are computed without croniter.
    fast = cron_ticks.tick(expression, moment, forward)
    if fast is not None:
        return fast
    cron = croniter(expression, moment)
    result: datetime = cron.get_next(datetime) if forward else cron.get_prev(datetime)
    return result.replace(fold=0)


def _align(schedule: Schedule, moment: datetime) -> datetime:
    """The first cron tick at or after `moment`."""
    return _cron_next(schedule, moment - timedelta(microseconds=1))


def interval_after(schedule: Schedule, logical: datetime) -> Interval:
    """The data interval of a run whose logical date (interval start) is `logical`."""
    if schedule.kind == CRON:
        return Interval(logical, _cron_next(schedule, logical))
    if schedule.kind == DELTA:
        return Interval(logical, logical + timedelta(seconds=schedule.value))
    return Interval(logical, logical)


def manual_interval(schedule: Schedule, logical: datetime) -> Interval:
    """Airflow's infer_manual_data_interval: the last complete interval ending at
    or before `logical` for cron, [logical - delta, logical] for timedelta."""
    if schedule.kind == CRON:
        end = _cron_prev(schedule, logical + timedelta(microseconds=1))
        return Interval(_cron_prev(schedule, end), end)
    if schedule.kind == DELTA:
        return Interval(logical - timedelta(seconds=schedule.value), logical)
    return Interval(logical, logical)


def first_interval(dag: Dag, now: datetime) -> Interval | None:
    """The first interval the scheduler creates a run for (none after end_date)."""
    first = _first_interval(dag, now)
    if first is not None and dag.end_date is not None and first.start > dag.end_date:
        return None
    return first


def _first_interval(dag: Dag, now: datetime) -> Interval | None:
    schedule, start = dag.schedule, dag.start_date
    if start is None or schedule.kind in (NONE, DATASETS):
        return None
    if schedule.kind == ONCE:
        return Interval(start, start)
    if schedule.kind == CRON:
        first = interval_after(schedule, _align(schedule, start))
    else:
        first = interval_after(schedule, start)
    if dag.catchup or first.end > now:
        return first
    # Without catchup: the latest interval that has already ended.
    if schedule.kind == CRON:
        end = _cron_prev(schedule, now + timedelta(microseconds=1))
        return Interval(_cron_prev(schedule, end), end)
    # DeltaDataIntervalTimetable._skip_to_latest: one delta back from now.
    return interval_after(schedule, max(now - timedelta(seconds=schedule.value), start))


def next_interval(dag: Dag, last: Interval) -> Interval | None:
    if dag.schedule.kind in (CRON, DELTA):
        following = interval_after(dag.schedule, last.end)
        if dag.end_date is not None and following.start > dag.end_date:
            return None
        return following
    return None


def description(schedule: Schedule) -> str:
    if schedule.kind == NONE:
        return "Never, external triggers only"
    if schedule.kind == ONCE:
        return "Once, as soon as possible"
    if schedule.kind == DATASETS:
        return "Triggered by datasets"
    if schedule.kind == DELTA:
        return ""
    return _cron_text(_cron(schedule))


@functools.lru_cache(maxsize=4096)
def _cron_text(expression: str) -> str:
    """cron_descriptor's sentence for an expression: a pure function, made
    once per expression (it loads its message catalogue on every call)."""
    from cron_descriptor import CasingTypeEnum, ExpressionDescriptor, Options

    options = Options()
    options.casing_type = CasingTypeEnum.Sentence
    options.use_24hour_time_format = True
    return str(ExpressionDescriptor(expression, options).get_description())
