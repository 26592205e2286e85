"""What the scheduler derives once per DAG rather than once per decision:
each task's instances and upstream instances as positions in a run's tuple
(state/run_tis.py), its trigger rule, its leaves, its priority weight.

A plan is a cache of the DAG's definition; the scheduler rebuilds it when
the DAG object or a run's layout is not the one it was built for. A task's
plan answers its trigger rule over a run's instances (`decision`) and makes
its instances of a new run (`new_ti`).
"""

from __future__ import annotations

from simulator.engine import lifecycle as lc
from simulator.state.dag_model import Dag, Task
from simulator.state.run_model import TaskInstance, ti_spec
from simulator.state.run_tis import Layout

EMPTY_OPERATORS = frozenset({"EmptyOperator", "DummyOperator"})  # and its deprecated alias


class TaskPlan:
    __slots__ = (
        "all_success",
        "branches",
        "depends_on_past",
        "downstream",
        "empty",
        "rule",
        "spec",
        "start",
        "stop",
        "task",
        "task_id",
        "upstream",
        "weight",
    )  # fmt: skip

    def __init__(self, dag: Dag, task: Task, layout: Layout) -> None:
        self.task = task
        self.task_id = task.task_id
        self.start, self.stop = layout.spans[task.task_id]
        # Every upstream instance, task by task in the order the task lists them.
        self.upstream = tuple(
            position for up in task.upstream for position in range(*layout.spans[up])
        )
        self.downstream = tuple(task.downstream)
        self.rule = task.trigger_rule
        self.all_success = task.trigger_rule == "all_success"
        self.depends_on_past = task.depends_on_past
        # DagRun.schedule_tis marks an EmptyOperator without outlets success
        # instead of running it (no try, host, log, event row or XCom).
        self.empty = task.operator in EMPTY_OPERATORS and not task.outlets
        self.weight = priority_weight(dag, task)
        # What each instance takes from the task (shared by all of them).
        self.spec = ti_spec(pool=task.pool, pool_slots=task.pool_slots, queue=task.queue,
                            priority_weight=self.weight, operator=task.operator)  # fmt: skip
        # Upstream branch tasks, whose XCom may say this task is not followed.
        self.branches = tuple(up for up in task.upstream if dag.tasks[up].branch)


class DagPlan:
    __slots__ = ("dag", "layout", "leaves", "tasks")

    def __init__(self, dag: Dag, layout: Layout) -> None:
        self.dag = dag
        self.layout = layout
        self.tasks = {task_id: TaskPlan(dag, task, layout) for task_id, task in dag.tasks.items()}
        # Positions of the instances of tasks without downstream tasks.
        self.leaves = tuple(
            position
            for task in dag.tasks.values()
            if not task.downstream
            for position in range(*layout.spans[task.task_id])
        )


def layout_counts(dag: Dag) -> list[tuple[str, int]]:
    """How many instances each task has in a run: its map count, else one."""
    return [
        (task.task_id, task.map_count if task.map_count is not None else 1)
        for task in dag.tasks.values()
    ]


def priority_weight(dag: Dag, task: Task) -> int:
    """Airflow's priority_weight_total for the `downstream` weight rule: the
    task's weight plus those of every task downstream of it."""
    if task.weight_rule == "absolute":
        return task.priority_weight
    seen: set[str] = set()
    relatives = task.downstream if task.weight_rule == "downstream" else task.upstream
    stack = list(relatives)
    while stack:
        task_id = stack.pop()
        if task_id in seen:
            continue
        seen.add(task_id)
        other = dag.tasks[task_id]
        stack.extend(other.downstream if task.weight_rule == "downstream" else other.upstream)
    return task.priority_weight + sum(dag.tasks[t].priority_weight for t in seen)


def new_ti(dag_id: str, run_id: str, plan: TaskPlan, map_index: int) -> TaskInstance:
    """The task's instance (of `map_index`) in a new run, without a state."""
    task = plan.task
    return TaskInstance(dag_id=dag_id, run_id=run_id, task_id=task.task_id,
                        map_index=map_index, spec=plan.spec,
                        max_tries=task.retries)  # fmt: skip


def decision(task: TaskPlan, tis: tuple[TaskInstance, ...]) -> str:
    """The task's trigger rule over its upstream instances. all_success, the
    common rule, is decided in one pass as lifecycle.trigger_decision would."""
    if not task.all_success:
        return lc.trigger_decision(task.rule, [tis[position].state for position in task.upstream])
    skipped = waiting = False
    for position in task.upstream:
        state = tis[position].state
        if state == _SUCCESS:
            continue
        if state in _FAILING:
            return lc.FAIL
        if state == _SKIPPED:
            skipped = True
        elif state != _REMOVED:
            waiting = True
    return lc.SKIP if skipped else lc.WAIT if waiting else lc.RUN


_SUCCESS, _SKIPPED, _REMOVED = lc.SUCCESS, lc.SKIPPED, lc.REMOVED
_FAILING = frozenset({lc.FAILED, lc.UPSTREAM_FAILED})
