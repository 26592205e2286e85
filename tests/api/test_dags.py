"""DAGs: list, bulk pause, read, pause, delete and details, over the built-in
DAGs at 2023-04-01T00:00:00+00:00 (the frozen start instant)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.state.entities import DagImportError, DagWarning, Role
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, NEGATIVE_OFFSET, TEST_SETTINGS, problem

URL = "/api/v1/dags"
START = "2023-04-01T00:00:00+00:00"
ALL = [
    "etl_orders",
    "fan_out_fan_in",
    "flaky_api_sync",
    "legacy_cleanup",
    "manual_backfill_tool",
    "orders_dataset_consumer",
    "orders_dataset_producer",
    "refresh_reference_data",
    "wait_for_partition",
]


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


def cron(value: str) -> dict[str, str]:
    return {"__type": "CronExpression", "value": value}


# dag_id -> (description, token signature, schedule_interval, timetable description,
#            tags, owner, next_dagrun, next interval end). etl_orders is at its
#            max_active_runs: next_dagrun stays on its running run, and
#            next_dagrun_create_after is null.
BUILT_IN: dict[str, tuple[Any, ...]] = {
    "etl_orders": (
        "Hourly extract, transform and load of the orders database into the warehouse.",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL2V0bF9vcmRlcnMucHki.kXQTu5R9UqzIxF9LTj92EtC5rcs",
        cron("@hourly"), "Every hour", ["etl", "orders"], "data-eng",
        "2023-03-31T23:00:00+00:00", "2023-04-01T00:00:00+00:00",
    ),
    "fan_out_fan_in": (
        "Splits the day's files, processes each one in a mapped task, then merges.",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL2Zhbl9vdXRfZmFuX2luLnB5Ig.3V7FVI3yuDxhpcZRjXekz3lhog8",
        cron("0 */2 * * *"), "Every 2 hours", ["example", "mapping"], "platform",
        "2023-04-01T00:00:00+00:00", "2023-04-01T02:00:00+00:00",
    ),
    "orders_dataset_producer": (
        "Publishes the cleaned orders table as a dataset.",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL29yZGVyc19kYXRhc2V0X3Byb2R1Y2VyLnB5Ig.XwWxdVpFILKgkDqF5stM4btK_Ek",
        cron("30 * * * *"), "At 30 minutes past the hour", ["datasets"], "data-eng",
        "2023-03-31T23:30:00+00:00", "2023-04-01T00:30:00+00:00",
    ),
    "orders_dataset_consumer": (
        "Refreshes the revenue dashboard whenever the orders dataset changes.",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL29yZGVyc19kYXRhc2V0X2NvbnN1bWVyLnB5Ig.rvcQ2neema1iyDH8oMj0P7eQKsA",
        cron("Dataset"), "Triggered by datasets", ["datasets", "reporting"], "analytics",
        None, None,
    ),
    "wait_for_partition": (
        "Waits for the daily partition to land, then compacts it.",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL3dhaXRfZm9yX3BhcnRpdGlvbi5weSI.xEy9AEvK_H8vqKEidz5y7tX8MUc",
        cron("@daily"), "At 00:00", ["sensors"], "platform",
        "2023-04-01T00:00:00+00:00", "2023-04-02T00:00:00+00:00",
    ),
    "flaky_api_sync": (
        "Pulls records from a rate-limited partner API; its first try usually fails.",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL2ZsYWt5X2FwaV9zeW5jLnB5Ig.aOQFZheuqorFNMClravoRLLVuaA",
        cron("15 * * * *"), "At 15 minutes past the hour", ["api", "flaky"], "integrations",
        "2023-03-31T23:15:00+00:00", "2023-04-01T00:15:00+00:00",
    ),
    "manual_backfill_tool": (
        "Reprocesses a date range on demand (triggered by hand with a conf).",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL21hbnVhbF9iYWNrZmlsbF90b29sLnB5Ig.MjCYMRCWzeLhIs0s3fqdVLhRGh0",
        None, "Never, external triggers only", ["maintenance"], "data-eng", None, None,
    ),
    "refresh_reference_data": (
        "Reloads the currency and country reference tables when asked (manual only).",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL3JlZnJlc2hfcmVmZXJlbmNlX2RhdGEucHki.nH3fELSslv7n2DE3bxiGC5y6_eI",
        None, "Never, external triggers only", ["maintenance", "reference"], "data-eng",
        None, None,
    ),
    "legacy_cleanup": (
        "Deletes expired temporary tables. Paused while the new retention policy is reviewed.",
        "Ii9vcHQvYWlyZmxvdy9kYWdzL2xlZ2FjeV9jbGVhbnVwLnB5Ig.k1RhJZRxkHtTXQ2FEHvC7qZx1Bo",
        cron("@weekly"), "At 00:00, only on Sunday", ["maintenance"], "platform",
        "2023-03-19T00:00:00+00:00", "2023-03-26T00:00:00+00:00",
    ),
}  # fmt: skip


def dag_body(dag_id: str, **changes: Any) -> dict[str, Any]:
    """A built-in DAG as GET /dags/{dag_id} answers it at the start instant."""
    description, token, schedule, timetable, tags, owner, nxt, nxt_end = BUILT_IN[dag_id]
    body = {
        "dag_id": dag_id,
        "root_dag_id": None,
        "is_paused": dag_id == "legacy_cleanup",
        "is_active": True,
        "is_subdag": False,
        "last_parsed_time": START,
        "last_pickled": None,
        "last_expired": None,
        "scheduler_lock": None,
        "pickle_id": None,
        "default_view": "grid",
        "fileloc": f"/opt/airflow/dags/{dag_id}.py",
        "file_token": token,
        "owners": [owner],
        "description": description,
        "schedule_interval": schedule,
        "timetable_description": timetable,
        "tags": [{"name": tag} for tag in tags],
        "max_active_tasks": 16,
        "max_active_runs": 1 if dag_id == "etl_orders" else 16,
        "has_task_concurrency_limits": False,
        "has_import_errors": False,
        "next_dagrun": nxt,
        "next_dagrun_data_interval_start": nxt,
        "next_dagrun_data_interval_end": nxt_end,
        "next_dagrun_create_after": None if dag_id == "etl_orders" else nxt_end,
    }
    body.update(changes)
    return body


def collection(dag_ids: list[str], total: int | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "dags": [dag_body(dag_id, **changes) for dag_id in dag_ids],
        "total_entries": len(dag_ids) if total is None else total,
    }


def grant(sim: Simulator, role: str, *permissions: tuple[str, str]) -> None:
    sim.store.roles.add(Role(name=role, permissions=list(permissions)))


@pytest.fixture
def etl_reader(sim: Simulator, make_user: Callable[..., dict[str, str]]) -> dict[str, str]:
    """A user who can read etl_orders and edit wait_for_partition, nothing else."""
    grant(
        sim,
        "Partial",
        ("can_read", "DAG:etl_orders"),
        ("can_edit", "DAG:wait_for_partition"),
        ("can_delete", "DAG:wait_for_partition"),
    )
    return make_user("partial", "Partial")


class TestGetDags:
    async def test_every_dag_by_dag_id(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == collection(ALL)

    async def test_body_is_airflows_format(self, client: TestClient) -> None:
        text = await (await client.get(URL, params={"limit": 1}, headers=ADMIN)).text()
        assert text.startswith('{\n  "dags": [\n    {\n      "dag_id": "etl_orders",')
        assert text.endswith('"total_entries": 9\n}\n')

    async def test_order_by_is_ignored(self, client: TestClient) -> None:
        response = await client.get(URL, params={"order_by": "-dag_id"}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == collection(ALL)

    @pytest.mark.parametrize(
        "params",
        [
            [("tags", "maintenance"), ("tags", "reporting")],
            # connexion joins repeated values with "," and splits every array on ","
            [("tags", "maintenance,reporting")],
            [("tags", "maintenance,nope"), ("tags", "reporting")],
        ],
    )
    async def test_tags_are_ored(self, client: TestClient, params: list[tuple[str, str]]) -> None:
        response = await client.get(URL, params=params, headers=ADMIN)
        assert await response.json() == collection(
            ["legacy_cleanup", "manual_backfill_tool", "orders_dataset_consumer",
             "refresh_reference_data"]
        )  # fmt: skip

    async def test_tags_match_exactly(self, client: TestClient) -> None:
        response = await client.get(URL, params={"tags": "ETL"}, headers=ADMIN)
        assert await response.json() == collection([])

    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            ("ORDERS", ["etl_orders", "orders_dataset_consumer", "orders_dataset_producer"]),
            ("dataset_c", ["orders_dataset_consumer"]),
            (
                "f%n",
                [
                    "fan_out_fan_in",
                    "flaky_api_sync",
                    "refresh_reference_data",
                    "wait_for_partition",
                ],
            ),
            ("_a_", [dag_id for dag_id in ALL if dag_id != "etl_orders"]),
            ("\\_a\\_", []),
            ("~", []),
        ],
    )
    async def test_dag_id_pattern_is_an_ilike_substring(
        self, client: TestClient, pattern: str, expected: list[str]
    ) -> None:
        response = await client.get(URL, params={"dag_id_pattern": pattern}, headers=ADMIN)
        assert await response.json() == collection(expected)

    async def test_empty_pattern_matches_all(self, client: TestClient) -> None:
        response = await client.get(URL, params={"dag_id_pattern": ""}, headers=ADMIN)
        assert (await response.json())["total_entries"] == len(ALL)

    async def test_only_active(self, client: TestClient, sim: Simulator) -> None:
        sim.store.dags.require("fan_out_fan_in").is_active = False
        response = await client.get(URL, params={"dag_id_pattern": "fan"}, headers=ADMIN)
        assert await response.json() == collection([])
        params = {"dag_id_pattern": "fan", "only_active": "false"}
        response = await client.get(URL, params=params, headers=ADMIN)
        assert await response.json() == collection(["fan_out_fan_in"], is_active=False)

    async def test_limit_and_offset(self, client: TestClient) -> None:
        params = {"limit": 2, "offset": 3}
        response = await client.get(URL, params=params, headers=ADMIN)
        assert await response.json() == collection(ALL[3:5], total=len(ALL))

    async def test_limit_zero_is_the_fallback(self, client: TestClient) -> None:
        response = await client.get(URL, params={"limit": 0}, headers=ADMIN)
        assert await response.json() == collection(ALL)

    async def test_offset_past_the_end(self, client: TestClient) -> None:
        response = await client.get(URL, params={"offset": len(ALL)}, headers=ADMIN)
        assert await response.json() == collection([], total=len(ALL))

    async def test_negative_limit(self, client: TestClient) -> None:
        response = await client.get(URL, params={"limit": -1}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    async def test_negative_offset(self, client: TestClient) -> None:
        response = await client.get(URL, params={"offset": -1}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(400, "Bad Request", NEGATIVE_OFFSET, "BadRequest")

    async def test_no_paused_filter_in_2_5_3(self, client: TestClient) -> None:
        response = await client.get(URL, params={"paused": "true"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, None, "Extra query parameter(s) paused not in spec", "BadRequest"
        )

    async def test_only_readable_or_editable_dags(
        self, client: TestClient, etl_reader: dict[str, str]
    ) -> None:
        response = await client.get(URL, headers=etl_reader)
        assert response.status == 200
        assert await response.json() == collection(["etl_orders", "wait_for_partition"])

    async def test_viewer_reads_all(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("viewer", "Viewer"))
        assert await response.json() == collection(ALL)

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_public_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("nobody", "Public"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")


class TestPatchDags:
    async def test_pauses_the_matching_dags(self, client: TestClient, sim: Simulator) -> None:
        params = {"dag_id_pattern": "orders"}
        response = await client.patch(URL, params=params, json={"is_paused": True}, headers=ADMIN)
        assert response.status == 200
        names = ["etl_orders", "orders_dataset_consumer", "orders_dataset_producer"]
        assert await response.json() == collection(names, is_paused=True)
        paused = [dag.dag_id for dag in sim.store.dags if dag.is_paused]
        assert sorted(paused) == sorted([*names, "legacy_cleanup"])

    async def test_tilde_means_all(self, client: TestClient, sim: Simulator) -> None:
        params = {"dag_id_pattern": "~", "update_mask": "is_paused"}
        response = await client.patch(URL, params=params, json={"is_paused": False}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == collection(ALL, is_paused=False)
        assert not any(dag.is_paused for dag in sim.store.dags)

    async def test_only_the_page_is_updated(self, client: TestClient, sim: Simulator) -> None:
        params = {"dag_id_pattern": "~", "limit": 2, "offset": 1}
        response = await client.patch(URL, params=params, json={"is_paused": True}, headers=ADMIN)
        assert await response.json() == collection(ALL[1:3], total=len(ALL), is_paused=True)
        paused = sorted(dag.dag_id for dag in sim.store.dags if dag.is_paused)
        assert paused == ["fan_out_fan_in", "flaky_api_sync", "legacy_cleanup"]

    async def test_tags_filter(self, client: TestClient) -> None:
        params = {"dag_id_pattern": "~", "tags": "maintenance"}
        response = await client.patch(URL, params=params, json={"is_paused": True}, headers=ADMIN)
        assert await response.json() == collection(
            ["legacy_cleanup", "manual_backfill_tool", "refresh_reference_data"], is_paused=True
        )

    async def test_no_match_is_an_empty_page(self, client: TestClient) -> None:
        params = {"dag_id_pattern": "nothing"}
        response = await client.patch(URL, params=params, json={"is_paused": True}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == collection([])

    async def test_unpausing_resumes_scheduling(self, client: TestClient, sim: Simulator) -> None:
        params = {"dag_id_pattern": "legacy"}
        response = await client.patch(URL, params=params, json={"is_paused": False}, headers=ADMIN)
        assert await response.json() == collection(["legacy_cleanup"], is_paused=False)
        sim.advance(1)
        assert [run.run_id for run in sim.store.runs_of("legacy_cleanup")] == [
            "scheduled__2023-03-19T00:00:00+00:00"
        ]

    async def test_only_editable_dags(self, client: TestClient, etl_reader: dict[str, str]) -> None:
        params = {"dag_id_pattern": "~"}
        response = await client.patch(
            URL, params=params, json={"is_paused": True}, headers=etl_reader
        )
        assert response.status == 200
        assert await response.json() == collection(["wait_for_partition"], is_paused=True)

    async def test_pattern_is_required(self, client: TestClient) -> None:
        response = await client.patch(URL, json={"is_paused": True}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "Missing query parameter 'dag_id_pattern'", "BadRequest"
        )

    @pytest.mark.parametrize("mask", ["description", "is_paused,description", "is_paused "])
    async def test_mask_must_be_is_paused(
        self, client: TestClient, sim: Simulator, mask: str
    ) -> None:
        params = {"dag_id_pattern": "~", "update_mask": mask}
        response = await client.patch(URL, params=params, json={"is_paused": True}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400,
            "Bad Request",
            "Only `is_paused` field can be updated through the REST API",
            "BadRequest",
        )
        assert [d.dag_id for d in sim.store.dags if d.is_paused] == ["legacy_cleanup"]

    async def test_read_only_field(self, client: TestClient) -> None:
        params = {"dag_id_pattern": "~"}
        body = {"is_paused": True, "dag_id": "x"}
        response = await client.patch(URL, params=params, json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "Property is read-only - 'dag_id'", "BadRequest"
        )

    async def test_unknown_field(self, client: TestClient) -> None:
        params = {"dag_id_pattern": "~"}
        body = {"is_paused": True, "paused": True}
        response = await client.patch(URL, params=params, json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "{'paused': ['Unknown field.']}", "BadRequest"
        )

    async def test_body_without_is_paused(self, client: TestClient) -> None:
        # Airflow 2.5.3 crashes here (KeyError); the simulator answers 400.
        response = await client.patch(URL, params={"dag_id_pattern": "~"}, json={}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "{'is_paused': ['Missing data for required field.']}", "BadRequest"
        )

    async def test_negative_limit_comes_first(self, client: TestClient) -> None:
        params = {"dag_id_pattern": "~", "limit": -1, "update_mask": "x"}
        response = await client.patch(URL, params=params, json={}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("viewer", "Viewer")
        params = {"dag_id_pattern": "~"}
        response = await client.patch(URL, params=params, json={"is_paused": True}, headers=headers)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        params = {"dag_id_pattern": "~"}
        response = await client.patch(URL, params=params, json={"is_paused": True})
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


class TestGetDag:
    @pytest.mark.parametrize("dag_id", ALL)
    async def test_each_built_in_dag(self, client: TestClient, dag_id: str) -> None:
        response = await client.get(f"{URL}/{dag_id}", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == dag_body(dag_id)

    async def test_timedelta_schedule_and_several_owners(
        self, client: TestClient, sim: Simulator
    ) -> None:
        (dag,) = sim.add_dags(
            [
                {
                    "dag_id": "every_90_minutes",
                    "schedule": {"timedelta": 5400},
                    "start_date": "2023-03-31T00:00:00+00:00",
                    "catchup": False,
                    "tasks": [
                        {"task_id": "a", "owner": "alice"},
                        {"task_id": "b", "owner": "bob", "upstream": ["a"]},
                    ],
                }
            ]
        )
        response = await client.get(f"{URL}/every_90_minutes", headers=ADMIN)
        body = await response.json()
        assert body["schedule_interval"] == {
            "__type": "TimeDelta",
            "days": 0,
            "seconds": 5400,
            "microseconds": 0,
        }
        assert body["timetable_description"] == ""
        # DAG.owner is ", ".join(owners), split on "," again.
        assert body["owners"] == ["alice", " bob"]
        assert body["file_token"] == dag.file_token

    async def test_once_schedule(self, client: TestClient, sim: Simulator) -> None:
        sim.add_dags([{"dag_id": "once", "schedule": "@once", "tasks": [{"task_id": "t"}]}])
        body = await (await client.get(f"{URL}/once", headers=ADMIN)).json()
        assert body["schedule_interval"] == cron("@once")
        assert body["timetable_description"] == "Once, as soon as possible"

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "DAG not found", "The DAG with dag_id: nope was not found", "NotFound"
        )

    async def test_tilde_is_just_an_id(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/~", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "DAG not found", "The DAG with dag_id: ~ was not found", "NotFound"
        )

    async def test_per_dag_permission(self, client: TestClient, etl_reader: dict[str, str]) -> None:
        response = await client.get(f"{URL}/etl_orders", headers=etl_reader)
        assert response.status == 200
        response = await client.get(f"{URL}/fan_out_fan_in", headers=etl_reader)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders")
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


class TestPatchDag:
    async def test_pause(self, client: TestClient, sim: Simulator) -> None:
        response = await client.patch(f"{URL}/etl_orders", json={"is_paused": True}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == dag_body("etl_orders", is_paused=True)
        assert sim.store.dags.require("etl_orders").is_paused

    async def test_paused_dag_creates_no_runs(self, client: TestClient, sim: Simulator) -> None:
        await client.patch(f"{URL}/etl_orders", json={"is_paused": True}, headers=ADMIN)
        sim.advance(3 * 3600)
        # No new run, and the running one is frozen while the DAG is paused.
        assert [(r.run_id, r.state) for r in sim.store.runs_of("etl_orders")] == [
            ("scheduled__2023-03-31T23:00:00+00:00", "running")
        ]
        params = {"update_mask": "is_paused"}
        response = await client.patch(
            f"{URL}/etl_orders", params=params, json={"is_paused": False}, headers=ADMIN
        )
        assert (await response.json())["is_paused"] is False
        sim.advance(600)
        assert [(r.run_id, r.state) for r in sim.store.runs_of("etl_orders")] == [
            ("scheduled__2023-03-31T23:00:00+00:00", "success"),
            ("scheduled__2023-04-01T02:00:00+00:00", "success"),
        ]

    async def test_unpause(self, client: TestClient) -> None:
        response = await client.patch(
            f"{URL}/legacy_cleanup", json={"is_paused": False}, headers=ADMIN
        )
        assert response.status == 200
        assert await response.json() == dag_body("legacy_cleanup", is_paused=False)

    async def test_mask_is_checked_before_the_dag(self, client: TestClient) -> None:
        response = await client.patch(
            f"{URL}/nope", params={"update_mask": "tags"}, json={"is_paused": True}, headers=ADMIN
        )
        assert response.status == 400
        assert await response.json() == problem(
            400,
            "Bad Request",
            "Only `is_paused` field can be updated through the REST API",
            "BadRequest",
        )

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.patch(f"{URL}/nope", json={"is_paused": True}, headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "Dag with id: 'nope' not found", None, "NotFound"
        )

    async def test_body_without_is_paused_on_a_missing_dag(self, client: TestClient) -> None:
        response = await client.patch(f"{URL}/nope", json={}, headers=ADMIN)
        assert response.status == 404

    async def test_body_without_is_paused(self, client: TestClient, sim: Simulator) -> None:
        # Airflow 2.5.3 crashes here (KeyError); the simulator answers 400.
        response = await client.patch(f"{URL}/etl_orders", json={}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "{'is_paused': ['Missing data for required field.']}", "BadRequest"
        )

    async def test_null_is_paused(self, client: TestClient) -> None:
        response = await client.patch(f"{URL}/etl_orders", json={"is_paused": None}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "{'is_paused': ['Field may not be null.']}", "BadRequest"
        )

    async def test_wrong_type(self, client: TestClient) -> None:
        response = await client.patch(f"{URL}/etl_orders", json={"is_paused": "yes"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "'yes' is not of type 'boolean' - 'is_paused'", "BadRequest"
        )

    async def test_read_only_field(self, client: TestClient) -> None:
        body = {"is_paused": True, "tags": [{"name": "x"}]}
        response = await client.patch(f"{URL}/etl_orders", json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "Property is read-only - 'tags'", "BadRequest"
        )

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        headers = make_user("viewer", "Viewer")
        response = await client.patch(
            f"{URL}/etl_orders", json={"is_paused": True}, headers=headers
        )
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.patch(f"{URL}/etl_orders", json={"is_paused": True})
        assert response.status == 401


def running_ti_dag(sim: Simulator) -> str:
    """Advance until one of etl_orders' task instances runs; return its DAG id."""
    sim.advance(5)
    states = {ti.state for ti in sim.store.tis_of(sim.store.runs_of("etl_orders")[0])}
    assert "running" in states
    return "etl_orders"


