"""Dataset-triggered runs: a DAG scheduled on datasets runs once every one
of them has been updated since its last run (Airflow's DatasetDagRunQueue).

A dataset's queue row for a DAG is inserted on conflict do nothing: it
keeps the time of the first event since the DAG's last run. The run's
logical date is the latest of those times, and it consumes the events up
to that date; later ones wait, unqueued, for the next run
(DatasetManager._queue_dagruns, SchedulerJob._create_dag_runs_dataset_triggered).

The consumers of each URI are indexed (rebuilt when DAGs come or go), so an
update does not walk every DAG of the world.

A queue row can go without its events (Airflow 2.10's DELETE of queued
events, and 2.10's paused consumers, which get no row): those events wait
under HELD, consumed by the DAG's next run as the others (Airflow consumes
events by time, not by queue row) but never triggering one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from simulator.engine import timetable
from simulator.engine.dag_files import runnable
from simulator.state.dag_model import DATASETS, Dag
from simulator.state.run_model import DatasetEvent
from simulator.state.store import Store

if TYPE_CHECKING:
    from simulator.engine.scheduler import Scheduler

# The queue key of events whose row was deleted: never a dataset URI
# (Airflow refuses an empty one).
HELD = ""


class QueueRow(NamedTuple):
    """A DatasetDagRunQueue row: the DAG waits on the dataset since created_at."""

    dag_id: str
    uri: str
    created_at: datetime


class DatasetTriggers:
    def __init__(self, store: Store, scheduler: Scheduler) -> None:
        self.store = store
        self.scheduler = scheduler
        # Per consuming DAG: dataset URI -> ids of the events not yet consumed.
        self._queue: dict[str, dict[str, list[int]]] = {}
        # URI -> ids of the DAGs scheduled on it, in DAG order; None: to rebuild.
        self._consumers: dict[str, list[str]] | None = None
        # Per consuming DAG: the newest event id when its last run was made;
        # only events after it make queue rows (older ones wait unqueued).
        self._after: dict[str, int] = {}
        # Whether a paused consumer gets a queue row (Airflow 2.5; 2.10
        # queues active unpaused DAGs only).
        self.queue_paused = True

    @property
    def queue(self) -> dict[str, dict[str, list[int]]]:
        """Per consuming DAG: URI -> ids of the events not yet consumed; read,
        never write (a snapshot records it)."""
        return self._queue

    @property
    def after(self) -> dict[str, int]:
        """Per consuming DAG: the newest event id when its last run was made;
        read, never write (a snapshot records it)."""
        return self._after

    def load(self, queue: dict[str, dict[str, list[int]]], after: dict[str, int]) -> None:
        self._queue, self._after = queue, after

    def forget(self) -> None:
        """DAGs came or went: the consumer index is rebuilt when next needed."""
        self._consumers = None

    def _consumers_of(self, uri: str) -> list[Dag]:
        if self._consumers is None:
            self._consumers = {}
            for dag in self.store.dags:
                if dag.schedule.kind == DATASETS:
                    for each in dict.fromkeys(dag.schedule.value):
                        self._consumers.setdefault(each, []).append(dag.dag_id)
        dags = (self.store.dags.get(dag_id) for dag_id in self._consumers.get(uri, ()))
        return [dag for dag in dags if dag is not None and dag.schedule.kind == DATASETS]

    def updated(self, event: DatasetEvent, uri: str) -> None:
        """Queue the event for each DAG scheduled on the dataset; the
        scheduler's next loop triggers the ones whose datasets all have a
        queue row (until then the rows can be read and deleted)."""
        for dag in self._consumers_of(uri):
            queue = self._queue.setdefault(dag.dag_id, {})
            key = uri if self.queue_paused or not dag.is_paused else HELD
            queue.setdefault(key, []).append(event.id)
            if not dag.is_paused and runnable(dag) and not self.scheduler.down:
                self.scheduler.wake(dag)  # else it triggers when the scheduler can

    def resume(self, dag: Dag) -> None:
        """Trigger the DAG when every dataset it is scheduled on has a queue
        row (what was queued while it was paused, its file did not parse or
        the scheduler was down, too)."""
        queue = self._queue.get(dag.dag_id)
        if dag.schedule.kind != DATASETS or not queue:
            return
        after = self._after.get(dag.dag_id, 0)
        rows = []
        for uri in dict.fromkeys(dag.schedule.value):
            row = next((i for i in queue.get(uri, ()) if i > after), None)
            if row is None:
                return
            rows.append(row)
        self._trigger(dag, queue, rows)

    def rows(self, dag_id: str | None = None, uri: str | None = None) -> Iterator[QueueRow]:
        """The queue rows of one DAG or of every DAG, of one dataset or of
        every dataset, by DAG then by dataset."""
        events = self.store.dataset_events
        queues = (
            self._queue.items() if dag_id is None
            else [(dag_id, self._queue[dag_id])] if dag_id in self._queue else []
        )  # fmt: skip
        for target, queue in queues:
            after = self._after.get(target, 0)
            for each, ids in queue.items():
                if each == HELD or (uri is not None and each != uri):
                    continue
                first = next((i for i in ids if i > after), None)
                if first is not None:
                    yield QueueRow(target, each, events.require(first).timestamp)

    def delete_row(self, row: QueueRow) -> None:
        """The row goes; its events wait under HELD for the DAG's next run."""
        queue = self._queue[row.dag_id]
        after = self._after.get(row.dag_id, 0)
        ids = queue[row.uri]
        held = [i for i in ids if i > after]
        kept = [i for i in ids if i <= after]
        queue.setdefault(HELD, []).extend(held)
        queue[HELD].sort()
        if kept:
            queue[row.uri] = kept
        else:
            del queue[row.uri]

    def _trigger(self, dag: Dag, queue: dict[str, list[int]], rows: list[int]) -> None:
        events = self.store.dataset_events
        logical = max(events.require(i).timestamp for i in rows)
        consumed: list[int] = []
        for uri, ids in list(queue.items()):
            later: list[int] = []
            for i in ids:
                event = events.get(i)  # None: cleaned up by retention
                (later if event is not None and event.timestamp > logical else consumed).append(i)
            if later:
                queue[uri] = later
            else:
                del queue[uri]
        consumed.sort()
        self._after[dag.dag_id] = events.next_id - 1  # the queue rows are deleted
        run_id = timetable.run_id_for("dataset_triggered", logical)
        if (dag.dag_id, run_id) in self.store.dag_runs:
            return
        sources = [e for i in consumed if (e := events.get(i)) is not None]
        run = self.scheduler.create_run(
            dag, run_id=run_id, logical=logical, interval=self._source_interval(sources, logical),
            run_type="dataset_triggered",
        )  # fmt: skip
        run.consumed_events = consumed
        for event in sources:
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
