"""A simulator served on a real loopback port from a background thread with
its own event loop, for synchronous clients (the official
apache-airflow-client, requests, SimulatorClient) and for async tests alike:
a blocking call from a test never blocks the server."""

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

START_TIMEOUT = 30.0  # seconds for the thread to bind its port


class LiveServer:
    def __init__(self, app: web.Application, port: int) -> None:
        self.app = app
        self.port = port

    @property
    def root(self) -> str:
        """The server's root URL (the control API is under /_sim)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The Airflow API's base URL."""
        return self.root + "/api/v1"

    @property
    def sim(self) -> Simulator:
        return self.app[SIM]


@contextmanager
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """Serve `settings` on a free loopback port until the block ends."""
    app = create_app(settings)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    started = threading.Event()
    ports: list[int] = []
    errors: list[BaseException] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        ports.append(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # handed to the caller, which raises it
            errors.append(exc)
        started.set()
        if ports:
            loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="airflow-sim", daemon=True)
    thread.start()
    if not started.wait(START_TIMEOUT):
        raise RuntimeError(f"the simulator did not start in {START_TIMEOUT} s")
    if errors:
        thread.join(START_TIMEOUT)
        raise RuntimeError("the simulator did not start") from errors[0]
    try:
        yield LiveServer(app, ports[0])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT)
