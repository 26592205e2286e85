"""Airflow 2.10's XCom list pages (GET .../xcomEntries) on a big world.

    .venv/bin/python bench/xcoms.py [--scenario large] [--seconds 1] [--output PATH] [--check]

In this process: the world is built serving Airflow 2.10.5
(`Simulator(Settings(scenario=NAME, airflow_version="2.10.5", clock="frozen"))`),
then each query's page of 100 is read through the handler
(`get_xcom_entries`, then the page's body) over and over for `--seconds`,
and the same query by the former way, kept here as the baseline: every
matching entry of the scope's runs built as a row, all sorted by (dag_id,
task_id, run_id, map_index, key), then the page sliced. Both run in this one
process, so their ratio (baseline / now) is from one run. The DAG, run and
task are chosen from the world: those of the DAG with the most entries.
Memory: the (DAG, task, map index, key) counters' entries.

Prints a table and writes every figure to bench/results/xcoms.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import run as bench  # bench/run.py: machine() and print_targets_and_write()

from simulator.api.xcom import ANY, get_xcom_entries
from simulator.config import Settings
from simulator.schemas.page import Page
from simulator.schemas.xcom import dump_xcom_collection
from simulator.simulator import Simulator

RESULTS = bench.BENCH / "results" / "xcoms.json"
TARGET_SPEEDUP = 100.0  # baseline / now for the first page of every entry on `large`


def baseline(sim: Simulator, limit: int, offset: int = 0, **params: Any) -> Page:
    """The former handler: every matching row built and sorted, then the page."""
    store = sim.store
    dag_id, run_id = params.get("dag_id", ANY), params.get("dag_run_id", ANY)
    task_id, map_index, key = (
        params.get("task_id", ANY),
        params.get("map_index"),
        params.get("xcom_key"),
    )
    if dag_id != ANY and run_id != ANY:
        found = store.dag_runs.get((dag_id, run_id))
        runs = [found] if found is not None else []
    elif dag_id != ANY:
        runs = store.runs_of(dag_id)
    else:
        runs = list(store.dag_runs)
    rows = [
        (xcom, run)
        for run in runs
        if run_id in (ANY, run.run_id)
        for xcom in store.xcoms.of_run(run)
        if task_id in (ANY, xcom.task_id)
        and (map_index is None or xcom.map_index == map_index)
        and (key is None or xcom.key == key)
    ]
    rows.sort(key=lambda row: (row[0].dag_id, row[0].task_id, row[0].run_id,
                               row[0].map_index, row[0].key))  # fmt: skip
    return dump_xcom_collection(rows[offset : offset + limit], len(rows), sim.version)


def choose(sim: Simulator) -> dict[str, dict[str, Any]]:
    per_dag = Counter(sim.store.xcoms.per_dag)
    dag_id = per_dag.most_common(1)[0][0]
    xcoms = [x for run in sim.store.runs_of(dag_id) for x in sim.store.xcoms.of_run(run)]
    last = max(xcoms, key=lambda x: x.ident)
    middle = sum(per_dag.values()) // 2
    return {
        "~ (every entry)": {},
        f"~, offset={middle:,}": {"offset": middle},
        "dag_id=": {"dag_id": dag_id},
        "dag_id= dag_run_id=": {"dag_id": dag_id, "dag_run_id": last.run_id},
        "dag_id= task_id=": {"dag_id": dag_id, "task_id": last.task_id},
        "xcom_key=return_value": {"xcom_key": "return_value"},
        "map_index=0": {"map_index": 0},
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


def measure(name: str, seconds: float) -> dict[str, Any]:
    started = time.perf_counter()
    sim = Simulator(Settings(scenario=name, airflow_version="2.10.5", clock="frozen"))
    built = time.perf_counter() - started
    figures: dict[str, Any] = {"build_s": built, "task_instances": len(sim.store.task_instances),
                               "xcoms": len(sim.store.xcoms), "rss_bytes": bench_rss()}  # fmt: skip
    queries = {}
    for label, params in choose(sim).items():
        query = {"dag_id": ANY, "dag_run_id": ANY, "task_id": ANY, **params}

        def now_call(q: dict[str, Any] = query) -> Any:
            return get_xcom_entries(sim, limit=100, **q).body()

        def old_call(q: dict[str, Any] = query) -> Any:
            return baseline(sim, 100, **q).body()

        now, now_calls = rate(now_call, seconds)
        old, old_calls = rate(old_call, seconds)
        page = now_call()
        assert old_call() == page, label
        queries[label] = {"params": params, "total_entries": page["total_entries"],
                          "now_ms": now * 1000, "before_ms": old * 1000,
                          "calls": [now_calls, old_calls], "speedup": old / now}  # fmt: skip
    figures["queries"] = queries
    figures["shape_entries"] = sum(map(len, sim.store.xcoms.shapes.values()))
    return figures


def bench_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def print_table(name: str, figures: dict[str, Any]) -> None:
    print(f"\n{name}: {figures['task_instances']:,} task instances, {figures['xcoms']:,} XComs, "
          f"built in {figures['build_s']:.1f} s, "
          f"VmRSS {figures['rss_bytes'] / 2**20:.0f} MB")  # fmt: skip
    print(f"{'query (limit=100)':<26} {'total':>9} {'before ms':>10} {'now ms':>8} {'ratio':>8}")
    for label, q in figures["queries"].items():
        print(f"{label:<26} {q['total_entries']:>9,d} {q['before_ms']:>10.1f} "
              f"{q['now_ms']:>8.2f} {q['speedup']:>8.0f}")  # fmt: skip
    print(f"(DAG, task, map index, key) counts: {figures['shape_entries']:,} entries")


def targets(name: str, figures: dict[str, Any]) -> dict[str, bool]:
    speedup = figures["queries"]["~ (every entry)"]["speedup"]
    return {
        f"{name}: the first page >= {TARGET_SPEEDUP:g}x the baseline": speedup >= TARGET_SPEEDUP
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="2.10 XCom list pages, now and before")
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
