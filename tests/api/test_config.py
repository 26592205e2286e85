"""Config: Accept negotiation first, then the expose_config switch; JSON
(indent 4, schema order) or Airflow's INI-like text."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.server.app import create_app
from simulator.server.keys import SIM
from simulator.simulator import Simulator
from simulator.testing.live import LiveServer, live_server
from tests.conftest import ADMIN, basic, problem

URL = "/api/v1/config"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "config.yaml"
NOT_EXPOSED = (
    "Your Airflow administrator chose not to expose the configuration, "
    "most likely for security reasons."
)
JSON_ACCEPT = {**ADMIN, "Accept": "application/json"}
TEXT_ACCEPT = {**ADMIN, "Accept": "text/plain"}


def exposed_settings(**overrides: Any) -> Settings:
    return Settings(
        scenario="ci",
        validate_responses=True,
        clock="frozen",
        expose_config=True,
        password_hash_iterations=1000,
        **overrides,
    )


@pytest.fixture
async def exposed(aiohttp_client: Callable[..., Any]) -> TestClient:
    """A simulator started with --expose-config."""
    return await aiohttp_client(create_app(exposed_settings()))


def installed() -> dict[str, dict[str, str]]:
    """The fixture as a reader of the YAML file sees it, expose_config switched on."""
    config = yaml.safe_load(FIXTURE.read_text())
    config["webserver"]["expose_config"] = "True"
    return config


def expected_json(config: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "sections": [
            {"name": name, "options": [{"key": k, "value": v} for k, v in options.items()]}
            for name, options in config.items()
        ]
    }


class TestFixture:
    def test_every_value_is_a_string(self) -> None:
        config = yaml.safe_load(FIXTURE.read_text())
        assert len(config) == 28
        assert sum(len(options) for options in config.values()) == 277
        assert all(isinstance(v, str) for o in config.values() for v in o.values())

    def test_docker_compose_values(self, sim: Simulator) -> None:
        core, celery = sim.store.config["core"], sim.store.config["celery"]
        assert core["executor"] == "CeleryExecutor"
        assert core["dags_folder"] == "/opt/airflow/dags"
        assert core["fernet_key"] == ""
        assert celery["broker_url"] == "redis://:@redis:6379/0"
        assert sim.store.config["webserver"]["expose_config"] == "False"
        assert sim.store.config["celery_broker_transport_options"] == {}
        # %% in the template reads back as %.
        log_format = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"
        assert sim.store.config["logging"]["log_format"] == log_format


class TestGetConfig:
    async def test_json(self, exposed: TestClient) -> None:
        response = await exposed.get(URL, headers=JSON_ACCEPT)
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert await response.json() == expected_json(installed())

    async def test_json_is_indented_by_four_in_schema_order(self, exposed: TestClient) -> None:
        text = await (await exposed.get(URL, headers=JSON_ACCEPT)).text()
        assert text.startswith(
            '{\n    "sections": [\n        {\n            "name": "core",\n'
            '            "options": [\n                {\n'
            '                    "key": "dags_folder",\n'
            '                    "value": "/opt/airflow/dags"\n                },'
        )
        assert text.endswith("\n        }\n    ]\n}")
        assert text == json.dumps(expected_json(installed()), indent=4)

    async def test_text(self, exposed: TestClient) -> None:
        response = await exposed.get(URL, headers=TEXT_ACCEPT)
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
        assert text.startswith("[core]\ndags_folder = /opt/airflow/dags\nhostname_callable = ")
        # The compose file's [core] sql_alchemy_conn ends the core section.
        conn = "postgresql+psycopg2://airflow:airflow@postgres/airflow"
        assert f"\nsql_alchemy_conn = {conn}\n\n[database]\nsql_alchemy_conn = {conn}\n" in text
        assert "\nfernet_key = \n" in text
        assert "\nexpose_config = True\n" in text
        # Each section ends in a newline and sections are joined by one, so an
        # empty section is followed by two blank lines.
        assert "\n\n[celery_broker_transport_options]\n\n\n[dask]\n" in text
        assert text.endswith("[sensors]\ndefault_timeout = 604800\n")
        expected = "\n".join(
            f"[{name}]\n" + "\n".join(f"{k} = {v}" for k, v in options.items()) + "\n"
            for name, options in installed().items()
        )
        assert text == expected

    @pytest.mark.parametrize(
        ("accept", "kind"),
        [
            ("*/*", "text/plain"),
            ("text/*", "text/plain"),
            ("application/*", "application/json"),
            # Equal weight and specificity: Airflow's first serializer wins.
            ("application/json, text/plain", "text/plain"),
            ("text/plain;q=0.5, application/json", "application/json"),
            ("application/json;q=0.9, */*;q=1", "text/plain"),
            ("text/plain;q=0, */*", "application/json"),
            ("text/html, application/json;q=0.1", "application/json"),
            ("APPLICATION/JSON", "application/json"),
        ],
    )
    async def test_negotiation(self, exposed: TestClient, accept: str, kind: str) -> None:
        response = await exposed.get(URL, headers={**ADMIN, "Accept": accept})
        assert response.status == 200
        assert response.content_type == kind

    @pytest.mark.parametrize(
        "accept",
        ["application/xml", "text/html, image/*", "text/plain;q=0", "text/plain; charset=utf-8"],
    )
    async def test_not_acceptable(self, exposed: TestClient, accept: str) -> None:
        response = await exposed.get(URL, headers={**ADMIN, "Accept": accept})
        assert response.status == 406
        assert await response.read() == b""
        # A bare flask Response(status=406): flask's default content type.
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"

    async def test_no_accept_header(self, exposed: TestClient) -> None:
        response = await exposed.get(URL, headers=ADMIN, skip_auto_headers=["Accept"])
        assert response.status == 406
        assert await response.read() == b""

    async def test_not_exposed_by_default(self, client: TestClient) -> None:
        for accept in ("application/json", "text/plain", "*/*"):
            response = await client.get(URL, headers={**ADMIN, "Accept": accept})
            assert response.status == 403
            assert await response.json() == problem(
                403, "Forbidden", NOT_EXPOSED, "PermissionDenied"
            )

    async def test_negotiation_comes_before_exposure(self, client: TestClient) -> None:
        response = await client.get(URL, headers={**ADMIN, "Accept": "application/xml"})
        assert response.status == 406
        response = await client.get(URL, headers=ADMIN, skip_auto_headers=["Accept"])
        assert response.status == 406

    async def test_unauthenticated_before_negotiation(self, exposed: TestClient) -> None:
        response = await exposed.get(URL, skip_auto_headers=["Accept"])
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_viewer_is_forbidden(self, exposed: TestClient) -> None:
        sim = exposed.app[SIM]
        sim.add_user(
            username="viewer",
            password="secret",
            first_name="V",
            last_name="T",
            email="v@example.com",
            roles=["Viewer"],
        )
        response = await exposed.get(URL, headers={**basic("viewer", "secret"), "Accept": "*/*"})
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_op_may_read(self, exposed: TestClient) -> None:
        sim = exposed.app[SIM]
        sim.add_user(
            username="op",
            password="secret",
            first_name="O",
            last_name="T",
            email="o@example.com",
            roles=["Op"],
        )
        response = await exposed.get(URL, headers={**basic("op", "secret"), "Accept": "*/*"})
        assert response.status == 200

    async def test_query_parameters_are_ignored(self, exposed: TestClient) -> None:
        # The operation declares no parameters, so connexion ignores unknown ones.
        response = await exposed.get(URL, headers=JSON_ACCEPT, params={"section": "core"})
        assert response.status == 200

    async def test_settings_show_through(self, aiohttp_client: Callable[..., Any]) -> None:
        client = await aiohttp_client(
            create_app(exposed_settings(maximum_page_limit=50, auth="none"))
        )
        response = await client.get(URL, headers={"Accept": "application/json"})
        assert response.status == 200
        sections = {s["name"]: s["options"] for s in (await response.json())["sections"]}
        api = {o["key"]: o["value"] for o in sections["api"]}
        assert api["maximum_page_limit"] == "50"
        assert api["fallback_page_limit"] == "100"
        assert api["auth_backends"] == "airflow.api.auth.backend.default"
        # Options keep their place in the section.
        assert [o["key"] for o in sections["api"]] == list(installed()["api"])


@pytest.fixture(scope="module")
def exposed_live() -> Iterator[LiveServer]:
    with live_server(exposed_settings()) as server:
        yield server


class TestOfficialClient:
    def test_get_config(self, exposed_live: LiveServer) -> None:
        import airflow_client.client as airflow_client
        from airflow_client.client.api.config_api import ConfigApi

        configuration = airflow_client.Configuration(
            host=exposed_live.url, username="admin", password="admin"
        )
        with airflow_client.ApiClient(configuration) as api_client:
            config = ConfigApi(api_client).get_config()
        assert config.sections[0].name == "core"
        assert config.sections[0].options[0].key == "dags_folder"
        assert config.sections[0].options[0].value == "/opt/airflow/dags"
        assert [s.name for s in config.sections] == list(installed())

    def test_not_exposed(self, api_client: Any) -> None:
        from airflow_client.client.api.config_api import ConfigApi
        from airflow_client.client.exceptions import ForbiddenException

        with pytest.raises(ForbiddenException) as denied:
            ConfigApi(api_client).get_config()
        assert denied.value.status == 403
        assert json.loads(denied.value.body)["detail"] == NOT_EXPOSED
