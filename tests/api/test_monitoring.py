"""Monitoring: get_health and get_version answer without authentication."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator


class TestGetHealth:
    async def test_healthy_with_heartbeat_from_virtual_clock(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.advance(12)
        response = await client.get("/api/v1/health")
        assert response.status == 200
        assert await response.json() == {
            "metadatabase": {"status": "healthy"},
            "scheduler": {
                "latest_scheduler_heartbeat": "2023-04-01T00:00:10+00:00",
                "status": "healthy",
            },
        }

    async def test_body_is_airflows_format(self, client: TestClient) -> None:
        response = await client.get("/api/v1/health")
        text = await response.text()
        assert text.startswith('{\n  "metadatabase": {\n    "status": "healthy"\n  },')
        assert text.endswith("}\n")

    async def test_no_auth_needed_even_with_bad_credentials(self, client: TestClient) -> None:
        response = await client.get("/api/v1/health", headers={"Authorization": "Basic !!!"})
        assert response.status == 200


class TestGetVersion:
    async def test_version(self, client: TestClient) -> None:
        response = await client.get("/api/v1/version")
        assert response.status == 200
        assert await response.json() == {
            "git_version": ".release:2.5.3+cb842dd8aa8749b4d0a474c6e2fda11505d9ba99",
            "version": "2.5.3",
        }


class TestOfficialClient:
    def test_health_and_version(self, api_client: Any) -> None:
        from airflow_client.client.api.monitoring_api import MonitoringApi

        api = MonitoringApi(api_client)
        health = api.get_health()
        assert health.metadatabase.status.value == "healthy"
        assert health.scheduler.status.value == "healthy"
        assert api.get_version().version == "2.5.3"
