"""Tests of a project that talks to Airflow, run against the simulator: the
`airflow_sim` fixture (a pytest plugin installed with the package) and the
official apache-airflow-client."""

from collections.abc import Iterator

import airflow_client.client as client
import pytest
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DAGRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.exceptions import NotFoundException
from airflow_client.client.model.dag_run import DAGRun

from simulator.testing.plugin import AirflowSim


@pytest.fixture
def api(airflow_sim: AirflowSim) -> Iterator[client.ApiClient]:
    """The official client, logged in as the simulator's admin."""
    user, password = airflow_sim.auth
    config = client.Configuration(host=airflow_sim.api_url, username=user, password=password)
    with client.ApiClient(config) as api_client:
        yield api_client


def test_a_triggered_run_succeeds(airflow_sim: AirflowSim, api: client.ApiClient) -> None:
    runs = DAGRunApi(api)
    body = DAGRun(dag_run_id="backfill-1", conf={"full_refresh": True})
    assert runs.post_dag_run("etl_orders", body).state.value == "queued"

    # The clock is frozen: move it until the run is over (success or failed).
    airflow_sim.advance(until_dag_run={"dag_id": "etl_orders", "dag_run_id": "backfill-1"})

    assert runs.get_dag_run("etl_orders", "backfill-1").state.value == "success"
    # The 2.5.1 client rejects nulls that Airflow 2.5.3 sends: take plain dicts.
    tis = TaskInstanceApi(api).get_task_instances(
        "etl_orders", "backfill-1", _check_return_type=False
    )
    assert {ti["task_id"]: ti["state"] for ti in tis["task_instances"]} == {
        "extract_orders": "success",
        "extract_customers": "success",
        "transform": "success",
        "load_warehouse": "success",
        "notify": "success",
    }
    # The journal: this test's calls to the Airflow API, newest first.
    [trigger] = airflow_sim.requests(operation_id="post_dag_run")
    assert (trigger["status"], trigger["user"]) == (200, "admin")
    assert trigger["request_body"] == {"dag_run_id": "backfill-1", "conf": {"full_refresh": True}}
    calls = [entry["operation_id"] for entry in airflow_sim.requests()]
    assert calls == ["get_task_instances", "get_dag_run", "post_dag_run"]


def test_every_test_starts_from_the_scenario(
    airflow_sim: AirflowSim, api: client.ApiClient
) -> None:
    # Whatever other tests did (the run above, its requests), this one starts afresh.
    with pytest.raises(NotFoundException):
        DAGRunApi(api).get_dag_run("etl_orders", "backfill-1")
    [lookup] = airflow_sim.requests()
    assert (lookup["operation_id"], lookup["status"]) == ("get_dag_run", 404)
    assert airflow_sim.client.clock()["now"] == "2023-04-01T00:00:00+00:00"


@pytest.mark.airflow_sim(scenario="demo", seed=3)
def test_another_world(airflow_sim: AirflowSim, api: client.ApiClient) -> None:
    # The bundled `demo` world with another seed; its clock is frozen too.
    scenario = airflow_sim.client.scenario()
    assert (scenario["name"], scenario["seed"]) == ("demo", 3)
    assert airflow_sim.client.clock()["mode"] == "frozen"
    dags = DAGApi(api).get_dags(tags=["reporting"])
    assert [dag.dag_id for dag in dags.dags] == ["nightly_report"]
