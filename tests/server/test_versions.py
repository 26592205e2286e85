"""One simulator, two API versions: the flag, the scenario key and what the
served version decides (routes, validation, links, /version, the spec)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.scenario.loader import load_scenario
from simulator.scenario.problems import ScenarioError
from simulator.schemas.pool import dump_pool
from simulator.server.app import create_app
from simulator.simulator import Simulator
from simulator.state.entities import Pool
from simulator.versions import V2_5, V2_10
from tests.conftest import ADMIN, NO_DAGS, NO_DAGS_2_10, problem, problem_2_10

V2_10_ONLY = "/api/v1/dagStats?dag_ids=x"


@pytest.fixture(params=["2.5.3", "2.10.5"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return NO_DAGS if request.param == "2.5.3" else NO_DAGS_2_10


async def test_version_names_the_served_release(client: TestClient, sim: Simulator) -> None:
    answer = await client.get("/api/v1/version")
    expected = {
        "2.5.3": ".release:2.5.3+cb842dd8aa8749b4d0a474c6e2fda11505d9ba99",
        "2.10.5": ".release:b93c3db6b1641b0840bd15ac7d05bc58ff2cccbf",
    }
    version = sim.settings.airflow_version
    assert await answer.json() == {"git_version": expected[version], "version": version}


async def test_error_links_point_into_the_served_reference(
    client: TestClient, sim: Simulator
) -> None:
    answer = await client.get("/api/v1/pools/missing", headers=ADMIN)
    render = problem if sim.settings.airflow_version == "2.5.3" else problem_2_10
    assert answer.status == 404
    assert await answer.json() == render(
        404, "Not Found", "Pool with name:'missing' not found", "NotFound"
    )


async def test_only_the_served_version_has_its_routes(client: TestClient, sim: Simulator) -> None:
    answer = await client.get(V2_10_ONLY, headers=ADMIN)
    if sim.settings.airflow_version == "2.5.3":
        assert answer.status == 404
        assert (await answer.json())["type"] == "about:blank"
    else:
        assert answer.status != 404


async def test_the_served_spec_is_the_versions(client: TestClient, sim: Simulator) -> None:
    document: dict[str, Any] = await (await client.get("/api/v1/openapi.json")).json()
    assert document["info"]["version"] == sim.settings.airflow_version


async def test_a_parameter_of_the_other_version_is_unknown(
    client: TestClient, sim: Simulator
) -> None:
    answer = await client.get("/api/v1/dags?paused=true", headers=ADMIN)
    if sim.settings.airflow_version == "2.5.3":
        assert answer.status == 400
        assert (await answer.json())["detail"] == "Extra query parameter(s) paused not in spec"
    else:
        assert answer.status == 200


def test_the_scenario_key_chooses_and_the_flag_wins() -> None:
    scenario = {"name": "v", "airflow_version": "2.10.5"}
    assert Simulator(Settings(scenario=scenario)).settings.airflow_version == "2.10.5"
    flagged = Settings(scenario=scenario, airflow_version="2.5.3")
    assert Simulator(flagged).settings.airflow_version == "2.5.3"
    assert Simulator(Settings(scenario={"name": "v"})).settings.airflow_version == "2.5.3"


def test_a_scenario_of_another_version_is_refused_while_serving() -> None:
    sim = Simulator(dataclasses.replace(NO_DAGS))
    other = load_scenario({"name": "other", "airflow_version": "2.10.5"})
    with pytest.raises(ScenarioError, match=re.escape("serves Airflow 2.5.3's API, not 2.10.5's")):
        sim.load(other)
    assert sim.scenario.name == "no_dags"


def test_an_unknown_version_in_a_scenario_is_refused() -> None:
    with pytest.raises(ScenarioError, match="airflow_version"):
        load_scenario({"name": "v", "airflow_version": "2.7.0"})


def test_a_world_is_the_same_in_either_version_but_its_scenario_key_holds() -> None:
    # A world taken under the flag restores under either version's API.
    document = Simulator(NO_DAGS_2_10).snapshot()
    assert Simulator(NO_DAGS, snapshot=document).settings.airflow_version == "2.5.3"
    # A scenario that asks for 2.10.5 keeps asking in its snapshot.
    keyed = {"name": "keyed", "airflow_version": "2.10.5"}
    document = Simulator(Settings(scenario=keyed)).snapshot()
    assert Simulator(NO_DAGS, snapshot=document).settings.airflow_version == "2.10.5"
    with pytest.raises(ValueError, match=re.escape("serves Airflow 2.5.3's API, not 2.10.5's")):
        Simulator(NO_DAGS).restore(document)


async def test_query_errors_are_worded_by_the_versions_jsonschema(
    client: TestClient, sim: Simulator
) -> None:
    url = "/api/v1/dags/~/dagRuns?execution_date_gte=notadate"
    answer = await client.get(url, headers=ADMIN)
    # jsonschema 4.17 (2.5.3) printed the schema sorted by key; 2.10.5's prints it as written.
    schema = (
        "{'format': 'date-time', 'type': 'string'}"
        if sim.version.name == "2.5.3"
        else "{'type': 'string', 'format': 'date-time'}"
    )
    assert (await answer.json())["detail"] == (
        "'notadate' is not a 'date-time'\n\nFailed validating 'format' in schema:\n"
        f"    {schema}\n\nOn instance:\n    'notadate'"
    )


NEWER_FIELDS = {
    "name": "newer_fields",
    "clock": {"start": "2023-04-01T00:00:00Z", "mode": "frozen"},
    "pools": [{"name": "gpu", "slots": 2, "include_deferred": True}],
    "dags": [
        {
            "dag_id": "nightly",
            "dag_display_name": "Nightly load",
            "max_consecutive_failed_dag_runs": 3,
            "schedule": None,
            "start_date": "2023-01-01T00:00:00Z",
            "tasks": [
                {"task_id": "load", "task_display_name": "Load it", "executor": "KubeExec"},
            ],
        }
    ],
}


@pytest.mark.parametrize("version", ["2.5.3", "2.10.5"])
async def test_a_2_5_server_leaves_the_newer_scenario_fields_off_the_wire(
    aiohttp_client: Any, version: str
) -> None:
    settings = dataclasses.replace(NO_DAGS, scenario=NEWER_FIELDS, airflow_version=version)
    client = await aiohttp_client(create_app(settings))
    dag = await (await client.get("/api/v1/dags/nightly", headers=ADMIN)).json()
    task = await (await client.get("/api/v1/dags/nightly/tasks/load", headers=ADMIN)).json()
    pool = await (await client.get("/api/v1/pools/gpu", headers=ADMIN)).json()
    newer = {
        "dag": {"dag_display_name": "Nightly load", "max_consecutive_failed_dag_runs": 3},
        "task": {"task_display_name": "Load it"},
        "pool": {"include_deferred": True},
    }
    for name, body in (("dag", dag), ("task", task), ("pool", pool)):
        shown = {key: body[key] for key in newer[name] if key in body}
        assert shown == (newer[name] if version == "2.10.5" else {})
    run = await client.post("/api/v1/dags/nightly/dagRuns", json={}, headers=ADMIN)
    run_id = (await run.json())["dag_run_id"]
    await client.post("/_sim/clock/advance", json={"seconds": 5})
    url = f"/api/v1/dags/nightly/dagRuns/{run_id}/taskInstances/load"
    ti = await (await client.get(url, headers=ADMIN)).json()
    expected = {"executor": "KubeExec", "task_display_name": "Load it"}
    assert {k: ti[k] for k in expected if k in ti} == (expected if version == "2.10.5" else {})


@pytest.mark.parametrize(
    ("raw", "details"),
    [
        (b'{"duration_gte": 1e400}', ["{'duration_gte': ['Number too large.']}"] * 2),
        (b'{"duration_lte": NaN}', ["{'duration_lte': ['Not a valid integer.']}"] * 2),
        # Only 2.10.5's spec declares page_limit: there connexion refuses it first.
        (
            b'{"page_limit": -Infinity}',
            [
                "{'page_limit': ['Number too large.']}",
                "-inf is not of type 'integer' - 'page_limit'",
            ],
        ),
    ],
)
async def test_the_batch_form_refuses_numbers_no_integer_holds(
    client: TestClient, sim: Simulator, raw: bytes, details: list[str]
) -> None:
    headers = {**ADMIN, "Content-Type": "application/json"}
    url = "/api/v1/dags/~/dagRuns/~/taskInstances/list"
    answer = await client.post(url, data=raw, headers=headers)
    assert answer.status == 400
    assert (await answer.json())["detail"] == details[sim.version.at_least("2.10")]


def test_deferred_instances_hold_pool_slots_only_in_the_newer_api() -> None:
    pool = Pool(pool="gpu", slots=2, include_deferred=True)
    tally = {("gpu", "deferred"): 1, ("gpu", "running"): 0}
    older, newer = dump_pool(pool, tally, V2_5), dump_pool(pool, tally, V2_10)
    # 2.5.3 has no include_deferred column: its deferred instances hold nothing.
    assert (older["occupied_slots"], older["open_slots"]) == (0, 2)
    assert (newer["occupied_slots"], newer["open_slots"], newer["deferred_slots"]) == (1, 1, 1)
