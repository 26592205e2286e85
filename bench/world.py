"""Queries that cost the page, not the world (issue 10, part 1).

    .venv/bin/python bench/world.py [--scenarios large ci] [--large NAME] [--duration 3]
                                    [--warmup 0.5] [--concurrency 16] [--timeout 60]
                                    [--output PATH] [--check]

Two servers, `python -m simulator serve --scenario NAME --clock frozen` (no
AIRFLOW_SIM_* variables: the scenario's own settings, basic auth), one on the
big world (`large`: 1,000 DAGs, ~545,000 task instances) and one on a tiny one
(`ci`), both up for the whole run. The ids, filters and dates of the queries
are chosen per world by querying it once it serves (deterministically, see
`choose`). Then each query loads both servers in turn (16 keep-alive
connections, `--duration` seconds after a warm-up): req/s on each, their
ratio, latency and body size on the big one. Last, the big server's resident
memory (VmRSS) per task instance it serves.

Prints the choices and a table; writes every figure to bench/results/world.json.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import run as bench  # bench/run.py: processes, CPU, machine, LoadResult, report helpers

RESULTS = bench.BENCH / "results" / "world.json"
DEFAULT_SCENARIOS = ["large", "ci"]
READY_TIMEOUT = 600.0  # seconds; `large` takes ~25 s, a guard against a hung start
CHOICE_TIMEOUT = 600.0  # seconds for one request while choosing (a slow page is fine)
TAG_SHARE = 0.20  # the tag chosen matches the share of DAGs nearest to this
PATTERN_SHARE = 0.05  # likewise for dag_id_pattern (a search box: a few percent)
FINISHED = ("success", "failed")
FEW = 5  # fewer measured requests than this: the figure is flagged as rough
TARGET_BYTES_PER_TI = 1024
MEMORY_WORLD = "large"  # the memory target is checked on this world only
Choices = dict[str, Any]


# -- queries -------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    build: Callable[[Choices], tuple[str, Any]]  # choices -> (path with query, POST body)
    min_rps: float
    min_ratio: float | None = None  # req/s on the big world over req/s on the small one
    accept_json: bool = False  # send `Accept: application/json` (get_log)

    def target(self) -> str:
        ratio = f", ratio >= {self.min_ratio:g}" if self.min_ratio else ""
        return f">= {self.min_rps:,.0f}{ratio}"


def q(path: str, **params: Any) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def seg(value: str) -> str:
    """A path segment: run ids hold `+` and `:`."""
    return quote(value, safe="")


def one_ti(c: Choices) -> str:
    one = c["instance"]
    return (
        f"/api/v1/dags/{seg(one['dag_id'])}/dagRuns/{seg(one['dag_run_id'])}"
        f"/taskInstances/{seg(one['task_id'])}"
    )


RUNS = "/api/v1/dags/~/dagRuns"
TIS = "/api/v1/dags/~/dagRuns/~/taskInstances"
PAGE = 250.0  # req/s, a page of runs, task instances, event logs, XComs
PAGE_RATIO = 0.33
QUERIES = [
    Query("dags limit=100", lambda c: (q("/api/v1/dags", limit=100), None), 1000),
    Query("dags offset=900", lambda c: (q("/api/v1/dags", limit=100, offset=900), None), 1000),
    Query("dags tags=", lambda c: (q("/api/v1/dags", limit=100, tags=c["tag"]), None), 500),
    Query(
        "dags dag_id_pattern=",
        lambda c: (q("/api/v1/dags", limit=100, dag_id_pattern=c["pattern"]), None),
        500,
    ),
    Query(
        "runs of a DAG, 25, -date",
        lambda c: (
            q(
                f"/api/v1/dags/{seg(c['busiest_dag'])}/dagRuns",
                limit=25,
                order_by="-execution_date",
            ),
            None,
        ),
        PAGE,
        PAGE_RATIO,
    ),
    Query("runs ~ limit=100", lambda c: (q(RUNS, limit=100), None), PAGE, PAGE_RATIO),
    Query(
        "runs ~ state+1 day",
        lambda c: (
            q(
                RUNS,
                limit=100,
                state=c["run_state"],
                execution_date_gte=c["day"][0],
                execution_date_lte=c["day"][1],
            ),
            None,
        ),
        PAGE,
        PAGE_RATIO,
    ),
    Query("TIs ~ limit=100", lambda c: (q(TIS, limit=100), None), PAGE, PAGE_RATIO),
    Query(
        "TIs ~ state=",
        lambda c: (q(TIS, limit=100, state=c["ti_state"]), None),
        PAGE,
        PAGE_RATIO,
    ),
    Query("TI batch (list)", lambda c: (f"{TIS}/list", c["batch"]), PAGE, PAGE_RATIO),
    Query(
        "eventLogs -when",
        lambda c: (q("/api/v1/eventLogs", limit=100, order_by="-when"), None),
        PAGE,
        PAGE_RATIO,
    ),
    Query(
        "xcomEntries ~",
        lambda c: (q(f"{TIS}/~/xcomEntries", limit=100), None),
        PAGE,
        PAGE_RATIO,
    ),
    Query("get_task_instance", lambda c: (one_ti(c), None), 2000),
    Query(
        "get_log (JSON)",
        lambda c: (f"{one_ti(c)}/logs/{c['instance']['try']}", None),
        2000,
        accept_json=True,
    ),
    Query(
        "get_dag_run",
        lambda c: (
            f"/api/v1/dags/{seg(c['instance']['dag_id'])}/dagRuns/"
            f"{seg(c['instance']['dag_run_id'])}",
            None,
        ),
        2000,
    ),
]


# -- servers -------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path


def start_servers(names: list[str], workdir: Path) -> list[Server]:
    """Launch every server at once, then wait for each to serve."""
    servers: list[Server] = []
    for name in names:
        port = bench.free_port()
        while any(port == s.port for s in servers):
            port = bench.free_port()
        log = workdir / f"{name}.log"
        cmd = [
            sys.executable,
            "-m",
            "simulator",
            "serve",
            "--scenario",
            name,
            "--clock",
            "frozen",
            "--port",
            str(port),
        ]
        servers.append(Server(name, port, bench.launch(cmd, log), log))
    for server in servers:
        start = time.perf_counter()
        try:
            bench.wait_healthy(server.proc, server.port, timeout=READY_TIMEOUT)
        except RuntimeError:
            for other in servers:
                bench.stop(other.proc)
            sys.stderr.write(server.log.read_text(errors="replace")[-3000:])
            raise
        print(
            f"  {server.name}: serving on port {server.port} "
            f"(ready {time.perf_counter() - start:.1f} s after the wait began)",
            flush=True,
        )
    return servers


def vm_status(pid: int) -> dict[str, int | None]:
    """VmRSS and VmHWM from /proc/PID/status, in bytes; None off Linux."""
    found: dict[str, int | None] = {"VmRSS": None, "VmHWM": None}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        key, _, value = line.partition(":")
        if key in found:
            found[key] = int(value.split()[0]) * 1024
    return found


# -- choosing ids, filters and dates per world ----------------------------------


class Client:
    """One keep-alive connection for the queries that choose."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CHOICE_TIMEOUT)

    def call(self, path: str, body: Any = None) -> Any:
        headers = dict(bench.AUTH)
        if body is not None:
            headers["Content-Type"] = "application/json"
        method = "GET" if body is None else "POST"
        self.conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = self.conn.getresponse()
        raw = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
        return json.loads(raw)

    def total(self, path: str, **params: Any) -> int:
        return int(self.call(q(path, limit=1, **params))["total_entries"])

    def close(self) -> None:
        self.conn.close()


