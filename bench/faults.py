"""What the HTTP fault middleware costs a request: with no fault, with faults
that miss, and with a fault that fires without a delay.

    .venv/bin/python bench/faults.py [--rounds 6] [--duration 3] [--output PATH] [--check]

About two minutes on 2 cores.

1. Servers on `ci`, each in its own process, loaded with GET /api/v1/pools
   (16 connections, bench/run.py's load generator and its reading of the
   server's CPU from /proc):
   (1)  the app without the faults middleware: a `-c` script that removes
        the middleware named `faults` from the app's list after create_app;
   (1') the same again in a second process: how far two processes of the
        same code differ, the floor under any ratio below;
   (2)  the app as shipped, no fault defined: the overhead issue 8 bounds
        (under 2%);
   (3)  the app with 10 HTTP faults that never match get_pools (POSTed to
        /_sim/faults before measuring): matching them on every request;
   (4)  the app with one latency-only fault `{fixed: 0}` on get_pools: a
        fault that fires, without a delay.
   Each server is first loaded for --settle s, unmeasured, so that its
   journal is as full in the first round as in the last. Every round loads
   each server once, for --duration s after --warmup s, in an order that
   rotates by one server a round (so drift hits all alike); per server, the
   median over --rounds of the server CPU per request and of req/s, and
   their ratios to (1). `paired` is the median of the per-round ratios to
   (1) (each against the same round's load of (1)). A load during which
   other processes (or the hypervisor: steal) used more than --others of a
   core, from /proc/stat, is repeated at once, up to --retries times; the
   last attempt is kept and counted as disturbed. The load generator (this
   process) runs on one CPU and the servers on another (--no-pin: not).
2. In-process, on a mocked GET /api/v1/pools resolved by the app's router:
   one call through the middleware (a `partial(middleware, handler=...)`,
   as aiohttp chains them) against one call of the handler alone (best of
   5 loops), with no fault, the 10 misses, and the firing fault.

Prints tables and writes every figure, each round included, to
bench/results/faults.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import run as bench  # bench/run.py: servers, load generation, machine facts

RESULTS = bench.BENCH / "results" / "faults.json"
ENDPOINT = "/api/v1/pools"
TARGET_OVERHEAD = 0.02  # (2) over (1), server CPU per request
MIDDLEWARE = "faults"

# python -c: the simulator's CLI, serving an app without the faults middleware.
WITHOUT_FAULTS = f"""
import sys
import simulator.server.app as app_module
shipped = app_module.create_app
def create_app(settings=None, simulator=None):
    app = shipped(settings, simulator)
    found = [m for m in app.middlewares if getattr(m, "__name__", None) == {MIDDLEWARE!r}]
    assert len(found) == 1, f"no single middleware named {MIDDLEWARE!r}: {{app.middlewares}}"
    app.middlewares.remove(found[0])
    return app
app_module.create_app = create_app  # the CLI imports it when it serves
from simulator.cli import main
sys.exit(main(sys.argv[1:]))
"""

# Ten HTTP faults, none of which matches GET /api/v1/pools as admin: the
# kinds of match a test suite writes (operation ids, methods, path globs, a
# tag, a user), each with an action or a latency it never gets to apply.
MISSES: list[dict[str, Any]] = [
    {"match": {"operation_id": "post_dag_run"}, "action": {"type": "status", "status": 503}},
    {"match": {"operation_id": "get_dag_runs"}, "latency": {"uniform": [0.1, 0.5]}},
    {
        "match": {"operation_id": ["get_task_instances", "get_task_instance"]},
        "action": {"type": "reset"},
    },
    {"match": {"operation_id": "get_log"}, "action": {"type": "truncate", "fraction": 0.5}},
    {"match": {"operation_id": "post_pool"}, "action": {"type": "status", "status": 409}},
    {"match": {"method": "DELETE"}, "action": {"type": "status", "status": 500}},
    {"match": {"method": ["POST", "PATCH"], "path": "/api/v1/pools*"}, "action": {"type": "empty"}},
    {"match": {"path": "/api/v1/dags/*"}, "latency": {"fixed": 1}},
    {"match": {"tag": "DAGRun"}, "action": {"type": "malformed"}},
    {"match": {"user": "ci-bot"}, "action": {"type": "status", "status": 429, "retry_after": 5}},
]
MISSES = [{"id": f"miss-{i:02d}", **doc} for i, doc in enumerate(MISSES, 1)]
FIRING: list[dict[str, Any]] = [
    {"id": "pools-no-delay", "match": {"operation_id": "get_pools"}, "latency": {"fixed": 0}}
]

# key: (label, without the middleware, faults POSTed before measuring)
SERVERS: dict[str, tuple[str, bool, list[dict[str, Any]]]] = {
    "without": ("(1)  without the middleware", True, []),
    "without_again": ("(1') the same, 2nd process", True, []),
    "no_fault": ("(2)  shipped, no fault", False, []),
    "misses": ("(3)  10 faults, none match", False, MISSES),
    "firing": ("(4)  1 fault fires, fixed: 0", False, FIRING),
}
BASE = "without"


# -- 1. servers ---------------------------------------------------------------


@dataclass
class Sample:
    result: bench.LoadResult
    others: float | None  # cores used meanwhile by other processes (None: unknown)
    attempts: int


def busy_seconds() -> float | None:
    """CPU seconds the machine spent busy (user, nice, system, irq, softirq,
    steal), from /proc/stat; None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    return sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7)) / os.sysconf("SC_CLK_TCK")


