"""A simulator served on a real loopback port from a background thread,
for synchronous clients such as the official apache-airflow-client."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from simulator.config import Settings
from simulator.server.app import create_app
from simulator.server.keys import SIM
from simulator.simulator import Simulator


class LiveServer:
    def __init__(self, app: web.Application, port: int) -> None:
        self.app = app
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def sim(self) -> Simulator:
        return self.app[SIM]


@contextmanager
def live_server(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    started = threading.Event()
    holder: dict[str, int] = {}

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        holder["port"] = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield LiveServer(app, holder["port"])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
