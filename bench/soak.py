"""A soak: the `demo` world served in real time at 3,600x (a virtual hour a
second) for ten minutes under a mixed client load, with retention on.

    .venv/bin/python bench/soak.py [--duration 600] [--speed 3600] [--retention-days 2]
                                   [--concurrency 16] [--output PATH] [--check]

The server is `python -m simulator serve --scenario demo --clock realtime
--speed S --port N --retention-days D` in its own process (its stdout and
stderr to one log). The load generator, an aiohttp client in this process,
keeps --concurrency connections busy with a weighted mix (WEIGHTS): lists of
DAGs, runs and task instances with paging (random pages of what the last
answer counted), single runs, log reads of tries seen in earlier answers, the
task instance batch (POST .../taskInstances/list, one DAG), triggers (POST
/dags/{id}/dagRuns), clears (POST .../clear and clearTaskInstances), event
logs and dataset events; admin:admin basic auth. Runs and tries are learnt
from the answers, so reads aim at what exists (a run retention dropped since
answers 404: counted, not an error).

The server's RSS (VmRSS of /proc/<pid>/status) is sampled every --sample s;
the world's size (runs, task instances, event log rows) and the virtual
clock are read at the start, every minute and at the end.

Targets (--check: exit 1 when one is missed):
- no 5xx answer and no failed connection;
- no error or traceback in the server's log;
- the RSS over the second half (minutes 5 to 10) within 10% of its level
  half-way: the level is the median of 30 s of samples (around minute 5,
  and each 30 s from there on), so that a transient (a batch answer built
  and freed) does not count as growth; the single samples' range is
  reported beside it.

A retention of 2 virtual days (the scenario's is 30) reaches its plateau in
the first minute at 3,600x; with --retention-days 0 the scenario's own
applies (30 days: the plateau after 12 wall minutes at 3,600x). Prints a
table and writes every figure to bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import run as bench  # bench/run.py: servers, ports, machine facts, the report's tail

RESULTS = bench.BENCH / "results" / "soak.json"
API = "/api/v1"
RSS_TOLERANCE = 0.10  # second half's RSS within this share of the half-way level
LEVEL_WINDOW = 30.0  # seconds of samples whose median is the RSS's level
PROGRESS_EVERY = 60.0  # seconds between progress lines
LOG_ERRORS = re.compile(r"Traceback|Error|ERROR|Exception|CRITICAL")
PAGE = 25  # rows per list page the clients ask for
SEEN = 400  # runs and tries remembered for later reads
# Request kinds and their share of the load.
WEIGHTS = {
    "dags": 8,
    "dag_runs": 14,
    "dag_runs_all": 6,
    "dag_run": 8,
    "task_instances": 12,
    "task_instances_all": 6,
    "log": 14,
    "ti_batch": 3,
    "trigger": 4,
    "clear_run": 2,
    "clear_tis": 3,
    "event_logs": 5,
    "dataset_events": 3,
}


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


@dataclass
class Known:
    """What the answers showed: DAGs, runs and tries to aim the next requests at."""

    dags: list[str] = field(default_factory=list)  # unpaused DAG ids
    runs: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=SEEN))
    tries: deque[tuple[str, str, str, int, int]] = field(default_factory=lambda: deque(maxlen=SEEN))
    totals: dict[str, int] = field(default_factory=dict)  # kind -> last total_entries

    def learn(self, kind: str, body: Any) -> None:
        if not isinstance(body, dict):
            return
        if "total_entries" in body:
            self.totals[kind] = int(body["total_entries"])
        if kind == "dags":
            self.dags = [d["dag_id"] for d in body["dags"] if not d["is_paused"]] or self.dags
        for run in body.get("dag_runs", ()):
            self.runs.append((run["dag_id"], run["dag_run_id"]))
        if kind == "trigger":
            self.runs.append((body["dag_id"], body["dag_run_id"]))
        for ti in body.get("task_instances", ()):
            if ti.get("try_number"):  # clears answer references, without it
                key = (ti["dag_id"], ti["dag_run_id"], ti["task_id"], ti["map_index"])
                self.tries.append((*key, ti["try_number"]))


class Load:
    def __init__(self, session: aiohttp.ClientSession, base: str, seed: int) -> None:
        self.session, self.base = session, base
        self.known = Known()
        self.stats: dict[str, Stats] = {kind: Stats() for kind in WEIGHTS}
        self.random = random.Random(seed)

    async def call(self, kind: str, method: str, path: str, body: Any = None) -> Any:
        start = time.perf_counter()
        try:
            async with self.session.request(
                method, self.base + path, json=body, headers=bench.AUTH
            ) as resp:
                raw = await resp.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.stats[kind].statuses[type(exc).__name__] += 1
            return None
        stats = self.stats[kind]
        stats.latencies.append(time.perf_counter() - start)
        stats.statuses[str(resp.status)] += 1
        if resp.status != 200 or not raw:
            return None
        answer = _json(raw)
        self.known.learn(kind, answer)
        return answer

    def offset(self, kind: str) -> int:
        """A random page start within what the last answer of `kind` counted."""
        total = self.known.totals.get(kind, 0)
        return self.random.randrange(max(1, total)) // PAGE * PAGE

    def dag(self) -> str:
        return self.random.choice(self.known.dags)

    async def one(self) -> None:
        kind = self.random.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        known = self.known
        if not known.dags or (kind == "log" and not known.tries):
            kind = "dags"
        elif kind in ("dag_run", "task_instances", "clear_run", "clear_tis") and not known.runs:
            kind = "dag_runs"
        await getattr(self, "_" + kind)(kind)

    async def _dags(self, kind: str) -> None:
        await self.call(kind, "GET", f"{API}/dags?limit=100")

    async def _dag_runs(self, kind: str) -> None:
        query = f"order_by=-execution_date&limit={PAGE}&offset={self.offset(kind)}"
        await self.call(kind, "GET", f"{API}/dags/{self.dag()}/dagRuns?{query}")

    async def _dag_runs_all(self, kind: str) -> None:
        query = f"limit={PAGE}&offset={self.offset(kind)}"
        await self.call(kind, "GET", f"{API}/dags/~/dagRuns?{query}")

    async def _dag_run(self, kind: str) -> None:
        dag_id, run_id = self.random.choice(self.known.runs)
        await self.call(kind, "GET", f"{API}/dags/{dag_id}/dagRuns/{run_id}")

    async def _task_instances(self, kind: str) -> None:
        dag_id, run_id = self.random.choice(self.known.runs)
        await self.call(kind, "GET", f"{API}/dags/{dag_id}/dagRuns/{run_id}/taskInstances")

    async def _task_instances_all(self, kind: str) -> None:
        path = f"{API}/dags/~/dagRuns/~/taskInstances?limit={PAGE}&offset={self.offset(kind)}"
        await self.call(kind, "GET", path)

    async def _log(self, kind: str) -> None:
        dag_id, run_id, task_id, map_index, tries = self.random.choice(self.known.tries)
        number = self.random.randint(1, tries)
        path = f"{API}/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{number}"
        await self.call(kind, "GET", path + ("" if map_index < 0 else f"?map_index={map_index}"))

    async def _ti_batch(self, kind: str) -> None:
        body = {"dag_ids": [self.dag()]}
        await self.call(kind, "POST", f"{API}/dags/~/dagRuns/~/taskInstances/list", body)

    async def _trigger(self, kind: str) -> None:
        await self.call(kind, "POST", f"{API}/dags/{self.dag()}/dagRuns", {})

    async def _clear_run(self, kind: str) -> None:
        dag_id, run_id = self.random.choice(self.known.runs)
        path = f"{API}/dags/{dag_id}/dagRuns/{run_id}/clear"
        await self.call(kind, "POST", path, {"dry_run": False})

    async def _clear_tis(self, kind: str) -> None:
        dag_id, run_id = self.random.choice(self.known.runs)
        body = {"dry_run": False, "dag_run_id": run_id, "only_failed": True}
        await self.call(kind, "POST", f"{API}/dags/{dag_id}/clearTaskInstances", body)

    async def _event_logs(self, kind: str) -> None:
        await self.call(kind, "GET", f"{API}/eventLogs?order_by=-event_log_id&limit={PAGE}")

    async def _dataset_events(self, kind: str) -> None:
        query = f"order_by=-timestamp&limit={PAGE}&offset={self.offset(kind)}"
        await self.call(kind, "GET", f"{API}/datasets/events?{query}")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


# -- the server's side ----------------------------------------------------------


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


async def world_size(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    """The virtual now and the world's size, as the API counts it."""
    found: dict[str, Any] = {}
    async with session.get(base + "/_sim/health") as resp:
        found["now"] = (await resp.json())["now"]
    lists = {
        "dag_runs": f"{API}/dags/~/dagRuns?limit=1",
        "task_instances": f"{API}/dags/~/dagRuns/~/taskInstances?limit=1",
        "event_logs": f"{API}/eventLogs?limit=1",
        "dataset_events": f"{API}/datasets/events?limit=1",
    }
    for name, path in lists.items():
        async with session.get(base + path, headers=bench.AUTH) as resp:
            found[name] = (await resp.json())["total_entries"]
    return found


