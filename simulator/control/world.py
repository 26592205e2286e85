"""/_sim/world: what the console (/_sim/ui) draws every second — a page of
DAGs with their latest runs, the pools and their slots, and the last 24
virtual hours of runs and task instances by state.

It costs the page, not the world: a DAG's latest runs come from its runs by
logical date, pool slots from the active instances, and the 24 hours from
the runs created since their start (the run table is in creation order) and
those runs' task instances.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from simulator.control.validation import parse_query
from simulator.schemas.common import isoformat
from simulator.schemas.pool import dump_pool, tally_slots
from simulator.server.encoding import json_response
from simulator.server.keys import SIM
from simulator.simulator import Simulator
from simulator.state.dag_model import Dag
from simulator.state.store import Store

RUNS_PER_DAG = 10  # the latest runs shown for each DAG
HOURS = 24  # hourly bars, the current hour last
HOUR = timedelta(hours=1)
NO_STATE = "none"  # a task instance's null state, as a key of the counts


async def get_world(request: web.Request) -> web.Response:
    sim: Simulator = request.config_dict[SIM]
    query = parse_query("/world", "get", request.query)
    sim.catch_up()
    body = world(sim, limit=query.get("limit", 100), offset=query.get("offset", 0))
    return json_response(body)


def world(sim: Simulator, *, limit: int, offset: int) -> dict[str, Any]:
    store, now = sim.store, sim.now()
    dags = store.dags_by_id()
    return {
        "now": isoformat(now),
        "total_dags": len(dags),
        "dags": [_dag(store, dag) for dag in dags[offset : offset + limit]],
        "pools": _pools(store),
        "last_24h": last_24h(store, now),
    }


def _dag(store: Store, dag: Dag) -> dict[str, Any]:
    runs = store.latest_runs(dag.dag_id, RUNS_PER_DAG)
    return {
        "dag_id": dag.dag_id,
        "is_paused": dag.is_paused,
        "is_active": dag.is_active,
        "has_import_errors": dag.has_import_errors,
        "runs": [
            {"run_id": run.run_id, "state": run.state, "logical_date": isoformat(run.logical_date)}
            for run in runs
        ],
    }


def _pools(store: Store) -> list[dict[str, Any]]:
    """Every pool by row id, its slots as GET /api/v1/pools counts them (-1: infinite)."""
    tally = tally_slots(store.active_tis.values())
    pools = (dump_pool(pool, tally) for pool in store.pools)
    return [
        {"name": p["name"], "slots": p["slots"], "occupied": p["occupied_slots"],
         "open": p["open_slots"]}
        for p in pools
    ]  # fmt: skip


def last_24h(store: Store, now: datetime) -> dict[str, Any]:
    """The runs created in the 24 hours that end with the current one, each
    in the hour it started (or was queued, not started yet), and their task
    instances, each in the hour it started (or its run's, not started yet)."""
    start = now.replace(minute=0, second=0, microsecond=0) - (HOURS - 1) * HOUR
    runs: list[Counter[str]] = [Counter() for _ in range(HOURS)]
    tis: list[Counter[str]] = [Counter() for _ in range(HOURS)]
    for run in store.runs_created_since(start):
        hour = _hour(start, run.start_date or run.queued_at)
        if hour is None:
            continue
        runs[hour][run.state] += 1
        for ti in store.tis_of(run):
            at = hour if ti.start_date is None else _hour(start, ti.start_date)
            if at is not None:
                tis[at][ti.state or NO_STATE] += 1
    return {
        "from": isoformat(start),
        "until": isoformat(start + HOURS * HOUR),
        "hours": [
            {
                "start": isoformat(start + i * HOUR),
                "dag_runs": dict(runs[i]),
                "task_instances": dict(tis[i]),
            }
            for i in range(HOURS)
        ],
    }


def _hour(start: datetime, moment: datetime | None) -> int | None:
    """The bar `moment` falls in (None: outside the 24 hours)."""
    if moment is None:
        return None
    hour = int((moment - start) // HOUR)
    return hour if 0 <= hour < HOURS else None


def add_routes(app: web.Application) -> None:
    app.router.add_get("/world", get_world, name="get_world")
