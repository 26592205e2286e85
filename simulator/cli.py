"""`airflow-sim serve|validate|scenarios|schema`.

Every flag of `serve` also reads from an AIRFLOW_SIM_* variable; a flag left
unset (and its variable too) takes the scenario's value.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.config import Settings
from simulator.versions import VERSIONS

if TYPE_CHECKING:
    from simulator.simulator import Simulator

PROG = "airflow-sim"
MAX_ITERATIONS = 10_000_000  # PBKDF2 rounds: ~3 s a hash, already absurd
# Virtual seconds per wall second at most, as POST /_sim/clock and scenario
# files allow (NaN, inf or 1e300 break the clock's datetime arithmetic at once).
MAX_SPEED = 1_000_000


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {value}")
    return port


def _instant(value: str) -> datetime:
    from simulator.engine.clock import EARLIEST, LATEST
    from simulator.scenario.dags import parse_instant

    span = f"from {EARLIEST.date()} to before {LATEST.date()}"
    try:
        instant = parse_instant(value)
    except ValueError as exc:  # not ISO 8601, naive, or out of range
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 instant with an offset {span}, got {value!r} ({exc})"
        ) from None
    return instant


def _speed(value: str) -> float:
    speed = float(value)
    if not 0 < speed <= MAX_SPEED:  # NaN fails every comparison
        raise argparse.ArgumentTypeError(
            f"expected a speed above 0 and at most {MAX_SPEED:,}, got {value}"
        )
    return speed


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return number


def _between(value: str, low: int, high: int, unit: str = "") -> int:
    number = int(value)
    if not low <= number <= high:
        raise argparse.ArgumentTypeError(f"expected {low} to {high}{unit}, got {value}")
    return number


def _retention_days(value: str) -> int:
    from simulator.engine.retention import MAX_DAYS  # the engine loads when it serves

    return _between(value, 1, MAX_DAYS, " days")


def _iterations(value: str) -> int:
    return _between(value, 1, MAX_ITERATIONS)


def _journal_size(value: str) -> int:
    from simulator.state.journal import MAX_SIZE

    return _between(value, 0, MAX_SIZE)


def _state_file(value: str) -> Path:
    from simulator.state_file import StateFileError, check_writable

    path = Path(value).expanduser().absolute()
    try:
        check_writable(path)
    except StateFileError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def _header_value(value: str) -> str:
    """A response header's value: one line, bounded."""
    if len(value) > 4096 or any(c in value for c in "\r\n\x00"):
        raise argparse.ArgumentTypeError("expected one line of at most 4096 characters")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise argparse.ArgumentTypeError(f"expected {' or '.join(allowed)}, got {value!r}")
        return value

    return check


