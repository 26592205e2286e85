"""The audit rows Airflow 2.10.5 writes for API calls (server/audit.py):
`api.<event>`, the user as owner, the run as run_id, and `extra` as its
json.dumps writes it (key order kept), secrets masked."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.state.entities import EventLog
from tests.api.test_datasets import LAKE_DAGS
from tests.conftest import ADMIN, NO_DAGS_2_10, TEST_SETTINGS_2_10

T0 = "2023-04-01T00:00:00+00:00"
SALES = "s3://lake/sales.csv"
RUN = "scheduled__2023-03-31T22:00:00+00:00"  # fan_out_fan_in's running run (ci world)


def row(event: str, extra: str, **fields: Any) -> dict[str, Any]:
    """A 2.10.5 EventLog body of an API row written at T0."""
    return {
        "dag_id": None,
        "event": event,
        "event_log_id": fields.pop("event_log_id", None),
        "execution_date": None,
        "extra": extra,
        "map_index": None,
        "owner": "admin",
        "run_id": None,
        "task_id": None,
        "try_number": None,
        "when": T0,
    } | fields


async def call(client: TestClient, method: str, url: str, status: int = 200, **kwargs: Any) -> None:
    headers = {**ADMIN, **kwargs.pop("headers", {})}
    response = await client.request(method, url, headers=headers, **kwargs)
    assert response.status == status, await response.text()


async def api_rows(client: TestClient, sim: Simulator, since: int) -> list[dict[str, Any]]:
    """The API's rows written from id `since` on, as GET /eventLogs/{id} answers them."""
    rows = []
    for event_log_id in range(since, sim.store.event_logs.next_id):
        response = await client.get(f"/api/v1/eventLogs/{event_log_id}", headers=ADMIN)
        if response.status == 200:
            body = await response.json()
            if body["event"].startswith(("api.", "ui.")):
                rows.append(body)
    for body in rows:
        body["event_log_id"] = None
    return rows


