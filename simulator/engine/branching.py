"""Branch operators (a task with `branch: true`), as Airflow 2.5's
BaseBranchOperator and SkipMixin.skip_all_except behave.

A branching try that succeeds follows one of its direct downstream tasks,
picked by a keyed draw (seed, instance, try), and marks the others skipped
at once, every map index of them, whatever their state: SkipMixin updates
the rows' state, start_date and end_date (now) and leaves duration alone.
A direct downstream task that is also downstream of the followed one is
followed too (Airflow's empty-branch case: branch -> join). The branch
pushes `skipmixin_key` = {"followed": [...]} and returns the task id it
chose. A skipped task cleared later is skipped again by the scheduler when
its branch's XCom does not follow it (NotPreviouslySkippedDep).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from simulator.engine import lifecycle as lc
from simulator.engine.rng import unit
from simulator.state.dag_model import Dag, Task
from simulator.state.run_model import TaskInstance
from simulator.state.store import Store

XCOM_KEY = "skipmixin_key"  # airflow.models.skipmixin.XCOM_SKIPMIXIN_KEY
FOLLOWED = "followed"  # XCOM_SKIPMIXIN_FOLLOWED


def choose(task: Task, prefix: str) -> str | None:
    """The direct downstream task a branching try follows (None: not a branch)."""
    if not task.branch or not task.downstream:
        return None
    return task.downstream[int(unit(prefix + "branch") * len(task.downstream))]


def followed(dag: Dag, task: Task, chosen: str) -> list[str]:
    """The direct downstream tasks that are followed: the chosen one and
    those downstream of it, in the branch's downstream order."""
    reached = {chosen}
    frontier = [chosen]
    while frontier:
        for other in dag.tasks[frontier.pop()].downstream:
            if other not in reached:
                reached.add(other)
                frontier.append(other)
    return [task_id for task_id in task.downstream if task_id in reached]


def skip_all_except(
    store: Store, ti: TaskInstance, task: Task, follow: list[str], now: datetime
) -> list[TaskInstance]:
    """Mark the instances of the direct downstream tasks not followed skipped;
    return them (their pending work is the caller's to stop)."""
    run_tis = store.instances_by_run[(ti.dag_id, ti.run_id)]
    skipped = [
        other
        for task_id in task.downstream
        if task_id not in follow
        for other in run_tis.get(task_id, ())
    ]
    for other in skipped:
        lc.set_state(store, other, lc.SKIPPED)
        other.start_date = other.end_date = now
    return skipped


def previously_skipped(store: Store, ti: TaskInstance, branches: tuple[str, ...]) -> bool:
    """NotPreviouslySkippedDep: a branch upstream of `ti` ran and did not follow it."""
    for branch in branches:
        pushed = store.xcoms.get((ti.dag_id, ti.run_id, branch, -1, XCOM_KEY))
        value = pushed.value if pushed is not None else None
        if isinstance(value, Mapping) and FOLLOWED in value and ti.task_id not in value[FOLLOWED]:
            return True
    return False
