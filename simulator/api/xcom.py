"""XCom operations: the entries a task instance pushed, listed or read one by one.

`dag_id`, `dag_run_id` and `task_id` may each be `~` (any) in the list; with
`dag_id=~` only the DAGs the user can read are listed. There is no XCom of a
run that no longer exists: deleting a run deletes its XComs.
"""

from __future__ import annotations

from typing import Any

from simulator.api.params import check_limit
from simulator.errors import NotFound
from simulator.schemas.xcom import dump_xcom, dump_xcom_collection
from simulator.simulator import Simulator
from simulator.state.entities import User
from simulator.state.run_model import DagRun, XCom
from simulator.state.security import accessible_dag_ids, user_permissions

ANY = "~"


def get_xcom_entries(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    limit: int | None = None,
    offset: int | None = None,
    user: User | None = None,
) -> dict[str, Any]:
    """GET .../xcomEntries: ordered by run logical date, task_id, dag_id, key."""
    limit = check_limit(sim.settings, limit)
    readable: set[str] | None = None
    if dag_id == ANY and user is not None:
        readable = accessible_dag_ids(user_permissions(sim.store, user), "can_read", sim.dag_ids())
    rows: list[tuple[XCom, DagRun]] = []
    for xcom in sim.store.xcoms:
        if dag_id != ANY and xcom.dag_id != dag_id:
            continue
        if readable is not None and xcom.dag_id not in readable:
            continue
        if task_id != ANY and xcom.task_id != task_id:
            continue
        if dag_run_id != ANY and xcom.run_id != dag_run_id:
            continue
        run = sim.store.dag_runs.get((xcom.dag_id, xcom.run_id))
        if run is not None:  # Airflow joins the run
            rows.append((xcom, run))
    # The database has no further tiebreak; insertion order stands in for it.
    rows.sort(key=lambda row: (row[1].logical_date, row[0].task_id, row[0].dag_id, row[0].key))
    start = offset or 0
    return dump_xcom_collection(rows[start : start + limit], len(rows))


def get_xcom_entry(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    xcom_key: str,
    deserialize: bool = False,
) -> dict[str, Any]:
    """GET .../xcomEntries/{xcom_key}: one entry with its value as str()."""
    # `deserialize` only matters for custom XCom backends: the answer is the same.
    # A mapped task has one entry per map index; Airflow 2.5.3 crashes there
    # (several rows for a single lookup): the simulator answers the first by map index.
    run = sim.store.dag_runs.get((dag_id, dag_run_id))
    tis = sim.store.run_tis.get((dag_id, dag_run_id), {}).get(task_id, [])
    keys = [(dag_id, dag_run_id, task_id, ti.map_index, xcom_key) for ti in tis]
    matches = [xcom for key in keys if (xcom := sim.store.xcoms.get(key)) is not None]
    if run is None or not matches:
        raise NotFound("XCom entry not found")
    return dump_xcom(min(matches, key=lambda xcom: xcom.map_index), run)
