"""What the API and faults can do to the world: mark, clear and delete runs
and task instances, change pools, break and repair DAG files.

Each action changes state the way Airflow 2.5.3 does and then lets the
scheduler carry on from the new state. Selection (which instances, dry runs)
and validation are the caller's; these functions only act.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from simulator.engine import lifecycle as lc
from simulator.engine.datasets import QueueRow
from simulator.engine.executor import Executor
from simulator.engine.scheduler import Scheduler
from simulator.state.dag_model import Dag
from simulator.state.entities import DagImportError, Pool
from simulator.state.run_model import DagRun, Dataset, DatasetEvent, TaskInstance
from simulator.state.store import Store

# Unfinished states a failed run turns into failed rather than skipped.
FAIL_ON_RUN_FAILED = frozenset({lc.RUNNING, lc.DEFERRED, "up_for_reschedule"})


class Actions:
    def __init__(self, store: Store, scheduler: Scheduler, executor: Executor) -> None:
        self.store = store
        self.scheduler = scheduler
        self.executor = executor

    @property
    def now(self) -> datetime:
        return self.scheduler.events.now

    def _mark(self, ti: TaskInstance, state: str) -> None:
        """TaskInstance.set_state: stamps start and end dates as Airflow does."""
        self.executor.stop(ti)
        if ti.state == lc.DEFERRED and ti.last_try is not None:
            ti.last_try.given_back = True  # mark_tasks adds back the try number
        lc.set_state(self.store, ti, state)
        ti.start_date = ti.start_date or self.now
        if state in lc.FINISHED or state == lc.UP_FOR_RETRY:
            ti.end_date = ti.end_date or self.now
            ti.timed = True

    # -- runs -------------------------------------------------------------

    def set_run_state(self, run: DagRun, state: str, *, skip_unset: bool = False) -> None:
        """PATCH dagRun state: success, failed or queued, with Airflow's side
        effects; `skip_unset`: a failed run's instances with no state are
        skipped too (Airflow 2.10's query keeps them; 2.5.3's drops them)."""
        dag = self.store.dags.require(run.dag_id)
        if state == lc.SUCCESS:
            for ti in self.store.tis_of(run):
                if ti.state != lc.SUCCESS:
                    self._mark(ti, lc.SUCCESS)
        elif state == lc.FAILED:
            tis = self.store.tis_of(run)
            # set_dag_run_state_to_failed marks the *tasks* with a running
            # instance failed: set_state selects by task_id, so every map
            # index of such a task (succeeded or not started too) fails.
            running = {ti.task_id for ti in tis if ti.state in FAIL_ON_RUN_FAILED}
            for ti in tis:
                if ti.task_id in running:
                    if ti.state != lc.FAILED:
                        self._mark(ti, lc.FAILED)
                elif (ti.state is not None or skip_unset) and ti.state not in lc.FINISHED:
                    self._mark(ti, lc.SKIPPED)
        if state == lc.QUEUED:
            # Airflow stamps end_date even when re-queuing a run.
            self.store.set_run_state(run, lc.QUEUED)
            run.end_date = run.updated_at = self.now
            self.scheduler.wake(dag)
        else:
            self.scheduler.finish_run(run, state)

    def set_run_note(self, run: DagRun, note: str | None) -> None:
        """PATCH .../setNote: the run's note. Airflow keeps it in a row of
        its own (dag_run_note): the run's updated_at stays."""
        run.note = note

    def clear_run(self, run: DagRun) -> None:
        """POST .../clear: every task instance cleared, the run queued again."""
        self.clear(self.store.tis_of(run), reset_runs=True)

    def delete_run(self, run: DagRun) -> None:
        for ti in self.store.tis_of(run):
            self.executor.stop(ti)
            lc.set_state(self.store, ti, None)
        self.store.delete_run(run)

    def delete_dag(self, dag: Dag) -> None:
        """DELETE /dags/{id}: the DAG and everything that hangs off it."""
        self.scheduler.forget(dag)
        self.scheduler.files.forget(dag)
        for run in self.store.runs_of(dag.dag_id):
            self.delete_run(run)
        self.store.forget_dag(dag.dag_id)
        for warning in [w for w in self.store.dag_warnings if w.dag_id == dag.dag_id]:
            self.store.dag_warnings.delete((warning.dag_id, warning.warning_type))
        for error in [e for e in self.store.import_errors if e.filename == dag.fileloc]:
            self.store.import_errors.delete(error.id)
        self.store.dags.delete(dag.dag_id)
        self.scheduler.datasets.forget()

    # -- pools ------------------------------------------------------------
    # Any change may give waiting instances room (or take it): the scheduler
    # dispatches at once. Fewer slots than are occupied is fine: running and
    # queued tries keep theirs, and nothing more is queued until enough free.

    def add_pool(self, pool: Pool) -> Pool:
        """POST /pools (instances may wait on a pool of that name already)."""
        self.store.pools.add(pool)
        self.scheduler.dispatch()
        return pool

    def set_pool_slots(self, pool: Pool, slots: int) -> None:
        """The pool's slots (-1: unlimited)."""
        pool.slots = slots
        self.scheduler.dispatch()

    def update_pool(self, pool: Pool, fields: dict[str, object]) -> Pool:
        """PATCH /pools/{name}: set Pool attributes (a new name re-keys it)."""
        old_name = pool.pool
        for attribute, value in fields.items():
            setattr(pool, attribute, value)
        if pool.pool != old_name:
            self.store.pools.rekey(old_name, pool)
        self.scheduler.dispatch()
        return pool

    def delete_pool(self, name: str) -> Pool:
        """DELETE /pools/{name}: its waiting instances wait for a pool of that name."""
        pool = self.store.pools.delete(name)
        self.scheduler.dispatch()
        return pool

    # -- datasets ---------------------------------------------------------

    def add_dataset_event(self, dataset: Dataset, extra: dict[str, Any]) -> DatasetEvent:
        """POST /datasets/events: an event from outside any task, queued and
        triggering consumers as a producer task's does."""
        event = self.store.dataset_events.add(
            DatasetEvent(dataset_id=dataset.id, extra=extra, timestamp=self.now)
        )
        self.scheduler.dataset_updated(event, dataset.uri)
        return event

    def delete_queue_rows(self, rows: Iterable[QueueRow]) -> None:
        """DELETE .../queuedEvent: the DAGs no longer wait on those datasets."""
        for row in list(rows):
            self.scheduler.datasets.delete_row(row)

    # -- DAG files --------------------------------------------------------

    def break_dag_file(
        self, dag: Dag, stacktrace: str, filename: str | None = None
    ) -> DagImportError:
        """The DAG's file (`filename`, else its fileloc) stops parsing, as
        DagFileProcessor.update_import_errors records it: one import error
        row per file (a second break updates it), and every DAG of the file
        has import errors at once (no new run; POST dagRuns answers 400),
        then is inactive (hidden from GET /dags) once the DAG processor
        finds it stale; runs already under way carry on (engine/dag_files.py)."""
        return self.scheduler.files.break_file(dag, stacktrace, filename)

    def repair_dag_file(self, dag: Dag, filename: str | None = None) -> None:
        """The file parses again: its import error row goes, and every DAG of
        it is active, parsed now and planned again (catchup applies)."""
        self.scheduler.files.repair_file(dag, filename)

    def request_parse(self, fileloc: str) -> bool:
        """Airflow 2.10's parsing request: the DAG processor parses the file in
        its next loop; False when one is pending already."""
        return self.scheduler.files.request_parse(fileloc)

    # -- task instances ---------------------------------------------------

    def clear(self, tis: Iterable[TaskInstance], *, reset_runs: bool) -> None:
        """Airflow's clear_task_instances: cleared instances run again with a
        higher try number; runs are re-queued only when asked to."""
        touched: dict[tuple[str, str], DagRun] = {}
        for ti in tis:
            dag = self.store.dags.require(ti.dag_id)
            if ti.state == lc.RUNNING:
                self.executor.restart(ti, dag.tasks[ti.task_id])
            else:
                self.executor.stop(ti)
                lc.set_state(self.store, ti, None)
                tries = ti.try_number + dag.tasks[ti.task_id].retries
                if ti.last_try is not None and tries != ti.max_tries:
                    ti.last_try.max_tries = ti.max_tries  # what its log printed
                ti.max_tries = tries
                # The old end date and duration stay until the next try
                # starts (clear_task_instances resets the state only).
            run = self.store.dag_runs.require((ti.dag_id, ti.run_id))
            touched[run.key] = run
        for run in touched.values():
            if reset_runs:
                self.store.set_run_state(run, lc.QUEUED)
                run.start_date = run.end_date = None
                run.last_scheduling_decision = None
                run.updated_at = self.now
                self.scheduler.wake(self.store.dags.require(run.dag_id))
            else:
                self.scheduler.examine(run)

    def set_state(self, tis: Iterable[TaskInstance], state: str) -> None:
        """Mark instances success or failed; their failed or upstream_failed
        downstream instances are cleared so they can run again."""
        marked = [ti for ti in tis if ti.state != state]
        for ti in marked:
            self._mark(ti, state)
        downstream = self._failed_downstream(marked)
        if downstream:
            self.clear(downstream, reset_runs=True)
        for ti in marked:
            self.scheduler.task_done(ti)

    def _failed_downstream(self, marked: list[TaskInstance]) -> list[TaskInstance]:
        found: dict[tuple[str, str, str, int], TaskInstance] = {}
        for ti in marked:
            dag = self.store.dags.require(ti.dag_id)
            by_task = self.store.instances_by_run[(ti.dag_id, ti.run_id)]
            for task_id in downstream_ids(dag, ti.task_id):
                for other in by_task[task_id]:
                    if other.state in (lc.FAILED, lc.UPSTREAM_FAILED):
                        found[other.key] = other
        return list(found.values())


def downstream_ids(dag: Dag, task_id: str) -> list[str]:
    """Every task downstream of `task_id`, nearest first."""
    return _relatives(dag, task_id, downstream=True)


def upstream_ids(dag: Dag, task_id: str) -> list[str]:
    return _relatives(dag, task_id, downstream=False)


def _relatives(dag: Dag, task_id: str, *, downstream: bool) -> list[str]:
    seen: list[str] = []
    frontier = [task_id]
    while frontier:
        task = dag.tasks[frontier.pop(0)]
        for other in task.downstream if downstream else task.upstream:
            if other not in seen:
                seen.append(other)
                frontier.append(other)
    return seen