async def sample_rss(pid: int, every: float, began: float, into: list[tuple[float, int]]) -> None:
    while True:
        kb = rss_kb(pid)
        if kb is not None:
            into.append((time.perf_counter() - began, kb))
        await asyncio.sleep(every)


async def progress(session: aiohttp.ClientSession, base: str, load: Load, pid: int,
                   began: float, into: list[dict[str, Any]]) -> None:  # fmt: skip
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        size = await world_size(session, base)
        size |= {"t_s": round(time.perf_counter() - began), "rss_mb": (rss_kb(pid) or 0) / 1024}
        size["requests"] = sum(len(s.latencies) for s in load.stats.values())
        into.append(size)
        line = (f"  {size['t_s']:>5} s  now {size['now']}  RSS {size['rss_mb']:.0f} MB  "
                f"runs {size['dag_runs']}  TIs {size['task_instances']}  "
                f"event logs {size['event_logs']}  requests {size['requests']}")  # fmt: skip
        print(line, flush=True)


async def soak(port: int, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=args.concurrency + 2)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:  # fmt: skip
        before = await world_size(session, base)
        load = Load(session, base, args.seed)
        rss: list[tuple[float, int]] = []
        timeline: list[dict[str, Any]] = []
        began = time.perf_counter()
        stop_at = began + args.duration
        helpers = [
            asyncio.create_task(sample_rss(pid, args.sample, began, rss)),
            asyncio.create_task(progress(session, base, load, pid, began, timeline)),
        ]

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                await load.one()

        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        wall = time.perf_counter() - began
        for helper in helpers:
            helper.cancel()
        after = await world_size(session, base)
    return summarize(load, rss, timeline, before, after, wall, args)


