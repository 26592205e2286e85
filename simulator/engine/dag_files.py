"""DAG files that stop parsing and parse again (Actions.break_dag_file and
repair_dag_file), as Airflow 2.5.3's DAG processor sees them.

A file that stops parsing gets its import error row at once, and every DAG
of it has import errors at once (DagFileProcessor.update_import_errors):
the scheduler creates no run of it, scheduled or dataset-triggered
(DagModel.dags_needing_dagruns filters has_import_errors), and POST
dagRuns answers 400 "DAG cannot be triggered". The DAG stays active and
listed by GET /dags until the DagFileProcessorManager finds it stale
(_deactivate_stale_dags): a DEACTIVATE event, STALE_AFTER seconds after the
break, makes it inactive. A repair before then cancels that event; runs
already under way carry on throughout.

The DAG processor runs inside the scheduler: while the scheduler is down no
DAG is deactivated, and one whose deactivation came due meanwhile is
deactivated one stale-DAG check after the scheduler's return.

Airflow 2.10's PUT /parseDagFile adds a parsing request row for a file (one
per file: a second while it waits is a duplicate); the processor's manager
reads the rows in its next loop and parses the file then, ahead of its
turn: its DAGs' last_parsed_time is that loop's beat.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from simulator.engine import loop
from simulator.engine.core import Engine
from simulator.state.dag_model import Dag
from simulator.state.entities import DagImportError
from simulator.state.store import Store

if TYPE_CHECKING:
    from simulator.engine.scheduler import Scheduler

PROCESSOR_TIMEOUT = 50.0  # seconds: [core] dag_file_processor_timeout's default
# Seconds between the manager's looks for stale DAGs: [scheduler]
# parsing_cleanup_interval's default.
STALE_CHECK_INTERVAL = 60.0
# Seconds from a file breaking to its DAGs being inactive. A stale-DAG check
# deactivates a DAG whose file's latest parse (failing now, one every
# [scheduler] min_file_process_interval, 30 s) finished more than the
# processor timeout after the DAG's last good parse: in Airflow somewhere
# from 30 s to 120 s after the break. Deterministic here: the processor
# timeout, then one check interval.
STALE_AFTER = PROCESSOR_TIMEOUT + STALE_CHECK_INTERVAL
DEACTIVATE = "dag.deactivate"  # event: (dag_id,)


def runnable(dag: Dag) -> bool:
    """Whether the scheduler creates runs of the DAG when it is unpaused:
    it is active and its file parses (dags_needing_dagruns)."""
    return dag.is_active and not dag.has_import_errors


class DagFiles:
    def __init__(self, store: Store, events: Engine, scheduler: Scheduler) -> None:
        self.store = store
        self.events = events
        self.scheduler = scheduler
        # Per DAG: the seq of its pending deactivation.
        self._stale: dict[str, int] = {}
        self._parsed: datetime | None = None  # the latest parse parsed() has stamped
        # DagPriorityParsingRequest rows: fileloc -> when it was asked for.
        self.requests: dict[str, datetime] = {}
        events.on(DEACTIVATE, self._deactivate)

    def break_file(self, dag: Dag, stacktrace: str, filename: str | None = None) -> DagImportError:
        """The DAG's file (`filename`, else its fileloc) stops parsing: one
        import error row per file (a second break updates it); every DAG of
        the file has import errors now and is inactive STALE_AFTER later."""
        name = filename or dag.fileloc
        error = self._import_error(name)
        if error is None:
            error = DagImportError(filename=name, stack_trace=stacktrace, timestamp=self.events.now)
            self.store.import_errors.add(error)
        else:
            error.stack_trace, error.timestamp = stacktrace, self.events.now
        for each in self._dags_of_file(dag, name):
            self.scheduler.pause(each)  # its planned run is not created
            if each.has_import_errors:
                continue  # broken already: its deactivation stands
            each.has_import_errors = True
            if each.is_active:
                self._plan_deactivation(each, STALE_AFTER)
        return error

    def repair_file(self, dag: Dag, filename: str | None = None) -> None:
        """The file parses again: its import error row goes, and every DAG of
        it is active, parsed now and planned again (catchup applies)."""
        name = filename or dag.fileloc
        error = self._import_error(name)
        if error is not None:
            self.store.import_errors.delete(error.id)
        for each in self._dags_of_file(dag, name):
            self.forget(each)
            each.has_import_errors = False
            each.is_active = True
            each.last_parsed_time = self.events.now
            self.scheduler.resume(each)

    def forget(self, dag: Dag) -> None:
        """Cancel the DAG's pending deactivation (repaired, or deleted)."""
        pending = self._stale.pop(dag.dag_id, None)
        if pending is not None:
            self.events.cancel(pending)

    def parsed(self, now: datetime) -> Iterator[tuple[Dag, datetime]]:
        """Each DAG whose file parsed again since its last_parsed_time (one
        parse every loop.PARSE from the origin), stamped with that parse; a
        file that does not parse keeps its last good one."""
        parsed = loop.last_beat(self.scheduler.origin, loop.PARSE, now)
        if parsed == self._parsed:
            return  # no parse since the last look (a DAG added or repaired stamps itself)
        self._parsed = parsed
        for dag in self.store.dags:
            if not runnable(dag):
                continue
            if dag.last_parsed_time is None or dag.last_parsed_time < parsed:
                dag.last_parsed_time = parsed
                yield dag, parsed

    def request_parse(self, fileloc: str) -> bool:
        """Ask for the file to be parsed soon; False if it already is asked for."""
        if fileloc in self.requests:
            return False
        self.requests[fileloc] = self.events.now
        return True

    def requested(self, now: datetime) -> Iterator[tuple[Dag, datetime]]:
        """Each DAG of a requested file the manager's loops since have parsed,
        stamped with the loop after the request."""
        origin = self.scheduler.origin
        for fileloc, asked in list(self.requests.items()):
            parsed = loop.last_beat(origin, loop.LOOP, asked) + loop.LOOP
            if parsed > now:
                continue
            del self.requests[fileloc]
            for dag in self.store.dags:
                if dag.fileloc != fileloc or not runnable(dag):
                    continue
                if dag.last_parsed_time is None or dag.last_parsed_time < parsed:
                    dag.last_parsed_time = parsed
                    yield dag, parsed

    def returned(self) -> None:
        """The scheduler (and its DAG processor) is back: a DAG whose
        deactivation came due meanwhile is deactivated at the first stale-DAG
        check of the restarted manager that follows a parse of its file."""
        for dag in self.store.dags:
            if dag.has_import_errors and dag.is_active and dag.dag_id not in self._stale:
                self._plan_deactivation(dag, STALE_CHECK_INTERVAL)

    def _plan_deactivation(self, dag: Dag, delay: float) -> None:
        at = self.events.now + timedelta(seconds=delay)
        self._stale[dag.dag_id] = self.events.schedule(at, DEACTIVATE, dag.dag_id)

    def _deactivate(self, dag_id: str) -> None:
        self._stale.pop(dag_id, None)
        dag = self.store.dags.get(dag_id)
        if dag is None or self.scheduler.down:
            return  # down: planned again at its return (returned)
        dag.is_active = False

    def load(self, stale: dict[str, int]) -> None:
        """A snapshot's pending deactivations (seq by dag_id)."""
        self._stale = stale

    def _import_error(self, filename: str) -> DagImportError | None:
        return next((e for e in self.store.import_errors if e.filename == filename), None)

    def _dags_of_file(self, dag: Dag, filename: str) -> list[Dag]:
        return [d for d in self.store.dags if d is dag or d.fileloc == filename]
