"""What Airflow 2.5.3's webserver serves around the API for browsers: CORS
as its `set_cors_headers_on_response` hook sends it (origins, headers and
methods from [api] access_control_allow_*; flags, environment or the
scenario), Flask's automatic OPTIONS answers, the spec at
/api/v1/openapi.json and .yaml, and Swagger UI at /api/v1/ui/."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.spec.loader import SPEC_DIR
from tests.conftest import ADMIN, TEST_SETTINGS

DEV = "http://localhost:3000"
CORS = dataclasses.replace(
    TEST_SETTINGS,
    cors_origins=f"{DEV} http://127.0.0.1:5173",
    cors_headers="Content-Type, Authorization",
    cors_methods="GET, POST, PATCH, DELETE",
)
ALLOWED = {
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE",
}


def cors_headers(response: object) -> dict[str, str]:
    headers = response.headers  # type: ignore[attr-defined]
    return {k: v for k, v in headers.items() if k.startswith("Access-Control-")}


@pytest.fixture
def settings() -> Settings:
    return CORS


class TestCors:
    async def test_a_preflight_answers_without_credentials(self, client: TestClient) -> None:
        headers = {"Origin": DEV, "Access-Control-Request-Method": "PATCH",
                   "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
        response = await client.options("/api/v1/dags/etl_orders", headers=headers)
        assert (response.status, await response.read()) == (200, b"")
        assert response.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert cors_headers(response) == {**ALLOWED, "Access-Control-Allow-Origin": DEV}

    @pytest.mark.parametrize(
        ("path", "auth", "status"),
        [("/api/v1/dags", ADMIN, 200), ("/api/v1/dags", {}, 401),
         ("/api/v1/dags/nope", ADMIN, 404), ("/api/v1/dags?limit=-1", ADMIN, 400)],
    )  # fmt: skip
    async def test_answers_and_errors_carry_the_origin(
        self, client: TestClient, path: str, auth: dict[str, str], status: int
    ) -> None:
        response = await client.get(path, headers={**auth, "Origin": DEV})
        assert response.status == status
        assert cors_headers(response) == {**ALLOWED, "Access-Control-Allow-Origin": DEV}

    async def test_another_origin_gets_no_allow_origin(self, client: TestClient) -> None:
        response = await client.get(
            "/api/v1/dags", headers={**ADMIN, "Origin": "http://evil.example"}
        )
        assert (response.status, cors_headers(response)) == (200, ALLOWED)

    async def test_no_origin_header_counts_as_the_first(self, client: TestClient) -> None:
        response = await client.get("/api/v1/health")
        assert cors_headers(response)["Access-Control-Allow-Origin"] == DEV

    @pytest.mark.parametrize(
        ("method", "path"),
        [("GET", "/api/v1/nowhere"), ("PUT", "/api/v1/dags"), ("OPTIONS", "/api/v1/nowhere")],
    )
    async def test_no_route_no_headers(self, client: TestClient, method: str, path: str) -> None:
        response = await client.request(method, path, headers={"Origin": DEV})
        assert response.status in (404, 405)
        assert cors_headers(response) == {}

    async def test_the_control_api_is_not_the_api(self, client: TestClient) -> None:
        response = await client.get("/_sim/health", headers={"Origin": DEV})
        assert cors_headers(response) == {}

    async def test_a_faults_answer_carries_them(self, client: TestClient, sim: Simulator) -> None:
        sim.faults.add({"match": {"operation_id": "get_pools"}, "action": {"type": "status"}})
        response = await client.get("/api/v1/pools", headers={**ADMIN, "Origin": DEV})
        assert response.status == 503
        assert cors_headers(response)["Access-Control-Allow-Origin"] == DEV

    async def test_a_preflight_is_journaled_as_no_operation(self, client: TestClient) -> None:
        await client.options("/api/v1/pools", headers={"Origin": DEV})
        entries = (await (await client.get("/_sim/requests")).json())["requests"]
        assert [(e["method"], e["operation_id"], e["status"]) for e in entries] == [
            ("OPTIONS", None, 200)
        ]


class TestCorsSettings:
    async def test_off_by_default(self, aiohttp_client: object) -> None:
        from simulator.server.app import create_app

        client = await aiohttp_client(create_app(TEST_SETTINGS))  # type: ignore[operator]
        response = await client.get("/api/v1/health", headers={"Origin": DEV})
        assert cors_headers(response) == {}
        preflight = await client.options("/api/v1/health", headers={"Origin": DEV})
        assert (preflight.status, preflight.headers["Allow"]) == (200, "GET, HEAD, OPTIONS")

    async def test_any_origin(self, aiohttp_client: object) -> None:
        from simulator.server.app import create_app

        settings = dataclasses.replace(TEST_SETTINGS, cors_origins="*")
        client = await aiohttp_client(create_app(settings))  # type: ignore[operator]
        response = await client.get("/api/v1/health", headers={"Origin": "http://x.example"})
        assert cors_headers(response) == {"Access-Control-Allow-Origin": "*"}

    def test_from_the_scenarios_config_unless_a_flag_says(self) -> None:
        api = {"access_control_allow_origins": "*", "access_control_allow_methods": "GET"}
        scenario = {"name": "w", "config": {"api": api}}
        sim = Simulator(Settings(scenario=scenario))
        found = sim.settings
        assert (found.cors_origins, found.cors_methods, found.cors_headers) == ("*", "GET", "")
        flagged = Simulator(Settings(scenario=scenario, cors_origins=DEV))
        assert flagged.settings.cors_origins == DEV

    def test_a_value_on_two_lines_is_refused(self) -> None:
        from simulator.scenario.loader import load_scenario
        from simulator.scenario.problems import ScenarioError

        api = {"access_control_allow_origins": "http://a\r\nSet-Cookie: x=1"}
        with pytest.raises(ScenarioError, match=r"config\.api\.access_control_allow_origins: "):
            load_scenario({"name": "w", "config": {"api": api}})


class TestSpecAndSwaggerUi:
    async def test_the_spec_as_connexion_serves_it(self, client: TestClient) -> None:
        expected = yaml.safe_load((SPEC_DIR / "v1-2.5.3.yaml").read_text())
        expected["servers"] = [{"url": "/api/v1"}]
        as_json = await client.get("/api/v1/openapi.json")
        assert as_json.headers["Content-Type"] == "application/json"
        raw = await as_json.read()
        assert raw.endswith(b"}\n") and b", " not in raw[:200]  # compact, as jsonify
        assert json.loads(raw) == expected
        as_yaml = await client.get("/api/v1/openapi.yaml")
        assert as_yaml.headers["Content-Type"] == "text/yaml"
        assert yaml.safe_load(await as_yaml.read()) == expected

    async def test_swagger_ui_from_the_bundle(self, client: TestClient) -> None:
        redirect = await client.get("/api/v1/ui", allow_redirects=False)
        assert (redirect.status, redirect.headers["Location"]) == (308, "/api/v1/ui/")
        page = await client.get("/api/v1/ui/")
        text = await page.text()
        assert page.status == 200 and 'url: "/api/v1/openapi.json"' in text
        assert "{{" not in text and "{%" not in text
        for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
            assert f"./{asset}" in text
            response = await client.get(f"/api/v1/ui/{asset}")
            assert response.status == 200 and len(await response.read()) > 10_000

    @pytest.mark.parametrize("path", ["/api/v1/ui/nope.js", "/api/v1/ui/%2e%2e/%2e%2e/setup.py"])
    async def test_nothing_outside_the_bundle(self, client: TestClient, path: str) -> None:
        response = await client.get(path)
        assert (response.status, response.content_type) == (404, "application/problem+json")


def test_the_flags_and_their_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from simulator.cli import build_parser, main, settings_from

    for name in ("ORIGINS", "HEADERS", "METHODS"):
        monkeypatch.delenv(f"AIRFLOW_SIM_CORS_{name}", raising=False)
    assert settings_from(build_parser().parse_args(["serve"])).cors_origins is None
    args = build_parser().parse_args(["serve", "--cors-origins", f"{DEV} http://b.example"])
    assert settings_from(args).cors_origins == f"{DEV} http://b.example"
    monkeypatch.setenv("AIRFLOW_SIM_CORS_METHODS", "GET, POST")
    assert settings_from(build_parser().parse_args(["serve"])).cors_methods == "GET, POST"
    assert main(["serve", "--cors-headers", "X-A\nSet-Cookie: a=b"]) == 2
    assert "expected one line of at most 4096 characters" in capsys.readouterr().err


async def test_allow_names_every_route_of_the_path(client: TestClient) -> None:
    # /dags/~/dagRuns/list is also /dags/{dag_id}/dagRuns/{dag_run_id}: werkzeug's union.
    response = await client.options("/api/v1/dags/~/dagRuns/list")
    assert response.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST"


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/ui/", "/api/v1/ui/index.css"])
async def test_the_docs_answer_a_preflight(client: TestClient, path: str) -> None:
    response = await client.options(path, headers={"Origin": DEV})
    assert (response.status, response.headers["Allow"]) == (200, "GET, HEAD, OPTIONS")
    assert cors_headers(response)["Access-Control-Allow-Origin"] == DEV


@pytest.mark.parametrize("name", ["%00", "a%00b", "a" * 5000])
async def test_a_hostile_file_name_is_a_404(client: TestClient, name: str) -> None:
    response = await client.get(f"/api/v1/ui/{name}")
    assert (response.status, response.content_type) == (404, "application/problem+json")
