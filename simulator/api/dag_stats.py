"""DagStats (Airflow 2.10): how many runs each DAG has per state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.schemas.dag_stats import dump_dag_stats, dump_dag_stats_collection
from simulator.simulator import Simulator
from simulator.state.entities import User
from simulator.state.security import readable_scope


def get_dag_stats(sim: Simulator, *, dag_ids: str, user: User) -> dict[str, Any]:
    """GET /dagStats: the readable DAGs among `dag_ids` (comma-separated);
    an unknown or unreadable one is left out."""
    wanted = list(dict.fromkeys(dag_ids.split(",")))  # first mention first
    existing = [dag_id for dag_id in wanted if dag_id in sim.store.dags]
    readable = readable_scope(sim.store, user, existing) or set()
    # Airflow lists them in a set's order (arbitrary): the simulator keeps the
    # request's (the quirk `dag-stats-order`).
    chosen = [dag_id for dag_id in existing if dag_id in readable]
    return dump_dag_stats_collection(
        dump_dag_stats(dag_id, _counter(sim, dag_id)) for dag_id in chosen
    )


def _counter(sim: Simulator, dag_id: str) -> Callable[[str], int]:
    return lambda state: sim.store.run_index.count((dag_id,), (state,))
