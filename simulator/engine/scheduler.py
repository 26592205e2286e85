"""The scheduler: creates runs when due, starts queued runs within
max_active_runs, decides which task instances may run (trigger rules), and
hands them to the executor within pool slots and max_active_tasks.

Event-driven: nothing polls. A run is re-examined when one of its task
instances finishes; waiting instances are dispatched when a slot frees.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from simulator.engine import lifecycle as lc
from simulator.engine import timetable
from simulator.engine.core import Engine
from simulator.state.dag_model import DATASETS, Dag, Task
from simulator.state.entities import EventLog
from simulator.state.run_model import DagRun, DatasetEvent, TaskInstance
from simulator.state.store import Store

if TYPE_CHECKING:
    from simulator.engine.executor import Executor

# Same-instant ordering: finishing work before starting new work.
PRIORITY_FINISH, PRIORITY_CREATE = 0, 1
RUN_TYPE_PREFIX = {
    "scheduled": "scheduled__",
    "manual": "manual__",
    "dataset_triggered": "dataset_triggered__",
    "backfill": "backfill__",
}


def run_id_for(run_type: str, logical: datetime) -> str:
    return RUN_TYPE_PREFIX[run_type] + logical.isoformat()


class Scheduler:
    def __init__(self, store: Store, events: Engine, record: Callable[..., EventLog]) -> None:
        self.store = store
        self.events = events
        self.record = record
        self.executor: Executor
        # Waiting (scheduled) instances per pool: (-priority, logical, map_index, seq, ti).
        self._waiting: dict[str, list[tuple[int, datetime, int, int, TaskInstance]]] = {}
        self._seq = itertools.count()
        # Per DAG: the last interval a scheduled run was created for, and the
        # pending creation event.
        self._last_interval: dict[str, timetable.Interval] = {}
        self._creation: dict[str, Any] = {}
        # Dataset URI -> events not yet consumed, per consuming DAG.
        self._dataset_queue: dict[str, dict[str, list[int]]] = {}
        self._weights: dict[tuple[str, str], int] = {}

    # -- DAGs -------------------------------------------------------------

    def add_dag(self, dag: Dag) -> None:
        """Plan the DAG's first scheduled run (the scheduler has just parsed it)."""
        dag.last_parsed_time = self.events.now
        self._plan(dag, timetable.first_interval(dag, self.events.now))

    def _plan(self, dag: Dag, interval: timetable.Interval | None) -> None:
        pending = self._creation.pop(dag.dag_id, None)
        if pending is not None:
            self.events.cancel(pending)
        if interval is None:
            dag.next_dagrun = dag.next_dagrun_data_interval_start = None
            dag.next_dagrun_data_interval_end = dag.next_dagrun_create_after = None
            return
        dag.next_dagrun = interval.start
        dag.next_dagrun_data_interval_start = interval.start
        dag.next_dagrun_data_interval_end = interval.end
        dag.next_dagrun_create_after = interval.end
        if not dag.is_paused and dag.is_active:
            self._creation[dag.dag_id] = self.events.schedule(
                max(interval.end, self.events.now),
                lambda: self._create_due(dag, interval),
                PRIORITY_CREATE,
            )

    def _create_due(self, dag: Dag, interval: timetable.Interval) -> None:
        self._creation.pop(dag.dag_id, None)
        if self._active_runs(dag.dag_id) >= dag.max_active_runs:
            return  # resumed when a run of this DAG finishes
        run_id = run_id_for("scheduled", interval.start)
        if (dag.dag_id, run_id) not in self.store.dag_runs:
            self.create_run(
                dag, run_id=run_id, logical=interval.start, interval=interval, run_type="scheduled"
            )
        self._last_interval[dag.dag_id] = interval
        self._plan(dag, timetable.next_interval(dag, interval))

    def resume(self, dag: Dag) -> None:
        """Unpaused or below max_active_runs again: create what is due, start what waits."""
        if dag.is_paused or not dag.is_active:
            return
        if dag.dag_id not in self._creation and dag.next_dagrun is not None:
            assert dag.next_dagrun_data_interval_end is not None
            interval = timetable.Interval(dag.next_dagrun, dag.next_dagrun_data_interval_end)
            if not dag.catchup and interval.end < self.events.now:
                interval = timetable.first_interval(dag, self.events.now) or interval
            self._plan(dag, interval)
        queue = self._dataset_queue.get(dag.dag_id)
        if (
            dag.schedule.kind == DATASETS
            and queue
            and all(queue.get(u) for u in dag.schedule.value)
        ):
            self._trigger_from_datasets(dag, queue)  # queued while the DAG was paused
        for run in self.store.runs_of(dag.dag_id):
            if run.state == lc.RUNNING:
                self.examine(run)  # frozen while the DAG was paused
        self.start_queued_runs(dag)

    def pause(self, dag: Dag) -> None:
        pending = self._creation.pop(dag.dag_id, None)
        if pending is not None:
            self.events.cancel(pending)

    # -- runs -------------------------------------------------------------

    def create_run(
        self,
        dag: Dag,
        *,
        run_id: str,
        logical: datetime,
        interval: timetable.Interval,
        run_type: str,
        conf: dict[str, Any] | None = None,
        note: str | None = None,
        external: bool = False,
    ) -> DagRun:
        now = self.events.now
        run = DagRun(
            dag_id=dag.dag_id, run_id=run_id, logical_date=logical, run_type=run_type,
            external_trigger=external, conf=conf or {}, note=note, queued_at=now,
            data_interval_start=interval.start, data_interval_end=interval.end,
        )  # fmt: skip
        by_task: dict[str, list[TaskInstance]] = {}
        for task in dag.tasks.values():
            indexes = range(task.map_count) if task.map_count is not None else (-1,)
            by_task[task.task_id] = [self._new_ti(dag, task, run, i) for i in indexes]
        self.store.add_run(run, by_task)
        self.start_queued_runs(dag)
        return run

    def _new_ti(self, dag: Dag, task: Task, run: DagRun, map_index: int) -> TaskInstance:
        weight = self._weights.get((dag.dag_id, task.task_id))
        if weight is None:
            weight = self._weights[(dag.dag_id, task.task_id)] = priority_weight(dag, task)
        return TaskInstance(dag_id=dag.dag_id, run_id=run.run_id, task_id=task.task_id,
                            map_index=map_index, pool=task.pool, pool_slots=task.pool_slots,
                            queue=task.queue, priority_weight=weight, max_tries=task.retries,
                            operator=task.operator)  # fmt: skip

    def _active_runs(self, dag_id: str) -> int:
        return sum(1 for run in self.store.runs_of(dag_id) if run.state in (lc.QUEUED, lc.RUNNING))

    def start_queued_runs(self, dag: Dag) -> None:
        if dag.is_paused:
            return
        runs = self.store.runs_of(dag.dag_id)
        running = sum(1 for run in runs if run.state == lc.RUNNING)
        queued = sorted((r for r in runs if r.state == lc.QUEUED), key=lambda r: r.logical_date)
        for run in queued[: max(0, dag.max_active_runs - running)]:
            run.state = lc.RUNNING
            run.start_date = self.events.now
            run.end_date = None
            self.examine(run)

    def examine(self, run: DagRun, task_ids: list[str] | None = None) -> None:
        """Move what can move in a running run, then settle its state."""
        if run.state != lc.RUNNING:
            return
        dag = self.store.dags.require(run.dag_id)
        # Airflow's scheduler examines runs of unpaused DAGs only; for a paused
        # one, only the finished task's mini scheduler looks downstream (task_ids).
        if dag.is_paused and task_ids is None:
            return
        by_task = self.store.run_tis[run.key]
        if not dag.is_paused:
            run.last_scheduling_decision = self.events.now
        pending = list(task_ids if task_ids is not None else dag.tasks)
        while pending:
            task_id = pending.pop(0)
            task = dag.tasks[task_id]
            decision = None
            for ti in by_task[task_id]:
                if ti.state is not None:
                    continue
                if decision is None:
                    states = [u.state for up in task.upstream for u in by_task[up]]
                    decision = lc.trigger_decision(task.trigger_rule, states)
                if decision == lc.RUN:
                    if not task.depends_on_past or self._past_done(run, ti):
                        self._enqueue(ti, run)
                elif decision != lc.WAIT:
                    lc.set_state(self.store, ti, lc.SKIPPED if decision == lc.SKIP else decision)
                    ti.start_date = ti.end_date = self.events.now
                    ti.duration = 0.0  # TaskInstance.set_state stamps a zero duration
                    pending.extend(d for d in task.downstream if d not in pending)
        if not dag.is_paused:
            self._settle(run, dag)
        self.dispatch()

    def _settle(self, run: DagRun, dag: Dag) -> None:
        by_task = self.store.run_tis[run.key]
        leaves = [t for t in dag.tasks.values() if not t.downstream]
        outcome = lc.run_outcome(
            (ti.state for t in leaves for ti in by_task[t.task_id]),
            (ti.state for tis in by_task.values() for ti in tis),
        )
        if outcome is not None:
            self.finish_run(run, outcome)

    def finish_run(self, run: DagRun, state: str) -> None:
        run.state = state
        run.end_date = self.events.now
        dag = self.store.dags.get(run.dag_id)
        if dag is not None:
            self.resume(dag)  # a slot under max_active_runs is free again

    # -- task instances ---------------------------------------------------

    def _enqueue(self, ti: TaskInstance, run: DagRun) -> None:
        lc.set_state(self.store, ti, lc.SCHEDULED)
        entry = (-ti.priority_weight, run.logical_date, ti.map_index, next(self._seq), ti)
        heapq.heappush(self._waiting.setdefault(ti.pool, []), entry)

    def requeue(self, ti: TaskInstance) -> None:
        """A retry or a resumed deferral is due: the instance waits for a slot again."""
        run = self.store.dag_runs.require((ti.dag_id, ti.run_id))
        self._enqueue(ti, run)
        self.dispatch()

    def dispatch(self) -> None:
        """Queue waiting instances by priority while their pool and DAG have room."""
        for pool_name, heap in self._waiting.items():
            if not heap:
                continue
            pool = self.store.pools.get(pool_name)
            slots = pool.slots if pool is not None else 0
            held: list[tuple[int, datetime, int, int, TaskInstance]] = []
            while heap:
                entry = heap[0]
                ti = entry[4]
                if ti.state != lc.SCHEDULED:
                    heapq.heappop(heap)  # cleared or marked meanwhile
                    continue
                free = slots - self.store.pool_occupied[pool_name]
                if slots != -1 and free <= 0:
                    break  # the pool is full
                heapq.heappop(heap)
                dag = self.store.dags.require(ti.dag_id)
                # Airflow skips an instance that does not fit (pool slots, the
                # DAG's max_active_tasks, a paused DAG) and tries lower priorities.
                too_big = slots != -1 and free < ti.pool_slots
                if (
                    too_big
                    or dag.is_paused
                    or self.store.dag_busy[ti.dag_id] >= dag.max_active_tasks
                ):
                    held.append(entry)
                    continue
                self.executor.queue(ti, dag.tasks[ti.task_id])
            for entry in held:
                heapq.heappush(heap, entry)

    def task_done(self, ti: TaskInstance) -> None:
        """A task instance reached a final state: re-examine its run."""
        run = self.store.dag_runs.get((ti.dag_id, ti.run_id))
        if run is None:
            return
        dag = self.store.dags.require(ti.dag_id)
        self.examine(run, list(dag.tasks[ti.task_id].downstream))
        if dag.tasks[ti.task_id].depends_on_past:
            following = self._adjacent_run(run, later=True)
            if following is not None:
                self.examine(following, [ti.task_id])

    def _adjacent_run(self, run: DagRun, *, later: bool) -> DagRun | None:
        """The DAG's run just before (or after) `run` by logical date."""
        others = [r for r in self.store.runs_of(run.dag_id) if r is not run]
        if later:
            after = [r for r in others if r.logical_date > run.logical_date]
            return min(after, key=lambda r: r.logical_date, default=None)
        before = [r for r in others if r.logical_date < run.logical_date]
        return max(before, key=lambda r: r.logical_date, default=None)

    def _past_done(self, run: DagRun, ti: TaskInstance) -> bool:
        """Airflow's PrevDagrunDep: the task's instance in the previous run
        succeeded or was skipped (or there is no previous run)."""
        previous = self._adjacent_run(run, later=False)
        if previous is None:
            return True
        past = self.store.task_instances.get((ti.dag_id, previous.run_id, ti.task_id, ti.map_index))
        return past is None or past.state in (lc.SUCCESS, lc.SKIPPED)

    # -- datasets ---------------------------------------------------------

    def dataset_updated(self, event: DatasetEvent, uri: str) -> None:
        """Queue the event for each DAG scheduled on the dataset; trigger the
        ones whose datasets have all been updated."""
        for dag in self.store.dags:
            if dag.schedule.kind != DATASETS or uri not in dag.schedule.value:
                continue
            queue = self._dataset_queue.setdefault(dag.dag_id, {})
            queue.setdefault(uri, []).append(event.id)
            if all(queue.get(u) for u in dag.schedule.value) and not dag.is_paused:
                self._trigger_from_datasets(dag, queue)

    def _trigger_from_datasets(self, dag: Dag, queue: dict[str, list[int]]) -> None:
        now = self.events.now
        consumed = sorted(i for ids in queue.values() for i in ids)
        queue.clear()
        events = [self.store.dataset_events.require(i) for i in consumed]
        interval = self._source_interval(events, now)
        run = self.create_run(dag, run_id=run_id_for("dataset_triggered", now), logical=now,
                              interval=interval, run_type="dataset_triggered")  # fmt: skip
        run.consumed_events = consumed
        for event in events:
            event.created_dagruns.append(run.key)

    def _source_interval(self, events: list[DatasetEvent], now: datetime) -> timetable.Interval:
        """DatasetTriggeredTimetable.data_interval_for_events: from the earliest
        source run's interval start to the latest source run's interval end."""
        keys = [(e.source_dag_id or "", e.source_run_id or "") for e in events]
        runs = [run for key in keys if (run := self.store.dag_runs.get(key)) is not None]
        starts = [r.data_interval_start for r in runs if r.data_interval_start is not None]
        ends = [r.data_interval_end for r in runs if r.data_interval_end is not None]
        if not starts or not ends:
            return timetable.Interval(now, now)
        return timetable.Interval(min(starts), max(ends))


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
