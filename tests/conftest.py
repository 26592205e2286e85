"""Shared fixtures: an in-process app with response validation on, basic-auth
headers, and a live server for the official client."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.server.app import create_app
from simulator.server.keys import SIM
from simulator.simulator import Simulator
from simulator.state.deployment import COMPONENTS
from simulator.testing.live import LiveServer, live_server

DOCS = (
    "https://airflow.apache.org/docs/apache-airflow/2.5.3/stable-rest-api-ref.html#section/Errors/"
)
DOCS_2_10 = DOCS.replace("2.5.3", "2.10.5")


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ADMIN = basic("admin", "admin")

# connexion answers query-parameter errors with jsonschema 4.17's full text.
NEGATIVE_OFFSET = (
    "-1 is less than the minimum of 0\n\nFailed validating 'minimum' in schema:\n"
    "    {'minimum': 0, 'type': 'integer'}\n\nOn instance:\n    -1"
)


def problem(
    status: int, title: str | None, detail: str | None, name: str | None = None, docs: str = DOCS
) -> dict[str, Any]:
    """The problem body Airflow answers; `name` is the Errors/<name> link, None for about:blank."""
    return {
        "detail": detail,
        "status": status,
        "title": title,
        "type": docs + name if name else "about:blank",
    }


def problem_2_10(
    status: int, title: str | None, detail: str | None, name: str | None = None
) -> dict[str, Any]:
    """The problem body Airflow 2.10.5 answers (its links point into the 2.10.5 reference)."""
    return problem(status, title, detail, name, DOCS_2_10)


# Every world's audit log starts with the rows its components wrote as they
# started (cli_scheduler, cli_triggerer, cli_webserver, cli_worker x 4).
STARTUP_ROWS = len(COMPONENTS)

# Response validation is always on in tests; a cheap hash keeps user creation fast.
# DAG-side tests run in the bundled `ci` world (frozen at 2023-04-01, seed 0).
TEST_SETTINGS = Settings(scenario="ci", validate_responses=True, password_hash_iterations=1000)
# Resource tests run in an Airflow without DAGs (like load_examples = False),
# so no task instance takes a pool slot or writes an event log behind their back.
NO_DAGS = dataclasses.replace(
    TEST_SETTINGS,
    scenario={"name": "no_dags", "clock": {"start": "2023-04-01T00:00:00Z", "mode": "frozen"}},
)
# The same two worlds served through Airflow 2.10.5's API (a test module
# overrides the `settings` fixture with one of them).
TEST_SETTINGS_2_10 = dataclasses.replace(TEST_SETTINGS, airflow_version="2.10.5")
NO_DAGS_2_10 = dataclasses.replace(NO_DAGS, airflow_version="2.10.5")


@pytest.fixture
def settings() -> Settings:
    """Override in a test module to run against another world (e.g. TEST_SETTINGS: with DAGs)."""
    return NO_DAGS


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(settings)


@pytest.fixture
def sim(app: web.Application) -> Simulator:
    return app[SIM]


@pytest.fixture
async def client(aiohttp_client: Callable[..., Any], app: web.Application) -> TestClient:
    return await aiohttp_client(app)


@pytest.fixture
def make_user(sim: Simulator) -> Callable[..., dict[str, str]]:
    """Create a user with the given roles; return its basic-auth headers."""

    def make(username: str, *roles: str, password: str = "secret") -> dict[str, str]:
        sim.add_user(
            username=username,
            password=password,
            first_name=username.title(),
            last_name="Tester",
            email=f"{username}@example.com",
            roles=list(roles),
        )
        return basic(username, password)

    return make


@pytest.fixture(scope="session")
def live_settings() -> Settings:
    return NO_DAGS


@pytest.fixture(scope="session")
def _live(live_settings: Settings) -> Iterator[LiveServer]:
    with live_server(live_settings) as server:
        yield server


@pytest.fixture
def live(_live: LiveServer) -> LiveServer:
    """A live server whose world is reset for each test."""
    _live.sim.reset()
    return _live


@pytest.fixture(scope="session")
def live_dags() -> Iterator[LiveServer]:
    """One live server with the built-in DAGs for the whole run; tests reset it."""
    with live_server(TEST_SETTINGS) as server:
        yield server


@pytest.fixture
def api_client(live: LiveServer) -> Iterator[Any]:
    """The official apache-airflow-client, logged in as admin."""
    import airflow_client.client as airflow_client

    configuration = airflow_client.Configuration(host=live.url, username="admin", password="admin")
    with airflow_client.ApiClient(configuration) as api:
        yield api
