"""Bundled scenarios: time to ready and peak memory of the server serving each.

    .venv/bin/python bench/scenarios.py [--scenarios ci default] [--runs 5] [--large-runs 1]
                                        [--output PATH] [--check]

Per scenario, `python -m simulator serve --scenario NAME` in a fresh process
(no AIRFLOW_SIM_* variables): wall time from launch to the first 200 from
GET /api/v1/health (polled every 2 ms), the server's CPU seconds until then,
its peak and current RSS at that moment (VmHWM, VmRSS), and the size of the
world it serves (DAGs, runs, task instances). A bare `python -c "import
aiohttp.web"` is timed in the same run, so the figures read as ratios.

Prints a table and writes every figure to bench/results/scenarios.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import run as bench  # bench/run.py: process helpers (ports, environment, CPU, machine)

RESULTS = bench.BENCH / "results" / "scenarios.json"
LARGE = "large"
POLL = 0.002  # seconds between health checks
READY_TIMEOUT = {LARGE: 600.0}  # seconds; a guard against a hung start, not a target
DEFAULT_READY_TIMEOUT = 60.0
MB = 2**20
BASELINE = [sys.executable, "-c", "import aiohttp.web"]
WORLD = {
    "dags": "/api/v1/dags?limit=1",
    "dag_runs": "/api/v1/dags/~/dagRuns?limit=1",
    "task_instances": "/api/v1/dags/~/dagRuns/~/taskInstances?limit=1",
}
TARGET_DEFAULT_READY = 0.6  # seconds, median
TARGET_LARGE_READY = 30.0  # seconds, median
TARGET_LARGE_PEAK_MB = 2048  # 2 GB
TARGET_BYTES_PER_TI = 1024  # reported, not checked


# -- one launch ---------------------------------------------------------------


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float) -> float:
    """Poll /health every POLL seconds; the perf_counter at its first 200."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if bench.health_status(port) == 200:
            return time.perf_counter()
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        time.sleep(POLL)
    raise RuntimeError(f"no 200 from {bench.HEALTH} within {timeout} s")


def memory_mb(pid: int) -> dict[str, float | None]:
    """Peak (VmHWM) and current (VmRSS) resident memory, in MB; None off Linux."""
    found: dict[str, float | None] = {"peak_rss_mb": None, "rss_mb": None}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            kilobytes = int(value.split()[0])
            found["peak_rss_mb" if key == "VmHWM" else "rss_mb"] = kilobytes * 1024 / MB
    return found


def total_entries(port: int, path: str) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("GET", path, headers=bench.AUTH)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return int(json.loads(body)["total_entries"]) if response.status == 200 else None


def launch_once(name: str, log: Path) -> dict[str, Any]:
    """Serve `name` once: ready time, CPU and memory at ready, then the world's size."""
    port = bench.free_port()
    cmd = [sys.executable, "-m", "simulator", "serve", "--scenario", name, "--port", str(port)]
    start = time.perf_counter()
    proc = bench.launch(cmd, log)
    try:
        ready = wait_ready(proc, port, READY_TIMEOUT.get(name, DEFAULT_READY_TIMEOUT))
        # Read before any request: the figures are those of a server just ready.
        cpu = bench.cpu_seconds(proc.pid)
        memory = memory_mb(proc.pid)
        world = {key: total_entries(port, path) for key, path in WORLD.items()}
    except (RuntimeError, OSError) as exc:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{name}: {exc}\n{tail}") from None
    finally:
        bench.stop(proc)
    return {"ready_s": ready - start, "cpu_s": cpu, **memory, **world}


# -- per scenario -------------------------------------------------------------


def median(values: list[Any]) -> Any:
    """The median, or None when any run lacked the figure."""
    if not values or any(v is None for v in values):
        return None
    return statistics.median(values)


def summarize(runs: list[dict[str, Any]], baseline_s: float) -> dict[str, Any]:
    ready = [run["ready_s"] for run in runs]
    peak = median([run["peak_rss_mb"] for run in runs])
    task_instances = runs[-1]["task_instances"]
    per_ti = peak * MB / task_instances if peak and task_instances else None
    return {
        "ready_min_s": min(ready),
        "ready_median_s": statistics.median(ready),
        "ready_vs_baseline": statistics.median(ready) / baseline_s,
        "cpu_median_s": median([run["cpu_s"] for run in runs]),
        "peak_rss_mb": peak,
        "rss_mb": median([run["rss_mb"] for run in runs]),
        **{key: runs[-1][key] for key in WORLD},
        "peak_rss_bytes_per_task_instance": per_ti,
        "runs": runs,
    }


def measure_scenario(
    name: str, runs: int, first: bool, workdir: Path, baseline_s: float
) -> dict[str, Any]:
    log = workdir / f"{name}.log"
    # One discarded launch for the OS caches (interpreter, modules, files).
    # `large` skips it after another scenario (the same files bar one), and
    # alone warms up with `ci` rather than a minute of its own.
    if name != LARGE:
        launch_once(name, log)
    elif first:
        launch_once("ci", log)
    measured = []
    for i in range(runs):
        measured.append(launch_once(name, log))
        print(f"  {name} run {i + 1}/{runs}: ready {measured[-1]['ready_s']:.3f} s", flush=True)
    return summarize(measured, baseline_s)


# -- baseline -----------------------------------------------------------------


