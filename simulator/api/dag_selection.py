"""Which runs and task instances the DAG tag's actions select: a DAG's
task closure, runs between dates, the runs a mark's past/future reach on
the timetable, the run a set-state form names."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from simulator.engine import timetable
from simulator.engine.actions import downstream_ids, upstream_ids
from simulator.errors import NotFound
from simulator.simulator import Simulator
from simulator.state.dag_model import CRON, DELTA, ONCE, Dag
from simulator.state.run_model import DagRun, TaskInstance

References = list[tuple[TaskInstance, DagRun]]


def dag_tis(sim: Simulator, dag_id: str) -> list[TaskInstance]:
    return [ti for run in sim.store.runs_of(dag_id) for ti in sim.store.tis_of(run)]


def task_closure(dag: Dag, task_ids: Iterable[str], upstream: bool, downstream: bool) -> set[str]:
    """DAG.partial_subset: the named tasks and, if asked, all their relatives."""
    matched = [task_id for task_id in dag.tasks if task_id in set(task_ids)]
    selected = set(matched)
    for task_id in matched:
        if downstream:
            selected.update(downstream_ids(dag, task_id))
        if upstream:
            selected.update(upstream_ids(dag, task_id))
    return selected


def select(
    sim: Simulator,
    dag: Dag,
    task_ids: set[str],
    runs: Iterable[DagRun],
    wanted: Iterable[str | None] | None,
) -> References:
    """Task instances of these runs and tasks (in a state of `wanted`), in row order."""
    states = None if wanted is None else set(wanted)
    return [
        (ti, run)
        for run in runs
        for ti in sim.store.tis_of(run)
        if ti.task_id in task_ids and (states is None or ti.state in states)
    ]


def runs_between(
    sim: Simulator, dag_id: str, start: datetime | None, end: datetime | None
) -> list[DagRun]:
    # Without allow_trigger_in_future, runs after now are never cleared.
    end = end or sim.now()
    return [
        run
        for run in sim.store.runs_of(dag_id)
        if (start is None or run.logical_date >= start) and run.logical_date <= end
    ]


def schedule_dates(dag: Dag, start: datetime, end: datetime) -> set[datetime]:
    """DAG.iter_dagrun_infos_between(start, end, align=False): `start` itself,
    then the timetable's own logical dates up to `end`."""
    dates = {start}
    schedule = dag.schedule
    if schedule.kind == CRON:
        tick = timetable.interval_after(schedule, start - timedelta(microseconds=1)).end
        while tick <= end:
            dates.add(tick)
            tick = timetable.interval_after(schedule, tick).end
    elif schedule.kind == DELTA:
        tick = start
        while tick <= end:
            dates.add(tick)
            tick += timedelta(seconds=schedule.value)
    return dates


def run_range(sim: Simulator, dag: Dag, run: DagRun, past: bool, future: bool) -> list[DagRun]:
    """mark_tasks.get_run_ids: the run, and with past/future the runs the
    timetable places between the first (last) run and this one."""
    runs = sim.store.runs_of(dag.dag_id)
    by_date = sorted(runs, key=lambda r: r.logical_date)
    start = by_date[0].logical_date if past else run.logical_date
    end = by_date[-1].logical_date if future else run.logical_date
    if dag.schedule.kind == ONCE:
        return [run]
    if dag.schedule.kind in (CRON, DELTA):
        dates = schedule_dates(dag, start, end)
        return [r for r in runs if r.logical_date in dates]
    return [r for r in runs if start <= r.logical_date <= end]


def target_run(sim: Simulator, dag: Dag, task_id: str, data: dict[str, Any]) -> DagRun:
    """The run the form names, with Airflow's 404s for a missing task instance."""
    when, run_id = data.get("execution_date"), data.get("dag_run_id")
    if when:
        run = next((r for r in sim.store.runs_of(dag.dag_id) if r.logical_date == when), None)
        if run is None or not sim.store.run_tis[run.key].get(task_id):
            raise NotFound(
                detail=f"Task instance not found for task {task_id!r} on execution_date {when}"
            )
        return run
    if (dag.dag_id, run_id, task_id, -1) not in sim.store.task_instances:
        raise NotFound(
            detail=f"Task instance not found for task {task_id!r} on DAG run with ID {run_id!r}"
        )
    return sim.store.dag_runs.require((dag.dag_id, str(run_id)))
