"""Airflow 2.10.5's installation: its configuration (fixtures/config-2.10.5.yaml)
and providers (fixtures/providers-2.10.5.yaml) when serving 2.10.5, while
2.5.3 keeps its own (fixtures/config.yaml, fixtures/providers.yaml)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.scenario.model import Scenario
from simulator.simulator import Simulator
from simulator.world import fixture_file, installation
from tests.conftest import ADMIN, NO_DAGS, NO_DAGS_2_10, problem_2_10

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CONFIG = "/api/v1/config"
JSON_ACCEPT = {"Accept": "application/json"}
TEXT_ACCEPT = {"Accept": "text/plain"}

# The nine hard dependencies of apache-airflow 2.10.5, at constraints-2.10.5's pins.
PROVIDERS_2_10 = [
    {
        "package_name": "apache-airflow-providers-common-compat",
        "description": "Common Compatibility Provider - providing compatibility code for "
        "previous Airflow versions.",
        "version": "1.3.0",
    },
    {
        "package_name": "apache-airflow-providers-common-io",
        "description": "Common IO Provider",
        "version": "1.5.0",
    },
    {
        "package_name": "apache-airflow-providers-common-sql",
        "description": "Common SQL Provider https://en.wikipedia.org/wiki/SQL",
        "version": "1.21.0",
    },
    {
        "package_name": "apache-airflow-providers-fab",
        "description": "Flask App Builder https://flask-appbuilder.readthedocs.io/",
        "version": "1.5.2",
    },
    {
        "package_name": "apache-airflow-providers-ftp",
        "description": "File Transfer Protocol (FTP) https://tools.ietf.org/html/rfc114",
        "version": "3.12.0",
    },
    {
        "package_name": "apache-airflow-providers-http",
        "description": "Hypertext Transfer Protocol (HTTP) https://www.w3.org/Protocols/",
        "version": "5.0.0",
    },
    {
        "package_name": "apache-airflow-providers-imap",
        "description": "Internet Message Access Protocol (IMAP) https://tools.ietf.org/html/rfc3501",
        "version": "3.8.0",
    },
    {
        "package_name": "apache-airflow-providers-smtp",
        "description": "Simple Mail Transfer Protocol (SMTP) https://tools.ietf.org/html/rfc5321",
        "version": "1.9.0",
    },
    {
        "package_name": "apache-airflow-providers-sqlite",
        "description": "SQLite https://www.sqlite.org/",
        "version": "4.0.0",
    },
]


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(NO_DAGS_2_10, expose_config=True)


def fixture(name: str) -> Any:
    return yaml.safe_load((FIXTURES / name).read_text())


def served(config: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The fixture as GET /config shows it: expose_config switched on."""
    return {**config, "webserver": {**config["webserver"], "expose_config": "True"}}


def as_json(config: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "sections": [
            {"name": name, "options": [{"key": k, "value": v} for k, v in options.items()]}
            for name, options in config.items()
        ]
    }


def as_text(config: dict[str, dict[str, str]]) -> str:
    return "\n".join(
        f"[{name}]\n" + "\n".join(f"{k} = {v}" for k, v in options.items()) + "\n"
        for name, options in config.items()
    )


async def get(client: TestClient, url: str, status: int = 200, **headers: str) -> Any:
    response = await client.get(url, headers={**ADMIN, **headers})
    assert response.status == status, await response.text()
    if response.content_type == "text/plain":
        return await response.text()
    return await response.json()


class TestFixtures:
    def test_one_file_per_release(self) -> None:
        assert fixture_file("config") == "config.yaml"
        assert fixture_file("config", "2.10.5") == "config-2.10.5.yaml"
        assert fixture_file("providers", "2.10.5") == "providers-2.10.5.yaml"
        assert fixture_file("security", "2.10.5") == "security.yaml"
        assert installation("2.10.5")["security"] == installation()["security"]

    def test_config_figures(self) -> None:
        config = fixture("config-2.10.5.yaml")
        assert len(config) == 31
        assert sum(len(options) for options in config.values()) == 353
        assert all(isinstance(v, str) for o in config.values() for v in o.values())
        assert list(config)[:5] == [
            "atlas", "hive", "local_kubernetes_executor", "celery_kubernetes_executor", "celery"
        ]  # fmt: skip
        assert list(config)[-4:] == ["common.io", "fab", "imap", "smtp_provider"]

    def test_docker_compose_values(self) -> None:
        config = fixture("config-2.10.5.yaml")
        assert config["core"]["executor"] == "CeleryExecutor"
        assert config["core"]["dags_folder"] == "/opt/airflow/dags"
        assert config["core"]["fernet_key"] == ""
        assert config["database"]["sql_alchemy_conn"] == (
            "postgresql+psycopg2://airflow:airflow@postgres/airflow"
        )
        assert "sql_alchemy_conn" not in config["core"]  # 2.10's compose sets [database] only
        assert config["celery"]["broker_url"] == "redis://:@redis:6379/0"
        # Not among the fallback defaults: the compose file's value ends the section.
        assert list(config["celery"].items())[-1] == (
            "result_backend", "db+postgresql://airflow:airflow@postgres/airflow"
        )  # fmt: skip
        assert config["scheduler"]["enable_health_check"] == "true"
        assert config["webserver"]["expose_config"] == "False"

    def test_world_per_release(self) -> None:
        old = Simulator(NO_DAGS, Scenario(name="s"))
        new = Simulator(NO_DAGS_2_10, Scenario(name="s", airflow_version="2.10.5"))
        assert old.store.config == fixture("config.yaml")
        assert new.store.config == fixture("config-2.10.5.yaml")
        assert len(old.store.providers) == 5
        assert len(new.store.providers) == 9

    def test_scenario_overlay(self) -> None:
        scenario = Scenario(
            name="s",
            airflow_version="2.10.5",
            config={"core": {"test_connection": "Enabled", "extra_option": 3},
                    "api": {"enable_xcom_deserialize_support": True}},
        )  # fmt: skip
        config = Simulator(NO_DAGS_2_10, scenario).store.config
        core = list(config["core"].items())
        # A known option keeps its place; one the release lacks ends its section.
        assert core[-3:] == [
            ("test_connection", "Enabled"),
            ("max_templated_field_length", "4096"),
            ("extra_option", "3"),
        ]
        assert config["api"]["enable_xcom_deserialize_support"] == "True"


