"""DAGs in Airflow 2.10.5's API: the display name and failure limit of DAG
bodies, the full DAGDetail, `fields`, `paused` and `order_by` on GET /dags,
the task bodies' new fields, GET /dagStats and PUT /parseDagFile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.state.entities import Role
from tests.api.test_dags import ALL, BUILT_IN, START
from tests.api.test_dags import dag_body as dag_body_2_5
from tests.api.test_tasks import ETL as ETL_TASKS
from tests.conftest import ADMIN, TEST_SETTINGS_2_10, problem_2_10

URL = "/api/v1/dags"
Headers = Callable[..., dict[str, str]]


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS_2_10


def dag_body(dag_id: str, **changes: Any) -> dict[str, Any]:
    """A built-in DAG as Airflow 2.10.5 answers it at the start instant."""
    body = dag_body_2_5(dag_id, dag_display_name=dag_id, max_consecutive_failed_dag_runs=0)
    body.update(changes)
    return body


def bad_request(title: str, detail: str) -> dict[str, Any]:
    return problem_2_10(400, title, detail, "BadRequest")


def token(dag_id: str) -> str:
    return str(BUILT_IN[dag_id][1])


def grant(sim: Simulator, role: str, *permissions: tuple[str, str]) -> None:
    sim.store.roles.add(Role(name=role, permissions=list(permissions)))


class TestDagBodies:
    async def test_get_dag_adds_display_name_and_failure_limit(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == dag_body("etl_orders")

    async def test_display_name_from_the_dag_file(self, client: TestClient, sim: Simulator) -> None:
        dag = sim.store.dags.require("etl_orders")
        dag.dag_display_name, dag.max_consecutive_failed_dag_runs = "Orders ETL", 3
        response = await client.get(f"{URL}/etl_orders", headers=ADMIN)
        assert await response.json() == dag_body(
            "etl_orders", dag_display_name="Orders ETL", max_consecutive_failed_dag_runs=3
        )

    async def test_list_and_patch_carry_them(self, client: TestClient) -> None:
        response = await client.get(URL, params={"limit": 2}, headers=ADMIN)
        assert await response.json() == {
            "dags": [dag_body("etl_orders"), dag_body("fan_out_fan_in")],
            "total_entries": 9,
        }
        response = await client.patch(f"{URL}/etl_orders", json={"is_paused": True}, headers=ADMIN)
        assert await response.json() == dag_body("etl_orders", is_paused=True)

    async def test_get_dag_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nosuch", params={"fields": "nosuch"}, headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem_2_10(
            404, "DAG not found", "The DAG with dag_id: nosuch was not found", "NotFound"
        )


class TestFields:
    async def test_get_dags_fields(self, client: TestClient) -> None:
        params = {"limit": 2, "fields": "dag_id,is_paused"}
        response = await client.get(URL, params=params, headers=ADMIN)
        assert await response.json() == {
            "dags": [
                {"dag_id": "etl_orders", "is_paused": False},
                {"dag_id": "fan_out_fan_in", "is_paused": False},
            ],
            "total_entries": 9,
        }

    async def test_get_dags_unknown_fields(self, client: TestClient) -> None:
        params = {"fields": "nosuch,dag_id,other"}
        response = await client.get(URL, params=params, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "DAGCollectionSchema error",
            "Invalid fields for <DAGSchema(many=False)>: OrderedSet(['nosuch', 'other']).",
        )

    async def test_unknown_fields_pass_on_an_empty_page(self, client: TestClient) -> None:
        # marshmallow checks the names when it dumps the first DAG.
        params = {"fields": "nosuch", "dag_id_pattern": "zzz"}
        response = await client.get(URL, params=params, headers=ADMIN)
        assert await response.json() == {"dags": [], "total_entries": 0}

    async def test_get_dag_fields(self, client: TestClient) -> None:
        params = {"fields": "dag_id,schedule_interval,dag_display_name"}
        response = await client.get(f"{URL}/manual_backfill_tool", params=params, headers=ADMIN)
        assert await response.json() == {
            "dag_id": "manual_backfill_tool",
            "schedule_interval": None,
            "dag_display_name": "manual_backfill_tool",
        }

    async def test_get_dag_unknown_field(self, client: TestClient) -> None:
        params = {"fields": "dag_id,params"}  # a DAGDetail field only
        response = await client.get(f"{URL}/etl_orders", params=params, headers=ADMIN)
        assert await response.json() == bad_request(
            "DAGSchema init error",
            "Invalid fields for <DAGSchema(many=False)>: OrderedSet(['params']).",
        )

    async def test_details_fields_are_field_names(self, client: TestClient) -> None:
        # last_parsed is the data key of the field last_loaded.
        params = {"fields": "last_loaded,timezone,dag_id"}
        response = await client.get(f"{URL}/etl_orders/details", params=params, headers=ADMIN)
        assert await response.json() == {
            "last_parsed": START,
            "timezone": "UTC",
            "dag_id": "etl_orders",
        }
        params = {"fields": "last_parsed"}
        response = await client.get(f"{URL}/etl_orders/details", params=params, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "DAGDetailSchema init error",
            "Invalid fields for <DAGDetailSchema(many=False)>: OrderedSet(['last_parsed']).",
        )


class TestFiltersAndOrder:
    async def test_paused(self, client: TestClient) -> None:
        response = await client.get(URL, params={"paused": "true"}, headers=ADMIN)
        assert await response.json() == {
            "dags": [dag_body("legacy_cleanup")],
            "total_entries": 1,
        }
        params = {"paused": "false", "fields": "dag_id"}
        response = await client.get(URL, params=params, headers=ADMIN)
        unpaused = [dag_id for dag_id in ALL if dag_id != "legacy_cleanup"]
        assert await response.json() == {
            "dags": [{"dag_id": dag_id} for dag_id in unpaused],
            "total_entries": 8,
        }

    async def test_order_by_dag_id_descending(self, client: TestClient) -> None:
        params = {"order_by": "-dag_id", "fields": "dag_id", "limit": 3}
        response = await client.get(URL, params=params, headers=ADMIN)
        assert await response.json() == {
            "dags": [{"dag_id": dag_id} for dag_id in ALL[::-1][:3]],
            "total_entries": 9,
        }

    @pytest.mark.parametrize("order_by", ["description", "-is_paused"])
    async def test_order_by_other_names(self, client: TestClient, order_by: str) -> None:
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 400
        name = order_by.lstrip("-")
        assert await response.json() == bad_request(
            "Bad Request",
            f"Ordering with '{name}' is disallowed or the attribute does not exist on the model",
        )


class TestDetails:
    async def test_dataset_scheduled_dag(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/orders_dataset_consumer/details", headers=ADMIN)
        assert response.status == 200
        row = dag_body("orders_dataset_consumer")
        assert await response.json() == {
            **row,
            "owners": [],  # DAGDetailSchema reads an `owner` the row does not have
            "catchup": True,
            "concurrency": 16,
            "dag_run_timeout": None,
            "dataset_expression": {"all": ["s3://warehouse/orders/cleaned.parquet"]},
            "doc_md": None,
            "end_date": None,
            "is_paused_upon_creation": None,
            "last_parsed": START,
            "orientation": "LR",
            "params": {},
            "render_template_as_native_obj": False,
            "start_date": "2023-03-01T00:00:00+00:00",
            "template_searchpath": None,
            "timezone": "UTC",
        }

    async def test_other_dags_have_no_dataset_expression(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders/details", headers=ADMIN)
        body = await response.json()
        assert body["dataset_expression"] is None
        assert body["next_dagrun"] == dag_body("etl_orders")["next_dagrun"]


class TestTasks:
    async def test_task_display_name_and_doc_md(self, client: TestClient, sim: Simulator) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks/extract_orders", headers=ADMIN)
        expected = {
            **ETL_TASKS["extract_orders"],
            "task_display_name": "extract_orders",
            "doc_md": None,
        }
        assert await response.json() == expected  # no `executor`: TaskSchema has none
        task = sim.store.dags.require("etl_orders").tasks["extract_orders"]
        task.task_display_name, task.doc_md, task.executor = "Extract", "# Orders", "Celery"
        response = await client.get(f"{URL}/etl_orders/tasks", headers=ADMIN)
        first = (await response.json())["tasks"][1]
        assert first == {**expected, "task_display_name": "Extract", "doc_md": "# Orders"}


class TestDagStats:
    async def test_counts_per_state(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        params = {"dag_ids": "orders_dataset_consumer,nosuch,legacy_cleanup,etl_orders"}
        response = await client.get("/api/v1/dagStats", params=params, headers=ADMIN)
        assert response.status == 200

        def stats(dag_id: str, queued: int, running: int, success: int, failed: int) -> Any:
            counts = {"queued": queued, "running": running, "success": success,
                      "failed": failed}  # fmt: skip
            return {"dag_id": dag_id, "stats": [
                {"state": state, "count": count} for state, count in counts.items()]}  # fmt: skip

        assert await response.json() == {
            "dags": [
                stats("orders_dataset_consumer", 0, 0, 2, 0),
                stats("legacy_cleanup", 0, 0, 0, 0),
                stats("etl_orders", 0, 1, 1, 0),
            ],
            "total_entries": 3,
        }

    async def test_unknown_dag(self, client: TestClient) -> None:
        response = await client.get("/api/v1/dagStats", params={"dag_ids": "nosuch"}, headers=ADMIN)
        assert await response.json() == {"dags": [], "total_entries": 0}

    async def test_dag_ids_required(self, client: TestClient) -> None:
        response = await client.get("/api/v1/dagStats", headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "Bad Request", "Missing query parameter 'dag_ids'"
        )

    async def test_only_readable_dags(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        grant(sim, "Partial", ("can_read", "DAG:etl_orders"), ("can_read", "DAG Runs"))
        headers = make_user("partial", "Partial")
        params = {"dag_ids": "etl_orders,fan_out_fan_in"}
        response = await client.get("/api/v1/dagStats", params=params, headers=headers)
        body = await response.json()
        assert [dag["dag_id"] for dag in body["dags"]] == ["etl_orders"]
        assert body["total_entries"] == 1


class TestReparseDagFile:
    async def test_the_file_parses_in_the_next_loop(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(5.5)
        response = await client.put(f"/api/v1/parseDagFile/{token('etl_orders')}", headers=ADMIN)
        assert response.status == 201
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert await response.text() == ""
        assert sim.store.dags.require("etl_orders").last_parsed_time.isoformat() == START
        sim.advance(0.5)
        parsed = {dag.dag_id: dag.last_parsed_time.isoformat() for dag in sim.store.dags}
        assert parsed["etl_orders"] == "2023-04-01T00:00:06+00:00"
        assert parsed["fan_out_fan_in"] == START  # its turn comes every 30 s
        response = await client.get(f"{URL}/etl_orders", params={"fields": "last_parsed_time"},
                                    headers=ADMIN)  # fmt: skip
        assert await response.json() == {"last_parsed_time": "2023-04-01T00:00:06+00:00"}
        sim.advance(24)
        assert sim.store.dags.require("etl_orders").last_parsed_time.isoformat() == (
            "2023-04-01T00:00:30+00:00"
        )

    async def test_a_second_request_while_one_waits(self, client: TestClient) -> None:
        url = f"/api/v1/parseDagFile/{token('wait_for_partition')}"
        assert (await client.put(url, headers=ADMIN)).status == 201
        response = await client.put(url, headers=ADMIN)
        assert response.status == 201
        assert await response.text() == "Duplicate request"

    async def test_a_waiting_request_is_kept_in_snapshots(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(5.5)
        url = f"/api/v1/parseDagFile/{token('etl_orders')}"
        assert (await client.put(url, headers=ADMIN)).status == 201
        sim.restore(sim.snapshot())
        response = await client.put(url, headers=ADMIN)
        assert await response.text() == "Duplicate request"
        sim.advance(0.5)
        parsed = sim.store.dags.require("etl_orders").last_parsed_time
        assert parsed.isoformat() == "2023-04-01T00:00:06+00:00"

    @pytest.mark.parametrize(
        "file_token",
        [
            "nosuch",
            # Signed with the secret key, but no DAG comes from that file.
            "Ii9vcHQvYWlyZmxvdy9kYWdzL25vc3VjaC5weSI.gyS2qjAkTRVA-IJxkJ5VXCXB3ek",
        ],
    )
    async def test_unknown_file(self, client: TestClient, sim: Simulator, file_token: str) -> None:
        response = await client.put(f"/api/v1/parseDagFile/{file_token}", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem_2_10(404, "File not found", None, "NotFound")

    async def test_needs_edit_on_every_dag_of_the_file(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        grant(sim, "Viewing", ("can_read", "DAGs"))
        response = await client.put(
            f"/api/v1/parseDagFile/{token('etl_orders')}", headers=make_user("v", "Viewing")
        )
        assert response.status == 403
        grant(sim, "Editing", ("can_edit", "DAGs"))
        response = await client.put(
            f"/api/v1/parseDagFile/{token('etl_orders')}", headers=make_user("e", "Editing")
        )
        assert response.status == 201


class TestDagSource:
    async def test_needs_read_on_every_dag_of_the_file(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        grant(sim, "Code", ("can_read", "DAG Code"), ("can_read", "DAG:fan_out_fan_in"))
        headers = make_user("c", "Code")
        response = await client.get(f"/api/v1/dagSources/{token('etl_orders')}", headers=headers)
        assert response.status == 403
        response = await client.get(
            f"/api/v1/dagSources/{token('fan_out_fan_in')}", headers=headers
        )
        assert response.status == 200

    async def test_not_acceptable_is_a_plain_answer(self, client: TestClient) -> None:
        response = await client.get(
            f"/api/v1/dagSources/{token('etl_orders')}",
            headers={**ADMIN, "Accept": "image/png"},
        )
        assert response.status == 406
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert await response.text() == "Not Allowed Accept Header"
