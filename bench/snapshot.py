"""Snapshots: the size of a world's document and the time to write and read it.

    .venv/bin/python bench/snapshot.py [--scenarios ci default large] [--output PATH] [--check]

Per bundled scenario, in this process: the time to build the world
(`Simulator(Settings(scenario=NAME, clock="frozen"))`), then export = `sim.snapshot()` +
`state_file.encode` (orjson; the first snapshot also hashes the users' pending
passwords, at the real cost), its size (and bytes per task instance), and
restore = `state_file.decode` + `restore()` into a simulator of an empty world
(as POST /_sim/snapshot does). Worlds are built with a frozen clock, so the
restored world must give the same document again, byte for byte.

Prints a table and writes every figure to bench/results/snapshot.json.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

import run as bench  # bench/run.py: machine() and print_targets_and_write()

from simulator import state_file
from simulator.config import Settings
from simulator.simulator import Simulator

RESULTS = bench.BENCH / "results" / "snapshot.json"
EMPTY = {"name": "empty", "clock": {"start": "2023-04-01T00:00:00Z", "mode": "frozen"}}
TARGET_LARGE_SECONDS = 24.0  # export and restore, each: under the large world's build time
TARGET_LARGE_BYTES_PER_TI = 150


def measure(name: str) -> dict[str, Any]:
    started = time.perf_counter()
    # Frozen, so that the restored world's snapshot can be compared whole.
    sim = Simulator(Settings(scenario=name, clock="frozen"))
    built = time.perf_counter()
    for user in sim.store.users:  # what the first snapshot does: hash pending passwords
        sim.password_hash(user)
    hashed = time.perf_counter()
    document = sim.snapshot()
    snapshotted = time.perf_counter()
    data = state_file.encode(document)
    dumped = time.perf_counter()
    tis = len(sim.store.task_instances)
    del sim, document
    gc.collect()
    target = Simulator(Settings(scenario=EMPTY))
    before = time.perf_counter()
    loaded = state_file.decode(data)
    parsed = time.perf_counter()
    target.restore(loaded)
    restored = time.perf_counter()
    same = target.snapshot() == state_file.decode(data)
    return {
        "build_s": built - started,
        "hash_passwords_s": hashed - built,
        "snapshot_s": snapshotted - hashed,
        "dumps_s": dumped - snapshotted,
        "export_s": dumped - built,  # hashing, snapshot() and orjson.dumps
        "loads_s": parsed - before,
        "restore_only_s": restored - parsed,
        "restore_s": restored - before,  # orjson.loads and restore()
        "bytes": len(data),
        "task_instances": tis,
        "bytes_per_task_instance": len(data) / tis if tis else None,
        "round_trip_identical": same,
    }


def targets(report: dict[str, Any]) -> dict[str, bool]:
    checks = {
        f"{name}: snapshot(restore(doc)) == doc": figures["round_trip_identical"]
        for name, figures in report["scenarios"].items()
    }
    large = report["scenarios"].get("large")
    if large is not None:
        for key in ("export_s", "restore_s"):
            label = f"large {key.removesuffix('_s')} < {TARGET_LARGE_SECONDS:g} s"
            checks[label] = large[key] < TARGET_LARGE_SECONDS
        label = f"large bytes per task instance <= {TARGET_LARGE_BYTES_PER_TI}"
        checks[label] = large["bytes_per_task_instance"] <= TARGET_LARGE_BYTES_PER_TI
    return checks


def print_table(report: dict[str, Any]) -> None:
    print(
        f"\n{'scenario':<9} {'build':>6} {'hash':>5} {'snap':>5} {'dumps':>5} {'export':>6} "
        f"{'loads':>5} {'restore':>7} {'total':>6} {'MB':>6} {'TIs':>8} {'B/TI':>5}"
    )
    for name, s in report["scenarios"].items():
        print(
            f"{name:<9} {s['build_s']:>6.2f} {s['hash_passwords_s']:>5.2f} "
            f"{s['snapshot_s']:>5.2f} {s['dumps_s']:>5.2f} {s['export_s']:>6.2f} "
            f"{s['loads_s']:>5.2f} {s['restore_only_s']:>7.2f} {s['restore_s']:>6.2f} "
            f"{s['bytes'] / 2**20:>6.1f} {s['task_instances']:>8,d} "
            f"{bench.fmt(s['bytes_per_task_instance'], '>5.0f')}"
        )
    print("(seconds; export = hash + snap + dumps, total restore = loads + restore)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="snapshot size, export and restore times")
    parser.add_argument("--scenarios", nargs="+", default=["ci", "default", "large"])
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    report: dict[str, Any] = {"machine": bench.machine(), "scenarios": {}}
    for name in args.scenarios:
        print(f"measuring {name}...", flush=True)
        report["scenarios"][name] = measure(name)
    print_table(report)
    report["targets"] = targets(report)
    return bench.print_targets_and_write(report, args.output, args.check)


if __name__ == "__main__":
    sys.exit(main())
