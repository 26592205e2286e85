"""Engine benchmark: one virtual day of 200 hourly DAGs of 10 tasks
(4,800 runs, 48,000 task instances) on the frozen clock.

Prints the wall seconds and peak memory of building the world and
simulating the day, and the event and entity counts. Run from the repo root:
`.venv/bin/python bench/simulate.py [--dags 200] [--tasks 10] [--hours 24]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc
from datetime import timedelta
from typing import Any

from simulator.config import Settings
from simulator.simulator import Simulator


def hourly_dags(count: int, tasks: int) -> list[dict[str, Any]]:
    """DAGs whose tasks form a chain with one fan-out in the middle."""
    dags = []
    for d in range(count):
        specs = []
        for t in range(tasks):
            upstream = [] if t == 0 else [f"task_{t - 1}"] if t % 3 else [f"task_{max(0, t - 2)}"]
            specs.append({"task_id": f"task_{t}", "upstream": upstream, "duration": 20 + t})
        dags.append(
            {
                "dag_id": f"bench_{d:03d}",
                "schedule": "@hourly",
                "start_date": "2023-04-01T00:00:00+00:00",
                "catchup": True,
                "tasks": specs,
            }
        )
    return dags


def build(dags: int, tasks: int) -> Simulator:
    settings = Settings(clock="frozen", dags_file=None, password_hash_iterations=1000)
    sim = Simulator(settings)
    # Room for every task instance that is due at once: the day is about the engine.
    sim.store.pools.require("default_pool").slots = dags * tasks
    sim.add_dags(hourly_dags(dags, tasks))
    return sim


def simulate(dags: int, tasks: int, hours: int, track_memory: bool) -> dict[str, Any]:
    if track_memory:
        tracemalloc.start()
    started = time.perf_counter()
    sim = build(dags, tasks)
    built = time.perf_counter()
    events = sim.advance(timedelta(hours=hours).total_seconds())
    events += sim.run_until_idle()
    done = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if track_memory else None
    if track_memory:
        tracemalloc.stop()
    runs = len(sim.store.dag_runs)
    states: dict[str, int] = {}
    for ti in sim.store.task_instances:
        states[str(ti.state)] = states.get(str(ti.state), 0) + 1
    return {
        "dags": dags,
        "tasks_per_dag": tasks,
        "virtual_hours": hours,
        "build_seconds": round(built - started, 3),
        "simulate_seconds": round(done - built, 3),
        "events": events,
        "runs": runs,
        "task_instances": len(sim.store.task_instances),
        "task_instance_states": states,
        "traced_peak_mb": round(peak / 2**20, 1) if peak is not None else None,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dags", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument(
        "--memory", action="store_true", help="also trace Python allocations (slower)"
    )
    args = parser.parse_args()
    print(json.dumps(simulate(args.dags, args.tasks, args.hours, args.memory), indent=2))


if __name__ == "__main__":
    main()
