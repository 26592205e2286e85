"""DAGRun: list (per DAG, `~`, batch), trigger, read, delete, mark, clear,
note and upstream dataset events, against the built-in DAGs.

At the frozen start instant (2023-04-01T00:00:00+00:00) the scheduler has
just started one scheduled run for each of five DAGs; advancing the virtual
clock by an hour lets them finish and creates five more (two of them
dataset-triggered runs of orders_dataset_consumer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.engine.timetable import Interval
from simulator.simulator import Simulator
from simulator.state.entities import Role
from simulator.state.run_model import DagRun
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, NEGATIVE_OFFSET, STARTUP_ROWS, TEST_SETTINGS, problem

URL = "/api/v1/dags"
BATCH = f"{URL}/~/dagRuns/list"
T0 = "2023-04-01T00:00:00+00:00"
ORDERS = "s3://warehouse/orders/cleaned.parquet"
ETL = "scheduled__2023-03-31T23:00:00+00:00"
FAN = "scheduled__2023-03-31T22:00:00+00:00"
PRODUCER = "scheduled__2023-03-31T22:30:00+00:00"
PARTITION = "scheduled__2023-03-31T00:00:00+00:00"
FLAKY = "scheduled__2023-03-31T22:15:00+00:00"
INITIAL = [ETL, FAN, PRODUCER, PARTITION, FLAKY]
# Created during the first hour, in this order (ids 6 to 10).
CONSUMED_1 = "dataset_triggered__2023-04-01T00:01:14.756790+00:00"
FLAKY_2 = "scheduled__2023-03-31T23:15:00+00:00"
PRODUCER_2 = "scheduled__2023-03-31T23:30:00+00:00"
CONSUMED_2 = "dataset_triggered__2023-04-01T00:31:42.947605+00:00"
ETL_2 = "scheduled__2023-04-01T00:00:00+00:00"
AFTER_AN_HOUR = [*INITIAL, CONSUMED_1, FLAKY_2, PRODUCER_2, CONSUMED_2, ETL_2]
UNAUTHENTICATED = problem(401, "Unauthorized", None, "Unauthenticated")
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


def runs_url(dag_id: str, run_id: str | None = None, tail: str = "") -> str:
    url = f"{URL}/{dag_id}/dagRuns"
    return f"{url}/{run_id}{tail}" if run_id is not None else url


def run_body(
    dag_id: str,
    run_id: str,
    logical: str,
    *,
    state: str = "queued",
    start: str | None = None,
    end: str | None = None,
    interval: tuple[str, str] | None = None,
    decided: str | None = None,
    run_type: str = "manual",
    conf: dict[str, Any] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """A DAGRun as Airflow dumps it; manual runs are externally triggered."""
    interval = interval or (logical, logical)
    return {
        "conf": conf or {},
        "dag_id": dag_id,
        "dag_run_id": run_id,
        "data_interval_end": interval[1],
        "data_interval_start": interval[0],
        "end_date": end,
        "execution_date": logical,
        "external_trigger": run_type == "manual",
        "last_scheduling_decision": decided,
        "logical_date": logical,
        "note": note,
        "run_type": run_type,
        "start_date": start,
        "state": state,
    }


# The etl_orders run the scheduler started at T0.
ETL_BODY = run_body(
    "etl_orders",
    ETL,
    "2023-03-31T23:00:00+00:00",
    state="running",
    start=T0,
    interval=("2023-03-31T23:00:00+00:00", T0),
    decided=T0,
    run_type="scheduled",
)


def bad_request(detail: str, title: str = "Bad Request") -> dict[str, Any]:
    return problem(400, title, detail, "BadRequest")


def disallowed(name: str) -> dict[str, Any]:
    return bad_request(
        f"Ordering with '{name}' is disallowed or the attribute does not exist on the model"
    )


def run_ids(body: dict[str, Any]) -> list[str]:
    return [run["dag_run_id"] for run in body["dag_runs"]]


def reader_of(sim: Simulator, make_user: Headers, *dag_ids: str) -> dict[str, str]:
    """A user who may read runs of the given DAGs only."""
    permissions = [("can_read", f"DAG:{dag_id}") for dag_id in dag_ids]
    sim.store.roles.add(Role(name="Readers", permissions=[*permissions, ("can_read", "DAG Runs")]))
    return make_user("reader", "Readers")


def snapshot(sim: Simulator) -> list[tuple[Any, ...]]:
    """Everything a run-side request could change."""
    return [
        (r.id, r.run_id, r.state, r.start_date, r.end_date, r.note, r.last_scheduling_decision)
        for r in sim.store.dag_runs
    ] + [(ti.key, ti.state, ti.max_tries) for ti in sim.store.task_instances]


def get_run(sim: Simulator, dag_id: str, run_id: str) -> DagRun:
    return sim.store.dag_runs.require((dag_id, run_id))


class TestGetDagRuns:
    async def test_full_body(self, client: TestClient) -> None:
        response = await client.get(runs_url("etl_orders"), headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"dag_runs": [ETL_BODY], "total_entries": 1}

    async def test_unknown_dag_is_an_empty_list(self, client: TestClient) -> None:
        response = await client.get(runs_url("nope"), headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"dag_runs": [], "total_entries": 0}

    async def test_tilde_lists_every_dag_by_row_id(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(3600)
        response = await client.get(runs_url("~"), headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert run_ids(body) == AFTER_AN_HOUR
        assert body["total_entries"] == 10

    async def test_tilde_only_lists_readable_dags(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        sim.advance(3600)
        headers = reader_of(sim, make_user, "etl_orders", "flaky_api_sync")
        response = await client.get(runs_url("~"), headers=headers)
        assert response.status == 200
        body = await response.json()
        assert run_ids(body) == [ETL, FLAKY, FLAKY_2, ETL_2]
        assert body["total_entries"] == 4

    @pytest.mark.parametrize(
        ("states", "expected"),
        [
            (["failed"], [FLAKY_2]),
            (["running", "failed"], [FLAKY_2, ETL_2]),
            (["queued"], []),
            # Values are not checked: an unknown state matches nothing.
            (["bogus"], []),
        ],
    )
    async def test_state_filter(
        self, client: TestClient, sim: Simulator, states: list[str], expected: list[str]
    ) -> None:
        sim.advance(3600)
        params = [("state", state) for state in states]
        response = await client.get(runs_url("~"), headers=ADMIN, params=params)
        assert response.status == 200
        body = await response.json()
        assert (run_ids(body), body["total_entries"]) == (expected, len(expected))
        # The comma form is the same query (connexion splits arrays on ",").
        comma = await client.get(runs_url("~"), headers=ADMIN, params={"state": ",".join(states)})
        assert await comma.json() == body

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            # Bounds are inclusive.
            ({"execution_date_gte": "2023-03-31T23:15:00Z"},
             [CONSUMED_1, FLAKY_2, PRODUCER_2, CONSUMED_2, ETL_2]),
            ({"execution_date_lte": "2023-03-31T22:15:00Z"}, [FAN, PARTITION, FLAKY]),
            ({"start_date_gte": "2023-04-01T00:15:00Z", "start_date_lte": "2023-04-01T00:30:00Z"},
             [FLAKY_2, PRODUCER_2]),
            # Runs without an end date never match an end date bound.
            ({"end_date_gte": "2023-04-01T00:28:20.750719Z"}, [FLAKY_2, PRODUCER_2, CONSUMED_2]),
            ({"end_date_lte": "2023-04-01T00:01:48.429692+00:00"}, [PRODUCER, CONSUMED_1]),
        ],
    )  # fmt: skip
    async def test_date_filters(
        self, client: TestClient, sim: Simulator, params: dict[str, str], expected: list[str]
    ) -> None:
        sim.advance(3600)
        response = await client.get(runs_url("~"), headers=ADMIN, params=params)
        assert response.status == 200
        body = await response.json()
        assert (run_ids(body), body["total_entries"]) == (expected, len(expected))

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            ("id", INITIAL),
            ("-id", INITIAL[::-1]),
            ("dag_id", [ETL, FAN, FLAKY, PRODUCER, PARTITION]),
            ("-dag_run_id", [ETL, PRODUCER, FLAKY, FAN, PARTITION]),
            ("execution_date", [PARTITION, FAN, FLAKY, PRODUCER, ETL]),
            ("--execution_date", [ETL, PRODUCER, FLAKY, FAN, PARTITION]),
            # Ties keep the row order.
            ("state", INITIAL),
            ("start_date", INITIAL),
            ("end_date", INITIAL),
            ("external_trigger", INITIAL),
            ("conf", INITIAL),
        ],
    )
    async def test_order_by(self, client: TestClient, order_by: str, expected: list[str]) -> None:
        response = await client.get(runs_url("~"), headers=ADMIN, params={"order_by": order_by})
        assert response.status == 200
        assert run_ids(await response.json()) == expected

    async def test_order_by_state_and_end_date(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        params = {"order_by": "-state", "state": ["failed", "running"]}
        response = await client.get(runs_url("~"), headers=ADMIN, params=params)
        assert run_ids(await response.json()) == [ETL_2, FLAKY_2]
        # NULL end dates sort last ascending, first descending.
        response = await client.get(runs_url("~"), headers=ADMIN, params={"order_by": "-end_date"})
        assert run_ids(await response.json()) == [
            ETL_2, CONSUMED_2, PRODUCER_2, FLAKY_2, PARTITION,
            ETL, FLAKY, FAN, CONSUMED_1, PRODUCER,
        ]  # fmt: skip

    @pytest.mark.parametrize("order_by", ["logical_date", "run_id", "-note", "", "-"])
    async def test_order_by_outside_allow_list(self, client: TestClient, order_by: str) -> None:
        response = await client.get(runs_url("~"), headers=ADMIN, params={"order_by": order_by})
        assert response.status == 400
        assert await response.json() == disallowed(order_by.lstrip("-"))

    async def test_limit_and_offset(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        params = {"limit": "3", "offset": "2", "order_by": "-id"}
        response = await client.get(runs_url("~"), headers=ADMIN, params=params)
        assert response.status == 200
        body = await response.json()
        assert (run_ids(body), body["total_entries"]) == ([PRODUCER_2, FLAKY_2, CONSUMED_1], 10)
        response = await client.get(runs_url("~"), headers=ADMIN, params={"offset": "50"})
        assert await response.json() == {"dag_runs": [], "total_entries": 10}

    @pytest.mark.parametrize(("limit", "size"), [("0", 100), ("1000", 100), ("101", 100)])
    async def test_limit_is_clamped(
        self, client: TestClient, sim: Simulator, limit: str, size: int
    ) -> None:
        add_manual_runs(sim, "manual_backfill_tool", 120)
        url = runs_url("manual_backfill_tool")
        response = await client.get(url, headers=ADMIN, params={"limit": limit})
        assert response.status == 200
        body = await response.json()
        assert (len(body["dag_runs"]), body["total_entries"]) == (size, 120)

    async def test_negative_limit_comes_before_ordering(self, client: TestClient) -> None:
        params = {"limit": "-1", "order_by": "nope"}
        response = await client.get(runs_url("~"), headers=ADMIN, params=params)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    async def test_negative_offset(self, client: TestClient) -> None:
        response = await client.get(runs_url("~"), headers=ADMIN, params={"offset": "-1"})
        assert response.status == 400
        assert await response.json() == bad_request(NEGATIVE_OFFSET)

    async def test_naive_date_is_rejected(self, client: TestClient) -> None:
        params = {"start_date_gte": "2023-01-01T00:00:00"}
        response = await client.get(runs_url("~"), headers=ADMIN, params=params)
        assert response.status == 400
        detail = (await response.json())["detail"]
        assert detail.startswith("'2023-01-01T00:00:00' is not a 'date-time'")

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(runs_url("etl_orders"))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403_without_read_permission(
        self, client: TestClient, make_user: Headers
    ) -> None:
        response = await client.get(runs_url("~"), headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN

    async def test_403_for_a_dag_the_user_cannot_read(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        headers = reader_of(sim, make_user, "etl_orders")
        response = await client.get(runs_url("fan_out_fan_in"), headers=headers)
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        response = await client.get(runs_url("etl_orders"), headers=headers)
        assert response.status == 200


def add_manual_runs(sim: Simulator, dag_id: str, count: int) -> None:
    """`count` manual runs, one per day from 2023-01-01, straight into the scheduler."""
    dag = sim.store.dags.require(dag_id)
    for day in range(count):
        logical = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=day)
        sim.scheduler.create_run(
            dag,
            run_id=f"manual__{logical.isoformat()}",
            logical=logical,
            interval=Interval(logical, logical),
            run_type="manual",
            external=True,
        )


class TestGetDagRunsBatch:
    async def test_empty_body_lists_every_readable_run(self, client: TestClient) -> None:
        response = await client.post(BATCH, headers=ADMIN, json={})
        assert response.status == 200
        body = await response.json()
        assert body["dag_runs"][0] == ETL_BODY
        assert (run_ids(body), body["total_entries"]) == (INITIAL, 5)

    async def test_dag_ids_are_intersected_with_readable_dags(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        sim.advance(3600)
        headers = reader_of(sim, make_user, "etl_orders", "flaky_api_sync")
        form = {"dag_ids": ["flaky_api_sync", "fan_out_fan_in", "nope"]}
        response = await client.post(BATCH, headers=headers, json=form)
        assert response.status == 200
        body = await response.json()
        assert (run_ids(body), body["total_entries"]) == ([FLAKY, FLAKY_2], 2)
        # An empty list means every readable DAG.
        response = await client.post(BATCH, headers=headers, json={"dag_ids": []})
        assert run_ids(await response.json()) == [ETL, FLAKY, FLAKY_2, ETL_2]

    async def test_filters_order_and_page(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        form = {
            "states": ["success", "failed"],
            "execution_date_gte": "2023-03-31T22:15:00+00:00",
            "execution_date_lte": "2023-04-01T00:31:42.947605Z",
            "start_date_gte": T0,
            # A consumer starts at the scheduler loop after its event.
            "start_date_lte": "2023-04-01T00:31:43+00:00",
            "end_date_gte": "2023-04-01T00:01:14.756790+00:00",
            "end_date_lte": "2023-04-01T00:32:16.554391+00:00",
            "order_by": "-execution_date",
            "page_offset": 1,
            "page_limit": 3,
        }
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert response.status == 200
        body = await response.json()
        # Matching: CONSUMED_2, CONSUMED_1, PRODUCER_2, FLAKY_2, ETL, PRODUCER, FLAKY
        # (PRODUCER ends exactly on end_date_gte, CONSUMED_2 on end_date_lte).
        assert (run_ids(body), body["total_entries"]) == ([CONSUMED_1, PRODUCER_2, FLAKY_2], 7)

    async def test_page_limit_is_not_clamped(self, client: TestClient, sim: Simulator) -> None:
        add_manual_runs(sim, "manual_backfill_tool", 120)
        form = {"dag_ids": ["manual_backfill_tool"], "page_limit": 1000}
        response = await client.post(BATCH, headers=ADMIN, json=form)
        body = await response.json()
        assert (len(body["dag_runs"]), body["total_entries"]) == (120, 120)
        # The default page is 100.
        response = await client.post(BATCH, headers=ADMIN, json={"page_offset": 5})
        body = await response.json()
        assert (len(body["dag_runs"]), body["total_entries"]) == (100, 125)

    async def test_unknown_fields(self, client: TestClient) -> None:
        # The GET's names (state, limit, offset) are not the form's.
        form = {"state": ["running"], "limit": 5, "dag_ids": ["etl_orders"]}
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert response.status == 400
        assert await response.json() == bad_request(
            "{'state': ['Unknown field.'], 'limit': ['Unknown field.']}"
        )

    @pytest.mark.parametrize(
        ("form", "detail"),
        [
            ({"page_limit": 0}, "0 is less than the minimum of 1 - 'page_limit'"),
            ({"page_offset": -1}, "-1 is less than the minimum of 0 - 'page_offset'"),
            ({"dag_ids": "etl_orders"}, "'etl_orders' is not of type 'array' - 'dag_ids'"),
            (
                {"end_date_lte": "2023-01-01T00:00:00"},
                "'2023-01-01T00:00:00' is not a 'date-time' - 'end_date_lte'",
            ),
        ],
    )
    async def test_spec_errors(self, client: TestClient, form: dict[str, Any], detail: str) -> None:
        response = await client.post(BATCH, headers=ADMIN, json=form)
        assert response.status == 400
        assert await response.json() == bad_request(detail)

    async def test_order_by_outside_allow_list(self, client: TestClient) -> None:
        response = await client.post(BATCH, headers=ADMIN, json={"order_by": "-logical_date"})
        assert response.status == 400
        assert await response.json() == disallowed("logical_date")

    async def test_401(self, client: TestClient) -> None:
        response = await client.post(BATCH, json={})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403(self, client: TestClient, make_user: Headers) -> None:
        response = await client.post(BATCH, headers=make_user("public", "Public"), json={})
        assert response.status == 403
        assert await response.json() == FORBIDDEN


def trigger_body(dag_id: str, logical: str, run_id: str | None = None, **fields: Any) -> dict:
    """A freshly triggered run: queued, not started, no scheduling decision yet."""
    fields.setdefault("interval", (logical, logical))
    return run_body(dag_id, run_id or f"manual__{logical}", logical, **fields)


class TestPostDagRun:
    async def test_defaults_to_now(self, client: TestClient, sim: Simulator) -> None:
        response = await client.post(runs_url("etl_orders"), headers=ADMIN, json={})
        assert response.status == 200
        assert await response.json() == trigger_body(
            "etl_orders", T0, interval=("2023-03-31T23:00:00+00:00", T0)
        )
        # etl_orders allows one active run: this one waits for the scheduled one.
        assert get_run(sim, "etl_orders", f"manual__{T0}").state == "queued"

    async def test_now_with_microseconds(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(1.25)
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json={})
        assert response.status == 200
        now = "2023-04-01T00:00:01.250000+00:00"
        assert await response.json() == trigger_body("manual_backfill_tool", now)

    async def test_every_writable_field(self, client: TestClient, sim: Simulator) -> None:
        body = {
            "dag_run_id": "my run",
            "logical_date": "2023-01-05T13:00:00Z",
            "conf": {"start": "2023-01-01", "nested": {"a": [1, 2]}},
            "note": "reprocessing January",
        }
        response = await client.post(runs_url("wait_for_partition"), headers=ADMIN, json=body)
        assert response.status == 200
        # Daily cron: the last complete interval ending at or before the logical date.
        expected = trigger_body(
            "wait_for_partition",
            "2023-01-05T13:00:00+00:00",
            "my run",
            interval=("2023-01-04T00:00:00+00:00", "2023-01-05T00:00:00+00:00"),
            conf=body["conf"],
            note="reprocessing January",
        )
        assert await response.json() == expected
        run = get_run(sim, "wait_for_partition", "my run")
        assert (run.external_trigger, run.queued_at) == (True, datetime(2023, 4, 1, tzinfo=UTC))

    async def test_execution_date_alias(self, client: TestClient) -> None:
        body = {"execution_date": "2023-01-01T00:00:00+00:00"}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 200
        expected = trigger_body("manual_backfill_tool", "2023-01-01T00:00:00+00:00")
        assert await response.json() == expected
        both = {"execution_date": "2023-01-02T00:00:00Z", "logical_date": "2023-01-02T00:00:00Z"}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=both)
        assert response.status == 200
        assert (await response.json())["dag_run_id"] == "manual__2023-01-02T00:00:00+00:00"

    @pytest.mark.parametrize(
        ("logical", "execution", "detail"),
        [
            ("2023-01-01T00:00:00+00:00", "2023-01-02T00:00:00+00:00",
             "'2023-01-01T00:00:00+00:00' != '2023-01-02T00:00:00+00:00'"),
            # The strings are compared: one instant spelled two ways conflicts.
            ("2023-01-01T00:00:00Z", "2023-01-01T00:00:00+00:00",
             "'2023-01-01T00:00:00Z' != '2023-01-01T00:00:00+00:00'"),
            ("2023-01-01T00:00:00Z", None, "'2023-01-01T00:00:00Z' != None"),
        ],
    )  # fmt: skip
    async def test_logical_and_execution_dates_conflict(
        self,
        client: TestClient,
        sim: Simulator,
        logical: str,
        execution: str | None,
        detail: str,
    ) -> None:
        before = snapshot(sim)
        body = {"logical_date": logical, "execution_date": execution}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == bad_request(
            detail, "logical_date conflicts with execution_date"
        )
        assert snapshot(sim) == before

    async def test_generated_id_keeps_the_given_offset(
        self, client: TestClient, sim: Simulator
    ) -> None:
        body = {"logical_date": "2023-01-01T05:30:00+05:30"}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 200
        run_id = "manual__2023-01-01T05:30:00+05:30"
        # Airflow dumps the run it just created: the answer keeps the offset
        # (schedule=None: the interval is exact); the run is stored in UTC.
        assert await response.json() == trigger_body(
            "manual_backfill_tool", "2023-01-01T05:30:00+05:30", run_id
        )
        stored = await client.get(f"{runs_url('manual_backfill_tool')}/{run_id}", headers=ADMIN)
        read = await stored.json()
        dates = ("logical_date", "execution_date", "data_interval_start", "data_interval_end")
        assert {name: read[name] for name in dates} == dict.fromkeys(
            dates, "2023-01-01T00:00:00+00:00"
        )
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 409
        assert await response.json() == problem(
            409,
            "Conflict",
            "DAGRun with DAG ID: 'manual_backfill_tool' and DAGRun logical date: "
            "'2023-01-01 05:30:00+05:30' already exists",
            "AlreadyExists",
        )

    async def test_a_cron_interval_is_utc_in_the_answer(self, client: TestClient) -> None:
        """A cron timetable aligns in the DAG's timezone (UTC); the logical date
        keeps the request's offset."""
        body = {"logical_date": "2023-02-01T13:30:00+01:00"}
        response = await client.post(runs_url("etl_orders"), headers=ADMIN, json=body)
        answered = await response.json()
        assert answered["logical_date"] == answered["execution_date"] == body["logical_date"]
        interval = (answered["data_interval_start"], answered["data_interval_end"])
        assert interval == ("2023-02-01T11:00:00+00:00", "2023-02-01T12:00:00+00:00")

    async def test_timedelta_and_dataset_schedules(
        self, client: TestClient, sim: Simulator
    ) -> None:
        body = {"logical_date": "2023-02-01T12:00:00+00:00"}
        response = await client.post(runs_url("orders_dataset_consumer"), headers=ADMIN, json=body)
        assert response.status == 200
        body_out = await response.json()
        interval = (body_out["data_interval_start"], body_out["data_interval_end"])
        assert interval == ("2023-02-01T12:00:00+00:00", "2023-02-01T12:00:00+00:00")

    async def test_empty_note_is_not_stored(self, client: TestClient) -> None:
        body = {"dag_run_id": "quiet", "note": ""}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 200
        assert (await response.json())["note"] is None

    async def test_empty_run_id_gets_a_generated_one(self, client: TestClient) -> None:
        body = {"dag_run_id": "", "logical_date": "2023-01-01T00:00:00Z"}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 200
        assert (await response.json())["dag_run_id"] == "manual__2023-01-01T00:00:00+00:00"

    async def test_slash_in_run_id_is_accepted(self, client: TestClient, sim: Simulator) -> None:
        body = {"dag_run_id": "a/b"}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 200
        assert ("manual_backfill_tool", "a/b") in sim.store.dag_runs

    async def test_paused_dag_run_stays_queued(self, client: TestClient, sim: Simulator) -> None:
        response = await client.post(runs_url("legacy_cleanup"), headers=ADMIN, json={})
        assert response.status == 200
        sim.advance(3600)
        run = get_run(sim, "legacy_cleanup", f"manual__{T0}")
        assert (run.state, run.start_date) == ("queued", None)
        # Every task got an instance with no state.
        assert [(ti.task_id, ti.state) for ti in sim.store.tis_of(run)] == [
            ("drop_expired_tables", None)
        ]
        dag = sim.store.dags.require("legacy_cleanup")
        dag.is_paused = False
        sim.scheduler.resume(dag)
        sim.advance(3600)
        assert run.state == "success"
        assert run.start_date == datetime(2023, 4, 1, 1, tzinfo=UTC)

    async def test_the_scheduler_starts_the_run(self, client: TestClient, sim: Simulator) -> None:
        """The scheduler's next loop (a second apart) starts a run the API queued."""
        url = runs_url("manual_backfill_tool", f"manual__{T0}")
        await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json={})
        sim.advance(0.5)
        body = await (await client.get(url, headers=ADMIN)).json()
        assert (body["state"], body["start_date"]) == ("queued", None)
        sim.advance(0.5)
        body = await (await client.get(url, headers=ADMIN)).json()
        assert (body["state"], body["start_date"]) == ("running", "2023-04-01T00:00:01+00:00")
        assert body["last_scheduling_decision"] == "2023-04-01T00:00:01+00:00"
        sim.advance(2.5)  # each loop stamps the running run
        body = await (await client.get(url, headers=ADMIN)).json()
        assert body["last_scheduling_decision"] == "2023-04-01T00:00:03+00:00"

    async def test_a_future_logical_date_stays_queued_until_then(
        self, client: TestClient, sim: Simulator
    ) -> None:
        later = "2023-04-01T00:10:00+00:00"
        await client.post(
            runs_url("manual_backfill_tool"), headers=ADMIN, json={"logical_date": later}
        )
        url = runs_url("manual_backfill_tool", f"manual__{later}")
        sim.advance(599)
        body = await (await client.get(url, headers=ADMIN)).json()
        assert (body["state"], body["start_date"]) == ("queued", None)
        sim.advance(1)
        body = await (await client.get(url, headers=ADMIN)).json()
        assert (body["state"], body["start_date"]) == ("running", later)

    async def test_audit_log(self, client: TestClient, sim: Simulator) -> None:
        await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json={})
        await client.post(runs_url("nope"), headers=ADMIN, json={})
        rows = list(sim.store.event_logs)[STARTUP_ROWS:]
        events = [(e.event, e.dag_id, e.owner, e.extra) for e in rows]
        # Only the request that succeeded is logged (quirk audit-log-on-success-only).
        assert events == [
            (
                "dag_run.create",
                "manual_backfill_tool",
                "admin",
                "[('dag_id', 'manual_backfill_tool')]",
            )
        ]

    @pytest.mark.parametrize("dag_id", ["nope", "~"])
    async def test_unknown_dag(self, client: TestClient, dag_id: str) -> None:
        response = await client.post(runs_url(dag_id), headers=ADMIN, json={})
        assert response.status == 404
        assert await response.json() == problem(
            404, "DAG not found", f"DAG with dag_id: '{dag_id}' not found", "NotFound"
        )

    async def test_inactive_dag(self, client: TestClient, sim: Simulator) -> None:
        sim.store.dags.require("manual_backfill_tool").is_active = False
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json={})
        assert response.status == 404
        assert await response.json() == problem(
            404, "DAG not found", "DAG with dag_id: 'manual_backfill_tool' not found", "NotFound"
        )

    async def test_dag_with_import_errors(self, client: TestClient, sim: Simulator) -> None:
        sim.store.dags.require("manual_backfill_tool").has_import_errors = True
        # Checked before the body is loaded.
        body = {"foo": 1}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == bad_request(
            "DAG with dag_id: 'manual_backfill_tool' has import errors", "DAG cannot be triggered"
        )

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"dag_run_id": None}, "{'dag_run_id': ['Field may not be null.']}"),
            ({"dag_run_id": "x" * 251}, "{'dag_run_id': ['Longer than maximum length 250.']}"),
            ({"note": "n" * 1001}, "{'note': ['Longer than maximum length 1000.']}"),
            ({"dag_run_id": "r", "logical_date": None},
             "{'logical_date': ['Field may not be null.']}"),
            ({"dag_run_id": None, "note": "n" * 1001, "foo": 1},
             "{'dag_run_id': ['Field may not be null.'], "
             "'note': ['Longer than maximum length 1000.'], 'foo': ['Unknown field.']}"),
            ({"conf": None}, "None is not of type 'object' - 'conf'"),
            ({"conf": []}, "[] is not of type 'object' - 'conf'"),
            ({"logical_date": "2023-01-01T00:00:00"},
             "'2023-01-01T00:00:00' is not a 'date-time' - 'logical_date'"),
            ({"state": "queued"}, "Property is read-only - 'state'"),
            ({"dag_id": "etl_orders"}, "Property is read-only - 'dag_id'"),
        ],
    )  # fmt: skip
    async def test_invalid_body(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        before = snapshot(sim)
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == bad_request(detail)
        assert snapshot(sim) == before

    async def test_null_logical_date_without_run_id(self, client: TestClient) -> None:
        body = {"logical_date": None}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == bad_request(
            "argument 1 must be str, not None", "Incorrect datetime argument"
        )

    @pytest.mark.parametrize("run_type", ["scheduled", "backfill", "dataset_triggered"])
    async def test_reserved_run_id_prefix(
        self, client: TestClient, sim: Simulator, run_type: str
    ) -> None:
        before = snapshot(sim)
        body = {"dag_run_id": f"{run_type}__mine"}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == bad_request(
            f"A manual DAG run cannot use ID '{run_type}__mine' since it is reserved "
            f"for {run_type} runs"
        )
        assert snapshot(sim) == before

    async def test_duplicate_run_id(self, client: TestClient, sim: Simulator) -> None:
        before = snapshot(sim)
        body = {"dag_run_id": ETL, "logical_date": "2023-01-01T00:00:00Z"}
        response = await client.post(runs_url("etl_orders"), headers=ADMIN, json=body)
        assert response.status == 409
        assert await response.json() == problem(
            409,
            "Conflict",
            f"DAGRun with DAG ID: 'etl_orders' and DAGRun ID: '{ETL}' already exists",
            "AlreadyExists",
        )
        assert snapshot(sim) == before

    async def test_duplicate_logical_date(self, client: TestClient) -> None:
        # The conflict is found before the reserved prefix is checked.
        body = {"dag_run_id": "scheduled__x", "logical_date": "2023-03-31T23:00:00Z"}
        response = await client.post(runs_url("etl_orders"), headers=ADMIN, json=body)
        assert response.status == 409
        assert await response.json() == problem(
            409,
            "Conflict",
            "DAGRun with DAG ID: 'etl_orders' and DAGRun logical date: "
            "'2023-03-31 23:00:00+00:00' already exists",
            "AlreadyExists",
        )

    @pytest.mark.parametrize(
        ("run_id", "logical", "detail"),
        [
            ("r2", "2023-01-01T00:00:00Z", "DAGRun logical date: '2023-01-01 00:00:00+00:00'"),
            ("r1", "2023-01-02T00:00:00Z", "DAGRun ID: 'r1'"),
        ],
    )
    async def test_first_conflicting_run_decides_the_message(
        self, client: TestClient, run_id: str, logical: str, detail: str
    ) -> None:
        url = runs_url("manual_backfill_tool")
        for existing, day in (("r1", "01"), ("r2", "02")):
            body = {"dag_run_id": existing, "logical_date": f"2023-01-{day}T00:00:00Z"}
            assert (await client.post(url, headers=ADMIN, json=body)).status == 200
        # Both runs conflict; r1, the older row, decides which message is given.
        body = {"dag_run_id": run_id, "logical_date": logical}
        response = await client.post(url, headers=ADMIN, json=body)
        assert response.status == 409
        assert await response.json() == problem(
            409,
            "Conflict",
            f"DAGRun with DAG ID: 'manual_backfill_tool' and {detail} already exists",
            "AlreadyExists",
        )

    async def test_generated_id_taken_by_another_date(self, client: TestClient) -> None:
        first = {"dag_run_id": "manual__2023-01-01T00:00:00+00:00", "logical_date": T0}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=first)
        assert response.status == 200
        body = {"logical_date": "2023-01-01T00:00:00+00:00"}
        response = await client.post(runs_url("manual_backfill_tool"), headers=ADMIN, json=body)
        assert response.status == 409
        assert await response.json() == problem(
            409,
            "Conflict",
            "DAGRun with DAG ID: 'manual_backfill_tool' and "
            "DAGRun ID: 'manual__2023-01-01T00:00:00+00:00' already exists",
            "AlreadyExists",
        )

    async def test_401(self, client: TestClient, sim: Simulator) -> None:
        response = await client.post(runs_url("etl_orders"), json={})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED
        assert len(sim.store.runs_of("etl_orders")) == 1

    async def test_403_for_a_viewer(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        headers = make_user("viewer", "Viewer")
        response = await client.post(runs_url("etl_orders"), headers=headers, json={})
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert len(sim.store.runs_of("etl_orders")) == 1

    async def test_user_role_may_trigger(self, client: TestClient, make_user: Headers) -> None:
        headers = make_user("user", "User")
        response = await client.post(runs_url("manual_backfill_tool"), headers=headers, json={})
        assert response.status == 200

    async def test_scheduled_runs_resume_after_a_manual_run(
        self, client: TestClient, sim: Simulator
    ) -> None:
        # etl_orders allows one active run; a manual run holds it at 01:00.
        sim.advance(59 * 60)
        await client.post(runs_url("etl_orders"), headers=ADMIN, json={})
        sim.advance(3 * 3600)
        scheduled = [r.run_id for r in sim.store.runs_of("etl_orders") if r.run_type == "scheduled"]
        assert scheduled[1:] == [
            "scheduled__2023-04-01T00:00:00+00:00",
            "scheduled__2023-04-01T01:00:00+00:00",
            "scheduled__2023-04-01T02:00:00+00:00",
        ]


NOT_FOUND_RUN = "DAGRun with DAG ID: 'etl_orders' and DagRun ID: 'nope' not found"


class TestGetDagRun:
    async def test_full_body(self, client: TestClient) -> None:
        response = await client.get(runs_url("etl_orders", ETL), headers=ADMIN)
        assert response.status == 200
        assert await response.json() == ETL_BODY

    async def test_finished_run(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        response = await client.get(runs_url("flaky_api_sync", FLAKY_2), headers=ADMIN)
        assert response.status == 200
        assert await response.json() == run_body(
            "flaky_api_sync",
            FLAKY_2,
            "2023-03-31T23:15:00+00:00",
            state="failed",
            start="2023-04-01T00:15:00+00:00",
            end="2023-04-01T00:28:20.750719+00:00",
            interval=("2023-03-31T23:15:00+00:00", "2023-04-01T00:15:00+00:00"),
            decided="2023-04-01T00:28:20.750719+00:00",
            run_type="scheduled",
        )

    @pytest.mark.parametrize(
        ("dag_id", "run_id"), [("etl_orders", "nope"), ("nope", ETL), ("~", "list")]
    )
    async def test_not_found(self, client: TestClient, dag_id: str, run_id: str) -> None:
        response = await client.get(runs_url(dag_id, run_id), headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404,
            "DAGRun not found",
            f"DAGRun with DAG ID: '{dag_id}' and DagRun ID: '{run_id}' not found",
            "NotFound",
        )

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(runs_url("etl_orders", ETL))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403(self, client: TestClient, make_user: Headers) -> None:
        response = await client.get(runs_url("etl_orders", ETL), headers=make_user("p", "Public"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN


class TestDeleteDagRun:
    async def test_deletes_the_run_and_its_task_instances(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(3600)
        assert any(x.run_id == PRODUCER for x in sim.store.xcoms)
        response = await client.delete(runs_url("orders_dataset_producer", PRODUCER), headers=ADMIN)
        assert response.status == 204
        assert await response.read() == b""
        assert ("orders_dataset_producer", PRODUCER) not in sim.store.dag_runs
        assert not [ti for ti in sim.store.task_instances if ti.run_id == PRODUCER]
        assert not [x for x in sim.store.xcoms if x.run_id == PRODUCER]
        response = await client.get(runs_url("orders_dataset_producer", PRODUCER), headers=ADMIN)
        assert response.status == 404

    async def test_frees_the_active_run_slot(self, client: TestClient, sim: Simulator) -> None:
        # etl_orders allows one active run: a triggered run waits for ETL.
        await client.post(runs_url("etl_orders"), headers=ADMIN, json={})
        manual = get_run(sim, "etl_orders", f"manual__{T0}")
        assert manual.state == "queued"
        response = await client.delete(runs_url("etl_orders", ETL), headers=ADMIN)
        assert response.status == 204
        assert (manual.state, manual.start_date) == ("running", datetime(2023, 4, 1, tzinfo=UTC))

    async def test_not_found(self, client: TestClient, sim: Simulator) -> None:
        before = snapshot(sim)
        response = await client.delete(runs_url("etl_orders", "nope"), headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(404, "Not Found", NOT_FOUND_RUN, "NotFound")
        assert snapshot(sim) == before

    async def test_401(self, client: TestClient, sim: Simulator) -> None:
        response = await client.delete(runs_url("etl_orders", ETL))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED
        assert ("etl_orders", ETL) in sim.store.dag_runs

    async def test_403_for_a_viewer(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        response = await client.delete(
            runs_url("etl_orders", ETL), headers=make_user("v", "Viewer")
        )
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert ("etl_orders", ETL) in sim.store.dag_runs


def ti_states(sim: Simulator, dag_id: str, run_id: str) -> list[tuple[str, int, str | None]]:
    run = get_run(sim, dag_id, run_id)
    return [(ti.task_id, ti.map_index, ti.state) for ti in sim.store.tis_of(run)]


class TestUpdateDagRunState:
    async def test_success(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(30)
        url = runs_url("etl_orders", ETL)
        response = await client.patch(url, headers=ADMIN, json={"state": "success"})
        assert response.status == 200
        assert await response.json() == {
            **ETL_BODY,
            "state": "success",
            "end_date": "2023-04-01T00:00:30+00:00",
            "last_scheduling_decision": "2023-04-01T00:00:30+00:00",  # its latest loop
        }
        assert {state for _, _, state in ti_states(sim, "etl_orders", ETL)} == {"success"}

    async def test_failed(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(30)
        url = runs_url("etl_orders", ETL)
        response = await client.patch(url, headers=ADMIN, json={"state": "failed"})
        assert response.status == 200
        assert await response.json() == {
            **ETL_BODY,
            "state": "failed",
            "end_date": "2023-04-01T00:00:30+00:00",
            "last_scheduling_decision": "2023-04-01T00:00:30+00:00",  # its latest loop
        }
        # Running instances fail; those with no state keep none (2.5.3).
        assert ti_states(sim, "etl_orders", ETL) == [
            ("extract_orders", -1, "failed"),
            ("extract_customers", -1, "failed"),
            ("transform", -1, None),
            ("load_warehouse", -1, None),
            ("notify", -1, None),
        ]

    async def test_failed_fails_every_map_index_of_a_running_task(
        self, client: TestClient, sim: Simulator
    ) -> None:
        """set_state selects the running tasks by task_id: a mapped task's
        succeeded instances fail with its running ones (2.5.3's mark_tasks)."""
        run_id = next(r.run_id for r in sim.store.runs_of("fan_out_fan_in"))
        mapped = sim.store.run_tis[("fan_out_fan_in", run_id)]["process_file"]
        while not ({"success", "running"} <= {ti.state for ti in mapped}):
            sim.advance(5)
        response = await client.patch(
            runs_url("fan_out_fan_in", run_id), headers=ADMIN, json={"state": "failed"}
        )
        assert response.status == 200
        assert [ti.state for ti in mapped] == ["failed"] * len(mapped)
        merge = sim.store.run_tis[("fan_out_fan_in", run_id)]["merge"]
        assert [ti.state for ti in merge] == [None]  # not a running task: no state stays none

    async def test_queued(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        url = runs_url("flaky_api_sync", FLAKY_2)
        before = ti_states(sim, "flaky_api_sync", FLAKY_2)
        response = await client.patch(url, headers=ADMIN, json={"state": "queued"})
        assert response.status == 200
        # Re-queuing stamps end_date with now; the task instances are untouched.
        assert await response.json() == run_body(
            "flaky_api_sync",
            FLAKY_2,
            "2023-03-31T23:15:00+00:00",
            state="queued",
            start="2023-04-01T00:15:00+00:00",
            end="2023-04-01T01:00:00+00:00",
            interval=("2023-03-31T23:15:00+00:00", "2023-04-01T00:15:00+00:00"),
            decided="2023-04-01T00:28:20.750719+00:00",
            run_type="scheduled",
        )
        assert ti_states(sim, "flaky_api_sync", FLAKY_2) == before

    async def test_requeued_run_restarts_without_end_date(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(30)
        url = runs_url("etl_orders", ETL)
        await client.patch(url, headers=ADMIN, json={"state": "queued"})
        sim.advance(1)
        body = await (await client.get(url, headers=ADMIN)).json()
        assert (body["state"], body["end_date"]) == ("running", None)

    async def test_run_is_looked_up_before_the_body(self, client: TestClient) -> None:
        url = runs_url("etl_orders", "nope")
        response = await client.patch(url, headers=ADMIN, json={"foo": 1})
        assert response.status == 404
        assert await response.json() == problem(
            404, "Dag Run id nope not found in dag etl_orders", None, "NotFound"
        )

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"state": "running"},
             "'running' is not one of ['success', 'failed', 'queued'] - 'state'"),
            ({"state": None}, "None is not of type 'string' - 'state'"),
            ({"state": "success", "foo": 1}, "{'foo': ['Unknown field.']}"),
            # Airflow 2.5.3 crashes here; the simulator names the missing field.
            ({}, "{'state': ['Missing data for required field.']}"),
        ],
    )  # fmt: skip
    async def test_invalid_body(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        before = snapshot(sim)
        response = await client.patch(runs_url("etl_orders", ETL), headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == bad_request(detail)
        assert snapshot(sim) == before

    async def test_401(self, client: TestClient) -> None:
        response = await client.patch(runs_url("etl_orders", ETL), json={"state": "success"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403_for_a_viewer(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        headers = make_user("viewer", "Viewer")
        url = runs_url("etl_orders", ETL)
        response = await client.patch(url, headers=headers, json={"state": "success"})
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert get_run(sim, "etl_orders", ETL).state == "running"


class TestClearDagRun:
    async def test_dry_run_by_default_lists_every_task_instance(
        self, client: TestClient, sim: Simulator
    ) -> None:
        before = snapshot(sim)
        response = await client.post(
            runs_url("fan_out_fan_in", FAN, "/clear"), headers=ADMIN, json={}
        )
        assert response.status == 200
        reference = {
            "dag_id": "fan_out_fan_in",
            "dag_run_id": FAN,
            "execution_date": "2023-03-31T22:00:00+00:00",
        }
        # One entry per instance (mapped ones repeat the task id), whatever their state.
        tasks = ["list_files", *["process_file"] * 4, "merge", "publish_report"]
        assert await response.json() == {
            "task_instances": [{**reference, "task_id": task} for task in tasks]
        }
        assert snapshot(sim) == before

    async def test_clear(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        url = runs_url("flaky_api_sync", FLAKY_2, "/clear")
        response = await client.post(url, headers=ADMIN, json={"dry_run": False})
        assert response.status == 200
        # Queued again, not started, no scheduling decision; end_date goes with
        # the change of state.
        assert await response.json() == run_body(
            "flaky_api_sync",
            FLAKY_2,
            "2023-03-31T23:15:00+00:00",
            state="queued",
            interval=("2023-03-31T23:15:00+00:00", "2023-04-01T00:15:00+00:00"),
            run_type="scheduled",
        )
        run = get_run(sim, "flaky_api_sync", FLAKY_2)
        sim.advance(3600)
        assert run.state in ("success", "failed")
        # The scheduler's next loop started it.
        assert run.start_date == datetime(2023, 4, 1, 1, 0, 1, tzinfo=UTC)

    async def test_run_is_looked_up_before_the_body(self, client: TestClient) -> None:
        url = runs_url("etl_orders", "nope", "/clear")
        response = await client.post(url, headers=ADMIN, json={"foo": 1})
        assert response.status == 404
        # Three spaces before the DAG id, as in Airflow.
        assert await response.json() == problem(
            404, "Dag Run id nope not found in dag   etl_orders", None, "NotFound"
        )

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"dry_run": False, "reset_dag_runs": True}, "{'reset_dag_runs': ['Unknown field.']}"),
            ({"dry_run": "no"}, "'no' is not of type 'boolean' - 'dry_run'"),
        ],
    )
    async def test_invalid_body(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        before = snapshot(sim)
        response = await client.post(
            runs_url("etl_orders", ETL, "/clear"), headers=ADMIN, json=body
        )
        assert response.status == 400
        assert await response.json() == bad_request(detail)
        assert snapshot(sim) == before

    async def test_401(self, client: TestClient) -> None:
        response = await client.post(runs_url("etl_orders", ETL, "/clear"), json={})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403_for_a_viewer(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        before = snapshot(sim)
        headers = make_user("viewer", "Viewer")
        url = runs_url("etl_orders", ETL, "/clear")
        response = await client.post(url, headers=headers, json={"dry_run": False})
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert snapshot(sim) == before


class TestGetUpstreamDatasetEvents:
    async def test_events_that_triggered_the_run(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(3600)
        url = runs_url("orders_dataset_consumer", CONSUMED_1, "/upstreamDatasetEvents")
        response = await client.get(url, headers=ADMIN)
        assert response.status == 200
        when = "2023-04-01T00:01:14.756790+00:00"
        assert await response.json() == {
            "dataset_events": [
                {
                    "created_dagruns": [
                        {
                            "dag_id": "orders_dataset_consumer",
                            "dag_run_id": CONSUMED_1,
                            # the source run's data interval
                            "data_interval_end": "2023-03-31T23:30:00+00:00",
                            "data_interval_start": "2023-03-31T22:30:00+00:00",
                            "end_date": "2023-04-01T00:01:48.429692+00:00",
                            "logical_date": when,
                            # the scheduler loop after the event
                            "start_date": "2023-04-01T00:01:15+00:00",
                            "state": "success",
                        }
                    ],
                    "dataset_id": 1,
                    "dataset_uri": ORDERS,
                    "extra": {},
                    "id": 1,
                    "source_dag_id": "orders_dataset_producer",
                    "source_map_index": -1,
                    "source_run_id": PRODUCER,
                    "source_task_id": "build_orders_table",
                    "timestamp": when,
                }
            ],
            "total_entries": 1,
        }

    async def test_other_runs_have_none(self, client: TestClient) -> None:
        url = runs_url("etl_orders", ETL, "/upstreamDatasetEvents")
        response = await client.get(url, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"dataset_events": [], "total_entries": 0}

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.get(
            runs_url("etl_orders", "nope", "/upstreamDatasetEvents"), headers=ADMIN
        )
        assert response.status == 404
        assert await response.json() == problem(404, "DAGRun not found", NOT_FOUND_RUN, "NotFound")

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(runs_url("etl_orders", ETL, "/upstreamDatasetEvents"))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403_without_datasets_permission(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        sim.store.roles.add(
            Role(name="RunReader", permissions=[("can_read", "DAGs"), ("can_read", "DAG Runs")])
        )
        headers = make_user("runs", "RunReader")
        url = runs_url("etl_orders", ETL, "/upstreamDatasetEvents")
        response = await client.get(url, headers=headers)
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert (await client.get(runs_url("etl_orders", ETL), headers=headers)).status == 200


class TestSetDagRunNote:
    async def test_set_and_replace(self, client: TestClient, sim: Simulator) -> None:
        url = runs_url("etl_orders", ETL, "/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "looks slow"})
        assert response.status == 200
        assert await response.json() == {**ETL_BODY, "note": "looks slow"}
        response = await client.patch(url, headers=ADMIN, json={"note": ""})
        assert (await response.json())["note"] == ""
        response = await client.get(runs_url("etl_orders", ETL), headers=ADMIN)
        assert (await response.json())["note"] == ""

    async def test_longest_note(self, client: TestClient) -> None:
        url = runs_url("etl_orders", ETL, "/setNote")
        response = await client.patch(url, headers=ADMIN, json={"note": "n" * 1000})
        assert response.status == 200

    async def test_run_is_looked_up_before_the_body(self, client: TestClient) -> None:
        url = runs_url("etl_orders", "nope", "/setNote")
        response = await client.patch(url, headers=ADMIN, json={"foo": 1})
        assert response.status == 404
        assert await response.json() == problem(
            404, "Dag Run id nope not found in dag etl_orders", None, "NotFound"
        )

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"note": "n" * 1001}, "{'note': ['Longer than maximum length 1000.']}"),
            ({"note": None}, "None is not of type 'string' - 'note'"),
            ({"note": "x", "foo": 1}, "{'foo': ['Unknown field.']}"),
            # Airflow 2.5.3 crashes here; the simulator names the missing field.
            ({}, "{'note': ['Missing data for required field.']}"),
        ],
    )
    async def test_invalid_body(
        self, client: TestClient, sim: Simulator, body: dict[str, Any], detail: str
    ) -> None:
        before = snapshot(sim)
        url = runs_url("etl_orders", ETL, "/setNote")
        response = await client.patch(url, headers=ADMIN, json=body)
        assert response.status == 400
        assert await response.json() == bad_request(detail)
        assert snapshot(sim) == before

    async def test_401(self, client: TestClient) -> None:
        response = await client.patch(runs_url("etl_orders", ETL, "/setNote"), json={"note": "x"})
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_403_for_a_viewer(
        self, client: TestClient, sim: Simulator, make_user: Headers
    ) -> None:
        headers = make_user("viewer", "Viewer")
        url = runs_url("etl_orders", ETL, "/setNote")
        response = await client.patch(url, headers=headers, json={"note": "x"})
        assert response.status == 403
        assert await response.json() == FORBIDDEN
        assert get_run(sim, "etl_orders", ETL).note is None


@pytest.fixture
def runs_live(live_dags: LiveServer) -> LiveServer:
    return live_dags


@pytest.fixture
def run_api(runs_live: LiveServer) -> Iterator[Any]:
    import airflow_client.client as airflow_client
    from airflow_client.client.api.dag_run_api import DAGRunApi

    runs_live.sim.reset()
    configuration = airflow_client.Configuration(
        host=runs_live.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api_client:
        yield DAGRunApi(api_client)


def at(hour: int, minute: int = 0, day: int = 1, month: int = 4) -> datetime:
    return datetime(2023, month, day, hour, minute, tzinfo=UTC)


class TestOfficialClient:
    def test_get_dag_runs(self, run_api: Any, runs_live: LiveServer) -> None:
        runs_live.sim.advance(3600)
        page = run_api.get_dag_runs("~", state=["failed", "running"], order_by="-id", limit=5)
        assert page.total_entries == 2
        assert [run.dag_run_id for run in page.dag_runs] == [ETL_2, FLAKY_2]
        failed = page.dag_runs[1]
        assert failed.state.value == "failed"
        assert failed.logical_date == at(23, 15, day=31, month=3)
        assert failed.conf == {}

    def test_get_dag_runs_batch(self, run_api: Any, runs_live: LiveServer) -> None:
        from airflow_client.client.model.list_dag_runs_form import ListDagRunsForm

        runs_live.sim.advance(3600)
        form = ListDagRunsForm(
            dag_ids=["orders_dataset_consumer", "etl_orders"],
            states=["success"],
            order_by="-execution_date",
            page_limit=1,
        )
        page = run_api.get_dag_runs_batch(form)
        assert page.total_entries == 3
        assert [run.dag_run_id for run in page.dag_runs] == [CONSUMED_2]

    def test_post_and_get_dag_run(self, run_api: Any) -> None:
        from airflow_client.client.model.dag_run import DAGRun

        body = DAGRun(
            dag_run_id="from-client",
            logical_date=at(12, day=2, month=1),
            conf={"region": "eu", "full": True},
            note="triggered by the client",
        )
        created = run_api.post_dag_run("manual_backfill_tool", body)
        assert (created.dag_run_id, created.state.value) == ("from-client", "queued")
        assert (created.run_type, created.external_trigger) == ("manual", True)
        assert created.data_interval_start == created.data_interval_end == at(12, day=2, month=1)
        fetched = run_api.get_dag_run("manual_backfill_tool", "from-client")
        assert fetched.note == "triggered by the client"
        assert fetched.conf == {"region": "eu", "full": True}

    def test_post_errors(self, run_api: Any) -> None:
        import json

        from airflow_client.client.exceptions import ApiException, NotFoundException
        from airflow_client.client.model.dag_run import DAGRun

        with pytest.raises(NotFoundException) as missing:
            run_api.post_dag_run("nope", DAGRun())
        assert json.loads(missing.value.body) == problem(
            404, "DAG not found", "DAG with dag_id: 'nope' not found", "NotFound"
        )
        with pytest.raises(ApiException) as duplicate:
            run_api.post_dag_run("etl_orders", DAGRun(logical_date=at(23, day=31, month=3)))
        assert duplicate.value.status == 409

    def test_update_dag_run_state(self, run_api: Any) -> None:
        from airflow_client.client.model.update_dag_run_state import UpdateDagRunState

        run = run_api.update_dag_run_state("etl_orders", ETL, UpdateDagRunState(state="success"))
        assert (run.state.value, run.end_date) == ("success", at(0))

    def test_clear_dag_run(self, run_api: Any, runs_live: LiveServer) -> None:
        from airflow_client.client.model.clear_dag_run import ClearDagRun

        preview = run_api.clear_dag_run("etl_orders", ETL, ClearDagRun())
        # The client reads the reference list as an extra property of a DAGRun.
        assert [ti["task_id"] for ti in preview["task_instances"]] == [
            "extract_orders", "extract_customers", "transform", "load_warehouse", "notify",
        ]  # fmt: skip
        runs_live.sim.advance(3600)
        cleared = run_api.clear_dag_run("etl_orders", ETL, ClearDagRun(dry_run=False))
        assert (cleared.state.value, cleared.start_date, cleared.end_date) == ("queued", None, None)

    def test_set_note_and_delete(self, run_api: Any) -> None:
        from airflow_client.client.exceptions import NotFoundException
        from airflow_client.client.model.set_dag_run_note import SetDagRunNote

        run = run_api.set_dag_run_note("etl_orders", ETL, SetDagRunNote(note="checked"))
        assert run.note == "checked"
        run_api.delete_dag_run("etl_orders", ETL)
        with pytest.raises(NotFoundException):
            run_api.get_dag_run("etl_orders", ETL)

    def test_get_upstream_dataset_events(self, run_api: Any, runs_live: LiveServer) -> None:
        runs_live.sim.advance(3600)
        page = run_api.get_upstream_dataset_events("orders_dataset_consumer", CONSUMED_2)
        assert page.total_entries == 1
        [event] = page.dataset_events
        assert (event.dataset_uri, event.source_run_id) == (ORDERS, PRODUCER_2)
        [run] = event.created_dagruns
        # Airflow names it `dag_run_id` (the spec says `run_id`): an extra property.
        assert run.to_dict()["dag_run_id"] == CONSUMED_2
        assert run.state.value == "success"