def all_dags(client: Client) -> list[dict[str, Any]]:
    dags: list[dict[str, Any]] = []
    while True:
        page = client.call(q("/api/v1/dags", limit=100, offset=len(dags)))
        dags += page["dags"]
        if not page["dags"] or len(dags) >= page["total_entries"]:
            return dags


def parse_date(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def nearest_share(candidates: dict[str, float], share: float) -> str | None:
    """The candidate whose share is nearest to `share`; ties by name."""
    if not candidates:
        return None
    return min(sorted(candidates), key=lambda k: abs(candidates[k] - share))


def preferred_state(counts: Counter[str], preferred: str) -> str | None:
    """`preferred` if the world has it, else its most common state (ties by name)."""
    if counts.get(preferred):
        return preferred
    known = sorted((-n, state) for state, n in counts.items() if state)
    return known[0][1] if known else None


def survey(client: Client) -> dict[str, Any]:
    """What the shared choices (tag, pattern) need from one world."""
    dags = all_dags(client)
    ids = [d["dag_id"] for d in dags]
    tags = Counter(t["name"] for d in dags for t in d["tags"] or [])
    words = {w for dag_id in ids for w in dag_id.split("_") if len(w) >= 3}
    return {"dag_ids": ids, "tags": tags, "words": words}


def shared_filters(surveys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A tag and a dag_id_pattern (a word of the dag_ids, 3 letters or more) that
    every world has, whose share of DAGs on the first (big) world is nearest
    TAG_SHARE / PATTERN_SHARE; a world without a common one gets its own (noted)."""
    common_tags = set.intersection(*(set(s["tags"]) for s in surveys))
    common_words = {
        w
        for w in set.union(*(s["words"] for s in surveys))
        if all(any(w in dag_id for dag_id in s["dag_ids"]) for s in surveys)
    }

    def tag_share(s: dict[str, Any], tag: str) -> float:
        return s["tags"][tag] / max(len(s["dag_ids"]), 1)

    def word_share(s: dict[str, Any], word: str) -> float:
        return sum(word in dag_id for dag_id in s["dag_ids"]) / max(len(s["dag_ids"]), 1)

    out = []
    for s in surveys:
        tag_ref, tags = (surveys[0], common_tags) if common_tags else (s, set(s["tags"]))
        word_ref, words = (surveys[0], common_words) if common_words else (s, s["words"])
        tag = nearest_share({t: tag_share(tag_ref, t) for t in tags}, TAG_SHARE)
        pattern = nearest_share({w: word_share(word_ref, w) for w in words}, PATTERN_SHARE)
        if tag is None or pattern is None:
            raise RuntimeError("a world without a tag or a dag_id to filter on")
        out.append(
            {
                "dags": len(s["dag_ids"]),
                "tag": tag,
                "tag_matches": s["tags"][tag],
                "tag_note": "common to all worlds" if common_tags else "this world's own",
                "pattern": pattern,
                "pattern_matches": sum(pattern in dag_id for dag_id in s["dag_ids"]),
                "pattern_note": "common to all worlds" if common_words else "this world's own",
            }
        )
    return out


def choose(client: Client, dag_ids: list[str]) -> Choices:
    """The ids, states and dates of one world's queries, from the world itself."""
    c: Choices = {}
    # The DAG with the most runs (ties: the first dag_id in sorted order).
    runs = {d: client.total(f"/api/v1/dags/{seg(d)}/dagRuns") for d in sorted(dag_ids)}
    busiest = max(sorted(runs), key=lambda d: runs[d])
    c["busiest_dag"], c["busiest_dag_runs"] = busiest, runs[busiest]
    c["runs"] = sum(runs.values())

    # A day in the middle of the runs' history: midnight of the midpoint between
    # the first and the last execution dates, to the next midnight.
    first = client.call(q(RUNS, limit=1, order_by="execution_date"))["dag_runs"]
    last = client.call(q(RUNS, limit=1, order_by="-execution_date"))["dag_runs"]
    if not first:
        raise RuntimeError("the world has no DAG runs")
    start, end = parse_date(first[0]["execution_date"]), parse_date(last[0]["execution_date"])
    middle = (start + (end - start) / 2).replace(hour=0, minute=0, second=0, microsecond=0)
    c["history"] = [iso(start), iso(end)]
    c["day"] = [iso(middle), iso(middle + timedelta(days=1))]
    window = {"execution_date_gte": c["day"][0], "execution_date_lte": c["day"][1]}
    day_runs = client.call(q(RUNS, limit=100, order_by="execution_date", **window))
    c["day_runs"] = day_runs["total_entries"]
    states = Counter(
        {
            s: client.total(RUNS, state=s, **window)
            for s in ("success", "failed", "running", "queued")
        }
    )
    c["run_state"] = preferred_state(states, "success")
    c["run_state_matches"] = states[c["run_state"]] if c["run_state"] else 0

    # Task instances: `running` if the world has any, else its most common state
    # on the first page.
    c["task_instances"] = client.total(TIS)
    running = client.total(TIS, state="running")
    if running:
        c["ti_state"], c["ti_state_matches"] = "running", running
    else:
        page = client.call(q(TIS, limit=100))["task_instances"]
        c["ti_state"] = preferred_state(Counter(t["state"] for t in page), "running")
        c["ti_state_matches"] = client.total(TIS, state=c["ti_state"]) if c["ti_state"] else 0

    c["batch"], c["batch_matches"] = choose_batch(client, day_runs["dag_runs"])
    c["instance"] = choose_instance(client, busiest)
    return c


def choose_batch(client: Client, day_runs: list[dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """2 dag_ids, a state and a 1-hour window that match task instances: the
    first hour of the day (in order) where 2 DAGs (in sorted order, among the
    first 10) have task instances in one state, `success` preferred."""
    hours: dict[datetime, set[str]] = {}
    for run in day_runs:
        hour = parse_date(run["execution_date"]).replace(minute=0, second=0, microsecond=0)
        hours.setdefault(hour, set()).add(run["dag_id"])
    for hour in sorted(hours):
        dags = sorted(hours[hour])[:10]
        if len(dags) < 2:
            continue
        window = {
            "execution_date_gte": iso(hour),
            "execution_date_lte": iso(hour + timedelta(hours=1)),
        }
        rows = client.call(f"{TIS}/list", {"dag_ids": dags, **window})["task_instances"]
        by_state: dict[str, set[str]] = {}
        for row in rows:
            if row["state"]:
                by_state.setdefault(row["state"], set()).add(row["dag_id"])
        counts = Counter({s: len(d) for s, d in by_state.items() if len(d) >= 2})
        state = preferred_state(counts, "success")
        if state is None:
            continue
        body = {"dag_ids": sorted(by_state[state])[:2], "state": [state], **window}
        matches = client.call(f"{TIS}/list", body)["total_entries"]
        if matches:
            return body, matches
    raise RuntimeError("no hour of the chosen day where 2 DAGs have task instances in one state")


def choose_instance(client: Client, dag_id: str) -> dict[str, Any]:
    """A real task instance of a finished run: the busiest DAG's latest run in
    `success` or `failed` (else its latest run), and that run's first task in
    task_id order that is not mapped, `success` with a try preferred."""
    runs = client.call(
        q(f"/api/v1/dags/{seg(dag_id)}/dagRuns", limit=100, order_by="-execution_date")
    )["dag_runs"]
    finished = [r for r in runs if r["state"] in FINISHED]
    run = (finished or runs)[0]
    path = f"/api/v1/dags/{seg(dag_id)}/dagRuns/{seg(run['dag_run_id'])}/taskInstances"
    tis = [t for t in client.call(q(path, limit=100))["task_instances"] if t["map_index"] == -1]
    if not tis:
        raise RuntimeError(f"{dag_id} {run['dag_run_id']}: no unmapped task instance")
    tis.sort(key=lambda t: (not (t["state"] == "success" and t["try_number"] >= 1), t["task_id"]))
    ti = tis[0]
    return {
        "dag_id": dag_id,
        "dag_run_id": run["dag_run_id"],
        "run_state": run["state"],
        "run_finished": run["state"] in FINISHED,
        "task_id": ti["task_id"],
        "state": ti["state"],
        "try": max(int(ti["try_number"] or 0), 1),
    }


def choose_all(servers: list[Server]) -> list[Choices]:
    clients = [Client(s.port) for s in servers]
    try:
        surveys = [survey(client) for client in clients]
        filters = shared_filters(surveys)
        return [
            {**f, **choose(client, s["dag_ids"])}
            for client, s, f in zip(clients, surveys, filters, strict=True)
        ]
    finally:
        for client in clients:
            client.close()


# -- load ----------------------------------------------------------------------


async def _worker(
    session: aiohttp.ClientSession,
    request: dict[str, Any],
    stop_at: float,
    at_least_one: bool,
    out: dict[str, Any],
) -> None:
    """Send requests back to back until `stop_at`; the one in flight then ends."""
    first = at_least_one
    while first or time.perf_counter() < stop_at:
        first = False
        start = time.perf_counter()
        try:
            async with session.request(**request) as resp:
                answer = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            out["statuses"][type(exc).__name__] += 1
            out["last_end"] = time.perf_counter()
            continue
        end = time.perf_counter()
        out["latencies"].append(end - start)
        out["statuses"][str(resp.status)] += 1
        out["sizes"].append(len(answer))
        out["last_end"] = end


async def _phase(
    session: aiohttp.ClientSession,
    request: dict[str, Any],
    seconds: float,
    concurrency: int,
    at_least_one: bool = False,
) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "statuses": Counter(), "sizes": []}
    start = time.perf_counter()
    out["start"] = out["last_end"] = start
    await asyncio.gather(
        *(_worker(session, request, start + seconds, at_least_one, out) for _ in range(concurrency))
    )
    return out


async def _load(
    url: str, body: Any, headers: dict[str, str], pid: int, args: argparse.Namespace
) -> tuple[dict[str, Any], float | None, float]:
    request = {
        "method": "GET" if body is None else "POST",
        "url": url,
        "json": body,
        "headers": headers,
    }
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
    ) as session:
        # Warm-up: one request alone first; a query slower than the warm-up
        # gets no more (16 slow requests in flight would take 16x as long).
        probe = await _phase(session, request, 0, 1, at_least_one=True)
        spent = probe["last_end"] - probe["start"]
        if spent < args.warmup:
            await _phase(session, request, args.warmup - spent, args.concurrency)
        cpu_before, client_before = bench.cpu_seconds(pid), time.process_time()
        # No request starts after --duration; those in flight are waited for
        # (at most --timeout), and the rate counts their time.
        out = await _phase(session, request, args.duration, args.concurrency)
        cpu_after, client = bench.cpu_seconds(pid), time.process_time() - client_before
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return out, cpu, client


def measure(
    server: Server, query: str, path: str, body: Any, accept_json: bool, args: argparse.Namespace
) -> bench.LoadResult:
    headers = dict(bench.AUTH)
    if accept_json:
        headers["Accept"] = "application/json"
    url = f"http://127.0.0.1:{server.port}{path}"
    out, cpu, client = asyncio.run(_load(url, body, headers, server.proc.pid, args))
    statuses = dict(sorted(out["statuses"].items()))
    result = bench.LoadResult(server.name, query, statuses=statuses)
    latencies = out["latencies"]
    wall = out["last_end"] - out["start"]
    result.seconds = wall
    if not latencies:
        return result
    cuts = (
        statistics.quantiles(latencies, n=100, method="inclusive")
        if len(latencies) > 1
        else [latencies[0]] * 99
    )
    result.requests = len(latencies)
    result.rps = len(latencies) / wall
    result.p50_ms, result.p90_ms, result.p99_ms = (cuts[i] * 1000 for i in (49, 89, 98))
    result.bytes_per_response = round(statistics.median(out["sizes"]))
    result.client_cpu_share = client / wall
    if cpu is not None:
        result.server_cpu_us_per_request = cpu / len(latencies) * 1e6
    return result


# -- report --------------------------------------------------------------------


def all_200(result: dict[str, Any]) -> bool:
    return set(result["statuses"]) == {"200"}


def evaluate(query: Query, results: list[dict[str, Any]]) -> dict[str, Any]:
    big = results[0]
    ratio = (
        results[0]["rps"] / results[1]["rps"] if len(results) > 1 and results[1]["rps"] else None
    )
    ok = all(all_200(r) for r in results) and big["rps"] >= query.min_rps
    if query.min_ratio is not None and len(results) > 1:
        ok = ok and ratio is not None and ratio >= query.min_ratio
    target = query.target() if len(results) > 1 else f">= {query.min_rps:,.0f}"
    return {"ratio": ratio, "target": target, "met": ok}


def short_statuses(results: list[dict[str, Any]]) -> str:
    if all(all_200(r) for r in results):
        return "200"
    return (
        " | ".join(
            ",".join(f"{k}x{v}" for k, v in r["statuses"].items()) or "none" for r in results
        )
        + " !!"
    )


def print_choices(servers: list[Server], choices: list[Choices]) -> None:
    for server, c in zip(servers, choices, strict=True):
        inst, batch = c["instance"], c["batch"]
        print(
            f"\n{server.name}: {c['dags']} DAGs, {c['runs']:,} runs, "
            f"{c['task_instances']:,} task instances"
        )
        print(
            f"  tags={c['tag']} ({c['tag_matches']} DAGs, {c['tag_note']}); "
            f"dag_id_pattern={c['pattern']} ({c['pattern_matches']} DAGs, {c['pattern_note']})"
        )
        print(f"  DAG with most runs: {c['busiest_dag']} ({c['busiest_dag_runs']} runs)")
        print(
            f"  runs' history {c['history'][0]} .. {c['history'][1]}; day window "
            f"{c['day'][0]} .. {c['day'][1]} ({c['day_runs']} runs), "
            f"state={c['run_state']} ({c['run_state_matches']} of them)"
            + ("" if c["run_state"] == "success" else "  [no success run: its own state]")
        )
        print(
            f"  TIs state={c['ti_state']} ({c['ti_state_matches']} task instances)"
            + ("" if c["ti_state"] == "running" else "  [none running: its most common state]")
        )
        print(
            f"  TI batch: dag_ids={batch['dag_ids']} state={batch['state']} "
            f"{batch['execution_date_gte']} .. {batch['execution_date_lte']} "
            f"({c['batch_matches']} task instances)"
        )
        print(
            f"  one instance: {inst['dag_id']} / {inst['dag_run_id']} ({inst['run_state']}) / "
            f"{inst['task_id']} ({inst['state']}), log try {inst['try']}"
            + ("" if inst["run_finished"] else "  [no finished run: its latest run]")
        )


def rate(rps: float) -> str:
    """req/s, with a decimal below 10 (a slow query's figure is not 0 or 1)."""
    return f"{rps:.1f}" if rps < 10 else f"{rps:.0f}"


def print_table(report: dict[str, Any]) -> None:
    names = report["scenarios"]
    big = names[0]
    small = names[1] if len(names) > 1 else None
    print(
        f"\n{report['settings']['concurrency']} connections, {report['settings']['duration']:g} s "
        f"per query and world after a {report['settings']['warmup']:g} s warm-up "
        f"(n: requests answered on {big}; * fewer than {FEW})"
    )
    head = (
        f"{'query':<24} {'req/s ' + big:>12} {'req/s ' + (small or '-'):>10} "
        f"{'ratio':>6} {'p50/p99 ms ' + big:>22} {'n':>6} {'bytes':>7} "
        f"{'statuses':<9} {'target':<21} met?"
    )
    print(head)
    print("-" * len(head))
    for row in report["queries"]:
        r = row["results"]
        b = r[0]
        few = "*" if b["requests"] < FEW else " "
        small_rps = f"{rate(r[1]['rps']):>10}" if len(r) > 1 else f"{'-':>10}"
        latency = f"{b['p50_ms']:.1f} / {b['p99_ms']:.1f}"
        print(
            f"{row['query']:<24} {rate(b['rps']):>11}{few} {small_rps} "
            f"{bench.fmt(row['ratio'], '.2f'):>6} {latency:>22} {b['requests']:>6} "
            f"{b['bytes_per_response']:>7} {short_statuses(r):<9} {row['target']:<21} "
            f"{'yes' if row['met'] else 'NO'}"
        )
    memory = report["memory"]
    print(
        f"\nmemory of {big} after the load: VmRSS {bench.fmt(memory['rss_mb'], '.0f')} MB "
        f"(peak {bench.fmt(memory['peak_rss_mb'], '.0f')} MB) / "
        f"{memory['task_instances']:,} task instances = "
        f"{bench.fmt(memory['rss_bytes_per_task_instance'], ',.0f')} B per task instance "
        f"(target <= {TARGET_BYTES_PER_TI:,}"
        + ("" if memory["checked"] else f", checked on {MEMORY_WORLD} only")
        + ")"
    )


def memory(server: Server, task_instances: int) -> dict[str, Any]:
    status = vm_status(server.proc.pid)
    rss, peak = status["VmRSS"], status["VmHWM"]
    return {
        "rss_mb": rss / 2**20 if rss else None,
        "peak_rss_mb": peak / 2**20 if peak else None,
        "task_instances": task_instances,
        "rss_bytes_per_task_instance": rss / task_instances if rss and task_instances else None,
        "checked": server.name == MEMORY_WORLD,
    }


def targets(report: dict[str, Any]) -> dict[str, bool]:
    checks = {f"{row['query']}: all 200, {row['target']}": row["met"] for row in report["queries"]}
    mem = report["memory"]
    if mem["checked"]:
        per_ti = mem["rss_bytes_per_task_instance"]
        checks[f"{MEMORY_WORLD}: VmRSS per task instance <= {TARGET_BYTES_PER_TI} B"] = (
            per_ti is not None and per_ti <= TARGET_BYTES_PER_TI
        )
    return checks


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="queries over a big world and a tiny one")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        metavar="NAME",
        default=DEFAULT_SCENARIOS,
        help="the big world, then the small one (default: large ci)",
    )
    parser.add_argument("--large", metavar="NAME", help="replace the big world (e.g. default)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds of warm-up before")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request at most")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if args.large:
        args.scenarios = [args.large, *args.scenarios[1:]]
    if not 1 <= len(args.scenarios) <= 2:
        parser.error("--scenarios takes one or two names")
    return args


