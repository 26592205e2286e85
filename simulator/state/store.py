"""Store: one Table per entity, keyed by natural key, with Airflow's error texts."""

from __future__ import annotations

from collections import Counter

from simulator.errors import AlreadyExists, NotFound
from simulator.state.dag_model import Dag
from simulator.state.entities import (
    Connection,
    DagImportError,
    DagWarning,
    EventLog,
    Plugin,
    Pool,
    Provider,
    Role,
    User,
    Variable,
)
from simulator.state.run_model import DagRun, Dataset, DatasetEvent, TaskInstance, XCom
from simulator.state.table import Table

DEFAULT_POOL = "default_pool"


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
        self.event_logs: Table[int, EventLog] = Table(
            lambda e: e.id, not_found=lambda k: NotFound("Event Log not found")
        )
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
        self.task_instances: Table[tuple[str, str, str, int], TaskInstance] = Table(
            lambda t: t.key, not_found=lambda k: NotFound("Task instance not found")
        )
        self.xcoms: Table[tuple[str, str, str, int, str], XCom] = Table(
            lambda x: x.ident, not_found=lambda k: NotFound("XCom entry not found")
        )
        self.datasets: Table[str, Dataset] = Table(
            lambda d: d.uri,
            not_found=lambda k: NotFound(
                "Dataset not found", f"The Dataset with uri: `{k}` was not found"
            ),
        )
        self.dataset_events: Table[int, DatasetEvent] = Table(lambda e: e.id)
        # Indices the engine keeps: a run's task instances, and the instances
        # that hold or wait for a pool slot (what pools and schedulers count).
        self.runs_by_dag: dict[str, dict[str, DagRun]] = {}
        self.run_tis: dict[tuple[str, str], dict[str, list[TaskInstance]]] = {}
        self.active_tis: dict[tuple[str, str, str, int], TaskInstance] = {}
        # Slots held by queued and running instances, per pool and per DAG.
        self.pool_occupied: Counter[str] = Counter()
        self.dag_busy: Counter[str] = Counter()

    def add_run(self, run: DagRun, tis: dict[str, list[TaskInstance]]) -> DagRun:
        self.dag_runs.add(run)
        self.runs_by_dag.setdefault(run.dag_id, {})[run.run_id] = run
        self.run_tis[run.key] = tis
        for instances in tis.values():
            for ti in instances:
                self.task_instances.add(ti)
        return run

    def runs_of(self, dag_id: str) -> list[DagRun]:
        return list(self.runs_by_dag.get(dag_id, {}).values())

    def tis_of(self, run: DagRun) -> list[TaskInstance]:
        return [ti for tis in self.run_tis.get(run.key, {}).values() for ti in tis]

    def delete_run(self, run: DagRun) -> None:
        """The run, its task instances and their XComs (Airflow's cascade)."""
        for ti in self.tis_of(run):
            self.task_instances.delete(ti.key)
            self.active_tis.pop(ti.key, None)
        for xcom in [x for x in self.xcoms if (x.dag_id, x.run_id) == run.key]:
            self.xcoms.delete(xcom.ident)
        del self.run_tis[run.key]
        del self.runs_by_dag[run.dag_id][run.run_id]
        self.dag_runs.delete(run.key)
