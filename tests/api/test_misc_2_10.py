"""Airflow 2.10.5's answers for config, health, pools, XCom, plugins,
variables, connection tests and event logs (the 2.5.3 answers are tested
beside each resource's own tests)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.engine import lifecycle
from simulator.simulator import Simulator
from simulator.state.entities import Plugin
from tests.conftest import ADMIN, TEST_SETTINGS_2_10, problem_2_10

T0 = "2023-04-01T00:00:00+00:00"


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(TEST_SETTINGS_2_10, expose_config=True)


async def get(client: TestClient, url: str, status: int = 200, **headers: str) -> Any:
    response = await client.get(url, headers={**ADMIN, **headers})
    assert response.status == status, await response.text()
    if response.content_type == "text/plain":
        return await response.text()
    return await response.json()


class TestConfig:
    async def test_value_json(self, client: TestClient) -> None:
        body = await get(client, "/api/v1/config/section/core/option/executor",
                         Accept="application/json")  # fmt: skip
        assert body == {
            "sections": [
                {"name": "core", "options": [{"key": "executor", "value": "CeleryExecutor"}]}
            ]
        }

    async def test_value_text_names_as_asked(self, client: TestClient) -> None:
        text = await get(client, "/api/v1/config/section/CORE/option/Executor", Accept="text/plain")
        assert text == "[CORE]\nExecutor = CeleryExecutor\n"

    async def test_sensitive_value_hidden(self, client: TestClient) -> None:
        body = await get(client, "/api/v1/config/section/webserver/option/secret_key",
                         Accept="application/json")  # fmt: skip
        assert body["sections"][0]["options"] == [{"key": "secret_key", "value": "< hidden >"}]

    async def test_missing_option(self, client: TestClient) -> None:
        body = await get(client, "/api/v1/config/section/nosuch/option/x", 404,
                         Accept="application/json")  # fmt: skip
        assert body == problem_2_10(
            404, "Config not found.", "The option [nosuch/x] is not found in config.", "NotFound"
        )

    async def test_section(self, client: TestClient) -> None:
        text = await get(client, "/api/v1/config?section=api", Accept="text/plain")
        assert text.startswith("[api]\nenable_experimental_api = False\n")
        assert text.count("[") == 1

    async def test_missing_section(self, client: TestClient) -> None:
        body = await get(client, "/api/v1/config?section=nosuch", 404, Accept="application/json")
        assert body == problem_2_10(
            404, "section not found.", "section=nosuch not found.", "NotFound"
        )

    async def test_not_exposed(self, client: TestClient, sim: Simulator) -> None:
        sim.settings = dataclasses.replace(sim.settings, expose_config=False)
        body = await get(client, "/api/v1/config/section/core/option/executor", 403,
                         Accept="application/json")  # fmt: skip
        assert body["detail"].startswith("Your Airflow administrator chose not to expose")


class TestHealth:
    async def test_components(self, client: TestClient, sim: Simulator) -> None:
        sim.advance(7)
        body = await get(client, "/api/v1/health")
        beat = "2023-04-01T00:00:05+00:00"
        assert body == {
            "dag_processor": {"latest_dag_processor_heartbeat": None, "status": None},
            "metadatabase": {"status": "healthy"},
            "scheduler": {"latest_scheduler_heartbeat": beat, "status": "healthy"},
            "triggerer": {"latest_triggerer_heartbeat": beat, "status": "healthy"},
        }


class TestPools:
    async def test_fields(self, client: TestClient) -> None:
        body = await get(client, "/api/v1/pools/default_pool")
        assert set(body) >= {"deferred_slots", "include_deferred"}
        assert body["include_deferred"] is False

    async def test_include_deferred(self, client: TestClient, sim: Simulator) -> None:
        pool = {"name": "h_pool", "slots": 3, "include_deferred": True}
        response = await client.post("/api/v1/pools", json=pool, headers=ADMIN)
        assert await response.json() == {
            "deferred_slots": 0,
            "description": None,
            "include_deferred": True,
            "name": "h_pool",
            "occupied_slots": 0,
            "open_slots": 3,
            "queued_slots": 0,
            "running_slots": 0,
            "scheduled_slots": 0,
            "slots": 3,
        }
        # Without a mask PATCH loads include_deferred's default (False).
        response = await client.patch(
            "/api/v1/pools/h_pool", json={"name": "h_pool", "slots": 4}, headers=ADMIN
        )
        assert (await response.json())["include_deferred"] is False
        response = await client.patch(
            "/api/v1/pools/h_pool?update_mask=include_deferred",
            json={"include_deferred": True}, headers=ADMIN,
        )  # fmt: skip
        assert (await response.json())["include_deferred"] is True

    async def test_deferred_instances_occupy(self, client: TestClient, sim: Simulator) -> None:
        ti = next(ti for ti in sim.store.task_instances if ti.pool == "default_pool")
        lifecycle.set_state(sim.store, ti, "deferred")
        deferred = ti.pool_slots
        without = await get(client, "/api/v1/pools/default_pool")
        sim.store.pools.require("default_pool").include_deferred = True
        with_deferred = await get(client, "/api/v1/pools/default_pool")
        assert without["deferred_slots"] == with_deferred["deferred_slots"] == deferred
        assert with_deferred["occupied_slots"] == without["occupied_slots"] + deferred
        assert with_deferred["open_slots"] == without["open_slots"] - deferred

    async def test_default_pool_mask(self, client: TestClient) -> None:
        response = await client.patch(
            "/api/v1/pools/default_pool?update_mask=slots,include_deferred",
            json={"name": "other", "slots": 5, "include_deferred": True}, headers=ADMIN,
        )  # fmt: skip
        body = await response.json()
        assert (body["name"], body["slots"], body["include_deferred"]) == ("default_pool", 5, True)


class TestPlugins:
    async def test_fields(self, client: TestClient, sim: Simulator) -> None:
        sim.store.plugins.add(Plugin(name="h_plugin", timetables=["h.Timetable"]))
        body = await get(client, "/api/v1/plugins")
        (plugin,) = body["plugins"]
        assert (plugin["ti_deps"], plugin["listeners"], plugin["timetables"]) == (
            [], [], ["h.Timetable"]
        )  # fmt: skip


class TestVariables:
    async def test_description_saved(self, client: TestClient) -> None:
        body = {"key": "h_var", "value": "1", "description": "kept"}
        assert (await client.post("/api/v1/variables", json=body, headers=ADMIN)).status == 200
        assert await get(client, "/api/v1/variables/h_var") == body

    async def test_missing(self, client: TestClient) -> None:
        body = await get(client, "/api/v1/variables/nosuch", 404)
        assert body == problem_2_10(
            404, "Variable not found", "Variable does not exist", "NotFound"
        )

    async def test_patch_missing_before_mask(self, client: TestClient) -> None:
        response = await client.patch(
            "/api/v1/variables/nosuch?update_mask=nosuch",
            json={"key": "nosuch", "value": "1"}, headers=ADMIN,
        )  # fmt: skip
        assert response.status == 404


class TestConnectionTest:
    async def test_disabled(self, client: TestClient) -> None:
        body = {"connection_id": "h_conn", "conn_type": "http", "host": "example.com"}
        response = await client.post("/api/v1/connections/test", json=body, headers=ADMIN)
        assert response.status == 403
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert await response.text() == (
            "Testing connections is disabled in Airflow configuration. "
            "Contact your deployment admin to enable it."
        )

    async def test_enabled(self, client: TestClient, sim: Simulator) -> None:
        sim.store.config["core"]["test_connection"] = "Enabled"
        body = {"connection_id": "h_conn", "conn_type": "http", "host": "example.com"}
        response = await client.post("/api/v1/connections/test", json=body, headers=ADMIN)
        assert await response.json() == {
            "message": "Connection successfully tested",
            "status": True,
        }


class TestXCom:
    @pytest.fixture
    def ran(self, sim: Simulator) -> Simulator:
        sim.advance(3 * 3600)
        return sim

    def _entry(self, sim: Simulator) -> Any:
        return next(x for x in sim.store.xcoms if not isinstance(x.value, str))

    async def test_entries_carry_map_index(self, client: TestClient, ran: Simulator) -> None:
        xcom = self._entry(ran)
        url = (f"/api/v1/dags/{xcom.dag_id}/dagRuns/{xcom.run_id}/taskInstances/"
               f"{xcom.task_id}/xcomEntries")  # fmt: skip
        body = await get(client, f"{url}?xcom_key={xcom.key}")
        assert [(e["key"], e["map_index"]) for e in body["xcom_entries"]] == [(xcom.key, -1)]
        assert (await get(client, f"{url}?xcom_key=nosuch"))["total_entries"] == 0
        assert (await get(client, f"{url}?map_index=3"))["total_entries"] == 0

    async def test_entry_value(self, client: TestClient, ran: Simulator) -> None:
        xcom = self._entry(ran)
        url = (f"/api/v1/dags/{xcom.dag_id}/dagRuns/{xcom.run_id}/taskInstances/"
               f"{xcom.task_id}/xcomEntries/{xcom.key}")  # fmt: skip
        assert (await get(client, url))["value"] == str(xcom.value)
        native = await get(client, f"{url}?stringify=false")
        assert native["value"] == xcom.value
        assert native["map_index"] == -1
        missing = await get(client, f"{url}?map_index=0", 404)
        assert missing == problem_2_10(404, "XCom entry not found", None, "NotFound")
        refused = await get(client, f"{url}?deserialize=true", 400)
        assert refused == problem_2_10(
            400, "Bad Request", "XCom deserialization is disabled in configuration.", "BadRequest"
        )


class TestEventLogs:
    @pytest.fixture
    def ran(self, sim: Simulator) -> Simulator:
        sim.advance(3 * 3600)
        return sim

    async def test_task_rows(self, client: TestClient, ran: Simulator) -> None:
        body = await get(client, "/api/v1/eventLogs?event=running&limit=1")
        (row,) = body["event_logs"]
        ti = next(t for t in ran.store.task_instances
                  if (t.dag_id, t.task_id) == (row["dag_id"], row["task_id"]))  # fmt: skip
        assert (row["run_id"], row["map_index"], row["try_number"]) == (
            row["run_id"], ti.map_index, 1
        )  # fmt: skip
        assert row["run_id"] is not None
        total = sum(1 for log in ran.store.event_logs if log.event == "running")
        assert body["total_entries"] == total

    async def test_component_rows(self, client: TestClient) -> None:
        body = await get(client, "/api/v1/eventLogs/1")
        assert (body["run_id"], body["map_index"], body["try_number"]) == (None, None, None)

    async def test_filters(self, client: TestClient, ran: Simulator) -> None:
        rows = list(ran.store.event_logs)
        events = {"cli_scheduler", "success"}
        body = await get(client, "/api/v1/eventLogs?included_events=cli_scheduler,success")
        assert body["total_entries"] == sum(1 for r in rows if r.event in events)
        body = await get(client, "/api/v1/eventLogs?excluded_events=cli_scheduler,success")
        assert body["total_entries"] == sum(1 for r in rows if r.event not in events)
        body = await get(client, f"/api/v1/eventLogs?after={T0.replace('+', '%2B')}")
        assert body["total_entries"] == sum(1 for r in rows if r.when.isoformat() > T0)
        body = await get(client, "/api/v1/eventLogs?dag_id=etl_orders&map_index=0")
        assert body["total_entries"] == sum(1 for r in rows if r.dag_id == "etl_orders")
        body = await get(client, "/api/v1/eventLogs?owner=Airflow")
        assert body == {"event_logs": [], "total_entries": 0}