# flag, settings field, type, help
OPTIONS: list[tuple[str, str, Callable[[str], Any], str]] = [
    (
        "--scenario",
        "scenario",
        str,
        "a bundled scenario's name (`airflow-sim scenarios`) or a scenario file (default: default)",
    ),
    (
        "--airflow-version",
        "airflow_version",
        _choice(*VERSIONS),
        "the Airflow release whose API is served: 2.5.3 or 2.10.5 (default: the scenario's, "
        "else 2.5.3)",
    ),
    ("--host", "host", str, "address to bind (default 127.0.0.1)"),
    ("--port", "port", _port, "port to listen on (default 8080)"),
    (
        "--auth",
        "auth",
        _choice("basic", "none"),
        "basic (users and roles) or none (every request acts as admin); default: the scenario's",
    ),
    ("--admin-user", "admin_user", str, "username of the built-in Admin user (default admin)"),
    ("--admin-password", "admin_password", str, "its password (default admin)"),
    ("--seed", "seed", int, "seed of every random stream (default: the scenario's)"),
    (
        "--validate-responses",
        "validate_responses",
        _bool,
        "check every response against the spec (default false)",
    ),
    (
        "--expose-config",
        "expose_config",
        _bool,
        "answer GET /config as [webserver] expose_config = True does (default: the scenario's)",
    ),
    ("--access-log", "access_log", _bool, "log every request, aiohttp style (default false)"),
    (
        "--clock",
        "clock",
        _choice("realtime", "frozen"),
        "realtime (virtual time follows the wall clock x speed) or frozen (moves via /_sim)",
    ),
    ("--speed", "speed", _speed, "virtual seconds per wall second in realtime mode"),
    ("--start", "start", _instant, "the virtual clock's start, ISO 8601 with an offset"),
    (
        "--control-token",
        "control_token",
        str,
        "require `Authorization: Bearer TOKEN` on /_sim routes (all but /_sim/health)",
    ),
    (
        "--max-events",
        "max_events",
        _positive,
        "events one POST /_sim/clock/advance may process at most (default 1000000)",
    ),
    (
        "--journal-size",
        "journal_size",
        _journal_size,
        "API requests GET /_sim/requests keeps, the oldest dropped (default 10000; 0: none)",
    ),
    (
        "--state-file",
        "state_file",
        _state_file,
        "restore the world from this snapshot file when it exists; save it there on shutdown "
        "(SIGINT, SIGTERM) and on POST /_sim/snapshot/save",
    ),
    (
        "--cors-origins",
        "cors_origins",
        _header_value,
        "origins allowed to call the API from a browser, space-separated, or * "
        "(Airflow's [api] access_control_allow_origins; default the scenario's: none)",
    ),
    (
        "--cors-headers",
        "cors_headers",
        _header_value,
        "Access-Control-Allow-Headers on API answers ([api] access_control_allow_headers)",
    ),
    (
        "--cors-methods",
        "cors_methods",
        _header_value,
        "Access-Control-Allow-Methods on API answers ([api] access_control_allow_methods)",
    ),
    (
        "--allow-fault-header",
        "allow_fault_header",
        _bool,
        "apply the http fault an `X-Sim-Fault: <JSON>` request header gives to that request "
        "(default false: the header is ignored)",
    ),
    (
        "--retention-days",
        "retention_days",
        _retention_days,
        "drop runs that ended, event logs and dataset events older than N virtual days, "
        "as `airflow db clean` would (default: the scenario's; none keeps everything)",
    ),
    (
        "--password-hash-iterations",
        "password_hash_iterations",
        _iterations,
        "PBKDF2 rounds of stored passwords (default 260000, werkzeug's in Airflow 2.5; "
        "test suites may lower it)",
    ),
]


def _env_default(field: str, convert: Callable[[str], Any]) -> Any:
    name = "AIRFLOW_SIM_" + field.upper()
    raw = os.environ.get(name)
    if raw is None:
        return getattr(Settings(), field)
    try:
        return convert(raw)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise SystemExit(f"{PROG}: error: {name}: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Airflow 2.5 / 2.10 REST API simulator")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="check scenario files; exit 1 if any is invalid"
    )
    validate.add_argument(
        "files", nargs="+", metavar="FILE", help="scenario files or bundled names"
    )
    commands.add_parser("scenarios", help="list the bundled scenarios")
    commands.add_parser("schema", help="print the scenario files' JSON Schema")
    serve = commands.add_parser("serve", help="serve the API on http://HOST:PORT/api/v1")
    for flag, field, convert, help_text in OPTIONS:
        serve.add_argument(
            flag,
            dest=field,
            type=convert,
            help=help_text,
            default=_env_default(field, convert),
            nargs="?" if convert is _bool else None,
            const=True if convert is _bool else None,
        )
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(**{field: getattr(args, field) for _, field, _, _ in OPTIONS})


