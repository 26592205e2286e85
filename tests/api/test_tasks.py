"""Tasks of a DAG: the list (ordered by any operator attribute) and one task."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.state.entities import Role
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, TEST_SETTINGS, problem

URL = "/api/v1/dags"
SQL = ("SQLExecuteQueryOperator", "airflow.providers.common.sql.operators.sql", "#cdaaed")
PYTHON = ("PythonOperator", "airflow.operators.python", "#ffefeb")
EMPTY = ("EmptyOperator", "airflow.operators.empty", "#e8f7e4")
BASH = ("BashOperator", "airflow.operators.bash", "#f0ede4")
HTTP = ("SimpleHttpOperator", "airflow.providers.http.operators.http", "#f4a460")
FULL_REFRESH = {
    "full_refresh": {
        "__class": "airflow.models.param.Param",
        "value": False,
        "description": None,
        "schema": {},
    }
}


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


def delta(seconds: int) -> dict[str, Any]:
    return {"__type": "TimeDelta", "days": 0, "seconds": seconds, "microseconds": 0}


def task_body(
    operator: tuple[str, str, str], task_id: str, owner: str, **changes: Any
) -> dict[str, Any]:
    class_name, module_path, color = operator
    body = {
        "class_ref": {"class_name": class_name, "module_path": module_path},
        "operator_name": class_name,
        "task_id": task_id,
        "owner": owner,
        "start_date": "2023-03-01T00:00:00+00:00",
        "end_date": None,
        "trigger_rule": "all_success",
        "extra_links": [],
        "depends_on_past": False,
        "wait_for_downstream": False,
        "retries": 0.0,
        "queue": "default",
        "pool": "default_pool",
        "pool_slots": 1.0,
        "execution_timeout": None,
        "retry_delay": delta(300),
        "retry_exponential_backoff": False,
        "priority_weight": 1.0,
        "weight_rule": "downstream",
        "ui_color": color,
        "ui_fgcolor": "#000",
        "template_fields": [],
        "downstream_task_ids": [],
        "params": {},
        "is_mapped": False,
    }
    body.update(changes)
    return body


def etl(operator: tuple[str, str, str], task_id: str, **changes: Any) -> dict[str, Any]:
    return task_body(operator, task_id, "data-eng", retries=1.0, params=FULL_REFRESH, **changes)


ETL = {
    "extract_orders": etl(
        SQL, "extract_orders", template_fields=["sql"], downstream_task_ids=["transform"],
    ),
    "extract_customers": etl(
        SQL, "extract_customers", template_fields=["sql"], downstream_task_ids=["transform"],
    ),
    "transform": etl(
        PYTHON, "transform", template_fields=["templates_dict", "op_args", "op_kwargs"],
        downstream_task_ids=["load_warehouse"],
    ),
    "load_warehouse": etl(
        PYTHON, "load_warehouse", template_fields=["templates_dict", "op_args", "op_kwargs"],
        downstream_task_ids=["notify"],
    ),
    "notify": etl(EMPTY, "notify", trigger_rule="all_done"),
}  # fmt: skip
FETCH_RECORDS = task_body(
    HTTP,
    "fetch_records",
    "integrations",
    retries=3.0,
    retry_delay=delta(60),
    retry_exponential_backoff=True,
    template_fields=["endpoint", "data", "headers"],
    downstream_task_ids=["store_records", "alert_on_failure"],
)
PYTHON_FIELDS = ["templates_dict", "op_args", "op_kwargs"]  # PythonOperator.template_fields
PROCESS_FILE = task_body(
    PYTHON, "process_file", "platform", is_mapped=True, downstream_task_ids=["merge"],
    template_fields=PYTHON_FIELDS,
)  # fmt: skip


def tasks(*task_ids: str) -> dict[str, Any]:
    return {"tasks": [ETL[task_id] for task_id in task_ids], "total_entries": len(task_ids)}


@pytest.fixture
def etl_reader(sim: Simulator, make_user: Callable[..., dict[str, str]]) -> dict[str, str]:
    sim.store.roles.add(
        Role(
            name="EtlReader",
            permissions=[("can_read", "DAG:etl_orders"), ("can_read", "Task Instances")],
        )
    )
    return make_user("etl", "EtlReader")


class TestGetTasks:
    async def test_by_task_id(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == tasks(
            "extract_customers", "extract_orders", "load_warehouse", "notify", "transform"
        )

    async def test_numbers_are_floats(self, client: TestClient) -> None:
        text = await (await client.get(f"{URL}/etl_orders/tasks", headers=ADMIN)).text()
        assert '"retries": 1.0,' in text
        assert '"pool_slots": 1.0,' in text
        assert '"priority_weight": 1.0,' in text

    async def test_descending(self, client: TestClient) -> None:
        response = await client.get(
            f"{URL}/etl_orders/tasks", params={"order_by": "-task_id"}, headers=ADMIN
        )
        assert await response.json() == tasks(
            "transform", "notify", "load_warehouse", "extract_orders", "extract_customers"
        )

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            # Equal keys keep the DAG's own order (sorted() is stable).
            ("trigger_rule", ["notify", "extract_orders", "extract_customers", "transform",
                              "load_warehouse"]),
            ("-trigger_rule", ["extract_orders", "extract_customers", "transform",
                               "load_warehouse", "notify"]),
            ("operator_name", ["notify", "transform", "load_warehouse", "extract_orders",
                               "extract_customers"]),
            ("--ui_color", ["transform", "load_warehouse", "notify", "extract_orders",
                            "extract_customers"]),
            ("start_date.year", ["extract_orders", "extract_customers", "transform",
                                 "load_warehouse", "notify"]),
            # BaseOperator attributes the simulator does not vary: the DAG's order.
            ("do_xcom_push", ["extract_orders", "extract_customers", "transform",
                              "load_warehouse", "notify"]),
            ("-email_on_failure", ["extract_orders", "extract_customers", "transform",
                                   "load_warehouse", "notify"]),
            # Sets compare by inclusion: only the empty one sorts before the others.
            ("downstream_task_ids", ["notify", "extract_orders", "extract_customers",
                                     "transform", "load_warehouse"]),
        ],
    )  # fmt: skip
    async def test_any_operator_attribute(
        self, client: TestClient, order_by: str, expected: list[str]
    ) -> None:
        response = await client.get(
            f"{URL}/etl_orders/tasks", params={"order_by": order_by}, headers=ADMIN
        )
        assert response.status == 200
        assert await response.json() == tasks(*expected)

    async def test_retries(self, client: TestClient) -> None:
        response = await client.get(
            f"{URL}/flaky_api_sync/tasks", params={"order_by": "-retries"}, headers=ADMIN
        )
        body = await response.json()
        assert [task["task_id"] for task in body["tasks"]] == [
            "fetch_records",
            "store_records",
            "alert_on_failure",
        ]
        assert body["tasks"][0] == FETCH_RECORDS

    @pytest.mark.parametrize(
        ("dag_id", "order_by", "detail"),
        [
            ("etl_orders", "foo", "'SerializedBaseOperator' object has no attribute 'foo'"),
            ("etl_orders", "-", "'SerializedBaseOperator' object has no attribute ''"),
            ("etl_orders", "task_id.foo", "'str' object has no attribute 'foo'"),
            # 2.5.3's operators have no is_mapped (only the serialized `_is_mapped`).
            (
                "etl_orders",
                "is_mapped",
                "'SerializedBaseOperator' object has no attribute 'is_mapped'",
            ),
        ],
    )
    async def test_unknown_attribute(
        self, client: TestClient, dag_id: str, order_by: str, detail: str
    ) -> None:
        response = await client.get(
            f"{URL}/{dag_id}/tasks", params={"order_by": order_by}, headers=ADMIN
        )
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", detail, "BadRequest")

    async def test_unknown_attribute_on_a_mapped_first_task(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.add_dags([{"dag_id": "mapped_first", "tasks": [{"task_id": "m", "map_count": 2}]}])
        response = await client.get(
            f"{URL}/mapped_first/tasks", params={"order_by": "foo"}, headers=ADMIN
        )
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "'MappedOperator' object has no attribute 'foo'", "BadRequest"
        )
        # BaseOperator's own attributes are not a MappedOperator's in 2.5.3.
        response = await client.get(
            f"{URL}/mapped_first/tasks", params={"order_by": "do_xcom_push"}, headers=ADMIN
        )
        assert await response.json() == problem(
            400, "Bad Request", "'MappedOperator' object has no attribute 'do_xcom_push'",
            "BadRequest",
        )  # fmt: skip

    async def test_mapped_task(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/fan_out_fan_in/tasks", headers=ADMIN)
        body = await response.json()
        assert body["total_entries"] == 4
        assert [t["task_id"] for t in body["tasks"]] == [
            "list_files",
            "merge",
            "process_file",
            "publish_report",
        ]
        assert body["tasks"][2] == PROCESS_FILE

    async def test_dag_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nope/tasks", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(404, "DAG not found", None, "NotFound")

    async def test_viewer_reads(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks", headers=make_user("v", "Viewer"))
        assert response.status == 200

    async def test_per_dag_permission(self, client: TestClient, etl_reader: dict[str, str]) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks", headers=etl_reader)
        assert response.status == 200
        response = await client.get(f"{URL}/fan_out_fan_in/tasks", headers=etl_reader)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_public_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks", headers=make_user("p", "Public"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks")
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


class TestGetTask:
    @pytest.mark.parametrize("task_id", list(ETL))
    async def test_etl_task(self, client: TestClient, task_id: str) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks/{task_id}", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == ETL[task_id]

    async def test_retrying_task(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/flaky_api_sync/tasks/fetch_records", headers=ADMIN)
        assert await response.json() == FETCH_RECORDS

    async def test_mapped_task(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/fan_out_fan_in/tasks/process_file", headers=ADMIN)
        assert await response.json() == PROCESS_FILE

    async def test_sensor(self, client: TestClient) -> None:
        response = await client.get(
            f"{URL}/wait_for_partition/tasks/wait_for_partition", headers=ADMIN
        )
        assert await response.json() == task_body(
            ("DateTimeSensorAsync", "airflow.sensors.date_time", "#e6f1f2"),
            "wait_for_partition",
            "platform",
            template_fields=["target_time"],
            downstream_task_ids=["compact_partition"],
        )

    async def test_task_options(self, client: TestClient, sim: Simulator) -> None:
        sim.add_dags(
            [
                {
                    "dag_id": "options",
                    "start_date": "2023-01-01T00:00:00+00:00",
                    "end_date": "2023-06-30T00:00:00+00:00",
                    "params": {"n": 1},
                    "tasks": [
                        {
                            "task_id": "t",
                            "execution_timeout": 3600,
                            "pool_slots": 2,
                            "priority_weight": 5,
                            "ui_color": "#123456",
                            "depends_on_past": True,
                            "extra_links": ["Docs"],
                        }
                    ],
                }
            ]
        )
        response = await client.get(f"{URL}/options/tasks/t", headers=ADMIN)
        assert await response.json() == task_body(
            ("BashOperator", "airflow.operators.bash", "#123456"),
            "t",
            "airflow",
            start_date="2023-01-01T00:00:00+00:00",
            end_date="2023-06-30T00:00:00+00:00",
            execution_timeout=delta(3600),
            pool_slots=2.0,
            priority_weight=5.0,
            depends_on_past=True,
            template_fields=["bash_command", "env"],  # BashOperator's, not the definition's
            extra_links=[
                {"class_ref": {"class_name": "Docs", "module_path": "airflow.operators.bash"}}
            ],
            params={
                "n": {
                    "__class": "airflow.models.param.Param",
                    "value": 1,
                    "description": None,
                    "schema": {},
                }
            },
        )

    async def test_dag_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nope/tasks/notify", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(404, "DAG not found", None, "NotFound")

    async def test_task_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(404, "Task not found", None, "NotFound")

    async def test_per_dag_permission(self, client: TestClient, etl_reader: dict[str, str]) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks/notify", headers=etl_reader)
        assert response.status == 200
        response = await client.get(f"{URL}/fan_out_fan_in/tasks/merge", headers=etl_reader)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders/tasks/notify")
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


@pytest.fixture
def tasks_live(live_dags: LiveServer) -> LiveServer:
    return live_dags


@pytest.fixture
def dag_api(tasks_live: LiveServer) -> Iterator[Any]:
    import airflow_client.client as airflow_client
    from airflow_client.client.api.dag_api import DAGApi

    tasks_live.sim.reset()
    configuration = airflow_client.Configuration(
        host=tasks_live.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api:
        yield DAGApi(api)


class TestOfficialClient:
    def test_get_tasks(self, dag_api: Any) -> None:
        # execution_timeout is null, which the client refuses (no nullable beside its $ref).
        raw = dag_api.get_tasks("etl_orders", order_by="-task_id", _check_return_type=False)
        assert raw["total_entries"] == 5
        assert raw["tasks"][0] == ETL["transform"]

    def test_get_task(self, dag_api: Any) -> None:
        from airflow_client.client.exceptions import NotFoundException

        raw = dag_api.get_task("fan_out_fan_in", "process_file", _check_return_type=False)
        assert raw.to_dict() == PROCESS_FILE
        with pytest.raises(NotFoundException):
            dag_api.get_task("fan_out_fan_in", "nope")


async def test_template_fields_follow_the_operator(client: TestClient, sim: Simulator) -> None:
    """Airflow's own operators have their class's template_fields whatever a
    definition lists; a provider's or custom operator keeps its list."""
    sim.add_dags([{"dag_id": "fields", "start_date": "2023-01-01T00:00:00+00:00", "tasks": [
        {"task_id": "py", "operator": "PythonOperator", "module_path": "airflow.operators.python",
         "template_fields": []},
        {"task_id": "branch", "operator": "BranchPythonOperator",
         "module_path": "airflow.operators.python"},
        {"task_id": "custom", "operator": "MyOperator", "module_path": "plugins.mine",
         "template_fields": ["path"]},
    ]}])  # fmt: skip
    response = await client.get(f"{URL}/fields/tasks", headers=ADMIN)
    shown = {t["task_id"]: t["template_fields"] for t in (await response.json())["tasks"]}
    assert shown == {"py": PYTHON_FIELDS, "branch": PYTHON_FIELDS, "custom": ["path"]}


async def test_trigger_rules_show_as_airflow_names_them(client: TestClient, sim: Simulator) -> None:
    """BaseOperator renames the deprecated rules; 2.5.3's rules beyond the
    spec's enum are answered as they are (quirk task-trigger-rule-names)."""
    rules = ["dummy", "none_failed_or_skipped", "all_skipped", "one_done", "always"]
    sim.add_dags([{"dag_id": "rules", "start_date": "2023-01-01T00:00:00+00:00", "tasks": [
        {"task_id": rule, "trigger_rule": rule} for rule in rules
    ]}])  # fmt: skip
    response = await client.get(f"{URL}/rules/tasks", headers=ADMIN)
    shown = {t["task_id"]: t["trigger_rule"] for t in (await response.json())["tasks"]}
    assert shown == {
        "dummy": "always",
        "none_failed_or_skipped": "none_failed_min_one_success",
        "all_skipped": "all_skipped",
        "one_done": "one_done",
        "always": "always",
    }
