"""pytest plugin (entry point `pytest11`): the `airflow_sim` fixture and marker.

    def test_trigger(airflow_sim):
        requests.post(f"{airflow_sim.api_url}/dags/etl_orders/dagRuns", json={},
                      auth=airflow_sim.auth)
        airflow_sim.advance(until_idle=True)

    @pytest.mark.airflow_sim(scenario="demo", seed=3, auth="none")
    def test_another_world(airflow_sim): ...

    @pytest.mark.airflow_sim(airflow_version="2.10.5")
    def test_the_newer_api(airflow_sim): ...

Servers run in-process on a free loopback port, each in a thread with its own
event loop, so sync clients and async tests both work. One server serves each
distinct (scenario, seed, auth, airflow_version) of the session: started when a test first
asks for it, stopped when the session ends, and reset before every test (its
world back to the start with only the scenario's own faults, the journal
emptied). The clock is always frozen.

Importing this module costs only the standard library: projects that install
the package without using the fixture pay nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Unpack

import pytest

from simulator.config import Settings
from simulator.testing.client import (
    Advance,
    Clock,
    DagRunRef,
    RequestEntry,
    RequestFilters,
    ScenarioSummary,
    SimulatorClient,
)

MARKER = "airflow_sim"
DEFAULT_SCENARIO = "ci"
OPTIONS = ("scenario", "seed", "auth", "airflow_version")
# A cheap password hash: every reset forgets the hashes, and tests log in often.
HASH_ITERATIONS = 1000

Scenario = str | Path | Mapping[str, Any]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenario='ci', seed=None, auth=None, airflow_version=None): the world the "
        "airflow_sim fixture serves: a bundled scenario, a scenario file or document; another "
        "seed; auth 'basic' or 'none'; the API of Airflow '2.5.3' or '2.10.5'",
    )


class AirflowSim:
    """What the `airflow_sim` fixture yields: a simulator reset for this test.

    `url` is the server's root, `api_url` the Airflow API's base URL
    (`url + "/api/v1"`), `auth` the admin's `(user, password)` for basic
    auth, and `client` a SimulatorClient of its control API."""

    def __init__(self, client: SimulatorClient, auth: tuple[str, str], seed: int) -> None:
        self.client = client
        self.url = client.url
        self.api_url = client.api_url
        self.auth = auth
        self.faults = client.faults  # add, add_all, list, get, update, delete, clear
        self._seed = seed

    def __repr__(self) -> str:
        return f"<AirflowSim {self.url}>"

    def advance(
        self,
        seconds: float | None = None,
        *,
        until: str | datetime | None = None,
        until_idle: bool = False,
        until_dag_run: DagRunRef | Mapping[str, str] | None = None,
    ) -> Advance:
        """Move the clock: exactly one of `seconds`, `until`, `until_idle` and
        `until_dag_run` (see SimulatorClient.advance)."""
        return self.client.advance(
            seconds, until=until, until_idle=until_idle, until_dag_run=until_dag_run
        )

    def requests(self, **filters: Unpack[RequestFilters]) -> list[RequestEntry]:
        """The Airflow API requests this test made, newest first (see
        SimulatorClient.requests for the filters)."""
        return self.client.requests(**filters)

    def reset(self) -> ScenarioSummary:
        """The world of this test's start again (its seed), an empty journal
        (a reset empties it)."""
        return self.client.reset(seed=self._seed)

    def snapshot(self) -> dict[str, Any]:
        """The whole world as one JSON document."""
        return self.client.snapshot()

    def restore(self, document: Mapping[str, Any]) -> ScenarioSummary:
        """The world of a `snapshot` document again."""
        return self.client.restore(document)


@dataclass(frozen=True)
class ServerConfig:
    """What a test's marker asks for; one server per distinct value."""

    scenario: Scenario = DEFAULT_SCENARIO
    seed: int | None = None
    auth: str | None = None
    airflow_version: str | None = None

    @classmethod
    def of(cls, node: pytest.Item) -> ServerConfig:
        marker = node.get_closest_marker(MARKER)
        if marker is None:
            return cls()
        unknown = sorted(set(marker.kwargs) - set(OPTIONS))
        if marker.args or unknown:
            pytest.fail(
                f"@pytest.mark.{MARKER} takes the keywords {', '.join(OPTIONS)}; "
                f"found {list(marker.args) + unknown}",
                pytrace=False,
            )
        scenario = marker.kwargs.get("scenario", DEFAULT_SCENARIO)
        if isinstance(scenario, os.PathLike):
            scenario = Path(scenario)
        kwargs = marker.kwargs
        return cls(scenario, kwargs.get("seed"), kwargs.get("auth"), kwargs.get("airflow_version"))

    def key(self) -> str:
        # Scenario documents are dicts (unhashable): their JSON stands for them.
        values = [self.scenario, self.seed, self.auth, self.airflow_version]
        return json.dumps(values, sort_keys=True, default=str)

    def settings(self) -> Settings:
        return Settings(
            scenario=self.scenario,
            seed=self.seed,
            auth=self.auth,
            airflow_version=self.airflow_version,
            clock="frozen",
            password_hash_iterations=HASH_ITERATIONS,
        )


