"""Retention: `airflow db clean` on a timer, so that a long run stays bounded.

With a retention of N days (the scenario's `retention.days`, or
--retention-days), a CLEAN event every CLEAN_EVERY of virtual time, from
the origin on, drops what is older than `now - N days` (the cutoff):

- event log rows written before the cutoff (the log is in time order: the
  oldest rows go from its front, state/event_logs.py);
- runs that ended before it (success or failed, end_date before the
  cutoff), with their task instances, tries, XComs and the rows they pinned
  (Actions.delete_run, Airflow's cascade). Queued and running runs stay,
  however old. As db clean's `keep_last`, each DAG keeps its latest run
  not triggered externally (here: by logical date), so that a DAG that
  rarely runs still shows its last one;
- dataset events from before the cutoff, except those a DAG scheduled on
  datasets has queued and not consumed yet (the simulator's queue holds
  event ids where Airflow's DatasetDagRunQueue does not: they go once
  consumed). A dropped run leaves its consumed events' `created_dagruns`
  and a dropped event its runs' `consumed_events`, as the association rows
  cascade.

The scheduler plans each DAG's next run from its last interval (DagModel's
next_dagrun*), never from the runs in the store, so it creates no dropped
run again; a run whose previous run was dropped finds the one before, or
none (depends_on_past is then met, as after db clean in Airflow).

Runs are read in creation order (the run table's own), stopping at the
first created after the cutoff; event log rows and dataset events from the
front: a clean costs what it drops, plus the old runs and queued events it
keeps. The event is plain data (`(time, priority, seq, CLEAN)`), saved with
the engine's events; `bind` finds it again in a restored engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from simulator.engine import lifecycle as lc
from simulator.engine.actions import Actions
from simulator.engine.core import Engine
from simulator.state.run_model import DagRun, DatasetEvent
from simulator.state.store import Store

CLEAN = "retention.clean"  # event: no arguments
CLEAN_EVERY = timedelta(hours=1)  # virtual time between two cleans
PRIORITY_CLEAN = 2  # after the same instant's finishes (0) and creations (1)
ENDED = frozenset({lc.SUCCESS, lc.FAILED})
MAX_DAYS = 36_600  # a century: the scenario's and the flag's bound


@dataclass(slots=True)
class Dropped:
    """What one clean dropped."""

    runs: int = 0
    task_instances: int = 0
    event_logs: int = 0
    dataset_events: int = 0


class Retention:
    def __init__(self, store: Store, events: Engine, actions: Actions, days: int | None) -> None:
        self.store = store
        self.events = events
        self.actions = actions
        self.days = days
        self._pending: int | None = None  # the seq of the pending CLEAN
        events.on(CLEAN, self._clean)

    @property
    def window(self) -> timedelta | None:
        return None if self.days is None else timedelta(days=self.days)

    def start(self, origin: datetime) -> None:
        """A new world: the first clean one interval after its origin."""
        if self.days is not None:
            self._schedule(origin + CLEAN_EVERY)

    def bind(self, origin: datetime) -> None:
        """A restored engine: take its pending CLEAN as this one's; with
        retention on and none pending, the next clean comes at the next
        interval from the origin; with retention off, a pending one goes."""
        seqs = [entry[2] for entry in self.events.pending() if entry[3] == CLEAN]
        self._pending = seqs[0] if seqs else None
        if self.days is None and self._pending is not None:
            self.events.cancel(self._pending)
            self._pending = None
        elif self.days is not None and self._pending is None:
            now = self.events.now
            self._schedule(origin + ((now - origin) // CLEAN_EVERY + 1) * CLEAN_EVERY)

    def _schedule(self, at: datetime) -> None:
        self._pending = self.events.schedule(at, CLEAN, priority=PRIORITY_CLEAN)

    def _clean(self) -> None:
        self._pending = None
        window = self.window
        if window is None:
            return
        now = self.events.now
        self.clean(now - window)
        self._schedule(now + CLEAN_EVERY)

    def clean(self, cutoff: datetime) -> Dropped:
        """Drop what is older than `cutoff` (see the module's docstring)."""
        dropped = Dropped()
        dropped.event_logs = self.store.event_logs.drop_before(cutoff)
        for run in self._runs_to_drop(cutoff):
            dropped.runs += 1
            dropped.task_instances += self._drop_run(run)
        dropped.dataset_events = self._drop_dataset_events(cutoff)
        return dropped

    # -- runs -------------------------------------------------------------

    def _runs_to_drop(self, cutoff: datetime) -> list[DagRun]:
        """Runs that ended before `cutoff`, in creation order, but each
        DAG's latest run not triggered externally."""
        ended: list[DagRun] = []
        for run in self.store.dag_runs.rows.values():  # creation order
            created = run.queued_at
            if created is not None and created >= cutoff:
                break  # created after the cutoff: ended after it too
            if run.state in ENDED and run.end_date is not None and run.end_date < cutoff:
                ended.append(run)
        kept: set[tuple[str, str]] = set()
        for dag_id in dict.fromkeys(run.dag_id for run in ended):
            latest = self._latest_scheduled(dag_id)
            if latest is not None:
                kept.add(latest.key)
        return [run for run in ended if run.key not in kept]

    def _latest_scheduled(self, dag_id: str) -> DagRun | None:
        """The DAG's run of the latest logical date not triggered
        externally (db clean's keep_last; usually the latest run)."""
        count = 1
        while True:
            latest = self.store.latest_runs(dag_id, count)
            for run in islice(latest, count // 2, None):  # the ones not looked at yet
                if not run.external_trigger:
                    return run
            if len(latest) < count:
                return None
            count *= 2

    def _drop_run(self, run: DagRun) -> int:
        """The run and what hangs off it; answers its instances' count."""
        store = self.store
        tis = store.tis_of(run)
        events = store.dataset_events
        for event_id in run.consumed_events:
            event = events.get(event_id)
            if event is not None and run.key in event.created_dagruns:
                event.created_dagruns.remove(run.key)
        self.actions.delete_run(run)
        # Its rows were written by the time it ended, before the cutoff: the
        # log dropped them already, so their context need not be pinned.
        store.event_logs.unpin(tis)
        return len(tis)

    # -- dataset events ---------------------------------------------------

    def _drop_dataset_events(self, cutoff: datetime) -> int:
        store = self.store
        queued = {i for queue in self._queues() for ids in queue.values() for i in ids}
        old: list[DatasetEvent] = []
        for event in store.dataset_events.rows.values():  # id order, time order
            if event.timestamp >= cutoff:
                break
            if event.id not in queued:
                old.append(event)
        for event in old:
            for key in event.created_dagruns:
                run = store.dag_runs.get(key)
                if run is not None and event.id in run.consumed_events:
                    run.consumed_events = [i for i in run.consumed_events if i != event.id]
            store.dataset_events.delete(event.id)
        return len(old)

    def _queues(self) -> list[dict[str, list[int]]]:
        """The dataset-triggered queues (per consuming DAG: URI -> event ids)."""
        return list(self.actions.scheduler.datasets.queue.values())