async def _serve(sim: Simulator) -> None:
    from aiohttp import web
    from aiohttp.log import access_logger

    from simulator.server.app import create_app

    settings = sim.settings
    if not settings.control_token and not _loopback(settings.host):
        print(
            f"{PROG}: warning: serving on {settings.host} without --control-token: anyone who "
            "can reach this port can reset, reload or fast-forward the world through /_sim",
            file=sys.stderr,
            flush=True,
        )
    runner = web.AppRunner(
        create_app(settings, sim), access_log=access_logger if settings.access_log else None
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise SystemExit(
            f"{PROG}: error: cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
        ) from None
    print(
        f"Airflow API simulator on http://{settings.host}:{settings.port}/api/v1"
        f" (scenario {sim.scenario.name}, {len(sim.store.dags)} DAGs,"
        f" {len(sim.store.dag_runs)} runs)",
        flush=True,
    )
    # What start-up built lives as long as the server: keep it out of the
    # collector's full passes, which otherwise stall a request now and then.
    gc.collect()
    gc.freeze()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        await runner.cleanup()
        if settings.state_file is not None:
            _save(sim, settings.state_file)


def _save(sim: Simulator, path: Path) -> None:
    from simulator.state_file import StateFileError, save

    try:
        save(sim, path)
    except StateFileError as exc:
        raise SystemExit(f"{PROG}: error: the world was not saved: {exc}") from None
    print(f"Saved the world to {path}", flush=True)


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _warm_admin_hash(settings: Settings, seed: int) -> None:
    """Derive the admin's password hash (which releases the GIL) while the
    world is built, so that the first request does not wait for it."""
    from simulator.engine.rng import RandomStreams
    from simulator.state.security import hash_password

    salt = RandomStreams(seed).salt("password", settings.admin_user)
    hash_password(settings.admin_password, salt, settings.password_hash_iterations)


def _validate(files: Sequence[str]) -> int:
    """One block per file: `FILE: ok`, or every error found in it."""
    from simulator.scenario.budget import check_world
    from simulator.scenario.loader import load_scenario
    from simulator.scenario.problems import ScenarioError

    failed = 0
    for name in files:
        try:
            scenario = load_scenario(name)
            check_world(scenario)
        except ScenarioError as exc:
            failed += 1
            print(f"{name}: {len(exc.problems)} error(s)")
            print("\n".join(f"  {problem}" for problem in exc.problems))
        else:
            print(f"{name}: ok (scenario {scenario.name})")
    return 1 if failed else 0


def _scenarios() -> int:
    from simulator.scenario.documents import bundled_names
    from simulator.scenario.loader import load_scenario

    names = bundled_names()
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {load_scenario(name).description}")
    return 0


def _schema() -> int:
    from simulator.scenario.loader import SCHEMA_PATH

    sys.stdout.write(SCHEMA_PATH.read_text())
    return 0


def _build(settings: Settings) -> Simulator:
    """The world to serve: the one saved in --state-file when there is one,
    else the scenario loaded and its history simulated."""
    from simulator.scenario.loader import load_scenario
    from simulator.scenario.problems import ScenarioError
    from simulator.simulator import Simulator
    from simulator.snapshot import SnapshotError

    try:
        scenario = load_scenario(settings.scenario)
        seed = scenario.seed if settings.seed is None else settings.seed
        threading.Thread(target=_warm_admin_hash, args=(settings, seed), daemon=True).start()
        saved = _saved(settings.state_file)
        if saved is not None:
            sim = Simulator(settings, scenario, snapshot=saved)
            print(f"Restored the world from {settings.state_file}", flush=True)
            return sim
        if scenario.history:
            hours = scenario.history.total_seconds() / 3600
            print(f"Scenario {scenario.name}: simulating {hours:g} hours of history", flush=True)
        return Simulator(settings, scenario)
    except ScenarioError as exc:
        print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
        raise SystemExit(f"{PROG}: error: the scenario is not valid") from None
    except SnapshotError as exc:
        raise SystemExit(f"{PROG}: error: --state-file {settings.state_file}: {exc}") from None


def _saved(path: Path | None) -> Any:
    """The document saved in --state-file, None when there is none yet (a
    damaged file stops the server rather than being overwritten at shutdown)."""
    from simulator.state_file import StateFileError, read

    if path is None:
        return None
    try:
        return read(path)
    except StateFileError as exc:
        raise SystemExit(f"{PROG}: error: --state-file {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "validate":
            return _validate(args.files)
        if args.command == "scenarios":
            return _scenarios()
        if args.command == "schema":
            return _schema()
        sim = _build(settings_from(args))
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(_serve(sim))
    except SystemExit as exc:
        print(exc.code, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
