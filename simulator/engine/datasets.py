"""Dataset-triggered runs: a DAG scheduled on datasets runs once every one
of them has been updated since its last run (Airflow's DatasetDagRunQueue).

The consumers of each URI are indexed (rebuilt when DAGs come or go), so an
update does not walk every DAG of the world.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from simulator.engine import timetable
from simulator.engine.dag_files import runnable
from simulator.state.dag_model import DATASETS, Dag
from simulator.state.run_model import DatasetEvent
from simulator.state.store import Store

if TYPE_CHECKING:
    from simulator.engine.scheduler import Scheduler


class DatasetTriggers:
    def __init__(self, store: Store, scheduler: Scheduler) -> None:
        self.store = store
        self.scheduler = scheduler
        # Per consuming DAG: dataset URI -> ids of the events not yet consumed.
        self._queue: dict[str, dict[str, list[int]]] = {}
        # URI -> ids of the DAGs scheduled on it, in DAG order; None: to rebuild.
        self._consumers: dict[str, list[str]] | None = None

    @property
    def queue(self) -> dict[str, dict[str, list[int]]]:
        """Per consuming DAG: URI -> ids of the events not yet consumed; read,
        never write (a snapshot records it)."""
        return self._queue

    def load(self, queue: dict[str, dict[str, list[int]]]) -> None:
        self._queue = queue

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
        """Queue the event for each DAG scheduled on the dataset; trigger the
        ones whose datasets have all been updated."""
        for dag in self._consumers_of(uri):
            queue = self._queue.setdefault(dag.dag_id, {})
            queue.setdefault(uri, []).append(event.id)
            if (
                all(queue.get(u) for u in dag.schedule.value)
                and not dag.is_paused
                and runnable(dag)  # active, and its file parses
                and not self.scheduler.down  # it triggers when the scheduler returns
            ):
                self._trigger(dag, queue)

    def resume(self, dag: Dag) -> None:
        """Trigger what was queued while the DAG was paused (or its file did
        not parse, or the scheduler was down)."""
        queue = self._queue.get(dag.dag_id)
        if (
            dag.schedule.kind == DATASETS
            and queue
            and all(queue.get(u) for u in dag.schedule.value)
        ):
            self._trigger(dag, queue)

    def _trigger(self, dag: Dag, queue: dict[str, list[int]]) -> None:
        now = self.scheduler.events.now
        consumed = sorted(i for ids in queue.values() for i in ids)
        queue.clear()
        events = [self.store.dataset_events.require(i) for i in consumed]
        interval = self._source_interval(events, now)
        run_id = timetable.run_id_for("dataset_triggered", now)
        run = self.scheduler.create_run(
            dag, run_id=run_id, logical=now, interval=interval, run_type="dataset_triggered"
        )
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
