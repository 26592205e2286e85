"""The scheduler: creates runs when due, starts queued runs within
max_active_runs, decides which task instances may run (trigger rules), and
hands them to the executor within pool slots and max_active_tasks (the
instances waiting meanwhile: engine/queues.py).

Event-driven: nothing polls. A run is re-examined when one of its task
instances finishes; waiting instances are dispatched when a slot frees.
The loop's beats (engine/loop.py) start the runs the API queued and stamp
what each loop and parse stamps.
Per-DAG questions (active runs, the previous run) are answered from the
store's indices, never by walking every run of the DAG.

The scheduler can be down (`outage_begin` .. `outage_end`, counted; its
state in engine/outage.py): no heartbeat, no run created, started or
settled, nothing dispatched; the executor's scheduler-side events (a queued
try's start, a retry coming due, a zombie or a lost queued try failed) are
held as plain data and happen when it returns. What runs on the workers
goes on: tries finish, and a finished try's mini scheduler (Airflow's
schedule_downstream_tasks, run by the task's own job) still decides its
downstream tasks, which wait. Its DAG processor (engine/dag_files.py) stops
with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from simulator.engine import branching, loop, timetable
from simulator.engine import lifecycle as lc
from simulator.engine.core import Engine
from simulator.engine.dag_files import DagFiles, runnable
from simulator.engine.datasets import DatasetTriggers
from simulator.engine.outage import Outage
from simulator.engine.plan import DagPlan, TaskPlan, decision, layout_counts, new_ti
from simulator.engine.queues import Queues, Waiting
from simulator.engine.timetable import RUN_TYPE_PREFIX, run_id_for
from simulator.state.dag_model import Dag
from simulator.state.deployment import SCHEDULER, component_started
from simulator.state.entities import EventLog
from simulator.state.run_model import DagRun, DatasetEvent, TaskInstance
from simulator.state.run_tis import RunTis
from simulator.state.store import Store

if TYPE_CHECKING:
    from simulator.engine.executor import Executor

# Same-instant ordering: finishing work before starting new work.
PRIORITY_FINISH, PRIORITY_CREATE = 0, 1
__all__ = ["RUN_TYPE_PREFIX", "Scheduler", "run_id_for"]
CREATE = "create"  # event: (dag_id, interval start, interval end)


class Scheduler:
    def __init__(self, store: Store, events: Engine, record: Callable[..., EventLog]) -> None:
        self.store = store
        self.events = events
        # The audit callback; task tries write their rows to store.event_logs
        # directly (compact rows, see state/event_logs.py).
        self.record = record
        self.executor: Executor
        # Scheduled instances waiting for a slot, per pool and parked per DAG.
        self.queues = Queues(store)
        # Per DAG: the seq of its pending creation event.
        self._creation: dict[str, int] = {}
        # Per DAG: (instant, seq) of the loop that starts its queued runs.
        self._waking: dict[str, tuple[datetime, int]] = {}
        self.origin = events.now  # the world's origin: the loop's beats count from it
        self._beaten: datetime | None = None  # the latest loop beat() stamped
        self._plans: dict[str, DagPlan] = {}
        self.outage = Outage(events)
        self.datasets = DatasetTriggers(store, self)
        self.files = DagFiles(store, events, self)
        events.on(CREATE, self._create_due)
        events.on(loop.WAKE, self._wake_due)

    # -- DAGs -------------------------------------------------------------

    def add_dag(self, dag: Dag) -> None:
        """Plan the DAG's first scheduled run (the scheduler has just parsed it)."""
        dag.last_parsed_time = self.events.now
        self.datasets.forget()
        self._plan(dag, timetable.first_interval(dag, self.events.now))

    def plan(self, dag: Dag, tis: RunTis | None = None) -> DagPlan:
        """The DAG's plan (for the layout of `tis`, when given)."""
        plan = self._plans.get(dag.dag_id)
        if (
            plan is None
            or plan.dag is not dag
            or (tis is not None and plan.layout is not tis.layout)
        ):
            layout = tis.layout if tis is not None else self.store.layout(layout_counts(dag))
            plan = self._plans[dag.dag_id] = DagPlan(dag, layout)
        return plan

    def _plan(self, dag: Dag, interval: timetable.Interval | None) -> None:
        self.pause(dag)
        if interval is None:
            dag.next_dagrun = dag.next_dagrun_data_interval_start = None
            dag.next_dagrun_data_interval_end = dag.next_dagrun_create_after = None
            return
        dag.next_dagrun = interval.start
        dag.next_dagrun_data_interval_start = interval.start
        dag.next_dagrun_data_interval_end = interval.end
        dag.next_dagrun_create_after = interval.end
        if not dag.is_paused and runnable(dag):
            self._creation[dag.dag_id] = self.events.schedule(
                max(interval.end, self.events.now),
                CREATE, dag.dag_id, interval.start, interval.end,
                priority=PRIORITY_CREATE,
            )  # fmt: skip

    def _create_due(self, dag_id: str, start: datetime, end: datetime) -> None:
        self._creation.pop(dag_id, None)
        dag = self.store.dags.require(dag_id)
        if self.outage.down or not runnable(dag):
            return  # planned again when the scheduler returns, or the file parses (resume)
        interval = timetable.Interval(start, end)
        run_id = run_id_for("scheduled", start)
        if (dag_id, run_id) not in self.store.dag_runs:
            self.create_run(dag, run_id=run_id, logical=start, interval=interval,
                            run_type="scheduled")  # fmt: skip
        if self._at_max_active_runs(dag):
            # _should_update_dag_next_dagruns: next_dagrun stays on the run
            # just created; resume plans the one after when a run ends.
            dag.next_dagrun_create_after = None
            return
        self._plan(dag, timetable.next_interval(dag, interval))

    def _at_max_active_runs(self, dag: Dag) -> bool:
        """Whether the DAG's queued and running runs reach max_active_runs."""
        return len(self.store.live_runs.get(dag.dag_id, ())) >= dag.max_active_runs

    def resume(self, dag: Dag) -> None:
        """Unpaused or below max_active_runs again: create what is due, start what waits."""
        if dag.is_paused or self.outage.down:
            return
        # A DAG whose file does not parse (or inactive) gets no new run; the
        # runs it has carry on.
        if runnable(dag) and dag.dag_id not in self._creation and dag.next_dagrun is not None:
            self._plan_next(dag)
        if dag.dag_id in self.queues.parked:
            self.queues.unpark(dag.dag_id)  # held back while the DAG was paused
        if runnable(dag):
            self.datasets.resume(dag)  # events queued while the DAG was paused
        for run in self._live_runs(dag.dag_id):
            if run.state == lc.RUNNING:
                self.examine(run)  # frozen while the DAG was paused
        self.start_queued_runs(dag)

    def _plan_next(self, dag: Dag) -> None:
        """Plan the DAG's next run from its fields: the run they name, or
        the one after it when they name a run created at max_active_runs
        (none while the DAG is still there)."""
        assert dag.next_dagrun is not None and dag.next_dagrun_data_interval_end is not None
        interval: timetable.Interval | None
        interval = timetable.Interval(dag.next_dagrun, dag.next_dagrun_data_interval_end)
        if dag.next_dagrun_create_after is None:
            if self._at_max_active_runs(dag):
                return
            interval = timetable.next_interval(dag, interval)
        if interval is not None and not dag.catchup and interval.end < self.events.now:
            interval = timetable.first_interval(dag, self.events.now) or interval
        self._plan(dag, interval)

    def pause(self, dag: Dag) -> None:
        pending = self._creation.pop(dag.dag_id, None)
        if pending is not None:
            self.events.cancel(pending)

    # -- outages ----------------------------------------------------------

    @property
    def down(self) -> bool:
        """Whether the scheduler is down (an outage is in force)."""
        return self.outage.down

    @property
    def outages(self) -> int:
        """How many outages are in force (0: the scheduler is up)."""
        return self.outage.depth

    @property
    def down_since(self) -> datetime | None:
        """The instant the scheduler went down (None: it is up)."""
        return self.outage.since

    def outage_begin(self) -> None:
        """The scheduler stops (another outage may be in force already): no
        heartbeat from now on, and nothing it alone does happens until every
        outage has ended."""
        self.outage.begin()

    def outage_end(self) -> None:
        """One outage ends (nothing when none is in force); after the last,
        the scheduler catches up at once, as a restarted Airflow scheduler
        does: the held events happen now, every DAG is planned again
        (catchup, max_active_runs, dataset triggers), every running run is
        examined, queued runs start and waiting instances are queued; its
        DAG processor looks for stale DAGs again."""
        held = self.outage.end()
        if held is None:
            return
        # The restarted `airflow scheduler` logs itself again.
        self.store.event_logs.add(component_started(SCHEDULER, self.events.now))
        self.executor.release(held)
        for dag in list(self.store.dags):
            self.resume(dag)
        self.dispatch()
        self.files.returned()

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
        at_once: bool = True,
    ) -> DagRun:
        """A queued run. The scheduler's own (scheduled, dataset-triggered)
        starts in the loop that made it; one made outside the loop (the
        API's: `at_once` false) waits for the scheduler's next loop."""
        now = self.events.now
        run = DagRun(
            dag_id=dag.dag_id, run_id=run_id, logical_date=logical, run_type=run_type,
            external_trigger=external, conf=conf or {}, note=note, queued_at=now,
            data_interval_start=interval.start, data_interval_end=interval.end, updated_at=now,
        )  # fmt: skip
        plan = self.plan(dag)
        tis = tuple(
            new_ti(dag.dag_id, run_id, task, map_index)
            for task in plan.tasks.values()
            for map_index in (range(task.stop - task.start) if task.task.is_mapped else (-1,))
        )
        self.store.add_run(run, RunTis(plan.layout, tis))
        if at_once:
            self.start_queued_runs(dag)
        else:
            self.wake(dag)
        return run

    def _live_runs(self, dag_id: str) -> list[DagRun]:
        """The DAG's queued and running runs, in the order they were created."""
        live = self.store.live_runs.get(dag_id)
        return sorted(live.values(), key=_run_id_order) if live else []

    def start_queued_runs(self, dag: Dag) -> None:
        """Start queued runs within max_active_runs, oldest logical date
        first; a run whose logical date is still ahead waits for it (the
        queued-runs query has execution_date <= now)."""
        if dag.is_paused or self.outage.down:
            return
        runs = self._live_runs(dag.dag_id)
        now = self.events.now
        running = sum(1 for run in runs if run.state == lc.RUNNING)
        queued = sorted((r for r in runs if r.state == lc.QUEUED), key=_logical_order)
        due = [run for run in queued if run.logical_date <= now]
        for run in due[: max(0, dag.max_active_runs - running)]:
            self.store.set_run_state(run, lc.RUNNING)
            run.start_date = run.updated_at = now
            run.end_date = None
            self.examine(run)
        if len(due) < len(queued):
            self.wake(dag, queued[len(due)].logical_date)

    def wake(self, dag: Dag, after: datetime | None = None) -> None:
        """The scheduler looks at the DAG's dataset queue and its queued runs
        in its next loop (the first one at or after `after`, when given)."""
        now = self.events.now
        if after is not None and after > now:
            when = loop.beat_from(self.origin, loop.LOOP, after)
        else:
            when = loop.last_beat(self.origin, loop.LOOP, now) + loop.LOOP
        pending = self._waking.get(dag.dag_id)
        if pending is not None:
            if pending[0] <= when:
                return
            self.events.cancel(pending[1])
        seq = self.events.schedule(when, loop.WAKE, dag.dag_id, priority=PRIORITY_CREATE)
        self._waking[dag.dag_id] = (when, seq)

    @property
    def waking(self) -> bool:
        """Whether a loop is due to start some DAG's queued runs."""
        return bool(self._waking)

    def _wake_due(self, dag_id: str) -> None:
        self._waking.pop(dag_id, None)
        dag = self.store.dags.get(dag_id)
        if dag is not None:
            self.datasets.resume(dag)  # the loop reads the dataset queue first
            self.start_queued_runs(dag)

    def forget(self, dag: Dag) -> None:
        """The DAG is deleted: no creation nor loop waits for it."""
        self.pause(dag)
        pending = self._waking.pop(dag.dag_id, None)
        if pending is not None:
            self.events.cancel(pending[1])

    def beat(self) -> None:
        """What the scheduler's latest loop stamped: last_scheduling_decision
        on the running runs of unpaused DAGs; and what its DAG processor's
        latest parses did (engine/dag_files.py). Idempotent: a beat stamps
        its instant, never an earlier one, however often it is asked."""
        if self.outage.down:
            return
        now = self.events.now
        tick = loop.last_beat(self.origin, loop.LOOP, now)
        if tick == self._beaten:
            return
        self._beaten = tick
        dags = self.store.dags.rows
        for run in self.store.run_index.in_states((lc.RUNNING,)):
            last = run.last_scheduling_decision
            if last is None or last < tick:
                dag = dags.get(run.dag_id)
                if dag is not None and not dag.is_paused:
                    run.last_scheduling_decision = run.updated_at = tick
        for dag, parsed in self.files.parsed(now):
            self._reparsed(dag, parsed)
        for dag, parsed in self.files.requested(now):
            self._reparsed(dag, parsed)

    def _reparsed(self, dag: Dag, parsed: datetime) -> None:
        """DAG.bulk_write_to_db at each parse: a paused DAG without catchup
        has its next run move on to the latest interval."""
        if not dag.is_paused or dag.catchup or dag.next_dagrun is None:
            return
        if dag.next_dagrun_create_after is None:
            return  # at max_active_runs
        interval = timetable.first_interval(dag, parsed)
        if interval is not None and interval.start > dag.next_dagrun:
            self._plan(dag, interval)

    def examine(self, run: DagRun, task_ids: list[str] | None = None) -> None:
        """Move what can move in a running run, then settle its state."""
        if run.state != lc.RUNNING:
            return
        dag = self.store.dags.rows[run.dag_id]
        # Airflow's scheduler examines runs of unpaused DAGs only, while it
        # is up; otherwise only the finished task's mini scheduler looks
        # downstream (task_ids).
        frozen = dag.is_paused or self.outage.down
        if frozen and task_ids is None:
            return
        tis = self.store.instances_by_run[run.key]
        plan = self.plan(dag, tis)
        if not frozen:
            run.last_scheduling_decision = run.updated_at = self.events.now
        self._decide(run, tis.tis, plan, list(task_ids if task_ids is not None else dag.tasks))
        if not frozen:
            self._settle(run, tis.tis, plan)
        self.dispatch()

    def _decide(
        self, run: DagRun, tis: tuple[TaskInstance, ...], plan: DagPlan, pending: list[str]
    ) -> None:
        """Apply each pending task's trigger rule to its unstarted instances;
        a task skipped or upstream_failed makes its downstream tasks pending."""
        while pending:
            task = plan.tasks[pending.pop(0)]
            decided = None
            for ti in tis[task.start : task.stop]:
                if ti.state is not None:
                    continue
                if decided is None:
                    decided = decision(task, tis)
                if decided == lc.RUN:
                    if task.branches and branching.previously_skipped(
                        self.store, ti, task.branches
                    ):
                        self._finish_unrun(ti, lc.SKIPPED, task, pending)
                    elif not task.depends_on_past or self._past_done(run, ti):
                        if task.empty:
                            self._finish_unrun(ti, lc.SUCCESS, task, pending)
                        else:
                            self._enqueue(ti, run)
                elif decided != lc.WAIT:
                    self._finish_unrun(
                        ti, lc.SKIPPED if decided == lc.SKIP else decided, task, pending
                    )

    def _finish_unrun(
        self, ti: TaskInstance, state: str, task: TaskPlan, pending: list[str]
    ) -> None:
        """Finished without running: skipped or upstream_failed by its
        trigger rule, or an empty task's success; its downstream tasks are next."""
        lc.set_state(self.store, ti, state)
        now = self.events.now
        if state == lc.SUCCESS:  # schedule_tis stamps both dates, a zero duration
            ti.start_date = ti.end_date = now
        else:
            # TaskInstance.set_state stamps start and end where there are
            # none (a zero duration), keeping a cleared instance's earlier ones.
            ti.start_date = ti.start_date or now
            ti.end_date = ti.end_date or now
        ti.timed = True
        pending.extend(d for d in task.downstream if d not in pending)

    def _settle(self, run: DagRun, tis: tuple[TaskInstance, ...], plan: DagPlan) -> None:
        """As lifecycle.run_outcome: finished once every instance is; failed
        as deadlocked when none of its unfinished instances can ever start."""
        finished = lc.FINISHED
        for ti in tis:
            if ti.state not in finished:
                if ti.state is None and self._deadlocked(tis, plan):
                    self.finish_run(run, lc.FAILED)
                return
        failed = any(tis[p].state in (lc.FAILED, lc.UPSTREAM_FAILED) for p in plan.leaves)
        self.finish_run(run, lc.FAILED if failed else lc.SUCCESS)
        if failed:
            self._pause_after_failures(run.dag_id)

    def _pause_after_failures(self, dag_id: str) -> None:
        """Airflow 2.9+'s _check_last_n_dagruns_failed, after a run failed by
        its tasks (not a deadlock): the DAG is paused when its last
        max_consecutive_failed_dag_runs runs by logical date all failed."""
        dag = self.store.dags.get(dag_id)
        limit = dag.max_consecutive_failed_dag_runs if dag is not None else 0
        if dag is None or limit <= 0 or dag.is_paused:
            return
        latest = self.store.dates_by_dag.get(dag_id, [])[-limit:]
        if len(latest) >= limit and all(run.state == lc.FAILED for run in latest):
            dag.is_paused = True
            self.pause(dag)

    @staticmethod
    def _deadlocked(tis: tuple[TaskInstance, ...], plan: DagPlan) -> bool:
        """DagRun.update_state's "Task deadlock (no runnable tasks)": every
        unfinished instance waits, without a state, on a trigger rule that
        its finished upstream can no longer meet (all_skipped below an
        upstream_failed task). Not while one is under way or deferred, nor
        for a task with depends_on_past, which Airflow leaves waiting."""
        for task in plan.tasks.values():
            for ti in tis[task.start : task.stop]:
                if ti.state in lc.FINISHED:
                    continue
                if ti.state is not None or task.depends_on_past:
                    return False
        return True

    def finish_run(self, run: DagRun, state: str) -> None:
        self.store.set_run_state(run, state)
        run.end_date = run.updated_at = self.events.now
        dag = self.store.dags.get(run.dag_id)
        if dag is not None:
            self.resume(dag)  # a slot under max_active_runs is free again

    # -- task instances ---------------------------------------------------

    def _enqueue(self, ti: TaskInstance, run: DagRun) -> None:
        lc.set_state(self.store, ti, lc.SCHEDULED)
        self.queues.add(ti, run.logical_date)

    def requeue(self, ti: TaskInstance) -> None:
        """A retry or a resumed deferral is due: the instance waits for a slot again."""
        run = self.store.dag_runs.require((ti.dag_id, ti.run_id))
        self._enqueue(ti, run)
        self.dispatch()

    def dispatch(self) -> None:
        """Queue waiting instances by priority while their pool and DAG have room."""
        if self.outage.down:
            return  # they wait for the scheduler's return
        self.queues.dispatch(self.executor.queue)

    def task_done(
        self, ti: TaskInstance, skipped: list[str] | None = None, *, worker: bool = False
    ) -> None:
        """A task instance reached a final state: re-examine its run (also
        downstream of the tasks a branch just skipped). `worker`: its try
        ended on a worker, whose mini scheduler looks downstream even while
        the scheduler is down (an instance marked through the API waits)."""
        if self.outage.down and not worker:
            return  # the scheduler examines every running run when it returns
        run = self.store.dag_runs.rows.get((ti.dag_id, ti.run_id))
        if run is None:
            return
        dag = self.store.dags.rows[ti.dag_id]
        task = dag.tasks[ti.task_id]
        pending = list(task.downstream)
        for task_id in skipped or ():
            pending.extend(d for d in dag.tasks[task_id].downstream if d not in pending)
        self.examine(run, pending)
        if task.depends_on_past and not self.outage.down:
            following = self.store.adjacent_run(run, later=True)
            if following is not None:
                self.examine(following, [ti.task_id])

    def _past_done(self, run: DagRun, ti: TaskInstance) -> bool:
        """Airflow's PrevDagrunDep: the task's instance in the previous run
        succeeded or was skipped (or there is no previous run)."""
        previous = self.store.adjacent_run(run, later=False)
        if previous is None:
            return True
        past = self.store.task_instances.get((ti.dag_id, previous.run_id, ti.task_id, ti.map_index))
        return past is None or past.state in (lc.SUCCESS, lc.SKIPPED)

    # -- snapshots --------------------------------------------------------

    def load(
        self,
        waiting: dict[str, list[Waiting]],
        parked: dict[str, list[tuple[str, Waiting]]],
        next_seq: int,
        creation: dict[str, int],
        waking: dict[str, tuple[datetime, int]],
    ) -> None:
        """A snapshot's queues, tie-break counter, pending creation events
        (seq by DAG) and loops due to start queued runs ((instant, seq) by
        DAG), replacing these."""
        self.queues.load(waiting, parked, next_seq)
        self._creation, self._waking = creation, waking
        self._beaten = None

    # -- datasets ---------------------------------------------------------

    def dataset_updated(self, event: DatasetEvent, uri: str) -> None:
        self.datasets.updated(event, uri)


def _run_id_order(run: DagRun) -> int:
    return run.id


def _logical_order(run: DagRun) -> tuple[datetime, int]:
    return (run.logical_date, run.id)
