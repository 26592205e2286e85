"""Store: one Table per entity, keyed by natural key, with Airflow's error texts."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from simulator.errors import AlreadyExists, NotFound
from simulator.state.dag_model import Dag
from simulator.state.entities import (
    Connection,
    DagImportError,
    DagWarning,
    Plugin,
    Pool,
    Provider,
    Role,
    User,
    Variable,
)
from simulator.state.event_logs import Context, EventLogs
from simulator.state.indices import RunIndex, TiIndex, date_order
from simulator.state.run_model import DagRun, Dataset, DatasetEvent, TaskInstance
from simulator.state.run_tis import Layout, RunTis, TaskInstances, XComs
from simulator.state.table import Table

DEFAULT_POOL = "default_pool"
# Job rows 1 and 2 are the scheduler's and the triggerer's; task tries follow.
FIRST_TASK_JOB = 3
# Run states a run leaves only through the scheduler: the runs the engine watches.
LIVE_RUN_STATES = frozenset({"queued", "running"})


class Store:
    def __init__(self) -> None:
        # The security model's vocabulary (FAB actions and resources).
        self.actions: list[str] = []
        self.resources: list[str] = []
        self.config: dict[str, dict[str, str]] = {}
        self.connections: Table[str, Connection] = Table(
            lambda c: c.conn_id,
            not_found=lambda k: NotFound(
                "Connection not found", f"The Connection with connection_id: `{k}` was not found"
            ),
            exists=lambda k: AlreadyExists(detail=f"Connection already exist. ID: {k}"),
        )
        self.variables: Table[str, Variable] = Table(
            lambda v: v.key, not_found=lambda k: NotFound("Variable not found")
        )
        self.pools: Table[str, Pool] = Table(
            lambda p: p.pool,
            not_found=lambda k: NotFound(detail=f"Pool with name:'{k}' not found"),
            exists=lambda k: AlreadyExists(detail=f"Pool: {k} already exists"),
        )
        self.roles: Table[str, Role] = Table(
            lambda r: r.name,
            not_found=lambda k: NotFound("Role not found", f"Role with name {k!r} was not found"),
            exists=lambda k: AlreadyExists(
                detail=f"Role with name {k!r} already exists; please update with the PATCH endpoint"
            ),
        )
        self.users: Table[str, User] = Table(
            lambda u: u.username,
            not_found=lambda k: NotFound(
                "User not found", f"The User with username `{k}` was not found"
            ),
            exists=lambda k: AlreadyExists(
                detail=f"Username `{k}` already exists. Use PATCH to update."
            ),
        )
        # Two or more rows per task try: a list by id, the engine's rows compact.
        self.event_logs = EventLogs(self._log_context)
        self.import_errors: Table[int, DagImportError] = Table(
            lambda e: e.id,
            not_found=lambda k: NotFound(
                "Import error not found",
                f"The ImportError with import_error_id: `{k}` was not found",
            ),
        )
        self.dag_warnings: Table[tuple[str, str], DagWarning] = Table(
            lambda w: (w.dag_id, w.warning_type)
        )
        self.plugins: Table[str, Plugin] = Table(lambda p: p.name)
        self.providers: Table[str, Provider] = Table(lambda p: p.package_name)
        self.dags: Table[str, Dag] = Table(
            lambda d: d.dag_id,
            not_found=lambda k: NotFound(
                "DAG not found", f"The DAG with dag_id: {k} was not found"
            ),
        )
        self.dag_runs: Table[tuple[str, str], DagRun] = Table(
            lambda r: r.key,
            not_found=lambda k: NotFound(
                "DAGRun not found",
                f"DAGRun with DAG ID: '{k[0]}' and DagRun ID: '{k[1]}' not found",
            ),
        )
        # Indices the engine keeps: a run's task instances (the task instance
        # table is a view over them), and the instances that hold or wait for
        # a pool slot (what pools and schedulers count).
        self.instances_by_run: dict[tuple[str, str], RunTis] = {}
        # The same, as task_id -> instances per run (what the API reads).
        self.run_tis: Mapping[tuple[str, str], Mapping[str, Sequence[TaskInstance]]]
        self.run_tis = self.instances_by_run
        self.task_instances = TaskInstances(self.instances_by_run)
        self.xcoms = XComs(self.instances_by_run)  # kept with their run's instances too
        self.datasets: Table[str, Dataset] = Table(
            lambda d: d.uri,
            not_found=lambda k: NotFound(
                "Dataset not found", f"The Dataset with uri: `{k}` was not found"
            ),
        )
        self.dataset_events: Table[int, DatasetEvent] = Table(lambda e: e.id)
        self.runs_by_dag: dict[str, dict[str, DagRun]] = {}
        # Per DAG: its queued and running runs (kept by set_run_state), and all
        # its runs by logical date (for the previous and next run).
        self.live_runs: dict[str, dict[str, DagRun]] = {}
        self.dates_by_dag: dict[str, list[DagRun]] = {}
        # Runs and task instances by state and date, counted per DAG (indices.py).
        self.run_index = RunIndex()
        self.ti_index = TiIndex()
        self._layouts: dict[tuple[tuple[str, int], ...], Layout] = {}
        self.active_tis: dict[int, TaskInstance] = {}  # by row id
        # Slots held by queued and running instances, per pool and per DAG.
        self.pool_occupied: Counter[str] = Counter()
        self.dag_busy: Counter[str] = Counter()
        # DAGs that released a slot since the scheduler last looked.
        self.released: set[str] = set()
        # The ids the next task try's job row and the next trigger row get.
        self.next_job_id = FIRST_TASK_JOB
        self._sorted_dags: tuple[int, list[Dag]] = (-1, [])
        self.next_trigger_id = 1

    def dags_by_id(self) -> list[Dag]:
        """Every DAG sorted by dag_id (kept until a DAG is added or deleted:
        read, never write)."""
        if self._sorted_dags[0] != self.dags.changes:
            self._sorted_dags = (self.dags.changes, sorted(self.dags, key=_dag_id))
        return self._sorted_dags[1]

    def layout(self, counts: Sequence[tuple[str, int]]) -> Layout:
        """The shared layout of runs whose tasks have these instance counts."""
        key = tuple(counts)
        found = self._layouts.get(key)
        if found is None:
            found = self._layouts[key] = Layout(key)
        return found

    def add_run(self, run: DagRun, tis: RunTis | Mapping[str, Sequence[TaskInstance]]) -> DagRun:
        if not isinstance(tis, RunTis):
            layout = self.layout([(task_id, len(group)) for task_id, group in tis.items()])
            tis = RunTis(layout, tuple(ti for group in tis.values() for ti in group))
        key = run.key  # one tuple for both indices
        self.dag_runs.add(run, key)
        self.runs_by_dag.setdefault(run.dag_id, {})[run.run_id] = run
        self.task_instances.attach(key, tis)
        self.ti_index.add_all(tis.tis)
        self.run_index.add_run(run)
        dated = self.dates_by_dag.setdefault(run.dag_id, [])
        if not dated or date_order(dated[-1]) < date_order(run):
            dated.append(run)
        else:
            bisect.insort(dated, run, key=date_order)
        if run.state in LIVE_RUN_STATES:
            self.live_runs.setdefault(run.dag_id, {})[run.run_id] = run
        return run

    def add_runs(self, runs: Sequence[tuple[DagRun, RunTis]]) -> None:
        """Many runs at once, in table order (a restored world): add_run's
        indices, each DAG's runs by date sorted once."""
        for run, tis in runs:
            key = run.key
            self.dag_runs.add(run, key)
            self.runs_by_dag.setdefault(run.dag_id, {})[run.run_id] = run
            self.task_instances.attach(key, tis)
            self.ti_index.add_all(tis.tis)
            self.dates_by_dag.setdefault(run.dag_id, []).append(run)
            if run.state in LIVE_RUN_STATES:
                self.live_runs.setdefault(run.dag_id, {})[run.run_id] = run
        self.run_index.add_runs(run for run, _ in runs)
        for dated in self.dates_by_dag.values():
            dated.sort(key=date_order)

    def set_run_state(self, run: DagRun, state: str) -> None:
        if run.key in self.dag_runs:
            self.run_index.move(run, run.state, state)
        run.state = state
        live = self.live_runs.get(run.dag_id)
        if live is None:
            live = self.live_runs[run.dag_id] = {}
        if state in LIVE_RUN_STATES:
            live[run.run_id] = run
        else:
            live.pop(run.run_id, None)

    def runs_of(self, dag_id: str) -> list[DagRun]:
        return list(self.runs_by_dag.get(dag_id, {}).values())

    def latest_runs(self, dag_id: str, count: int) -> list[DagRun]:
        """The DAG's `count` runs of the latest logical dates, newest first."""
        dated = self.dates_by_dag.get(dag_id, [])
        return dated[: -count - 1 : -1]

    def runs_created_since(self, moment: datetime) -> Iterator[DagRun]:
        """Runs queued (created) at or after `moment`, newest first, without
        reading older ones: the run table is in creation order, and a run is
        created at the clock's now (a restored world keeps the table order)."""
        for run in reversed(self.dag_runs.rows.values()):
            if run.queued_at is None:
                continue
            if run.queued_at < moment:
                return
            yield run

    def tis_of(self, run: DagRun) -> tuple[TaskInstance, ...]:
        """The run's task instances (the run's own tuple, which never changes)."""
        tis = self.instances_by_run.get(run.key)
        return tis.tis if tis is not None else ()

    def adjacent_run(self, run: DagRun, *, later: bool) -> DagRun | None:
        """The DAG's run just before (or after) `run` by logical date."""
        dated = self.dates_by_dag.get(run.dag_id, [])
        if later:
            at = bisect.bisect_right(dated, run.logical_date, key=_date)
            return dated[at] if at < len(dated) else None
        at = bisect.bisect_left(dated, run.logical_date, key=_date)
        if at == 0:
            return None
        # The first run (by id) of the latest earlier date, as max() finds it.
        latest = dated[at - 1].logical_date
        return dated[bisect.bisect_left(dated, latest, key=_date)]

    def forget_dag(self, dag_id: str) -> None:
        """The DAG's (now empty) run indices."""
        self.runs_by_dag.pop(dag_id, None)
        self.live_runs.pop(dag_id, None)
        self.dates_by_dag.pop(dag_id, None)

    def _log_context(self, ti: TaskInstance) -> Context:
        """The owner and execution date of the event log rows of a task try."""
        dag = self.dags.get(ti.dag_id)
        task = dag.tasks.get(ti.task_id) if dag is not None else None
        run = self.dag_runs.get((ti.dag_id, ti.run_id))
        return (task.owner if task else None, run.logical_date if run else None)

    def delete_run(self, run: DagRun) -> None:
        """The run, its task instances and their XComs (Airflow's cascade);
        the audit log keeps its rows about them."""
        self.event_logs.pin(self.tis_of(run))
        for ti in self.tis_of(run):
            self.active_tis.pop(ti.id, None)
        tis = self.task_instances.detach(run)
        self.ti_index.remove_all(tis.tis)
        self.run_index.remove_run(run)
        self.xcoms.drop_run(run, tis)
        del self.runs_by_dag[run.dag_id][run.run_id]
        self.live_runs.get(run.dag_id, {}).pop(run.run_id, None)
        dated = self.dates_by_dag[run.dag_id]
        at = bisect.bisect_left(dated, date_order(run), key=date_order)
        del dated[at]  # runs are unique by (logical date, id)
        self.dag_runs.delete(run.key)


def _date(run: DagRun) -> datetime:
    return run.logical_date


def _dag_id(dag: Dag) -> str:
    return dag.dag_id
