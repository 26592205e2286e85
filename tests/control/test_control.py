"""/_sim health, clock settings, reset and scenario: answers follow
spec/control.yaml, bad bodies are 400s that change nothing."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.control.validation import CONTROL_SPEC
from simulator.simulator import Simulator
from tests.conftest import ADMIN, STARTUP_ROWS, TEST_SETTINGS, problem
from tests.control.test_clock import conforms

COUNTS = {"connections": 0, "dag_runs": 5, "dags": 9, "event_logs": STARTUP_ROWS, "pools": 1,
          "task_instances": 18, "users": 1, "variables": 0}  # fmt: skip
CI = {
    "name": "ci",
    "description": "Small and frozen at 2023-04-01 for integration tests; "
    "time moves only when told.",
    "seed": 0,
    "airflow_version": "2.5.3",
    "source": "bundled",
    "counts": COUNTS,
}


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


async def test_health(client: TestClient) -> None:
    response = await client.get("/_sim/health")
    body = await response.json()
    assert (response.status, body) == (
        200,
        {"status": "ok", "scenario": "ci", "now": "2023-04-01T00:00:00+00:00"},
    )
    conforms("/health", "get", "200", body)


class TestPatchClock:
    async def test_realtime_at_a_speed_then_frozen(
        self, client: TestClient, sim: Simulator
    ) -> None:
        ticks = iter([100.0, 100.0, 110.0, 110.0, 120.0])
        sim.clock._wall = lambda: next(ticks)  # a wall clock the test moves
        response = await client.patch("/_sim/clock", json={"mode": "realtime", "speed": 60})
        body = await response.json()
        assert body == {"mode": "realtime", "now": "2023-04-01T00:00:00+00:00", "speed": 60.0}
        conforms("/clock", "patch", "200", body)
        # Ten wall seconds at 60x: ten virtual minutes, and runs moved meanwhile.
        frozen = await (await client.patch("/_sim/clock", json={"mode": "frozen"})).json()
        assert frozen == {"mode": "frozen", "now": "2023-04-01T00:10:00+00:00", "speed": 60.0}
        assert sim.now().isoformat() == "2023-04-01T00:10:00+00:00"

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({}, "{} should be non-empty"),
            ({"mode": "paused"}, "'paused' is not one of ['frozen', 'realtime']"),
            ({"speed": 0}, "0 is less than or equal to the minimum of 0"),
            ({"speed": 1e300}, "1e+300 is greater than the maximum of 1000000"),
            ({"colour": "red"}, "Additional properties are not allowed ('colour' was unexpected)"),
        ],
    )
    async def test_bad_bodies(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        response = await client.patch("/_sim/clock", json=body)
        found = await response.json()
        assert (response.status, found) == (400, problem(400, "Bad Request", detail, "BadRequest"))
        conforms("/clock", "patch", "400", found)
        assert (sim.clock.mode, sim.clock.speed) == ("frozen", 1.0)


class TestResetAndScenario:
    async def test_get_scenario(self, client: TestClient) -> None:
        body = await (await client.get("/_sim/scenario")).json()
        assert body == CI
        conforms("/scenario", "get", "200", body)

    async def test_reset_forgets_what_happened(self, client: TestClient) -> None:
        trigger = await client.post("/api/v1/dags/manual_backfill_tool/dagRuns", json={},
                                    headers=ADMIN)  # fmt: skip
        assert trigger.status == 200
        await client.post("/_sim/clock/advance", json={"seconds": 7200})
        moved = await (await client.get("/_sim/scenario")).json()
        assert moved["counts"]["dag_runs"] > COUNTS["dag_runs"]
        response = await client.post("/_sim/reset")
        body = await response.json()
        assert (response.status, body) == (200, CI)
        conforms("/reset", "post", "200", body)
        clock = await (await client.get("/_sim/clock")).json()
        assert clock["now"] == "2023-04-01T00:00:00+00:00"
        again = await client.post("/api/v1/dags/manual_backfill_tool/dagRuns", json={},
                                  headers=ADMIN)  # fmt: skip
        assert again.status == 200  # the same generated run id no longer conflicts

    async def test_reset_with_a_seed(self, client: TestClient) -> None:
        body = await (await client.post("/_sim/reset", json={"seed": 5})).json()
        assert (body["seed"], body["counts"]) == (5, COUNTS)
        assert (await (await client.post("/_sim/reset")).json())["seed"] == 5  # kept

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"seed": -1}, "-1 is less than the minimum of 0"),
            ({"seed": "x"}, "'x' is not of type 'integer'"),
            ({"sed": 1}, "Additional properties are not allowed ('sed' was unexpected)"),
        ],
    )
    async def test_bad_bodies(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        await client.post("/_sim/clock/advance", json={"seconds": 60})
        response = await client.post("/_sim/reset", json=body)
        assert (response.status, await response.json()) == (
            400,
            problem(400, "Bad Request", detail, "BadRequest"),
        )
        assert sim.now().isoformat() == "2023-04-01T00:01:00+00:00"  # not reset


class TestPutScenario:
    async def test_a_bundled_name(self, client: TestClient, sim: Simulator) -> None:
        response = await client.put("/_sim/scenario", json={"name": "demo"})
        body = await response.json()
        assert (response.status, body["name"], body["source"], body["seed"]) == (
            200, "demo", "bundled", 7,
        )  # fmt: skip
        conforms("/scenario", "put", "200", body)
        # No flag set the clock, so the scenario's applies.
        assert (sim.clock.mode, sim.clock.speed, sim.scenario.name) == ("realtime", 30, "demo")
        assert sim.settings.validate_responses  # a flag given at start still holds
        dags = await (await client.get("/api/v1/dags?limit=1", headers=ADMIN)).json()
        assert dags["total_entries"] == 9 and dags["dags"][0]["dag_id"] == "flaky_partner_sync"

    async def test_a_file_an_inline_document_and_a_yaml_body(
        self, client: TestClient, tmp_path: Any
    ) -> None:
        path = tmp_path / "w.yaml"
        path.write_text("name: from_file\ninclude: [ci]\nseed: 3\n")
        body = await (await client.put("/_sim/scenario", json={"path": str(path)})).json()
        assert (body["name"], body["source"], body["seed"]) == ("from_file", str(path), 3)
        inline = {"scenario": {"name": "inline", "pools": [{"name": "p", "slots": 2}]}}
        body = await (await client.put("/_sim/scenario", json=inline)).json()
        assert (body["name"], body["source"], body["counts"]["pools"]) == ("inline", "inline", 2)
        yaml_body = b"name: yaml_body\ndags: [{use: etl, dag_id: sales}]\n"
        response = await client.put(
            "/_sim/scenario", data=yaml_body, headers={"Content-Type": "application/yaml"}
        )
        body = await response.json()
        assert (body["name"], body["counts"]["dags"]) == ("yaml_body", 1)

    @pytest.mark.parametrize(
        ("request_body", "detail"),
        [
            (
                {"scenario": {"name": "bad", "seed": -1, "dags": [{"dag_id": "d", "x": 1}]}},
                "(inline scenario): dags[0].x: unknown key 'x'\n"
                "(inline scenario): seed: expected a number >= 0, found -1",
            ),
            (
                {"name": "nowhere"},
                "scenario: expected a bundled scenario (chaos, ci, default, demo, large) or a file "
                "path, found 'nowhere'",
            ),
            ({"path": "/etc/passwd"}, "path: expected a .yaml, .yml or .json file"),
            ({"path": "/no/such.yaml"}, "/no/such.yaml: no such file"),
            ({"name": "ci", "path": "x.yaml"},
             "Exactly one of name, path and scenario is required"),
            (b"- a\n- list\n", "(request body): expected a mapping, a scenario document"),
            (b"name: [\n", "(request body): line 2, column 1: expected the node content, "
             "but found '<stream end>'"),
        ],
    )  # fmt: skip
    async def test_an_invalid_scenario_changes_nothing(
        self, client: TestClient, sim: Simulator, request_body: Any, detail: str
    ) -> None:
        await client.post("/_sim/clock/advance", json={"seconds": 60})
        if isinstance(request_body, bytes):
            headers = {"Content-Type": "application/yaml"}
            response = await client.put("/_sim/scenario", data=request_body, headers=headers)
        else:
            response = await client.put("/_sim/scenario", json=request_body)
        found = await response.json()
        assert (response.status, found) == (400, problem(400, "Bad Request", detail, "BadRequest"))
        conforms("/scenario", "put", "400", found)
        assert (sim.scenario.name, sim.now().isoformat()) == ("ci", "2023-04-01T00:01:00+00:00")


class TestControlToken:
    TOKEN = "s3cret-token"

    @pytest.fixture
    def settings(self) -> Settings:
        return dataclasses.replace(TEST_SETTINGS, control_token=self.TOKEN)

    @pytest.mark.parametrize("header", [None, "Bearer wrong", "s3cret-token", "Basic s3cret-token"])
    async def test_without_the_token_401_and_nothing_moves(
        self, client: TestClient, sim: Simulator, header: str | None
    ) -> None:
        headers = {"Authorization": header} if header else {}
        response = await client.post("/_sim/clock/advance", json={"seconds": 60}, headers=headers)
        body = await response.json()
        assert (response.status, response.headers["WWW-Authenticate"]) == (401, "Bearer")
        assert body == problem(
            401, "Unauthorized", "A valid control token is required", "Unauthenticated"
        )
        assert self.TOKEN not in await response.text()
        assert sim.now().isoformat() == "2023-04-01T00:00:00+00:00"

    async def test_with_the_token(self, client: TestClient) -> None:
        auth = {"Authorization": f"Bearer {self.TOKEN}"}
        response = await client.post("/_sim/clock/advance", json={"seconds": 60}, headers=auth)
        assert response.status == 200
        assert (await client.get("/_sim/scenario", headers=auth)).status == 200

    async def test_every_route_but_health_needs_it(self, client: TestClient) -> None:
        spec = yaml.safe_load(CONTROL_SPEC.read_text())
        routes = [
            (method, path)
            for path, item in spec["paths"].items()
            for method in item
            if method != "parameters"
        ]
        assert len(routes) == 20
        for method, path in routes:
            response = await client.request(method, f"/_sim{path.replace('{fault_id}', 'f1')}")
            assert response.status == (200 if path == "/health" else 401), (method, path)

    async def test_health_stays_open(self, client: TestClient) -> None:
        assert (await client.get("/_sim/health")).status == 200
        assert (await client.get("/_sim/openapi.yaml")).status == 401


WRONG_TYPE = "Wrong type, expected 'integer' for query parameter '{}'"


@pytest.mark.parametrize(
    ("method", "path", "detail"),
    [
        ("POST", "/_sim/reset?seed=3", "Unknown query parameter 'seed'"),
        ("DELETE", "/_sim/requests?limit=3", "Unknown query parameter 'limit'"),
        ("GET", "/_sim/requests?status=%20200", WRONG_TYPE.format("status")),
        ("GET", "/_sim/requests?limit=1_0", WRONG_TYPE.format("limit")),
    ],
)  # fmt: skip
async def test_an_undeclared_or_malformed_query_is_a_400_that_changes_nothing(
    client: TestClient, sim: Simulator, method: str, path: str, detail: str
) -> None:
    await client.get("/api/v1/pools", headers=ADMIN)
    response = await client.request(method, path)
    assert (response.status, await response.json()) == (
        400, problem(400, "Bad Request", detail, "BadRequest"),
    )  # fmt: skip
    assert len(sim.journal) == 1 and sim.settings.seed == 0


async def test_head_on_a_get_route(client: TestClient) -> None:
    assert (await client.head("/_sim/clock")).status == 200