class TestDeleteDag:
    async def test_deletes_the_dag_and_its_rows(self, client: TestClient, sim: Simulator) -> None:
        fileloc = "/opt/airflow/dags/manual_backfill_tool.py"
        when = datetime(2023, 3, 31, tzinfo=UTC)
        sim.store.import_errors.add(
            DagImportError(filename=fileloc, stack_trace="x", timestamp=when)
        )
        sim.store.dag_warnings.add(
            DagWarning(dag_id="manual_backfill_tool", warning_type="w", message="m", timestamp=when)
        )
        sim.store.dag_warnings.add(
            DagWarning(dag_id="etl_orders", warning_type="w", message="m", timestamp=when)
        )
        await client.post(f"{URL}/manual_backfill_tool/dagRuns", json={}, headers=ADMIN)
        logs = len(sim.store.event_logs)
        response = await client.delete(f"{URL}/manual_backfill_tool", headers=ADMIN)
        assert response.status == 204
        assert await response.read() == b""
        assert "manual_backfill_tool" not in sim.store.dags
        assert sim.store.runs_of("manual_backfill_tool") == []
        assert not [t for t in sim.store.task_instances if t.dag_id == "manual_backfill_tool"]
        assert len(sim.store.import_errors) == 0
        assert [w.dag_id for w in sim.store.dag_warnings] == ["etl_orders"]
        assert len(sim.store.event_logs) == logs  # audit rows are kept
        response = await client.get(f"{URL}/manual_backfill_tool", headers=ADMIN)
        assert response.status == 404

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.delete(f"{URL}/nope", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "Dag with id: 'nope' not found", None, "NotFound"
        )

    async def test_conflict_while_a_task_runs(self, client: TestClient, sim: Simulator) -> None:
        dag_id = running_ti_dag(sim)
        response = await client.delete(f"{URL}/{dag_id}", headers=ADMIN)
        assert response.status == 409
        assert await response.json() == problem(
            409,
            "Conflict",
            "Task instances of dag with id: 'etl_orders' are still running",
            "AlreadyExists",
        )
        assert dag_id in sim.store.dags

    async def test_user_role_may_delete(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.delete(f"{URL}/legacy_cleanup", headers=make_user("u", "User"))
        assert response.status == 204

    async def test_per_dag_delete_permission(
        self, client: TestClient, etl_reader: dict[str, str]
    ) -> None:
        response = await client.delete(f"{URL}/etl_orders", headers=etl_reader)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")
        response = await client.delete(f"{URL}/wait_for_partition", headers=etl_reader)
        assert response.status == 204

    async def test_viewer_is_forbidden(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.delete(f"{URL}/etl_orders", headers=make_user("v", "Viewer"))
        assert response.status == 403

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.delete(f"{URL}/etl_orders")
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


def detail_body(dag_id: str, **changes: Any) -> dict[str, Any]:
    """GET /details: the DAG object's fields, without the DagModel-only ones."""
    row = dag_body(dag_id)
    body = {
        key: row[key]
        for key in (
            "dag_id", "is_paused", "is_active", "is_subdag", "pickle_id", "default_view",
            "fileloc", "file_token", "owners", "description", "schedule_interval", "tags",
            "max_active_tasks", "max_active_runs",
        )
    }  # fmt: skip
    body.update(
        {
            "timezone": "Timezone('UTC')",
            "catchup": False,
            "orientation": "LR",
            "concurrency": 16,
            "start_date": "2023-03-01T00:00:00+00:00",
            "dag_run_timeout": None,
            "doc_md": None,
            "params": {},
            "is_paused_upon_creation": None,
            "end_date": None,
            "render_template_as_native_obj": False,
            "last_parsed": START,
        }
    )
    body.update(changes)
    return body


class TestGetDagDetails:
    async def test_etl_orders(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders/details", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == detail_body(
            "etl_orders",
            doc_md="### ETL orders\nMoves new orders from Postgres into the warehouse every hour.",
            params={
                "full_refresh": {
                    "__class": "airflow.models.param.Param",
                    "value": False,
                    "description": None,
                    "schema": {},
                }
            },
        )

    async def test_manual_dag_with_string_params(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/manual_backfill_tool/details", headers=ADMIN)
        param = {"__class": "airflow.models.param.Param", "description": None, "schema": {}}
        assert await response.json() == detail_body(
            "manual_backfill_tool",
            catchup=True,
            start_date="2023-01-01T00:00:00+00:00",
            params={
                "start": {**param, "value": "2023-01-01"},
                "end": {**param, "value": "2023-01-31"},
            },
        )

    async def test_dagrun_timeout_and_options(self, client: TestClient, sim: Simulator) -> None:
        sim.add_dags(
            [
                {
                    "dag_id": "tuned",
                    "schedule": None,
                    "start_date": "2023-01-01T00:00:00+00:00",
                    "end_date": "2023-12-31T00:00:00+00:00",
                    "dag_run_timeout": 90061.5,
                    "is_paused_upon_creation": True,
                    "orientation": "TB",
                    "default_view": "graph",
                    "max_active_tasks": 4,
                    "render_template_as_native_obj": True,
                    "template_search_path": ["/opt/templates"],
                    "tasks": [{"task_id": "t"}],
                }
            ]
        )
        body = await (await client.get(f"{URL}/tuned/details", headers=ADMIN)).json()
        assert body["dag_run_timeout"] == {
            "__type": "TimeDelta",
            "days": 1,
            "seconds": 3661,
            "microseconds": 500000,
        }
        assert body["end_date"] == "2023-12-31T00:00:00+00:00"
        assert body["is_paused_upon_creation"] is True
        assert (body["orientation"], body["default_view"]) == ("TB", "graph")
        assert (body["concurrency"], body["max_active_tasks"]) == (4, 4)
        assert body["render_template_as_native_obj"] is True
        # DAGDetailSchema's template_search_path names no DAG attribute: never sent.
        assert "template_search_path" not in body
        assert body["owners"] == ["airflow"]

    async def test_not_found(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/nope/details", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404, "DAG not found", "The DAG with dag_id: nope was not found", "NotFound"
        )

    async def test_per_dag_permission(self, client: TestClient, etl_reader: dict[str, str]) -> None:
        response = await client.get(f"{URL}/legacy_cleanup/details", headers=etl_reader)
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_unauthenticated(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/etl_orders/details")
        assert response.status == 401


# -- the official client ----------------------------------------------------


@pytest.fixture
def dags_live(live_dags: LiveServer) -> LiveServer:
    return live_dags


@pytest.fixture
def dag_api(dags_live: LiveServer) -> Iterator[Any]:
    import airflow_client.client as airflow_client
    from airflow_client.client.api.dag_api import DAGApi

    dags_live.sim.reset()
    configuration = airflow_client.Configuration(
        host=dags_live.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api:
        yield DAGApi(api)


class TestOfficialClient:
    def test_get_dags(self, dag_api: Any) -> None:
        # manual_backfill_tool's schedule_interval is null, which the client refuses.
        raw = dag_api.get_dags(_check_return_type=False)
        assert raw["total_entries"] == len(ALL)
        assert [dag["dag_id"] for dag in raw["dags"]] == ALL
        typed = dag_api.get_dags(tags=["etl"])
        assert typed.total_entries == 1
        assert typed.dags[0].schedule_interval.value == "@hourly"

    def test_get_dag(self, dag_api: Any) -> None:
        dag = dag_api.get_dag("etl_orders")
        assert dag.dag_id == "etl_orders"
        assert dag.owners == ["data-eng"]
        assert dag.file_token == dag_body("etl_orders")["file_token"]

    def test_get_dag_details(self, dag_api: Any) -> None:
        # dag_run_timeout is null, which the client refuses (no nullable beside its $ref).
        raw = dag_api.get_dag_details("etl_orders", _check_return_type=False)
        assert raw["timezone"] == "Timezone('UTC')"
        assert raw["catchup"] is False
        assert raw["dag_run_timeout"] is None
        assert raw["params"]["full_refresh"]["value"] is False

    def test_patch_dag_and_dags(self, dag_api: Any, dags_live: LiveServer) -> None:
        from airflow_client.client.model.dag import DAG

        dag = dag_api.patch_dag("etl_orders", DAG(is_paused=True), update_mask=["is_paused"])
        assert dag.is_paused is True
        page = dag_api.patch_dags("fan", DAG(is_paused=True))
        assert [d.dag_id for d in page.dags] == ["fan_out_fan_in"]
        assert page.dags[0].is_paused is True
        assert dags_live.sim.store.dags.require("fan_out_fan_in").is_paused

    def test_delete_dag(self, dag_api: Any, dags_live: LiveServer) -> None:
        from airflow_client.client.exceptions import ApiException, NotFoundException

        dag_api.delete_dag("legacy_cleanup")
        assert "legacy_cleanup" not in dags_live.sim.store.dags
        with pytest.raises(NotFoundException):
            dag_api.delete_dag("legacy_cleanup")
        dags_live.sim.advance(5)
        with pytest.raises(ApiException) as conflict:
            dag_api.delete_dag("etl_orders")
        assert conflict.value.status == 409
