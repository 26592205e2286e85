"""/_sim/clock: read and move the virtual clock; answers follow spec/control.yaml."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from jsonschema_path import SchemaPath
from openapi_core.validation.schemas import oas30_read_schema_validators_factory

from simulator.config import Settings
from simulator.control.app import CONTROL_SPEC
from simulator.simulator import Simulator
from tests.conftest import ADMIN, NO_DAGS, TEST_SETTINGS, problem

SPEC = SchemaPath.from_dict(yaml.safe_load(CONTROL_SPEC.read_text()))


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


def conforms(path: str, method: str, status: str, body: Any) -> None:
    responses = SPEC / "paths" / path / method / "responses" / status / "content"
    content_type = "application/json" if status == "200" else "application/problem+json"
    schema = responses / content_type / "schema"
    validator = oas30_read_schema_validators_factory.create(SPEC, schema).validator
    assert not list(validator.iter_errors(body))


class TestGetClock:
    async def test_frozen_clock_at_the_fixed_start(self, client: TestClient) -> None:
        response = await client.get("/_sim/clock")
        assert response.status == 200
        body = await response.json()
        assert body == {"mode": "frozen", "now": "2023-04-01T00:00:00+00:00", "speed": 1.0}
        conforms("/clock", "get", "200", body)

    async def test_no_airflow_auth_needed(self, client: TestClient) -> None:
        response = await client.get("/_sim/clock", headers={"Authorization": "Basic bad"})
        assert response.status == 200


class TestAdvanceClock:
    async def test_by_seconds_runs_what_became_due(
        self, client: TestClient, sim: Simulator
    ) -> None:
        response = await client.post("/_sim/clock/advance", json={"seconds": 60})
        assert response.status == 200
        body = await response.json()
        assert body["now"] == "2023-04-01T00:01:00+00:00"
        assert body["events"] > 0
        conforms("/clock/advance", "post", "200", body)
        assert sim.engine.now == sim.clock.now()
        assert any(ti.state == "success" for ti in sim.store.task_instances)

    async def test_until_an_instant(self, client: TestClient) -> None:
        response = await client.post("/_sim/clock/advance", json={"until": "2023-04-01T02:00:00Z"})
        assert (await response.json())["now"] == "2023-04-01T02:00:00+00:00"

    async def test_until_idle_stops_when_nothing_runs(
        self, client: TestClient, sim: Simulator
    ) -> None:
        response = await client.post("/_sim/clock/advance", json={"until_idle": True})
        assert response.status == 200
        assert not sim.store.active_tis
        assert all(run.state in ("success", "failed") for run in sim.store.dag_runs)
        again = await client.post("/_sim/clock/advance", json={"until_idle": True})
        assert (await again.json())["events"] == 0

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"seconds": -1}, "-1 is less than the minimum of 0"),
            ({"until": "2023-03-01T00:00:00Z"}, "the clock never moves backwards"),
            ({"until": "yesterday"}, "'yesterday' is not a 'date-time'"),
            ({"hours": 1}, "Additional properties are not allowed ('hours' was unexpected)"),
            ({"until_idle": False}, "False is not one of [True]"),
            ({"seconds": 1e300}, "1e+300 is greater than the maximum of 3155760000"),
            (
                {"seconds": 1, "until_idle": True},
                "Exactly one of seconds, until, until_idle and until_dag_run is required",
            ),
            (
                {"max_events": 5},
                "Exactly one of seconds, until, until_idle and until_dag_run is required",
            ),
            ({"seconds": 1, "max_events": 0}, "0 is less than the minimum of 1"),
        ],
    )
    async def test_bad_requests_change_nothing(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        response = await client.post("/_sim/clock/advance", json=body)
        assert response.status == 400
        problem_body = await response.json()
        assert problem_body == problem(400, "Bad Request", detail, "BadRequest")
        conforms("/clock/advance", "post", "400", problem_body)
        assert sim.clock.now().isoformat() == "2023-04-01T00:00:00+00:00"

    @pytest.mark.parametrize("raw", [b"{", b'{"seconds": NaN}', b'{"seconds": Infinity}'])
    async def test_not_json(self, client: TestClient, raw: bytes) -> None:
        response = await client.post("/_sim/clock/advance", data=raw)
        assert response.status == 400
        assert (await response.json())["detail"] == "Request body is not valid JSON"

    async def test_max_events_stops_at_the_instant_reached(
        self, client: TestClient, sim: Simulator
    ) -> None:
        body = {"until": "8999-12-31T23:59:59Z", "max_events": 1000}
        response = await client.post("/_sim/clock/advance", json=body)
        answer = await response.json()
        assert (response.status, answer["events"], answer["complete"]) == (200, 1000, False)
        conforms("/clock/advance", "post", "200", answer)
        reached = sim.clock.now()
        assert reached == sim.engine.now and reached.year == 2023
        assert answer["now"] == reached.isoformat()
        clock = await (await client.get("/_sim/clock")).json()
        assert clock["now"] == answer["now"]  # later requests see the same instant
        rest = await client.post("/_sim/clock/advance", json={"seconds": 0})
        assert (await rest.json())["complete"] is True

    async def test_the_server_flag_caps_max_events(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.settings = dataclasses.replace(sim.settings, max_events=10)
        body = {"seconds": 86400, "max_events": 5000}
        answer = await (await client.post("/_sim/clock/advance", json=body)).json()
        assert (answer["events"], answer["complete"]) == (10, False)


class TestAdvanceUntilDagRun:
    async def test_stops_when_the_run_ends(self, client: TestClient, sim: Simulator) -> None:
        trigger = await client.post(
            "/api/v1/dags/manual_backfill_tool/dagRuns", json={"dag_run_id": "r1"}, headers=ADMIN
        )
        assert trigger.status == 200
        body = {"until_dag_run": {"dag_id": "manual_backfill_tool", "dag_run_id": "r1"}}
        answer = await (await client.post("/_sim/clock/advance", json=body)).json()
        assert answer["complete"] is True and answer["events"] > 0
        conforms("/clock/advance", "post", "200", answer)
        run = sim.store.dag_runs.require(("manual_backfill_tool", "r1"))
        assert run.state == "success" and run.end_date == sim.clock.now()
        assert answer["now"] == run.end_date.isoformat()  # not a moment later

    async def test_bounded_by_max_events(self, client: TestClient) -> None:
        await client.post(
            "/api/v1/dags/manual_backfill_tool/dagRuns", json={"dag_run_id": "r2"}, headers=ADMIN
        )
        body = {
            "until_dag_run": {"dag_id": "manual_backfill_tool", "dag_run_id": "r2"},
            "max_events": 1,
        }
        answer = await (await client.post("/_sim/clock/advance", json=body)).json()
        assert (answer["events"], answer["complete"]) == (1, False)

    async def test_an_unknown_run_is_404(self, client: TestClient, sim: Simulator) -> None:
        body = {"until_dag_run": {"dag_id": "etl_orders", "dag_run_id": "nope"}}
        response = await client.post("/_sim/clock/advance", json=body)
        detail = "DAGRun with DAG ID: 'etl_orders' and DagRun ID: 'nope' not found"
        assert (response.status, await response.json()) == (
            404, problem(404, "DAGRun not found", detail, "NotFound"),
        )  # fmt: skip
        assert sim.clock.now().isoformat() == "2023-04-01T00:00:00+00:00"


async def test_the_control_spec_is_served(client: TestClient) -> None:
    response = await client.get("/_sim/openapi.yaml")
    assert (response.status, response.content_type) == (200, "application/yaml")
    served = yaml.safe_load(await response.read())
    assert served == yaml.safe_load(CONTROL_SPEC.read_text())
    assert {"/health", "/clock", "/clock/advance", "/reset", "/scenario"} <= set(served["paths"])


class TestTheLatestInstant:
    """The clock never reaches the year 9000 (ticks computed from it would
    leave datetime's range): a world without DAGs, moved close to it."""

    @pytest.fixture
    def settings(self) -> Settings:
        return NO_DAGS

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"until": "9999-12-31T23:59:59Z"},
             "until: instants from 9000-01-01 on are not supported"),
            ({"seconds": 3155760000}, None),  # a hundred years: allowed...
        ],
    )  # fmt: skip
    async def test_the_clock_stops_short_of_the_year_9000(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str | None
    ) -> None:
        sim.clock.advance_to(datetime(8950, 1, 1, tzinfo=UTC))  # ...but not from 8950
        response = await client.post("/_sim/clock/advance", json=body)
        found = await response.json()
        detail = detail or "seconds: the clock cannot reach 9000-01-01"
        assert (response.status, found) == (
            400,
            problem(400, "Bad Request", detail, "BadRequest"),
        )
        assert sim.clock.now().year == 8950