def main() -> int:
    args = parse_args()
    report: dict[str, Any] = {
        "machine": bench.machine(),
        "settings": vars(args) | {"output": None},
        "scenarios": args.scenarios,
    }
    print(f"machine: {report['machine']}")
    busy = report["machine"]["load_average_1min_before"]
    if busy is not None and busy > 0.5:
        print(f"WARNING: 1-minute load average {busy:.2f}: req/s and latency will be noisy.")
    print(f"starting {', '.join(args.scenarios)} (--clock frozen)", flush=True)
    with tempfile.TemporaryDirectory(prefix="airflow-sim-world-") as workdir:
        servers = start_servers(args.scenarios, Path(workdir))
        try:
            choices = choose_all(servers)
            report["choices"] = dict(zip(args.scenarios, choices, strict=True))
            print_choices(servers, choices)
            print(flush=True)
            report["queries"] = []
            for query in QUERIES:
                results = []
                for server, c in zip(servers, choices, strict=True):
                    path, body = query.build(c)
                    result = measure(server, query.name, path, body, query.accept_json, args)
                    results.append(asdict(result) | {"path": path, "body": body})
                    print(
                        f"  {query.name:<24} {server.name:<8} {rate(result.rps):>8} req/s  "
                        f"n {result.requests:<5} {result.statuses}",
                        flush=True,
                    )
                report["queries"].append(
                    {"query": query.name, "results": results, **evaluate(query, results)}
                )
            report["memory"] = memory(servers[0], choices[0]["task_instances"])
        finally:
            for server in servers:
                bench.stop(server.proc)
    report["machine"]["load_average_1min_after"] = bench.load_average()
    print_table(report)
    report["targets"] = targets(report)
    return bench.print_targets_and_write(report, args.output, args.check)


if __name__ == "__main__":
    sys.exit(main())
