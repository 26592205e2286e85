"""The simulator as a test fixture: resets, snapshots and the request journal.

    .venv/bin/python bench/control.py [--runs 20] [--no-large] [--output PATH] [--check]

1. Reset: `Simulator.reset()` in-process on `ci` and `default` (median of
   --runs), beside building the same world once.
2. Snapshot: on `default` and `large`, the document's size, its export
   (`snapshot()` + orjson, as GET /_sim/snapshot encodes it) and its restore
   (orjson + `restore()`, as POST /_sim/snapshot), against building the world.
3. The journal's cost per request: two servers on `ci` in their own
   processes, one with `--journal-size 0`, loaded in turn (16 connections)
   on GET /pools and on a POST with a body; the server CPU per request of
   each and their difference.

Prints tables and writes every figure to bench/results/control.json.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import run as bench  # bench/run.py: servers, load generation, machine facts

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.state.journal import Entry, Filters, Journal, kept_body

RESULTS = bench.BENCH / "results" / "control.json"
TARGET_RESET_CI_MS = 50.0
# Journal load: a read without a body, and a request with a body to redact
# (refused by validation, so the world does not grow while it is measured).
JOURNAL_SIZES = (0, 10_000)  # off, and the default
JOURNAL_LOADS = {
    "get_pools": ("/api/v1/pools", None),
    "post_connection (400)": ("/api/v1/connections", {"connection_id": "c", "password": "x"}),
}


def timed(func: Callable[[], Any]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def reset_figures(name: str, runs: int) -> dict[str, Any]:
    build_s = 0.0

    def build() -> Simulator:
        nonlocal build_s
        start = time.perf_counter()
        sim = Simulator(Settings(scenario=name))
        build_s = time.perf_counter() - start
        return sim

    sim = build()
    times = [timed(sim.reset) for _ in range(runs)]
    return {
        "build_s": build_s,
        "reset_ms_median": statistics.median(times) * 1000,
        "reset_ms_max": max(times) * 1000,
        "task_instances": len(sim.store.task_instances),
    }


def print_resets(resets: dict[str, Any]) -> None:
    print("\nReset (in-process, median):")
    print(f"  {'scenario':<10}{'reset ms':>10}{'max ms':>10}{'build s':>10}{'TIs':>9}")
    for name, r in resets.items():
        print(
            f"  {name:<10}{r['reset_ms_median']:>10.1f}{r['reset_ms_max']:>10.1f}"
            f"{r['build_s']:>10.2f}{r['task_instances']:>9}"
        )


def journal_figures(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Both servers up at once, loaded in turn, --rounds times; the lowest
    server CPU per request of each is kept (the least disturbed round)."""
    figures: dict[str, Any] = {label: {} for label in JOURNAL_LOADS}
    with contextlib.ExitStack() as stack:
        servers = {}
        for size in JOURNAL_SIZES:
            port = bench.free_port()
            cmd = [sys.executable, "-m", "simulator", "serve", "--scenario", "ci",
                   "--port", str(port), "--journal-size", str(size)]  # fmt: skip
            log = workdir / f"journal-{size}.log"
            servers[size] = (port, stack.enter_context(bench.serving(cmd, port, log)))
        for _ in range(args.rounds):
            for label, (path, body) in JOURNAL_LOADS.items():
                for size, (port, proc) in servers.items():
                    url = f"http://127.0.0.1:{port}{path}"
                    result = bench.measure("journal", label, url, proc.pid, args, body)
                    best = figures[label].get(size)
                    cpu = result.server_cpu_us_per_request
                    if best is None or (cpu or 0) < best["server_cpu_us_per_request"]:
                        figures[label][size] = {
                            "rps": result.rps,
                            "server_cpu_us_per_request": cpu,
                            "statuses": result.statuses,
                        }
    return figures


def journal_entry_us(repeat: int = 20_000) -> dict[str, float]:
    """What the middleware adds per request, in-process: an entry appended to
    a full journal (redaction happens when the journal is read)."""
    journal = Journal()
    query = (("limit", "100"), ("offset", "0"))
    body = orjson.dumps(JOURNAL_LOADS["post_connection (400)"][1])
    now = datetime.now(UTC)

    def record(raw: bytes) -> None:
        journal.add(
            Entry(id=journal.next_id(), time=now, wall_time=time.time(), method="POST",
                  path="/api/v1/connections", query=query, operation_id="post_connection",
                  status=400, user="admin", body=kept_body(raw), body_size=len(raw),
                  duration_ms=1.0)
        )  # fmt: skip

    figures = {}
    for label, raw in (("no body", b""), ("JSON body", body)):
        start = time.perf_counter()
        for _ in range(repeat):
            record(raw)
        figures[label] = (time.perf_counter() - start) / repeat * 1e6
    entry = next(journal.newest_first(Filters()))
    start = time.perf_counter()
    for _ in range(repeat // 10):
        entry.shown_query(), entry.shown_body()
    figures["read, redacted"] = (time.perf_counter() - start) / (repeat // 10) * 1e6
    return figures


def print_journal(journal: dict[str, Any], entry_us: dict[str, float]) -> None:
    print("\nJournal, in-process: per request recorded, and per entry read:")
    for label, us in entry_us.items():
        print(f"  {label:<24}{us:>9.1f} µs")
    print("Servers on ci, 16 connections, best of rounds (server CPU per request):")
    print(f"  {'request':<24}{'off µs':>9}{'on µs':>9}{'cost µs':>9}{'on/off req/s':>14}")
    for label, by_size in journal.items():
        off, on = (by_size[size] for size in JOURNAL_SIZES)
        off_us, on_us = off["server_cpu_us_per_request"], on["server_cpu_us_per_request"]
        cost = on_us - off_us if off_us is not None and on_us is not None else None
        print(
            f"  {label:<24}{bench.fmt(off_us, '.0f'):>9}{bench.fmt(on_us, '.0f'):>9}"
            f"{bench.fmt(cost, '.0f'):>9}{on['rps'] / off['rps']:>14.2f}"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="benchmark resets, snapshots and the journal")
    parser.add_argument("--runs", type=int, default=20, help="resets per scenario")
    parser.add_argument("--no-large", action="store_true", help="skip the large snapshot")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per load")
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="journal loads per server")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    report: dict[str, Any] = {"machine": bench.machine(), "settings": vars(args) | {"output": None}}
    print(f"machine: {report['machine']}")
    report["reset"] = {name: reset_figures(name, args.runs) for name in ("ci", "default")}
    print_resets(report["reset"])
    with tempfile.TemporaryDirectory(prefix="airflow-sim-bench-") as workdir:
        report["journal"] = journal_figures(args, Path(workdir))
    report["journal_entry_us"] = journal_entry_us()
    print_journal(report["journal"], report["journal_entry_us"])
    report["targets"] = {
        f"reset on ci < {TARGET_RESET_CI_MS:g} ms": report["reset"]["ci"]["reset_ms_median"]
        < TARGET_RESET_CI_MS,
    }
    return bench.print_targets_and_write(report, args.output, args.check)


if __name__ == "__main__":
    sys.exit(main())