class TestConfig2_10:
    @pytest.mark.parametrize(
        ("section", "option", "value"),
        [
            ("core", "test_connection", "Disabled"),
            ("core", "max_consecutive_failed_dag_runs_per_dag", "0"),
            ("api", "enable_xcom_deserialize_support", "False"),
            ("scheduler", "task_queued_timeout", "600.0"),
            ("fab", "auth_rate_limit", "5 per 40 second"),
        ],
    )
    async def test_value(self, client: TestClient, section: str, option: str, value: str) -> None:
        url = f"{CONFIG}/section/{section}/option/{option}"
        assert await get(client, url, **JSON_ACCEPT) == {
            "sections": [{"name": section, "options": [{"key": option, "value": value}]}]
        }
        assert await get(client, url, **TEXT_ACCEPT) == f"[{section}]\n{option} = {value}\n"

    async def test_2_5_only_options_are_gone(self, client: TestClient) -> None:
        body = await get(client, f"{CONFIG}/section/core/option/sql_alchemy_conn", 404,
                         **JSON_ACCEPT)  # fmt: skip
        assert body == problem_2_10(
            404, "Config not found.",
            "The option [core/sql_alchemy_conn] is not found in config.", "NotFound",
        )  # fmt: skip
        body = await get(client, f"{CONFIG}?section=dask", 404, **JSON_ACCEPT)
        assert body == problem_2_10(404, "section not found.", "section=dask not found.",
                                    "NotFound")  # fmt: skip

    async def test_whole_config(self, client: TestClient) -> None:
        expected = served(fixture("config-2.10.5.yaml"))
        response = await client.get(CONFIG, headers={**ADMIN, **JSON_ACCEPT})
        assert await response.text() == json.dumps(as_json(expected), indent=4)
        text = await get(client, CONFIG, **TEXT_ACCEPT)
        assert text == as_text(expected)
        assert text.startswith("[atlas]\nsasl_enabled = False\nhost = \n")
        # Empty provider sections: a header, then the separating blank line.
        assert text.endswith("[imap]\n\n\n[smtp_provider]\n\n")

    async def test_section(self, client: TestClient) -> None:
        fab = {"auth_rate_limited": "True", "auth_rate_limit": "5 per 40 second",
               "update_fab_perms": "True"}  # fmt: skip
        assert await get(client, f"{CONFIG}?section=fab", **JSON_ACCEPT) == as_json({"fab": fab})
        assert await get(client, f"{CONFIG}?section=fab", **TEXT_ACCEPT) == (
            "[fab]\nauth_rate_limited = True\nauth_rate_limit = 5 per 40 second\n"
            "update_fab_perms = True\n"
        )
        assert await get(client, f"{CONFIG}?section=smtp_provider", **TEXT_ACCEPT) == (
            "[smtp_provider]\n\n"
        )

    async def test_providers(self, client: TestClient) -> None:
        assert await get(client, "/api/v1/providers") == {
            "providers": PROVIDERS_2_10,
            "total_entries": 9,
        }


class TestConfig2_5Unchanged:
    @pytest.fixture
    def settings(self) -> Settings:
        return dataclasses.replace(NO_DAGS, expose_config=True)

    async def test_whole_config(self, client: TestClient) -> None:
        text = await get(client, CONFIG, **TEXT_ACCEPT)
        assert text == as_text(served(fixture("config.yaml")))

    async def test_2_10_only_options_absent(self, client: TestClient) -> None:
        body = await get(client, CONFIG, **JSON_ACCEPT)
        core = next(s for s in body["sections"] if s["name"] == "core")
        assert "test_connection" not in {option["key"] for option in core["options"]}
        assert "fab" not in {section["name"] for section in body["sections"]}

    async def test_providers(self, client: TestClient) -> None:
        body = await get(client, "/api/v1/providers")
        assert body["total_entries"] == 5
        assert [p["version"] for p in body["providers"]] == [
            "1.3.4", "3.3.1", "4.2.0", "3.1.1", "3.3.1"
        ]  # fmt: skip