class TestResources:
    @pytest.fixture
    def settings(self) -> Settings:
        return NO_DAGS_2_10

    async def test_variables(self, client: TestClient, sim: Simulator) -> None:
        since = sim.store.event_logs.next_id
        await call(
            client,
            "POST",
            "/api/v1/variables",
            json={"key": "api_key", "value": "s3cr3t", "description": "the key"},
        )
        await call(client, "POST", "/api/v1/variables", json={"value": "eu", "key": "region"})
        await call(
            client,
            "PATCH",
            "/api/v1/variables/api_key?update_mask=description",
            json={"key": "api_key", "value": "n3w", "description": "new"},
        )
        await call(client, "DELETE", "/api/v1/variables/region", 204)
        assert await api_rows(client, sim, since) == [
            row(
                "api.variable.create",
                '{"key": "api_key", "value": "***", "description": "the key"}',
            ),
            # The value is masked only when it follows the key.
            row("api.variable.create", '{"value": "eu", "key": "region"}'),
            # The body alone: neither the path nor the query.
            row("api.variable.edit", '{"key": "api_key", "value": "***", "description": "new"}'),
            row("api.variable.delete", '{"variable_key": "region"}'),
        ]

    async def test_connections(self, client: TestClient, sim: Simulator) -> None:
        since = sim.store.event_logs.next_id
        extra = json.dumps({"token": "t0k", "region": "eu", "nested": {"password": "x"}})
        await call(
            client,
            "POST",
            "/api/v1/connections",
            json={
                "connection_id": "db",
                "conn_type": "postgres",
                "login": "me",
                "password": "pw",
                "extra": extra,
            },
        )
        await call(
            client,
            "POST",
            "/api/v1/connections",
            json={"connection_id": "raw", "conn_type": "http", "extra": "k=v"},
        )
        await call(
            client,
            "PATCH",
            "/api/v1/connections/db?update_mask=login",
            json={"connection_id": "db", "conn_type": "postgres", "login": "you"},
        )
        await call(client, "DELETE", "/api/v1/connections/raw", 204)
        assert await api_rows(client, sim, since) == [
            row(
                "api.connection.create",
                '{"connection_id": "db", "conn_type": "postgres", "login": "me", '
                '"password": "***", "extra": {"token": "***", "region": "eu", '
                '"nested": {"password": "***"}}}',
            ),
            row(
                "api.connection.create",
                '{"connection_id": "raw", "conn_type": "http", '
                '"extra": "Encountered non-JSON in `extra` field"}',
            ),
            row(
                "api.connection.edit",
                '{"connection_id": "db", "conn_type": "postgres", "login": "you"}',
            ),
            row("api.connection.delete", '{"connection_id": "raw"}'),
        ]

    async def test_pools(self, client: TestClient, sim: Simulator) -> None:
        since = sim.store.event_logs.next_id
        await call(client, "POST", "/api/v1/pools", json={"name": "tiny", "slots": 2})
        await call(
            client,
            "PATCH",
            "/api/v1/pools/tiny?update_mask=slots",
            json={"name": "tiny", "slots": 5},
        )
        await call(client, "DELETE", "/api/v1/pools/tiny", 204)
        assert await api_rows(client, sim, since) == [
            row("api.post_pool", '{"name": "tiny", "slots": 2}'),
            # Query items, path parameters, then the body's fields.
            row(
                "api.patch_pool",
                '{"update_mask": "slots", "pool_name": "tiny", "name": "tiny", "slots": 5}',
            ),
            row("api.delete_pool", '{"pool_name": "tiny"}'),
        ]

    async def test_a_failed_request_writes_nothing(
        self, client: TestClient, sim: Simulator, make_user: Any
    ) -> None:
        since = sim.store.event_logs.next_id
        await call(client, "DELETE", "/api/v1/pools/nosuch", 404)
        await call(client, "POST", "/api/v1/variables", 400, json={"key": "k"})
        await call(
            client,
            "POST",
            "/api/v1/pools",
            401,
            json={"name": "p", "slots": 1},
            headers={"Authorization": "Basic bm86bm8="},
        )
        viewer = make_user("viewer", "Viewer")
        await call(client, "DELETE", "/api/v1/variables/x", 403, headers=viewer)
        assert await api_rows(client, sim, since) == []

    async def test_a_page_of_the_server_writes_ui_rows(
        self, client: TestClient, sim: Simulator
    ) -> None:
        since = sim.store.event_logs.next_id
        own = str(client.make_url("/")).rstrip("/")
        await call(
            client, "POST", "/api/v1/pools", json={"name": "a", "slots": 1}, headers={"Origin": own}
        )
        await call(
            client,
            "POST",
            "/api/v1/pools",
            json={"name": "b", "slots": 1},
            headers={"Origin": "http://elsewhere.example"},
        )
        assert [body["event"] for body in await api_rows(client, sim, since)] == [
            "ui.post_pool",
            "api.post_pool",
        ]

    async def test_a_body_not_sent_as_json_is_not_logged(
        self, client: TestClient, sim: Simulator
    ) -> None:
        since = sim.store.event_logs.next_id
        await call(
            client,
            "POST",
            "/api/v1/pools",
            data=b'{"name": "a", "slots": 1}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert await api_rows(client, sim, since) == [row("api.post_pool", "{}")]


class TestWithoutCredentials:
    @pytest.fixture
    def settings(self) -> Settings:
        return dataclasses.replace(NO_DAGS_2_10, auth="none")

    async def test_the_owner_is_anonymous(self, client: TestClient, sim: Simulator) -> None:
        since = sim.store.event_logs.next_id
        response = await client.post("/api/v1/pools", json={"name": "a", "slots": 1})
        assert response.status == 200, await response.text()
        assert await api_rows(client, sim, since) == [
            row("api.post_pool", '{"name": "a", "slots": 1}', owner="anonymous")
        ]


class TestDagsAndRuns:
    @pytest.fixture
    def settings(self) -> Settings:
        return TEST_SETTINGS_2_10

    async def test_dag_runs(self, client: TestClient, sim: Simulator) -> None:
        since = sim.store.event_logs.next_id
        runs = "/api/v1/dags/etl_orders/dagRuns"
        await call(
            client,
            "POST",
            runs,
            json={"dag_run_id": "manual_1", "conf": {"password": "pw", "n": 1}},
        )
        await call(client, "PATCH", f"{runs}/manual_1/setNote", json={"note": "checked"})
        await call(client, "PATCH", f"{runs}/manual_1", json={"state": "failed"})
        await call(client, "POST", f"{runs}/manual_1/clear", json={"dry_run": True})
        await call(client, "DELETE", f"{runs}/manual_1", 204)
        on_run = {"dag_id": "etl_orders", "run_id": "manual_1"}
        assert await api_rows(client, sim, since) == [
            # The run is the body's here: no run_id.
            row(
                "api.post_dag_run",
                '{"dag_run_id": "manual_1", "conf": {"password": "***", "n": 1}}',
                dag_id="etl_orders",
            ),
            row("api.set_dag_run_note", '{"note": "checked"}', **on_run),
            row("api.update_dag_run_state", '{"state": "failed"}', **on_run),
            row("api.clear_dag_run", '{"dry_run": true}', **on_run),
            row("api.delete_dag_run", "{}", **on_run),
        ]

    async def test_dags(self, client: TestClient, sim: Simulator) -> None:
        since = sim.store.event_logs.next_id
        await call(
            client,
            "PATCH",
            "/api/v1/dags/etl_orders?update_mask=is_paused",
            json={"is_paused": True},
        )
        await call(
            client,
            "PATCH",
            "/api/v1/dags?dag_id_pattern=legacy&tags=a&tags=b",
            json={"is_paused": False},
        )
        await call(client, "DELETE", "/api/v1/dags/legacy_cleanup", 204)
        assert await api_rows(client, sim, since) == [
            row(
                "api.patch_dag",
                '{"update_mask": "is_paused", "is_paused": true}',
                dag_id="etl_orders",
            ),
            # A repeated query name: its last value.
            row("api.patch_dags", '{"dag_id_pattern": "legacy", "tags": "b", "is_paused": false}'),
            row("api.delete_dag", "{}", dag_id="legacy_cleanup"),
        ]

    async def test_task_instances(self, client: TestClient, sim: Simulator) -> None:
        since = sim.store.event_logs.next_id
        tis = f"/api/v1/dags/fan_out_fan_in/dagRuns/{RUN}/taskInstances"
        change = {"dry_run": True, "new_state": "success"}
        await call(client, "PATCH", f"{tis}/process_file/1", json=change)
        await call(client, "PATCH", f"{tis}/process_file/2/setNote", json={"note": "n"})
        await call(
            client,
            "POST",
            "/api/v1/dags/fan_out_fan_in/clearTaskInstances",
            json={"dry_run": True, "task_ids": ["process_file"], "dag_run_id": RUN},
        )
        on_task = {"dag_id": "fan_out_fan_in", "run_id": RUN, "task_id": "process_file"}
        mapped = '{"map_index": 1, "dry_run": true, "new_state": "success"}'
        assert await api_rows(client, sim, since) == [
            # The mapped handler calls the unmapped one: a row each.
            row("api.patch_mapped_task_instance", mapped, **on_task),
            row("api.patch_task_instance", mapped, **on_task),
            row("api.set_task_instance_note", '{"map_index": 2, "note": "n"}', **on_task),
            row(
                "api.post_clear_task_instances",
                f'{{"dry_run": true, "task_ids": ["process_file"], "dag_run_id": "{RUN}"}}',
                dag_id="fan_out_fan_in",
            ),
        ]

    async def test_rows_keep_their_run_through_a_snapshot(
        self, client: TestClient, sim: Simulator
    ) -> None:
        await call(client, "DELETE", f"/api/v1/dags/fan_out_fan_in/dagRuns/{RUN}", 204)
        document = sim.snapshot()
        assert document["event_logs"]["audit"]["columns"][-1] == "run_id"
        copy = Simulator(TEST_SETTINGS_2_10)
        copy.restore(orjson.loads(orjson.dumps(document)))
        rows = [log for log in copy.store.event_logs if log.event == "api.delete_dag_run"]
        assert [(log.dag_id, log.run_id) for log in rows] == [("fan_out_fan_in", RUN)]


def test_a_snapshot_of_rows_without_runs_has_no_run_id_column() -> None:
    sim = Simulator(NO_DAGS_2_10)
    sim.store.event_logs.add(EventLog(when=sim.now(), event="api.post_pool", owner="admin"))
    document = orjson.loads(orjson.dumps(sim.snapshot()))
    assert "run_id" not in document["event_logs"]["audit"]["columns"]
    copy = Simulator(NO_DAGS_2_10)
    copy.restore(document)
    assert [log.event for log in copy.store.event_logs][-1] == "api.post_pool"


class TestDatasets:
    @pytest.fixture
    def settings(self) -> Settings:
        return TEST_SETTINGS_2_10

    async def test_events_and_queued_events(self, client: TestClient, sim: Simulator) -> None:
        sim.add_dags(LAKE_DAGS)
        since = sim.store.event_logs.next_id
        event = {"dataset_uri": SALES, "extra": {"api_token": "t0k", "n": 1}}
        reader = "/api/v1/dags/lake_reader/datasets/queuedEvent"
        for url in (
            f"{reader}/{quote(SALES, safe='')}?before=2030-01-01T00:00:00Z",
            f"/api/v1/datasets/queuedEvent/{quote(SALES, safe='')}",
            reader,
        ):
            await call(client, "POST", "/api/v1/datasets/events", json=event)
            await call(client, "DELETE", url, 204)
        created = row(
            "api.create_dataset_event",
            f'{{"dataset_uri": "{SALES}", "extra": {{"api_token": "***", "n": 1}}}}',
        )
        assert await api_rows(client, sim, since) == [
            created,
            row(
                "api.delete_dag_dataset_queued_event",
                f'{{"before": "2030-01-01T00:00:00Z", "uri": "{SALES}"}}',
                dag_id="lake_reader",
            ),
            created,
            row("api.delete_dataset_queued_events", f'{{"uri": "{SALES}"}}'),
            created,
            row("api.delete_dag_dataset_queued_events", "{}", dag_id="lake_reader"),
        ]
