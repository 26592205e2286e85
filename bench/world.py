"""Queries over a simulated day: requests/s of get_task_instances_batch and
get_dag_runs (`~`, limit 100, with filters) against get_pools, on a server
holding the world of bench/simulate.py (4,800 runs, 48,000 task instances).

`python bench/world.py [--duration 3] [--serve PORT]`; with --serve it only
builds the world and serves it (the bench starts itself that way).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import run as load  # bench/run.py: the load generator and its helpers
import simulate

HERE = Path(__file__).resolve().parent
QUERIES: list[tuple[str, str, Any]] = [
    ("get_pools", "/api/v1/pools", None),
    (
        "get_dag_runs ~",
        "/api/v1/dags/~/dagRuns?limit=100&state=success"
        "&execution_date_gte=2023-04-01T06:00:00Z&execution_date_lte=2023-04-01T12:00:00Z",
        None,
    ),
    (
        "get_task_instances_batch",
        "/api/v1/dags/~/dagRuns/~/taskInstances/list",
        {
            "dag_ids": ["bench_0007", "bench_0123"],
            "state": ["success"],
            "execution_date_gte": "2023-04-01T10:00:00+00:00",
            "execution_date_lte": "2023-04-01T11:00:00+00:00",
        },
    ),
]


def serve(port: int) -> None:
    """Build the simulated day, then serve it (response validation off)."""
    from aiohttp import web

    from simulator.server.app import create_app

    sim = simulate.build(simulate.parse([]))  # the default preset: 200 hourly DAGs x 10 tasks
    sim.advance(24 * 3600)
    sim.run_until_idle()
    web.run_app(create_app(sim.settings, simulator=sim), host="127.0.0.1", port=port,
                access_log=None, print=None)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", type=int)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    port = load.free_port()
    proc = subprocess.Popen([sys.executable, str(HERE / "world.py"), "--serve", str(port)])
    try:
        load.wait_healthy(proc, port, timeout=120)
        results = {}
        for name, path, body in QUERIES:
            result = load.measure("simulator", name, f"http://127.0.0.1:{port}{path}",
                                  proc.pid, args, body)  # fmt: skip
            results[name] = result
            print(f"{name:28} {result.rps:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
                  f"p99 {result.p99_ms:6.1f} ms  {result.bytes_per_response:7d} B  "
                  f"{result.statuses}")  # fmt: skip
        pools = results["get_pools"].rps
        ratios = {name: round(pools / r.rps, 2) for name, r in results.items() if r.rps}
        print("get_pools req/s divided by each query's (target: at most 2):", json.dumps(ratios))
    finally:
        load.stop(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