@dataclass
class _Server:
    stack: ExitStack  # closing it stops the server
    client: SimulatorClient
    auth: tuple[str, str]  # the Admin user's basic-auth credentials
    pristine: tuple[ScenarioSummary, Clock]  # the world as served at start


class Servers:
    """The session's servers, by configuration."""

    def __init__(self) -> None:
        self._servers: dict[str, _Server] = {}

    def fresh(self, config: ServerConfig) -> AirflowSim:
        """A server for `config` whose world is at its start and whose journal
        is empty. A test that loaded another scenario into its server leaves a
        world that no reset brings back: that server is replaced."""
        server = self._servers.get(config.key())
        if server is not None and self._reset(server) != server.pristine:
            self._stop(config.key())
            server = None
        if server is None:  # a new server's journal is empty, a reset empties it
            server = self._start(config)
        return AirflowSim(server.client, server.auth, server.pristine[0]["seed"])

    def close(self) -> None:
        for key in list(self._servers):
            self._stop(key)

    def _start(self, config: ServerConfig) -> _Server:
        # aiohttp and the world only when a test asks for them
        from simulator.scenario.problems import ScenarioError
        from simulator.testing.live import live_server

        settings = config.settings()
        stack = ExitStack()
        try:
            live = stack.enter_context(live_server(settings))
        except ScenarioError as exc:  # the marker's scenario: its errors, not a traceback
            raise pytest.fail.Exception(f"@pytest.mark.{MARKER}: {exc}", pytrace=False) from None
        client = SimulatorClient(live.root)
        auth = (settings.admin_user, settings.admin_password)
        server = _Server(stack, client, auth, (client.scenario(), client.clock()))
        self._servers[config.key()] = server
        return server

    def _reset(self, server: _Server) -> tuple[ScenarioSummary, Clock]:
        # The seed explicitly: a test's reset(seed=...) would otherwise stick.
        summary = server.client.reset(seed=server.pristine[0]["seed"])
        return summary, server.client.clock()

    def _stop(self, key: str) -> None:
        self._servers.pop(key).stack.close()


@pytest.fixture(scope="session")
def _airflow_sim_servers() -> Iterator[Servers]:
    servers = Servers()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def airflow_sim(request: pytest.FixtureRequest, _airflow_sim_servers: Servers) -> AirflowSim:
    """A simulator served on a loopback port, its world at its start and its
    journal empty; the `ci` scenario with a frozen clock unless the test's
    `@pytest.mark.airflow_sim(scenario=..., seed=..., auth=...)` says otherwise."""
    return _airflow_sim_servers.fresh(ServerConfig.of(request.node))