def disturbed_load(
    key: str, url: str, pid: int, args: argparse.Namespace
) -> tuple[bench.LoadResult, float | None]:
    """bench.measure, and the cores other processes used meanwhile."""
    busy, server = busy_seconds(), bench.cpu_seconds(pid)
    client, wall = time.process_time(), time.perf_counter()
    result = bench.measure(key, "get_pools", url, pid, args)
    busy_after, server_after = busy_seconds(), bench.cpu_seconds(pid)
    client, wall = time.process_time() - client, time.perf_counter() - wall
    if busy is None or busy_after is None or server is None or server_after is None:
        return result, None
    return result, ((busy_after - busy) - (server_after - server) - client) / wall


def sample(key: str, url: str, pid: int, args: argparse.Namespace) -> Sample:
    """A load, repeated while other processes compete for the CPUs."""
    attempts = 1
    result, others = disturbed_load(key, url, pid, args)
    while others is not None and others > args.others and attempts <= args.retries:
        attempts += 1
        result, others = disturbed_load(key, url, pid, args)
    return Sample(result, others, attempts)


def cpus_to_pin(args: argparse.Namespace) -> tuple[int, int] | None:
    """A CPU for the load generator and one for the servers (Linux, 2+ CPUs):
    pinned, the loads of one server vary less."""
    if args.no_pin or not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