def baseline_once() -> dict[str, float]:
    """A bare interpreter importing aiohttp.web: wall time, CPU and peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(BASELINE, cwd=bench.ROOT, env=bench.clean_env())
    # wait4 gives this child's own rusage (getrusage would merge all children).
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{BASELINE} exited with {proc.returncode}")
    return {
        "ready_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss * 1024 / MB,  # ru_maxrss is in KB on Linux
    }


def baseline(runs: int) -> dict[str, Any]:
    baseline_once()  # warm-up, discarded
    samples = [baseline_once() for _ in range(max(runs, 3))]
    return {
        "command": BASELINE[1:],
        "ready_min_s": min(s["ready_s"] for s in samples),
        "ready_median_s": statistics.median(s["ready_s"] for s in samples),
        "cpu_median_s": statistics.median(s["cpu_s"] for s in samples),
        "peak_rss_mb": statistics.median(s["peak_rss_mb"] for s in samples),
        "runs": samples,
    }


# -- report -------------------------------------------------------------------


def targets(report: dict[str, Any]) -> dict[str, bool]:
    """Only the scenarios measured in this run are checked."""
    scenarios = report["scenarios"]
    checks = {}
    if "ready_median_s" in scenarios.get("default", {}):
        checks[f"default ready (median) < {TARGET_DEFAULT_READY} s"] = (
            scenarios["default"]["ready_median_s"] < TARGET_DEFAULT_READY
        )
    if "ready_median_s" in scenarios.get(LARGE, {}):
        large = scenarios[LARGE]
        checks[f"large ready (median) < {TARGET_LARGE_READY:g} s"] = (
            large["ready_median_s"] < TARGET_LARGE_READY
        )
        peak = large["peak_rss_mb"]
        checks[f"large peak RSS < {TARGET_LARGE_PEAK_MB} MB"] = (
            peak is not None and peak < TARGET_LARGE_PEAK_MB
        )
    for name, figures in scenarios.items():
        if "error" in figures:
            checks[f"{name} serves"] = False
    return checks


def print_table(report: dict[str, Any]) -> None:
    base = report["baseline"]
    print(
        f"\nbaseline `python -c 'import aiohttp.web'`: min {base['ready_min_s']:.3f} s, "
        f"median {base['ready_median_s']:.3f} s, CPU {base['cpu_median_s']:.3f} s, "
        f"peak RSS {base['peak_rss_mb']:.0f} MB"
    )
    print(
        f"\n{'scenario':<10} {'n':>4} {'ready min':>9} {'ready med':>9} {'x base':>7} "
        f"{'cpu med':>8} {'peak MB':>8} {'rss MB':>7} {'dags':>6} {'runs':>8} {'TIs':>9} "
        f"{'B/TI':>6}"
    )
    for name, s in report["scenarios"].items():
        if "error" in s:
            print(f"{name:<10} FAILED: {s['error'].splitlines()[0]}")
            continue
        print(
            f"{name:<10} {len(s['runs']):>4} {s['ready_min_s']:>9.3f} {s['ready_median_s']:>9.3f} "
            f"{s['ready_vs_baseline']:>7.1f} {bench.fmt(s['cpu_median_s'], '>8.3f')} "
            f"{bench.fmt(s['peak_rss_mb'], '>8.0f')} {bench.fmt(s['rss_mb'], '>7.0f')} "
            f"{bench.fmt(s['dags'], '>6d')} {bench.fmt(s['dag_runs'], '>8,d')} "
            f"{bench.fmt(s['task_instances'], '>9,d')} "
            f"{bench.fmt(s['peak_rss_bytes_per_task_instance'], '>6.0f')}"
        )
    print("(n: measured launches; x base: median ready time over the bare interpreter's;")
    print(f" B/TI: bytes of peak RSS per task instance, large aims at <= {TARGET_BYTES_PER_TI})")


def bundled() -> list[str]:
    from simulator.scenario.documents import bundled_names

    return bundled_names()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="time to ready and memory per bundled scenario")
    parser.add_argument("--scenarios", nargs="+", metavar="NAME", help="default: all bundled")
    parser.add_argument("--runs", type=int, default=5, help="measured launches per scenario")
    parser.add_argument("--large-runs", type=int, default=1, help=f"the same for {LARGE}")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def measure_all(args: argparse.Namespace, names: list[str], baseline_s: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="airflow-sim-scenarios-") as workdir:
        for i, name in enumerate(names):
            runs = args.large_runs if name == LARGE else args.runs
            try:
                results[name] = measure_scenario(name, runs, i == 0, Path(workdir), baseline_s)
            except RuntimeError as exc:  # a scenario that does not serve is a result too
                print(f"  {name}: FAILED\n{exc}", file=sys.stderr)
                results[name] = {"error": str(exc)}
    return results


def main() -> int:
    args = parse_args()
    names = args.scenarios or bundled()
    report: dict[str, Any] = {"machine": bench.machine(), "settings": vars(args) | {"output": None}}
    print(f"machine: {report['machine']}")
    busy = report["machine"]["load_average_1min_before"]
    if busy is not None and busy > 0.5:
        print(f"WARNING: 1-minute load average {busy:.2f}: wall-clock figures will be noisy.")
    report["baseline"] = baseline(args.runs)
    report["scenarios"] = measure_all(args, names, report["baseline"]["ready_median_s"])
    report["machine"]["load_average_1min_after"] = bench.load_average()
    print_table(report)
    report["targets"] = targets(report)
    missed = bench.print_targets_and_write(report, args.output, args.check)
    failed = any("error" in figures for figures in report["scenarios"].values())
    return 1 if failed else missed


if __name__ == "__main__":
    sys.exit(main())
