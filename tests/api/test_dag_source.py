"""DAG source: the file behind a DAG's file_token, as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from itsdangerous import URLSafeSerializer

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, TEST_SETTINGS, problem

URL = "/api/v1/dagSources"
ETL_TOKEN = "Ii9vcHQvYWlyZmxvdy9kYWdzL2V0bF9vcmRlcnMucHki.kXQTu5R9UqzIxF9LTj92EtC5rcs"
ETL_SOURCE = '''\
"""Hourly extract, transform and load of the orders database into the warehouse."""

from __future__ import annotations

import pendulum

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator


def _transform(**context):
    print("Running transform")


def _load_warehouse(**context):
    print("Running load_warehouse")


with DAG(
    dag_id="etl_orders",
    description="Hourly extract, transform and load of the orders database into the warehouse.",
    schedule="@hourly",
    start_date=pendulum.datetime(2023, 3, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["etl", "orders"],
    params={"full_refresh": False},
    default_args={"owner": "data-eng", "retries": 1},
    doc_md="### ETL orders\\nMoves new orders from Postgres into the warehouse every hour.",
) as dag:
    extract_orders = SQLExecuteQueryOperator(task_id="extract_orders", sql="sql/extract_orders.sql")
    extract_customers = SQLExecuteQueryOperator(task_id="extract_customers", sql="sql/extract_customers.sql")
    transform = PythonOperator(task_id="transform", python_callable=_transform)
    load_warehouse = PythonOperator(task_id="load_warehouse", python_callable=_load_warehouse)
    notify = EmptyOperator(task_id="notify", trigger_rule="all_done")

    [extract_orders, extract_customers] >> transform
    transform >> load_warehouse
    load_warehouse >> notify
'''  # noqa: E501
NOT_FOUND = problem(404, "Dag source not found", None, "NotFound")


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


def token(sim: Simulator, fileloc: str, key: str | None = None) -> str:
    return str(URLSafeSerializer(key or sim.settings.secret_key).dumps(fileloc))


class TestGetDagSource:
    @pytest.mark.parametrize(
        "accept", ["text/plain", "*/*", "text/*", "text/plain, application/json"]
    )
    async def test_plain_text(self, client: TestClient, accept: str) -> None:
        response = await client.get(f"{URL}/{ETL_TOKEN}", headers={**ADMIN, "Accept": accept})
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain"
        assert await response.text() == ETL_SOURCE

    @pytest.mark.parametrize(
        "accept", ["application/json", "application/*", "application/json, text/plain;q=0.5"]
    )
    async def test_json_is_compact(self, client: TestClient, accept: str) -> None:
        response = await client.get(f"{URL}/{ETL_TOKEN}", headers={**ADMIN, "Accept": accept})
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert await response.text() == json.dumps({"content": ETL_SOURCE})

    @pytest.mark.parametrize("accept", [None, "text/html", "application/xml", "text/plain;q=0"])
    async def test_not_acceptable(self, client: TestClient, accept: str | None) -> None:
        headers = dict(ADMIN)
        if accept is not None:
            headers["Accept"] = accept
        response = await client.get(
            f"{URL}/{ETL_TOKEN}", headers=headers, skip_auto_headers=["Accept"]
        )
        assert response.status == 406
        assert await response.text() == "Not Allowed Accept Header"
        # Response("Not Allowed Accept Header", status=406): flask's default content type.
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"

    async def test_every_built_in_dag_compiles(self, client: TestClient, sim: Simulator) -> None:
        for dag in sim.store.dags:
            response = await client.get(
                f"{URL}/{dag.file_token}", headers={**ADMIN, "Accept": "text/plain"}
            )
            source = await response.text()
            compile(source, dag.fileloc, "exec")
            assert f'dag_id="{dag.dag_id}"' in source
            for task_id in dag.tasks:
                assert f'task_id="{task_id}"' in source

    async def test_mapped_task_and_dataset_outlets(
        self, client: TestClient, sim: Simulator
    ) -> None:
        fan = sim.store.dags.require("fan_out_fan_in")
        source = await (
            await client.get(f"{URL}/{fan.file_token}", headers={**ADMIN, "Accept": "text/plain"})
        ).text()
        assert (
            '    process_file = PythonOperator.partial(task_id="process_file", '
            "python_callable=_process_file).expand(op_args=[[0], [1], [2], [3]])\n"
        ) in source
        producer = sim.store.dags.require("orders_dataset_producer")
        source = await (
            await client.get(
                f"{URL}/{producer.file_token}", headers={**ADMIN, "Accept": "text/plain"}
            )
        ).text()
        assert "from airflow.datasets import Dataset\n" in source
        assert 'outlets=[Dataset("s3://warehouse/orders/cleaned.parquet")]' in source
        consumer = sim.store.dags.require("orders_dataset_consumer")
        source = await (
            await client.get(
                f"{URL}/{consumer.file_token}", headers={**ADMIN, "Accept": "text/plain"}
            )
        ).text()
        assert '    schedule=[Dataset("s3://warehouse/orders/cleaned.parquet")],\n' in source

    async def test_one_file_with_two_dags(self, client: TestClient, sim: Simulator) -> None:
        fileloc = "/opt/airflow/dags/pair.py"
        sim.add_dags(
            [
                {"dag_id": "first", "fileloc": fileloc, "schedule": {"timedelta": 5400},
                 "start_date": "2023-01-01T06:30:00+00:00", "tasks": [{"task_id": "a"}]},
                {"dag_id": "second", "fileloc": fileloc, "schedule": "@once",
                 "tasks": [{"task_id": "a"}, {"task_id": "class", "upstream": ["a"]}]},
            ]
        )  # fmt: skip
        response = await client.get(
            f"{URL}/{token(sim, fileloc)}", headers={**ADMIN, "Accept": "text/plain"}
        )
        source = await response.text()
        compile(source, fileloc, "exec")
        assert "    schedule=timedelta(hours=1, minutes=30),\n" in source
        assert '    start_date=pendulum.datetime(2023, 1, 1, 6, 30, tz="UTC"),\n' in source
        assert '    schedule="@once",\n' in source
        # Task ids become distinct Python names.
        assert '    a = BashOperator(task_id="a", bash_command="echo \'a {{ ds }}\'")\n' in source
        assert '    a_2 = BashOperator(task_id="a",' in source
        assert "    a_2 >> _class\n" in source

    async def test_bad_signature(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/{ETL_TOKEN}x", headers={**ADMIN, "Accept": "*/*"})
        assert response.status == 404
        assert await response.json() == NOT_FOUND

    async def test_signed_with_another_key(self, client: TestClient, sim: Simulator) -> None:
        forged = token(sim, "/opt/airflow/dags/etl_orders.py", key="another-key")
        response = await client.get(f"{URL}/{forged}", headers={**ADMIN, "Accept": "*/*"})
        assert response.status == 404
        assert await response.json() == NOT_FOUND

    async def test_path_without_a_dag(self, client: TestClient, sim: Simulator) -> None:
        # Airflow 2.5.3 crashes here (DagCodeNotFound); the simulator answers 404.
        response = await client.get(
            f"{URL}/{token(sim, '/etc/passwd')}", headers={**ADMIN, "Accept": "*/*"}
        )
        assert response.status == 404
        assert await response.json() == NOT_FOUND

    async def test_not_found_comes_before_accept(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nope", headers={**ADMIN, "Accept": "text/html"})
        assert response.status == 404
        assert await response.json() == NOT_FOUND

    async def test_viewer_reads(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = {**make_user("viewer", "Viewer"), "Accept": "text/plain"}
        response = await client.get(f"{URL}/{ETL_TOKEN}", headers=headers)
        assert response.status == 200

    async def test_public_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = {**make_user("nobody", "Public"), "Accept": "text/plain"}
        response = await client.get(f"{URL}/{ETL_TOKEN}", headers=headers)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/{ETL_TOKEN}", headers={"Accept": "text/plain"})
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


@pytest.fixture
def source_live(live_dags: LiveServer) -> LiveServer:
    return live_dags


@pytest.fixture
def dag_api(source_live: LiveServer) -> Iterator[Any]:
    import airflow_client.client as airflow_client
    from airflow_client.client.api.dag_api import DAGApi

    source_live.sim.reset()
    configuration = airflow_client.Configuration(
        host=source_live.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api:
        yield DAGApi(api)


class TestOfficialClient:
    def test_get_dag_source(self, dag_api: Any) -> None:
        from airflow_client.client.exceptions import NotFoundException

        file_token = dag_api.get_dag("etl_orders").file_token
        assert dag_api.get_dag_source(file_token).content == ETL_SOURCE
        with pytest.raises(NotFoundException):
            dag_api.get_dag_source("nope")