def pin(pid: int, cpu: int) -> None:
    """Every thread of process `pid` on `cpu` (threads it starts later inherit it)."""
    tasks = Path(f"/proc/{pid}/task")
    for tid in [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [pid]:
        os.sched_setaffinity(tid, {cpu})


def server_cmd(port: int, without: bool) -> list[str]:
    args = ["serve", "--scenario", "ci", "--port", str(port)]
    if without:
        return [sys.executable, "-c", WITHOUT_FAULTS, *args]
    return [sys.executable, "-m", "simulator", *args]


def control(port: int, method: str, body: Any = None) -> tuple[int, Any]:
    """A call to /_sim/faults (ci has no control token): status, JSON answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, "/_sim/faults", payload, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def add_faults(port: int, documents: list[dict[str, Any]]) -> None:
    if not documents:
        return
    status, answer = control(port, "POST", {"faults": documents})
    if status != 201 or answer["total_entries"] != len(documents):
        raise RuntimeError(f"POST /_sim/faults: {status} {answer}")


def fault_counts(port: int) -> dict[str, dict[str, int]]:
    """Per fault in force: how many requests it matched and how often it fired."""
    status, answer = control(port, "GET")
    assert status == 200, (status, answer)
    return {f["id"]: {"matched": f["matched"], "fired": f["fired"]} for f in answer["faults"]}


def server_figures(
    args: argparse.Namespace, workdir: Path, cpus: tuple[int, int] | None
) -> dict[str, Any]:
    rounds: dict[str, list[Sample]] = {key: [] for key in SERVERS}
    counts: dict[str, dict[str, dict[str, int]]] = {}
    if cpus is not None:
        pin(os.getpid(), cpus[0])
    with contextlib.ExitStack() as stack:
        servers = {}
        for key, (_, without, documents) in SERVERS.items():
            port = bench.free_port()
            log = workdir / f"{key}.log"
            proc = stack.enter_context(bench.serving(server_cmd(port, without), port, log))
            if cpus is not None:
                pin(proc.pid, cpus[1])
            add_faults(port, documents)
            servers[key] = (port, proc)
        settle = argparse.Namespace(**vars(args) | {"duration": args.settle})
        for key, (port, proc) in servers.items():  # each journal full (10,000) from round 1
            bench.measure(key, "settle", f"http://127.0.0.1:{port}{ENDPOINT}", proc.pid, settle)
        keys = list(SERVERS)
        for round_ in range(args.rounds):
            shift = round_ % len(keys)
            for key in keys[shift:] + keys[:shift]:
                port, proc = servers[key]
                url = f"http://127.0.0.1:{port}{ENDPOINT}"
                rounds[key].append(sample(key, url, proc.pid, args))
            print(f"  round {round_ + 1}/{args.rounds} done", flush=True)
        for key, (_, without, _) in SERVERS.items():
            if not without:
                counts[key] = fault_counts(servers[key][0])
    return summarize(rounds, counts, args.others)


def summarize(
    samples: dict[str, list[Sample]], counts: dict[str, dict[str, dict[str, int]]], limit: float
) -> dict[str, Any]:
    rounds = {key: [s.result for s in kept] for key, kept in samples.items()}
    base = rounds[BASE]
    figures: dict[str, Any] = {}
    for key, results in rounds.items():
        cpus = [r.server_cpu_us_per_request for r in results]
        known = [c for c in cpus if c is not None]
        cpu = statistics.median(known) if len(known) == len(cpus) else None
        rps = statistics.median(r.rps for r in results)
        figures[key] = {
            "label": SERVERS[key][0],
            "faults": len(SERVERS[key][2]),
            "server_cpu_us_per_request": cpu,
            "server_cpu_us_min": min(known, default=None),
            "server_cpu_us_max": max(known, default=None),
            "rps": rps,
            "all_200": all(set(r.statuses) == {"200"} for r in results),
            "disturbed": sum(s.others is not None and s.others > limit for s in samples[key]),
            "repeated": sum(s.attempts - 1 for s in samples[key]),
            "fault_counts": counts.get(key, {}),
            "rounds": [
                asdict(s.result) | {"others_cpu_share": s.others, "attempts": s.attempts}
                for s in samples[key]
            ],
        }
    base_cpu, base_rps = figures[BASE]["server_cpu_us_per_request"], figures[BASE]["rps"]
    for key, fig in figures.items():
        paired = [
            r.server_cpu_us_per_request / b.server_cpu_us_per_request
            for r, b in zip(rounds[key], base, strict=True)
            if r.server_cpu_us_per_request and b.server_cpu_us_per_request
        ]
        cpu = fig["server_cpu_us_per_request"]
        fig["cpu_ratio"] = cpu / base_cpu if cpu and base_cpu else None
        fig["cpu_ratio_paired"] = statistics.median(paired) if paired else None
        fig["rps_ratio"] = fig["rps"] / base_rps if base_rps else None
    return figures


def checks(figures: dict[str, Any]) -> list[str]:
    """What would make the figures meaningless: not all 200, or faults that
    matched (the misses) or did not fire on every request (the firing one)."""
    problems = [f"{fig['label']}: not all 200" for fig in figures.values() if not fig["all_200"]]
    for key, fig in figures.items():
        for fault_id, count in fig["fault_counts"].items():
            if key == "misses" and count["matched"]:
                problems.append(f"{fault_id} matched {count['matched']} requests")
            if key == "firing" and (not count["fired"] or count["fired"] != count["matched"]):
                problems.append(f"{fault_id} fired {count['fired']} of {count['matched']}")
    return problems


def print_servers(figures: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\nServers on ci, GET {ENDPOINT}, {args.concurrency} connections, {args.duration:g} s "
        f"after {args.warmup:g} s warm-up, median of {args.rounds} rounds:"
    )
    print(
        f"  {'server':<32}{'µs/req':>8}{'min-max':>12}{'req/s':>8}"
        f"{'CPU x(1)':>10}{'paired':>8}{'req/s x(1)':>12}{'repeated':>10}{'disturbed':>11}"
    )
    for fig in figures.values():
        spread = f"{bench.fmt(fig['server_cpu_us_min'], '.0f')}-"
        spread += bench.fmt(fig["server_cpu_us_max"], ".0f")
        print(
            f"  {fig['label']:<32}{bench.fmt(fig['server_cpu_us_per_request'], '.1f'):>8}"
            f"{spread:>12}{fig['rps']:>8.0f}{bench.fmt(fig['cpu_ratio'], '.3f'):>10}"
            f"{bench.fmt(fig['cpu_ratio_paired'], '.3f'):>8}"
            f"{bench.fmt(fig['rps_ratio'], '.3f'):>12}{fig['repeated']:>10}{fig['disturbed']:>11}"
        )
    floor = figures["without_again"]["cpu_ratio"]
    if floor is not None:
        print(f"  (1') / (1) = {floor:.3f}: two processes of the same code, in this run")
    for key in ("misses", "firing"):
        fired = sum(c["fired"] for c in figures[key]["fault_counts"].values())
        matched = sum(c["matched"] for c in figures[key]["fault_counts"].values())
        print(f"  {figures[key]['label'].strip()}: {matched} matches, {fired} firings in all")


# -- 2. in-process --------------------------------------------------------------


def middleware_us(loops: int) -> dict[str, float]:
    """Per call, in µs: the handler alone, then what the middleware adds to it."""
    from functools import partial

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from simulator.config import Settings
    from simulator.server.app import create_app
    from simulator.server.keys import SIM

    app = create_app(Settings(scenario="ci"))
    (middleware,) = (m for m in app.middlewares if getattr(m, "__name__", None) == MIDDLEWARE)
    answer = web.Response(body=b"{}")

    async def handler(request: web.Request) -> web.StreamResponse:
        return answer

    async def best(call: Callable[[web.Request], Awaitable[Any]], request: web.Request) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(loops):
                await call(request)
            times.append(time.perf_counter() - start)
        return min(times) / loops * 1e6

    async def measure() -> dict[str, float]:
        request = make_mocked_request("GET", ENDPOINT, headers=bench.AUTH, app=app)
        match_info = await app.router.resolve(request)  # as Application._handle does
        match_info.add_app(app)
        request._match_info = match_info
        assert request.match_info.route.name == "get_pools"
        faults = app[SIM].faults
        figures = {"handler alone": await best(handler, request)}
        for label, documents in (("no fault", []), ("10 misses", MISSES), ("1 firing", FIRING)):
            faults.clear()
            faults.add_all(documents)
            chain = partial(middleware, handler=handler)  # as aiohttp chains middlewares
            through = await best(chain, request)
            figures[label] = through - figures["handler alone"]
        faults.clear()
        return figures

    return asyncio.run(measure())


def print_in_process(figures: dict[str, float], base_us: float | None) -> None:
    print("\nIn-process, per call (best of 5 loops), and as a share of (1)'s server CPU:")
    alone = figures["handler alone"]
    print(f"  {'handler alone':<32}{alone:>8.2f} µs")
    for label, us in figures.items():
        if label != "handler alone":
            share = f"{us / base_us:>+9.2%}" if base_us else ""
            print(f"  {'middleware, ' + label:<32}{us:>+8.2f} µs{share}")


# -- report ---------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="benchmark the HTTP fault middleware")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per load")
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--settle", type=float, default=1.5, help="unmeasured load per server first (s)"
    )
    parser.add_argument("--rounds", type=int, default=6, help="loads per server, median kept")
    parser.add_argument(
        "--others", type=float, default=0.1, help="cores other processes may use during a load"
    )
    parser.add_argument("--retries", type=int, default=1, help="repeats of a disturbed load")
    parser.add_argument("--no-pin", action="store_true", help="leave processes unpinned")
    parser.add_argument("--loops", type=int, default=20_000, help="calls per in-process loop")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    report: dict[str, Any] = {"machine": bench.machine(), "settings": vars(args) | {"output": None}}
    print(f"machine: {report['machine']}")
    busy = report["machine"]["load_average_1min_before"]
    if busy is not None and busy > 0.5:
        print(f"WARNING: 1-minute load average {busy:.2f}: other processes compete for the CPUs;")
        print("         the server figures will be noisy.")
    cpus = cpus_to_pin(args)
    report["pinned"] = None if cpus is None else {"load_generator": cpus[0], "servers": cpus[1]}
    print(f"pinned to CPUs: {report['pinned']}")
    with tempfile.TemporaryDirectory(prefix="airflow-sim-bench-") as workdir:
        report["servers"] = server_figures(args, Path(workdir), cpus)
    print_servers(report["servers"], args)
    report["problems"] = checks(report["servers"])
    for problem in report["problems"]:
        print(f"  NOT MEANINGFUL: {problem}")
    report["middleware_us"] = middleware_us(args.loops)
    base_us = report["servers"][BASE]["server_cpu_us_per_request"]
    print_in_process(report["middleware_us"], base_us)
    report["machine"]["load_average_1min_after"] = bench.load_average()
    ratio = report["servers"]["no_fault"]["cpu_ratio"]
    own = report["middleware_us"]["no fault"] / base_us if base_us else None
    report["targets"] = {
        f"no fault, servers: (2) CPU per request < {1 + TARGET_OVERHEAD:g} x (1)": (
            not report["problems"] and ratio is not None and ratio < 1 + TARGET_OVERHEAD
        ),
        f"no fault, in-process: the middleware's cost < {TARGET_OVERHEAD:.0%} of (1)'s": (
            own is not None and own < TARGET_OVERHEAD
        ),
    }
    return bench.print_targets_and_write(report, args.output, args.check)


if __name__ == "__main__":
    sys.exit(main())
