"""EventLog: get_event_logs and get_event_log (the audit log, read-only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from tests.conftest import ADMIN, problem

URL = "/api/v1/eventLogs"
START = "2023-04-01T00:00:00+00:00"
ORDER_BY_DISALLOWED = (
    "Ordering with '{}' is disallowed or the attribute does not exist on the model"
)


def seed_three(sim: Simulator) -> None:
    """Three rows whose columns sort in different orders; `when` one minute apart."""
    sim.record_event("variable.create", owner="bob", extra="[]")
    sim.advance(60)
    sim.record_event(
        "dag_run.create",
        owner="admin",
        dag_id="zeta",
        execution_date=datetime(2023, 1, 2, tzinfo=UTC),
        extra="[('dag_id', 'zeta')]",
    )
    sim.advance(60)
    sim.record_event(
        "connection.delete",
        owner="carol",
        dag_id="alpha",
        task_id="t1",
        execution_date=datetime(2023, 1, 1, tzinfo=UTC),
        extra="[('connection_id', 'c1')]",
    )


def log_body(event_log_id: int, event: str, owner: str, when: str, **fields: Any) -> dict[str, Any]:
    return {
        "dag_id": None,
        "event": event,
        "event_log_id": event_log_id,
        "execution_date": None,
        "extra": None,
        "owner": owner,
        "task_id": None,
        "when": when,
        **fields,
    }


def cli_row(event_log_id: int, event: str, host: str, command: str) -> dict[str, Any]:
    """A row an `airflow` command wrote as it started: its host and argv."""
    extra = f'{{"host_name": "{host}", "full_command": "{command}"}}'
    return log_body(event_log_id, event, "airflow", START, extra=extra)


AIRFLOW = "'/home/airflow/.local/bin/airflow'"
WORKER = f"[{AIRFLOW}, 'celery', 'worker']"
# The installation's components as they started with the world.
STARTUP = [
    cli_row(1, "cli_scheduler", "scheduler-0", f"[{AIRFLOW}, 'scheduler']"),
    cli_row(2, "cli_triggerer", "triggerer-0", f"[{AIRFLOW}, 'triggerer']"),
    cli_row(3, "cli_webserver", "webserver-0", f"[{AIRFLOW}, 'webserver']"),
    *(cli_row(4 + n, "cli_worker", f"worker-{n}", WORKER) for n in range(4)),
]
FIRST = log_body(8, "variable.create", "bob", START, extra="[]")
SECOND = log_body(
    9,
    "dag_run.create",
    "admin",
    "2023-04-01T00:01:00+00:00",
    dag_id="zeta",
    execution_date="2023-01-02T00:00:00+00:00",
    extra="[('dag_id', 'zeta')]",
)
THIRD = log_body(
    10,
    "connection.delete",
    "carol",
    "2023-04-01T00:02:00+00:00",
    dag_id="alpha",
    task_id="t1",
    execution_date="2023-01-01T00:00:00+00:00",
    extra="[('connection_id', 'c1')]",
)


class TestGetEventLog:
    async def test_returns_the_row(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        response = await client.get(f"{URL}/10", headers=ADMIN)
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == THIRD

    async def test_unset_columns_are_null(self, client: TestClient, sim: Simulator) -> None:
        sim.record_event("variable.create", owner="bob")
        response = await client.get(f"{URL}/8", headers=ADMIN)
        assert await response.json() == log_body(8, "variable.create", "bob", START)

    async def test_fractional_seconds_render_as_six_digits(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(0.5)
        sim.record_event("variable.edit", owner="bob")
        body = await (await client.get(f"{URL}/8", headers=ADMIN)).json()
        assert body["when"] == "2023-04-01T00:00:00.500000+00:00"

    async def test_viewer_can_read(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        sim.record_event("variable.create", owner="bob")
        response = await client.get(f"{URL}/8", headers=make_user("viewer", "Viewer"))
        assert response.status == 200

    async def test_404(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/999", headers=ADMIN)
        assert response.status == 404
        assert response.content_type == "application/problem+json"
        # Airflow puts the message in the title and leaves detail null.
        assert await response.json() == problem(404, "Event Log not found", None, "NotFound")

    async def test_401(self, client: TestClient, sim: Simulator) -> None:
        sim.record_event("variable.create", owner="bob")
        response = await client.get(f"{URL}/1")
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_403(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        sim.record_event("variable.create", owner="bob")
        response = await client.get(f"{URL}/1", headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_403_comes_before_404(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(f"{URL}/999", headers=make_user("public", "Public"))
        assert response.status == 403


class TestGetEventLogs:
    async def test_a_fresh_installation_holds_its_components_start(
        self, client: TestClient
    ) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"event_logs": STARTUP, "total_entries": 7}
        response = await client.get(f"{URL}/4", headers=ADMIN)
        assert await response.json() == STARTUP[3]

    async def test_default_order_is_event_log_id(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "event_logs": [*STARTUP, FIRST, SECOND, THIRD],
            "total_entries": 10,
        }

    async def test_limit_and_offset_keep_the_total(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"limit": 1, "offset": 8}, headers=ADMIN)
        assert await response.json() == {"event_logs": [SECOND], "total_entries": 10}

    async def test_offset_past_the_end(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"offset": 10}, headers=ADMIN)
        assert await response.json() == {"event_logs": [], "total_entries": 10}

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            # 1-7: the components' rows (owner airflow, no DAG, at the start); 8-10: seed_three's.
            ("event_log_id", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            ("-event_log_id", [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
            ("--event_log_id", [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),  # every leading dash is stripped
            ("when", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),  # alias of the dttm column
            ("-when", [10, 9, 1, 2, 3, 4, 5, 6, 7, 8]),  # ties keep insertion order
            ("owner", [9, 1, 2, 3, 4, 5, 6, 7, 8, 10]),
            ("-owner", [10, 8, 1, 2, 3, 4, 5, 6, 7, 9]),
            ("event", [1, 2, 3, 4, 5, 6, 7, 10, 9, 8]),
            ("dag_id", [10, 9, 1, 2, 3, 4, 5, 6, 7, 8]),  # NULLs last ascending (PostgreSQL)
            ("-dag_id", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),  # and first descending
            ("task_id", [10, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            ("execution_date", [10, 9, 1, 2, 3, 4, 5, 6, 7, 8]),
        ],
    )
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str, expected: list[int]
    ) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert [log["event_log_id"] for log in body["event_logs"]] == expected
        assert body["total_entries"] == 10

    @pytest.mark.parametrize(
        ("order_by", "name"),
        [("id", "id"), ("dttm", "dttm"), ("-map_index", "map_index"), ("-", "")],
    )
    async def test_order_by_outside_the_allow_list(
        self, client: TestClient, order_by: str, name: str
    ) -> None:
        # The model's own column names (id, dttm) are not in the allow-list.
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", ORDER_BY_DISALLOWED.format(name), "BadRequest"
        )

    async def test_empty_order_by_is_disallowed(self, client: TestClient) -> None:
        # connexion hands `?order_by=` to Airflow as "", which the allow-list rejects.
        response = await client.get(URL, params={"order_by": ""}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", ORDER_BY_DISALLOWED.format(""), "BadRequest"
        )

    async def test_limit_is_checked_before_order_by(self, client: TestClient) -> None:
        response = await client.get(URL, params={"limit": -1, "order_by": "nope"}, headers=ADMIN)
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    @pytest.mark.parametrize(
        "name",
        ["event_log_id", "when", "dag_id", "task_id", "event", "execution_date", "owner", "extra"],
    )
    async def test_every_allowed_name_is_accepted(
        self, client: TestClient, sim: Simulator, name: str
    ) -> None:
        # (String order is the simulator's code-point order; a database collation may differ.)
        seed_three(sim)
        for order_by in (name, f"-{name}"):
            response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
            assert response.status == 200
            assert (await response.json())["total_entries"] == 10

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_403(self, client: TestClient, make_user: Callable[..., dict[str, str]]) -> None:
        response = await client.get(URL, headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_403_comes_before_the_handlers_checks(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        # limit and order_by are checked inside the handler, after the permission check.
        public = make_user("public", "Public")
        for params in ({"limit": "-1"}, {"order_by": "nope"}):
            response = await client.get(URL, params=params, headers=public)
            assert response.status == 403


class TestOfficialClient:
    def test_get_event_logs_and_get_event_log(self, api_client: Any, live: Any) -> None:
        from airflow_client.client.api.event_log_api import EventLogApi

        seed_three(live.sim)
        api = EventLogApi(api_client)
        page = api.get_event_logs(limit=2, offset=1, order_by="-when")
        assert page.total_entries == 10
        assert [log.event_log_id for log in page.event_logs] == [9, 1]
        log = api.get_event_log(10)
        assert (log.event, log.owner, log.dag_id, log.task_id) == (
            "connection.delete",
            "carol",
            "alpha",
            "t1",
        )
        assert log.when == datetime(2023, 4, 1, 0, 2, tzinfo=UTC)
        assert log.execution_date == datetime(2023, 1, 1, tzinfo=UTC)
        assert log.extra == "[('connection_id', 'c1')]"

    def test_not_found(self, api_client: Any) -> None:
        from airflow_client.client.api.event_log_api import EventLogApi
        from airflow_client.client.exceptions import NotFoundException

        with pytest.raises(NotFoundException) as raised:
            EventLogApi(api_client).get_event_log(42)
        assert raised.value.status == 404


@pytest.mark.parametrize("order_by", ["when", "-when", "owner", "-dag_id", "-event_log_id"])
@pytest.mark.parametrize("in_time_order", [True, False])
def test_pages_equal_the_sorted_log(order_by: str, in_time_order: bool) -> None:
    """Read by id (the log is in time order while rows are written at the
    clock's now) or picked with a bounded heap, every page equals a stable
    sort of the whole log; a row added with an earlier time falls back."""
    import dataclasses

    from simulator.api.event_logs import ORDER_BY, get_event_logs
    from simulator.state.entities import EventLog
    from tests.conftest import TEST_SETTINGS

    sim = Simulator(dataclasses.replace(TEST_SETTINGS, scenario="default"))
    sim.advance(3600)
    for event in ("a", "b", "c"):  # rows of one time: in id order either way
        sim.record_event(event, owner="admin")
    if not in_time_order:
        sim.store.event_logs.add(EventLog(when=sim.origin, event="early", owner="x"))
    assert sim.store.event_logs.in_time_order is in_time_order
    rows = list(sim.store.event_logs)
    name = order_by.lstrip("-")
    keys = [ORDER_BY[name](row) for row in rows]
    keyed = [(1, 0) if key is None else (0, key) for key in keys]
    ranks = sorted(range(len(rows)), key=keyed.__getitem__, reverse=order_by.startswith("-"))
    expected = [rows[rank].id for rank in ranks]
    assert len(expected) > 300
    for offset in (0, 37, len(expected) - 5):
        page = get_event_logs(sim, limit=100, offset=offset, order_by=order_by).body()
        assert page["total_entries"] == len(expected)
        assert [row["event_log_id"] for row in page["event_logs"]] == expected[
            offset : offset + 100
        ]


class TestTaskTryRows:
    """A try writes three rows as it starts: its worker's `airflow tasks run
    --local` (cli_task_run), the `running` row as the job takes the
    instance, and the `--raw` task's own `tasks run` (cli_task_run). Forked
    from the Celery worker, both commands log the worker's command line."""

    @pytest.fixture
    def world(self, sim: Simulator) -> Simulator:
        sim.add_dags([{
            "dag_id": "etl", "schedule": "@daily", "start_date": "2023-03-01T00:00:00+00:00",
            "catchup": False, "owner": "data-eng",
            "tasks": [
                {"task_id": "load", "operator": "BashOperator",
                 "module_path": "airflow.operators.bash", "duration": 5},
                {"task_id": "report", "operator": "PythonOperator",
                 "module_path": "airflow.operators.python", "upstream": ["load"], "duration": 3},
            ],
        }])  # fmt: skip
        sim.advance(60)
        return sim

    LOAD_START = "2023-04-01T00:00:01.660878+00:00"
    LOAD_TASK = {"dag_id": "etl", "task_id": "load"}
    LOAD_CONTEXT = {**LOAD_TASK, "execution_date": "2023-03-31T00:00:00+00:00"}
    LOAD_CLI = {
        **LOAD_TASK,
        "extra": f'{{"host_name": "worker-2", "full_command": "{WORKER}"}}',
    }

    async def test_a_try_starts_with_two_cli_task_run_rows(
        self, client: TestClient, world: Simulator
    ) -> None:
        response = await client.get(URL, params={"offset": 7, "limit": 4}, headers=ADMIN)
        assert await response.json() == {
            "event_logs": [
                log_body(8, "cli_task_run", "airflow", self.LOAD_START, **self.LOAD_CLI),
                log_body(9, "running", "data-eng", self.LOAD_START, **self.LOAD_CONTEXT),
                log_body(10, "cli_task_run", "airflow", self.LOAD_START, **self.LOAD_CLI),
                log_body(11, "success", "data-eng", "2023-04-01T00:00:06.544878+00:00",
                         **self.LOAD_CONTEXT),
            ],
            "total_entries": 15,  # 7 start-up rows, two tries of four
        }  # fmt: skip
        ti = world.store.task_instances.require(("etl", "scheduled__2023-03-31T00:00:00+00:00",
                                                 "load", -1))  # fmt: skip
        assert ti.hostname == "worker-2"  # the host the rows name
        response = await client.get(f"{URL}/10", headers=ADMIN)
        assert await response.json() == log_body(
            10, "cli_task_run", "airflow", self.LOAD_START, **self.LOAD_CLI
        )

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            # The rows of one time (a try's start) in id order:
            ({"order_by": "-when", "limit": 6}, [15, 12, 13, 14, 11, 8]),
            ({"order_by": "-event_log_id", "offset": 2, "limit": 3}, [13, 12, 11]),
            ({"offset": 8, "limit": 5}, [9, 10, 11, 12, 13]),
            ({"order_by": "event", "limit": 11}, [1, 8, 10, 12, 14, 2, 3, 4, 5, 6, 7]),
        ],
    )
    async def test_pages_cut_through_a_tries_rows(
        self, client: TestClient, world: Simulator, params: dict[str, Any], expected: list[int]
    ) -> None:
        response = await client.get(URL, params=params, headers=ADMIN)
        body = await response.json()
        assert [row["event_log_id"] for row in body["event_logs"]] == expected
        assert body["total_entries"] == 15
