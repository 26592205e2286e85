"""Why a task instance is not running: the dependencies Airflow 2.10's
scheduler checks before it queues an instance (ti_deps: the scheduler's
queued deps and the task's own), with Airflow's names and reasons, read from
what the engine knows.

Only an instance without a state or scheduled has any (GET .../dependencies
lists none for the others). The deps Airflow would evaluate but that cannot
fail here pass silently: task concurrency (no task sets a limit), not in
retry period (never up for retry here), not running, mapped upstreams (a
failed mapping source fails its mapped task at once).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from simulator.engine import branching
from simulator.engine import lifecycle as lc
from simulator.state.dag_model import Dag, Task
from simulator.state.run_model import DagRun, TaskInstance
from simulator.state.store import Store

# The instance states whose dependencies the endpoint evaluates.
WAITING = (None, lc.SCHEDULED)
# What the scheduler's ValidStateDep accepts (QUEUEABLE_STATES).
QUEUEABLE = (lc.SCHEDULED,)
SUCCESSFUL = (lc.SUCCESS, lc.SKIPPED)


@dataclass(frozen=True, slots=True)
class Dependency:
    name: str
    reason: str


def failed_dependencies(
    store: Store, ti: TaskInstance, run: DagRun, dag: Dag, task: Task, now: datetime
) -> list[Dependency]:
    """The dependencies the instance does not meet, sorted by name (stable)."""
    if ti.state not in WAITING:
        return []
    found = [
        *_execution_date(run, dag, task, now),
        *_scheduler(store, ti, run, dag),
        *_depends_on_past(store, ti, run, dag, task),
        *_trigger_rule(store, ti, run, task),
        *_previously_skipped(store, ti, run, task),
    ]
    return sorted(found, key=lambda dep: dep.name)


def _execution_date(run: DagRun, dag: Dag, task: Task, now: datetime) -> Iterator[Dependency]:
    """RunnableExecDateDep, then ExecDateAfterStartDateDep (a task takes its
    DAG's dates when it sets none)."""
    name, date = "Execution Date", run.logical_date
    if date > now:
        yield Dependency(
            name,
            f"Execution date {date.isoformat()} is in the future "
            f"(the current date is {now.isoformat()}).",
        )
    task_end = task.end_date or dag.end_date
    if task_end is not None and date > task_end:
        yield Dependency(
            name,
            f"The execution date is {date.isoformat()} but this is after "
            f"the task's end date {task_end.isoformat()}.",
        )
    if dag.end_date is not None and date > dag.end_date:
        yield Dependency(
            name,
            f"The execution date is {date.isoformat()} but this is after "
            f"the task's DAG's end date {dag.end_date.isoformat()}.",
        )
    task_start = task.start_date or dag.start_date
    if task_start is not None and date < task_start:
        yield Dependency(
            name,
            f"The execution date is {date.isoformat()} but this is before "
            f"the task's start date {task_start.isoformat()}.",
        )
    if dag.start_date is not None and date < dag.start_date:
        yield Dependency(
            name,
            f"The execution date is {date.isoformat()} but this is before "
            f"the task's DAG's start date {dag.start_date.isoformat()}.",
        )


def _scheduler(store: Store, ti: TaskInstance, run: DagRun, dag: Dag) -> Iterator[Dependency]:
    """The scheduler's own deps: state, DAG slots, pool, run state, backfill, pause."""
    if ti.state not in QUEUEABLE:
        yield Dependency("Task Instance State", f"Task is in the '{ti.state}' state.")
    # DAG.get_concurrency_reached counts the DAG's running instances only.
    if store.ti_index.counts[(dag.dag_id, lc.RUNNING)] >= dag.max_active_tasks:
        yield Dependency(
            "Task Instance Slots Available",
            f"The maximum number of running tasks ({dag.max_active_tasks}) for this task's "
            f"DAG '{dag.dag_id}' has been reached.",
        )
    pool = store.pools.get(ti.pool)
    if pool is None:
        yield Dependency(
            "Pool Slots Available",
            f"Tasks using non-existent pool '{ti.pool}' will not be scheduled",
        )
    elif pool.slots != -1:
        open_slots = pool.slots - store.pool_occupied[ti.pool]
        if open_slots <= ti.pool_slots - 1:
            yield Dependency(
                "Pool Slots Available",
                f"Not scheduling since there are {open_slots} open slots in pool {ti.pool} "
                f"and require {ti.pool_slots} pool slots",
            )
    if run.state != lc.RUNNING:
        yield Dependency(
            "Dagrun Running",
            f"Task instance's dagrun was not in the 'running' state but in the state "
            f"'{run.state}'.",
        )
    if run.run_type == "backfill":
        yield Dependency(
            "DagRun is not backfill job",
            "Task's DagRun run_type is backfill and cannot be run by the scheduler",
        )
    if dag.is_paused:
        yield Dependency("Dag Not Paused", f"Task's DAG '{dag.dag_id}' is paused.")


def _depends_on_past(
    store: Store, ti: TaskInstance, run: DagRun, dag: Dag, task: Task
) -> Iterator[Dependency]:
    """PrevDagrunDep over the run before this one (the scheduler's own
    choice of previous run); a task with no instance there passes, as the
    first one of its task (ignore_first_depends_on_past)."""
    if not task.depends_on_past:
        return
    previous = store.adjacent_run(run, later=False)
    if previous is None:
        return
    start = task.start_date or dag.start_date
    if dag.catchup and start is not None and previous.logical_date < start:
        return
    past = store.instances_by_run.get(previous.key)
    mine = past.get(task.task_id, ()) if past is not None else ()
    if not mine:
        return
    unsuccessful = sum(1 for other in mine if other.state not in SUCCESSFUL)
    if unsuccessful:
        yield Dependency(
            "Previous Dagrun State",
            f"depends_on_past is true for this task, but {unsuccessful} previous "
            "task instance(s) are not in a successful state.",
        )
        return
    if (
        task.wait_for_downstream
        and past is not None
        and any(
            other.state not in SUCCESSFUL
            for down in task.downstream
            for other in past.get(down, ())
        )
    ):
        yield Dependency(
            "Previous Dagrun State",
            "The tasks downstream of the previous task instance(s) haven't "
            "completed, and wait_for_downstream is True.",
        )


def _trigger_rule(store: Store, ti: TaskInstance, run: DagRun, task: Task) -> Iterator[Dependency]:
    """TriggerRuleDep over the direct upstream instances (no setup tasks here)."""
    rule = task.trigger_rule
    if not task.upstream or rule == "always":
        return
    run_tis: Mapping[str, tuple[TaskInstance, ...]] = store.instances_by_run.get(run.key) or {}
    counts: Counter[str | None] = Counter()
    instances = 0
    for up in task.upstream:
        for other in run_tis.get(up, ()):
            instances += 1
            if other.state in lc.FINISHED:
                counts[other.state] += 1
    mapped = any(up in run_tis and _expands(store, run, up) for up in task.upstream)
    # With a mapped upstream Airflow counts instances, else tasks.
    upstream = instances if mapped else len(task.upstream)
    reason = _rule_reason(rule, counts, upstream, len(task.upstream), ti.map_index)
    if reason is not None:
        states = _states_repr(counts)
        ids = "{" + ", ".join(repr(up) for up in sorted(task.upstream)) + "}"
        yield Dependency(
            "Trigger Rule", f"{reason} upstream_states={states}, upstream_task_ids={ids}"
        )


def _expands(store: Store, run: DagRun, task_id: str) -> bool:
    dag = store.dags.get(run.dag_id)
    task = dag.tasks.get(task_id) if dag is not None else None
    return task is not None and task.is_mapped


def _states_repr(counts: Counter[str | None]) -> str:
    """repr() of Airflow's _UpstreamTIStates (no setup tasks: both setup counts 0)."""
    fields = [
        (name, counts[name])
        for name in (lc.SUCCESS, lc.SKIPPED, lc.FAILED, lc.UPSTREAM_FAILED, lc.REMOVED)
    ]
    fields += [("done", sum(counts.values())), ("success_setup", 0), ("skipped_setup", 0)]
    return "_UpstreamTIStates(" + ", ".join(f"{k}={v}" for k, v in fields) + ")"


def _rule_reason(
    rule: str, counts: Counter[str | None], upstream: int, tasks: int, map_index: int
) -> str | None:
    """The start of the failing reason of `rule`, None when it is met."""
    success, skipped, failed = counts[lc.SUCCESS], counts[lc.SKIPPED], counts[lc.FAILED]
    upstream_failed, removed = counts[lc.UPSTREAM_FAILED], counts[lc.REMOVED]
    done = sum(counts.values())
    removed_off = removed if map_index > -1 else 0
    head = f"Task's trigger rule '{rule}'"
    if rule == "one_success":
        if success > 0:
            return None
        return f"{head} requires one upstream task success, but none were found."
    if rule == "one_failed":
        if failed or upstream_failed:
            return None
        return f"{head} requires one upstream task failure, but none were found."
    if rule == "one_done":
        if success + failed > 0:
            return None
        return (
            f"{head} requires at least one upstream task failure or success but none "
            "were failed or success."
        )
    if rule == "all_success":
        missing = upstream - success - removed_off
        if missing <= 0:
            return None
        return (
            f"{head} requires all upstream tasks to have succeeded, but found {missing} "
            "non-success(es)."
        )
    if rule == "all_failed":
        left = upstream - failed - upstream_failed - removed_off
        if left <= 0:
            return None
        return (
            f"{head} requires all upstream tasks to have failed, but found {left} non-failure(s)."
        )
    if rule in ("all_done", "all_done_setup_success"):
        if done >= upstream:
            return None
        return (
            f"{head} requires all upstream tasks to have completed, but found "
            f"{tasks - done} task(s) that were not done."
        )
    if rule in ("none_failed", "none_failed_min_one_success"):
        missing = upstream - success - skipped - removed_off
        if missing <= 0:
            return None
        return (
            f"{head} requires all upstream tasks to have succeeded or been skipped, but "
            f"found {missing} non-success(es)."
        )
    if rule == "none_skipped":
        if done >= upstream and not skipped:
            return None
        return (
            f"{head} requires all upstream tasks to not have been skipped, but found "
            f"{skipped} task(s) skipped."
        )
    if rule == "all_skipped":
        left = upstream - skipped
        if left <= 0:
            return None
        return (
            f"{head} requires all upstream tasks to have been skipped, but found {left} "
            "task(s) in non skipped state."
        )
    return f"No strategy to evaluate trigger rule '{rule}'."


def _previously_skipped(
    store: Store, ti: TaskInstance, run: DagRun, task: Task
) -> Iterator[Dependency]:
    """NotPreviouslySkippedDep: a finished upstream branch that did not follow
    this task (Airflow then also marks the instance skipped; here the
    scheduler does that when it next decides)."""
    run_tis = store.instances_by_run.get(run.key)
    if run_tis is None:
        return
    for parent in task.upstream:
        if not any(other.state in lc.FINISHED for other in run_tis.get(parent, ())):
            continue
        pushed = store.xcoms.get((ti.dag_id, ti.run_id, parent, ti.map_index, branching.XCOM_KEY))
        value = pushed.value if pushed is not None else None
        if (
            isinstance(value, Mapping)
            and branching.FOLLOWED in value
            and ti.task_id not in value[branching.FOLLOWED]
        ):
            yield Dependency(
                "Not Previously Skipped",
                f"Skipping because of previous XCom result from parent task {parent}",
            )
            return
