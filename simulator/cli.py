"""`airflow-sim serve`: every flag also reads from an AIRFLOW_SIM_* variable."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from simulator.config import Settings

PROG = "airflow-sim"


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
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"a timezone is required: {value!r}")
    return parsed


def _speed(value: str) -> float:
    speed = float(value)
    if speed <= 0:
        raise argparse.ArgumentTypeError(f"speed must be positive: {value}")
    return speed


# flag, settings field, type, help
OPTIONS: list[tuple[str, str, Callable[[str], Any], str]] = [
    ("--host", "host", str, "address to bind (default 127.0.0.1)"),
    ("--port", "port", _port, "port to listen on (default 8080)"),
    ("--auth", "auth", str, "basic (users and roles) or none (every request acts as admin)"),
    ("--admin-user", "admin_user", str, "username of the built-in Admin user (default admin)"),
    ("--admin-password", "admin_password", str, "its password (default admin)"),
    ("--seed", "seed", int, "seed of every random stream (default 0)"),
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
        "answer GET /config as [webserver] expose_config = True does (default false)",
    ),
    ("--access-log", "access_log", _bool, "log every request, aiohttp style (default false)"),
    (
        "--clock",
        "clock",
        str,
        "realtime (virtual time follows the wall clock x speed) or frozen (moves via /_sim)",
    ),
    ("--speed", "speed", _speed, "virtual seconds per wall second in realtime mode (default 1)"),
    (
        "--start",
        "start",
        _instant,
        "the virtual clock's start, ISO 8601 with offset (default 2023-04-01T00:00:00+00:00)",
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
    parser = argparse.ArgumentParser(prog=PROG, description="Airflow 2.5 REST API simulator")
    commands = parser.add_subparsers(dest="command", required=True)
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
    if args.auth not in ("basic", "none"):
        raise SystemExit(f"{PROG}: error: --auth must be basic or none, not {args.auth!r}")
    if args.clock not in ("realtime", "frozen"):
        raise SystemExit(f"{PROG}: error: --clock must be realtime or frozen, not {args.clock!r}")
    return Settings(**{field: getattr(args, field) for _, field, _, _ in OPTIONS})


async def _serve(settings: Settings) -> None:
    from aiohttp import web
    from aiohttp.log import access_logger

    from simulator.server.app import create_app

    runner = web.AppRunner(
        create_app(settings), access_log=access_logger if settings.access_log else None
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
    print(f"Airflow API simulator on http://{settings.host}:{settings.port}/api/v1", flush=True)
    # What start-up built lives as long as the server: keep it out of the
    # collector's full passes, which otherwise stall a request now and then.
    gc.collect()
    gc.freeze()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _warm_admin_hash(settings: Settings) -> None:
    """Derive the admin's password hash (which releases the GIL) while the
    server's modules import, instead of after."""
    from simulator.engine.rng import RandomStreams
    from simulator.state.security import hash_password

    salt = RandomStreams(settings.seed).salt("password", settings.admin_user)
    hash_password(settings.admin_password, salt, settings.password_hash_iterations)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        settings = settings_from(args)
        threading.Thread(target=_warm_admin_hash, args=(settings,), daemon=True).start()
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(_serve(settings))
    except SystemExit as exc:
        print(exc.code, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
