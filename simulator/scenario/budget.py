"""How much history a world asks for, estimated before it is simulated, so a
scenario that would take hours or all the memory is refused at once with a
message instead of hanging the server."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from simulator.engine import timetable
from simulator.scenario.dags import parse_instant
from simulator.scenario.model import Scenario
from simulator.scenario.problems import Problem, ScenarioError
from simulator.state.dag_model import CRON, DELTA, ONCE, Schedule

# About 4x the bundled `large` world; ~1 KB of memory each.
MAX_HISTORY_TASK_INSTANCES = 2_000_000


def _period(schedule: Schedule, moment: datetime) -> timedelta | None:
    """The length of one interval of a time-based schedule."""
    if schedule.kind == DELTA:
        return timedelta(seconds=schedule.value)
    if schedule.kind == CRON:
        interval = timetable.interval_after(schedule, moment)
        following = timetable.interval_after(schedule, interval.end)
        return max(following.end - interval.end, timedelta(minutes=1))
    return None


def _runs(dag: dict[str, Any], origin: datetime, start: datetime) -> float:
    """Scheduled runs a DAG gets between the origin and the start."""
    if dag.get("is_paused") or dag.get("start_date") is None:
        return 0
    schedule = timetable.parse_schedule(dag.get("schedule"))
    first = parse_instant(dag["start_date"])
    if schedule.kind == ONCE:
        return 1
    period = _period(schedule, max(first, origin))
    if period is None:  # manual, or dataset-triggered: runs when its producers do
        return 0
    if dag.get("end_date") is not None:
        start = min(start, parse_instant(dag["end_date"]))
    window = max(timedelta(0), start - max(first, origin))
    runs = window / period + 1
    if dag.get("catchup", True) and first < origin:
        # The backlog drains no faster than max_active_runs runs at a time,
        # each at least as long as its longest task.
        backlog = (origin - first) / period
        longest = max((t.get("duration", 60.0) for t in dag.get("tasks") or []), default=60.0)
        drained = dag.get("max_active_runs", 16) * (window / timedelta(seconds=max(longest, 1)) + 1)
        runs += min(backlog, drained)
    return runs


def _instances(dag: dict[str, Any]) -> int:
    return sum(max(1, task.get("map_count") or 1) for task in dag.get("tasks") or [])


def check_history(dags: Iterable[dict[str, Any]], origin: datetime, start: datetime) -> None:
    """Refuse a history that would create more task instances than the limit."""
    total = 0.0
    for dag in dags:
        total += _runs(dag, origin, start) * _instances(dag)
    if total > MAX_HISTORY_TASK_INSTANCES:
        message = (
            f"about {int(total):,} task instances would be simulated before the start "
            f"(at most {MAX_HISTORY_TASK_INSTANCES:,}): shorten `history`, move the DAGs' "
            "start_date, or schedule fewer runs"
        )
        raise ScenarioError([Problem("scenario", "history", message)])


def check_world(
    scenario: Scenario, seed: int | None = None, start: datetime | None = None
) -> Scenario:
    """The scenario with what it generates for `seed` (its own by default),
    its history checked as if served from `start` (its own, `now` included)."""
    from simulator.engine.clock import wall_clock_minute
    from simulator.scenario.loader import expand

    world = expand(scenario, scenario.seed if seed is None else seed)
    if start is None:
        start = scenario.start if isinstance(scenario.start, datetime) else wall_clock_minute()
    check_history(world.dags, start - scenario.history, start)
    return world
