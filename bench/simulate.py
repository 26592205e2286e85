"""Engine benchmark: simulate generated DAGs on the frozen clock.

The default is one virtual day of 200 hourly DAGs of 10 tasks (4,800 runs,
48,000 task instances). `--preset large` approximates the bundled `large`
world: 1,000 DAGs of mixed shapes, about 7% hourly and the rest daily, with
30 virtual days of history (about 550,000 task instances).

Prints wall seconds (building the world, simulating), task instances per
second, peak RSS, and RSS bytes per task instance: the growth of peak RSS
over the RSS before building, and plain peak RSS, each divided by the task
instance count. Run from the repo root:
`.venv/bin/python bench/simulate.py [--preset large] [--dags N] [--days N] ...`.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.config import Settings
from simulator.simulator import Simulator

START = datetime(2023, 4, 1, tzinfo=UTC)
PRESETS: dict[str, dict[str, Any]] = {
    "default": {"dags": 200, "tasks": 10, "days": 1.0, "hourly_fraction": 1.0,
                "shapes": "chain", "failure_rate": 0.0},
    "large": {"dags": 1000, "tasks": 7, "days": 30.0, "hourly_fraction": 0.07,
              "shapes": "mixed", "failure_rate": 0.01},
}  # fmt: skip
SHAPES = ("chain", "fan", "diamond", "wide")


def _upstream(shape: str, t: int, tasks: int) -> list[str]:
    """Task t's upstream ids in a DAG of the given shape."""
    if t == 0:
        return []
    if shape == "chain":  # a chain with a fork every third task (the old bench)
        return [f"task_{t - 1}"] if t % 3 else [f"task_{max(0, t - 2)}"]
    if shape == "fan":  # one root, parallel middle tasks, one join
        return [f"task_{m}" for m in range(1, tasks - 1)] if t == tasks - 1 else ["task_0"]
    if shape == "diamond":  # two parallel chains meeting at the last task
        if t == tasks - 1:
            return [f"task_{tasks - 2}", f"task_{tasks - 3}"] if tasks > 2 else ["task_0"]
        return [f"task_{max(0, t - 2)}"]
    return []  # wide: independent tasks


def make_dags(
    count: int, tasks: int, hourly_fraction: float, shapes: str, failure_rate: float
) -> list[dict[str, Any]]:
    """`count` DAGs; every 1/hourly_fraction-th one hourly, the others daily."""
    dags = []
    hourly_every = round(1 / hourly_fraction) if hourly_fraction > 0 else 0
    for d in range(count):
        shape = SHAPES[d % len(SHAPES)] if shapes == "mixed" else shapes
        hourly = hourly_every > 0 and d % hourly_every == 0
        specs = []
        for t in range(tasks):
            spec: dict[str, Any] = {
                "task_id": f"task_{t}", "upstream": _upstream(shape, t, tasks),
                "duration": 20 + t,
            }  # fmt: skip
            if failure_rate:
                spec.update(failure_rate=failure_rate, retries=1, retry_delay=60)
            specs.append(spec)
        dags.append({
            "dag_id": f"bench_{d:04d}", "schedule": "@hourly" if hourly else "@daily",
            "start_date": START.isoformat(), "catchup": True, "tasks": specs,
        })  # fmt: skip
    return dags


def build(args: argparse.Namespace) -> Simulator:
    settings = Settings(
        scenario={"name": "empty"}, clock="frozen", start=START, password_hash_iterations=1000
    )
    sim = Simulator(settings)
    # Room for every task instance that is due at once: the run is about the engine.
    sim.store.pools.require("default_pool").slots = args.pool_slots or args.dags * args.tasks
    sim.add_dags(
        make_dags(args.dags, args.tasks, args.hourly_fraction, args.shapes, args.failure_rate)
    )
    return sim


def rss_bytes() -> int:
    """The current resident set size (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def simulate(args: argparse.Namespace) -> dict[str, Any]:
    gc.collect()
    before = rss_bytes()
    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    sim = build(args)
    built = time.perf_counter()
    events = sim.advance(timedelta(days=args.days).total_seconds())
    events += sim.run_until_idle()
    done = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if args.memory else None
    if args.memory:
        tracemalloc.stop()
    peak_rss = max_rss_bytes()
    tis = len(sim.store.task_instances)
    states: dict[str, int] = {}
    for ti in sim.store.task_instances:
        states[str(ti.state)] = states.get(str(ti.state), 0) + 1
    return {
        "dags": args.dags,
        "tasks_per_dag": args.tasks,
        "virtual_days": args.days,
        "hourly_fraction": args.hourly_fraction,
        "shapes": args.shapes,
        "failure_rate": args.failure_rate,
        "build_seconds": round(built - started, 3),
        "simulate_seconds": round(done - built, 3),
        "events": events,
        "runs": len(sim.store.dag_runs),
        "task_instances": tis,
        "task_instances_per_second": round(tis / max(done - started, 1e-9)),
        "task_instance_states": states,
        "event_logs": len(sim.store.event_logs),
        "xcoms": len(sim.store.xcoms),
        "traced_peak_mb": round(peak / 2**20, 1) if peak is not None else None,
        "rss_before_mb": round(before / 2**20, 1),
        "max_rss_mb": round(peak_rss / 2**20, 1),
        "rss_growth_bytes_per_ti": round((peak_rss - before) / max(tis, 1)),
        "max_rss_bytes_per_ti": round(peak_rss / max(tis, 1)),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    parser.add_argument("--dags", type=int)
    parser.add_argument("--tasks", type=int, help="tasks per DAG")
    parser.add_argument("--days", type=float, help="virtual days simulated")
    parser.add_argument("--hours", type=float, help="virtual hours (instead of --days)")
    parser.add_argument("--hourly-fraction", type=float, help="share of hourly DAGs (others daily)")
    parser.add_argument("--shapes", choices=[*SHAPES, "mixed"])
    parser.add_argument("--failure-rate", type=float, help="per try; tasks get one retry")
    parser.add_argument(
        "--pool-slots", type=int, default=0, help="default_pool size (0: room for all)"
    )
    parser.add_argument(
        "--memory", action="store_true", help="also trace Python allocations (slower)"
    )
    args = parser.parse_args(argv)
    for name, value in PRESETS[args.preset].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.hours is not None:
        args.days = args.hours / 24
    return args


def main() -> None:
    print(json.dumps(simulate(parse()), indent=2))


if __name__ == "__main__":
    main()
