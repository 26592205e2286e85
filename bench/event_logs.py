"""Filtered audit-log pages (Airflow 2.10's GET /eventLogs filters) on a big world.

    .venv/bin/python bench/event_logs.py [--scenario large] [--seconds 1] [--output PATH] [--check]

In this process: the world is built serving Airflow 2.10.5
(`Simulator(Settings(scenario=NAME, airflow_version="2.10.5", clock="frozen"))`),
then each query's page of 100 is read through the handler (`get_event_logs`,
then the page's body) over and over for `--seconds`, and the same query by
the former way, kept here as the baseline: every row of the log built as an
EventLog and tested, then the page picked. Both run in this one process, so
their ratio (baseline / now) is from one run. The filters are chosen from the
world: the DAG and run of the latest try start, an hour before the latest row.
Memory: VmRSS per task instance, and the per-DAG index's bytes per task instance.

Prints a table and writes every figure to bench/results/event_logs.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import run as bench  # bench/run.py: machine() and print_targets_and_write()

from simulator.api.event_logs import ORDER_BY_2_10, get_event_logs
from simulator.api.params import ordering, parse_datetime
from simulator.config import Settings
from simulator.schemas.event_log import dump_event_log_collection
from simulator.simulator import Simulator
from simulator.state.entities import EventLog
from simulator.state.queries import top

RESULTS = bench.BENCH / "results" / "event_logs.json"
TARGET_SPEEDUP = 100.0  # baseline / now for a DAG's rows on `large`
TARGET_INDEX_BYTES_PER_TI = 16


def baseline(sim: Simulator, limit: int, order_by: str | None = None, **filters: Any) -> Any:
    """The former handler: every row built and tested, then the page."""
    tests: list[Callable[[EventLog], bool]] = []
    for name in ("dag_id", "task_id", "run_id", "map_index", "try_number", "owner", "event"):
        if filters.get(name):
            tests.append(lambda row, n=name, v=filters[name]: getattr(row, n, None) == v)
    if after := parse_datetime(filters.get("after")):
        tests.append(lambda row: row.when is not None and row.when > after)
    table = sim.store.event_logs
    rows = [row for row in table if all(test(row) for test in tests)]
    order = ordering(order_by, ORDER_BY_2_10, "event_log_id")
    page = top(rows, order, lambda row: row.id, limit)
    return dump_event_log_collection(page, len(rows), table, sim.version)


def choose(sim: Simulator) -> dict[str, dict[str, Any]]:
    latest = sim.store.event_logs.newest_first(0, 200)
    start = next(row for row in latest if row.event == "running")
    hour_ago = (latest[0].when - timedelta(hours=1)).isoformat()
    dag_id, run_id = start.dag_id, start.run_id  # type: ignore[attr-defined]
    return {
        "dag_id=": {"dag_id": dag_id},
        "dag_id= -when": {"dag_id": dag_id, "order_by": "-when"},
        "dag_id= run_id= event=running": {"dag_id": dag_id, "run_id": run_id, "event": "running"},
        "event=success": {"event": "success"},
        "after= (the last hour)": {"after": hour_ago},
        "owner=airflow (every try start)": {"owner": "airflow"},
    }


def rate(call: Callable[[], Any], seconds: float) -> tuple[float, int]:
    """Seconds per call (at least one call), and the calls made."""
    calls, started = 0, time.perf_counter()
    while True:
        call()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / calls, calls


def index_bytes(sim: Simulator) -> int:
    by_dag = sim.store.event_logs._by_dag
    return sum(numbers.itemsize * len(numbers) for numbers in by_dag.values())


def measure(name: str, seconds: float) -> dict[str, Any]:
    started = time.perf_counter()
    sim = Simulator(Settings(scenario=name, airflow_version="2.10.5", clock="frozen"))
    built = time.perf_counter() - started
    tis = len(sim.store.task_instances)
    figures: dict[str, Any] = {"build_s": built, "task_instances": tis,
                               "rows": len(sim.store.event_logs),
                               "rss_bytes_before": bench_rss()}  # fmt: skip
    queries = {}
    for label, params in choose(sim).items():
        now, now_calls = rate(lambda p=params: get_event_logs(sim, limit=100, **p).body(), seconds)
        page = get_event_logs(sim, limit=100, **params).body()
        old, old_calls = rate(lambda p=params: baseline(sim, 100, **p).body(), seconds)
        assert baseline(sim, 100, **params).body() == page, label
        queries[label] = {"params": params, "total_entries": page["total_entries"],
                          "now_ms": now * 1000, "before_ms": old * 1000,
                          "calls": [now_calls, old_calls], "speedup": old / now}  # fmt: skip
    figures["queries"] = queries
    figures["rss_bytes_after"] = bench_rss()
    figures["index_bytes"] = index_bytes(sim)
    figures["rss_per_ti"] = figures["rss_bytes_before"] / tis if tis else None
    figures["index_bytes_per_ti"] = figures["index_bytes"] / tis if tis else None
    return figures


def bench_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def print_table(name: str, figures: dict[str, Any]) -> None:
    print(f"\n{name}: {figures['task_instances']:,} task instances, {figures['rows']:,} rows, "
          f"built in {figures['build_s']:.1f} s")  # fmt: skip
    print(f"{'query (limit=100)':<34} {'total':>9} {'before ms':>10} {'now ms':>8} {'ratio':>8}")
    for label, q in figures["queries"].items():
        print(f"{label:<34} {q['total_entries']:>9,d} {q['before_ms']:>10.1f} "
              f"{q['now_ms']:>8.2f} {q['speedup']:>8.0f}")  # fmt: skip
    print(f"VmRSS before the queries {figures['rss_bytes_before'] / 2**20:.0f} MB "
          f"({bench.fmt(figures['rss_per_ti'], '.0f')} B per TI), after "
          f"{figures['rss_bytes_after'] / 2**20:.0f} MB; per-DAG index "
          f"{figures['index_bytes'] / 2**20:.1f} MB "
          f"({bench.fmt(figures['index_bytes_per_ti'], '.1f')} B per TI)")  # fmt: skip


def targets(name: str, figures: dict[str, Any]) -> dict[str, bool]:
    speedup = figures["queries"]["dag_id="]["speedup"]
    per_ti = figures["index_bytes_per_ti"] or 0
    return {
        f"{name}: a DAG's page >= {TARGET_SPEEDUP:g}x the baseline": speedup >= TARGET_SPEEDUP,
        f"{name}: index <= {TARGET_INDEX_BYTES_PER_TI} B per TI": per_ti
        <= TARGET_INDEX_BYTES_PER_TI,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="filtered event-log pages, now and before")
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--seconds", type=float, default=1.0, help="per query and way")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    print(f"building {args.scenario} (2.10.5)...", flush=True)
    figures = measure(args.scenario, args.seconds)
    print_table(args.scenario, figures)
    report = {"machine": bench.machine(), "scenario": args.scenario, "figures": figures,
              "targets": targets(args.scenario, figures)}  # fmt: skip
    return bench.print_targets_and_write(report, args.output, args.check)


if __name__ == "__main__":
    sys.exit(main())