# -- the report -----------------------------------------------------------------


def summarize(load: Load, rss: list[tuple[float, int]], timeline: list[dict[str, Any]],
              before: dict[str, Any], after: dict[str, Any], wall: float,
              args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    kinds: dict[str, Any] = {}
    statuses: Counter[str] = Counter()
    for kind, stats in load.stats.items():
        statuses.update(stats.statuses)
        kinds[kind] = {"requests": len(stats.latencies), "statuses": dict(stats.statuses)}
        if len(stats.latencies) >= 2:
            cuts = statistics.quantiles(stats.latencies, n=100, method="inclusive")
            kinds[kind] |= {"p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000}
    requests = sum(k["requests"] for k in kinds.values())
    days = (_instant(after["now"]) - _instant(before["now"])).total_seconds() / 86400
    return {
        "wall_s": wall,
        "requests": requests,
        "rps": requests / wall,
        "statuses": dict(sorted(statuses.items())),
        "kinds": kinds,
        "virtual_days": days,
        "world_before": before,
        "world_after": after,
        "timeline": timeline,
        "rss": rss_figures(rss, args.duration),
    }


def rss_figures(samples: list[tuple[float, int]], duration: float) -> dict[str, Any]:
    """The RSS's level (the median of LEVEL_WINDOW s of samples) half-way, and
    how far each LEVEL_WINDOW of the second half strays from it; the single
    samples' range too (transients: a batch answer built and freed)."""
    half = duration / 2
    level = _median([kb for t, kb in samples if abs(t - half) <= LEVEL_WINDOW / 2])
    later = [kb for t, kb in samples if t >= half]
    windows = [
        _median([kb for t, kb in samples if start <= t < start + LEVEL_WINDOW])
        for start in _steps(half, duration, LEVEL_WINDOW)
    ]
    levels = [kb for kb in windows if kb is not None]
    return {
        "samples": len(samples),
        "start_mb": samples[0][1] / 1024 if samples else None,
        "half_mb": level / 1024 if level else None,
        "end_mb": samples[-1][1] / 1024 if samples else None,
        "peak_mb": max(kb for _, kb in samples) / 1024 if samples else None,
        "second_half_levels_mb": [round(kb / 1024, 1) for kb in levels],
        "second_half_max_deviation": _deviation(levels, level),
        "second_half_min_mb": min(later) / 1024 if later else None,
        "second_half_max_mb": max(later) / 1024 if later else None,
        "second_half_sample_max_deviation": _deviation(later, level),
        "series": [[round(t, 1), kb] for t, kb in samples],
    }


def _median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None


def _steps(start: float, stop: float, step: float) -> list[float]:
    return [start + i * step for i in range(int((stop - start) // step))]


def _deviation(values: list[float] | list[int], level: float | None) -> float | None:
    return max(abs(v - level) / level for v in values) if level and values else None


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def log_problems(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if LOG_ERRORS.search(line)]


def targets(report: dict[str, Any]) -> dict[str, bool]:
    statuses = report["soak"]["statuses"]
    failed = sum(n for status, n in statuses.items() if not status.isdigit() or int(status) >= 500)
    deviation = report["soak"]["rss"]["second_half_max_deviation"]
    rss = f"RSS over the second half within {RSS_TOLERANCE:.0%} of its half-way level (30 s)"
    return {
        "no 5xx answer and no failed connection": failed == 0,
        "no error or traceback in the server's log": not report["log_problems"],
        rss: deviation is not None and deviation <= RSS_TOLERANCE,
    }


def print_report(report: dict[str, Any]) -> None:
    soak = report["soak"]
    print(f"\n{soak['requests']} requests in {soak['wall_s']:.0f} s: {soak['rps']:.0f} req/s, "
          f"{soak['virtual_days']:.1f} virtual days; statuses {soak['statuses']}")  # fmt: skip
    print(f"  {'kind':<20} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for kind, figures in soak["kinds"].items():
        p50, p99 = figures.get("p50_ms"), figures.get("p99_ms")
        print(f"  {kind:<20} {figures['requests']:>8} {bench.fmt(p50, '>8.1f')} "
              f"{bench.fmt(p99, '>8.1f')}  {figures['statuses']}")  # fmt: skip
    rss = soak["rss"]
    print(f"\nRSS: start {bench.fmt(rss['start_mb'], '.0f')} MB, half-way "
          f"{bench.fmt(rss['half_mb'], '.0f')} MB, end {bench.fmt(rss['end_mb'], '.0f')} MB, "
          f"peak {bench.fmt(rss['peak_mb'], '.0f')} MB; second half "
          f"{bench.fmt(rss['second_half_min_mb'], '.0f')} to "
          f"{bench.fmt(rss['second_half_max_mb'], '.0f')} MB (samples at most "
          f"{bench.fmt((rss['second_half_sample_max_deviation'] or 0) * 100, '.1f')}% off, "
          f"30 s levels at most "
          f"{bench.fmt((rss['second_half_max_deviation'] or 0) * 100, '.1f')}% off: "
          f"{rss['second_half_levels_mb']} MB)")  # fmt: skip
    for name in ("world_before", "world_after"):
        print(f"{name.replace('_', ' ')}: {soak[name]}")
    for line in report["log_problems"][:10]:
        print(f"  server log: {line}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="soak the simulator in real time")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--speed", type=float, default=3600.0, help="virtual seconds a second")
    parser.add_argument("--scenario", default="demo")
    parser.add_argument("--retention-days", type=int, default=2,
                        help="the server's --retention-days (0: the scenario's own)")  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sample", type=float, default=2.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=0, help="of the client's choices")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def server_cmd(port: int, args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "simulator", "serve", "--scenario", args.scenario,
           "--clock", "realtime", "--speed", f"{args.speed:g}", "--port", str(port)]  # fmt: skip
    if args.retention_days:
        cmd += ["--retention-days", str(args.retention_days)]
    return cmd


def main() -> int:
    args = parse_args()
    report: dict[str, Any] = {"machine": bench.machine(), "settings": vars(args) | {"output": None}}
    print(f"machine: {report['machine']}")
    with tempfile.TemporaryDirectory(prefix="airflow-sim-soak-") as workdir:
        log, port = Path(workdir) / "server.log", bench.free_port()
        cmd = server_cmd(port, args)
        report["server"] = " ".join(cmd[1:])
        print(f"serving: {report['server']}; {args.duration:g} s of load", flush=True)
        with bench.serving(cmd, port, log) as proc:
            report["soak"] = asyncio.run(soak(port, proc.pid, args))
        report["log_problems"] = log_problems(log)
    report["machine"]["load_average_1min_after"] = bench.load_average()
    print_report(report)
    report["targets"] = targets(report)
    return bench.print_targets_and_write(report, args.output, args.check)


if __name__ == "__main__":
    sys.exit(main())
