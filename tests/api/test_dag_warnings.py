"""DagWarning: get_dag_warnings.

2.5.3 has no write API for DAG warnings: tests add rows to the store directly.
The collection key is `dag_warnings` (the spec says `import_errors`; quirk
dag-warnings-key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from simulator.state.entities import DagWarning
from tests.conftest import ADMIN, problem

URL = "/api/v1/dagWarnings"
POOL = "non-existent pool"


def seed_three(sim: Simulator) -> None:
    """Insertion, timestamp, dag_id and message orders all differ."""
    for dag_id, kind, message, hour in (
        ("etl", POOL, "Dag 'etl' references non-existent pools: ['big']", 9),
        ("alpha", POOL, "Dag 'alpha' references non-existent pools: ['gpu']", 7),
        ("etl", "other", "Something else about etl", 8),
    ):
        sim.store.dag_warnings.add(
            DagWarning(
                dag_id=dag_id,
                warning_type=kind,
                message=message,
                timestamp=datetime(2023, 3, 31, hour, tzinfo=UTC),
            )
        )


ETL = {
    "dag_id": "etl",
    "message": "Dag 'etl' references non-existent pools: ['big']",
    "timestamp": "2023-03-31T09:00:00+00:00",
    "warning_type": POOL,
}
ALPHA = {
    "dag_id": "alpha",
    "message": "Dag 'alpha' references non-existent pools: ['gpu']",
    "timestamp": "2023-03-31T07:00:00+00:00",
    "warning_type": POOL,
}
ETL_OTHER = {
    "dag_id": "etl",
    "message": "Something else about etl",
    "timestamp": "2023-03-31T08:00:00+00:00",
    "warning_type": "other",
}


class TestGetDagWarnings:
    async def test_empty(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"dag_warnings": [], "total_entries": 0}

    async def test_default_order_is_timestamp(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {
            "dag_warnings": [ALPHA, ETL_OTHER, ETL],
            "total_entries": 3,
        }

    async def test_filter_by_dag_id_counts_matches_only(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"dag_id": "etl", "limit": 1}, headers=ADMIN)
        assert await response.json() == {"dag_warnings": [ETL_OTHER], "total_entries": 2}

    async def test_filter_by_warning_type(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"warning_type": POOL}, headers=ADMIN)
        assert await response.json() == {"dag_warnings": [ALPHA, ETL], "total_entries": 2}

    async def test_filters_combine(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        params = {"dag_id": "etl", "warning_type": POOL}
        response = await client.get(URL, params=params, headers=ADMIN)
        assert await response.json() == {"dag_warnings": [ETL], "total_entries": 1}

    async def test_filters_are_exact(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        for params in ({"dag_id": "et"}, {"dag_id": "ETL"}, {"warning_type": "non-existent"}):
            response = await client.get(URL, params=params, headers=ADMIN)
            assert await response.json() == {"dag_warnings": [], "total_entries": 0}

    async def test_empty_filter_values_filter_nothing(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"dag_id": "", "warning_type": ""}, headers=ADMIN)
        assert (await response.json())["total_entries"] == 3

    async def test_offset_past_the_end(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"offset": 3}, headers=ADMIN)
        assert await response.json() == {"dag_warnings": [], "total_entries": 3}

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            ("timestamp", [ALPHA, ETL_OTHER, ETL]),
            ("-timestamp", [ETL, ETL_OTHER, ALPHA]),
            ("dag_id", [ALPHA, ETL, ETL_OTHER]),  # ties keep insertion order
            ("-dag_id", [ETL, ETL_OTHER, ALPHA]),
            ("warning_type", [ETL, ALPHA, ETL_OTHER]),
            ("-warning_type", [ETL_OTHER, ETL, ALPHA]),
            ("message", [ALPHA, ETL, ETL_OTHER]),
            ("-message", [ETL_OTHER, ETL, ALPHA]),
        ],
    )
    async def test_order_by(
        self,
        client: TestClient,
        sim: Simulator,
        order_by: str,
        expected: list[dict[str, str]],
    ) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"dag_warnings": expected, "total_entries": 3}

    @pytest.mark.parametrize("order_by", ["id", "dag_warning_id", "-dagId"])
    async def test_order_by_outside_the_allow_list(self, client: TestClient, order_by: str) -> None:
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 400
        name = order_by.lstrip("-")
        assert await response.json() == problem(
            400,
            "Bad Request",
            f"Ordering with '{name}' is disallowed or the attribute does not exist on the model",
            "BadRequest",
        )

    async def test_viewer_can_read(
        self, client: TestClient, make_user: Callable[..., dict[str, str]]
    ) -> None:
        response = await client.get(URL, headers=make_user("viewer", "Viewer"))
        assert response.status == 200

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_403(self, client: TestClient, make_user: Callable[..., dict[str, str]]) -> None:
        response = await client.get(URL, headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")


class TestOfficialClient:
    def test_get_dag_warnings(self, api_client: Any, live: Any) -> None:
        from airflow_client.client.api.dag_warning_api import DagWarningApi

        seed_three(live.sim)
        api = DagWarningApi(api_client)
        # The client's model knows only `import_errors`; the real key comes
        # through as an untyped attribute holding the raw items.
        page = api.get_dag_warnings(dag_id="etl", order_by="-timestamp")
        assert page.total_entries == 2
        assert page.dag_warnings == [ETL, ETL_OTHER]
        assert page.get("import_errors") is None

    def test_raw_body(self, api_client: Any, live: Any) -> None:
        from airflow_client.client.api.dag_warning_api import DagWarningApi

        seed_three(live.sim)
        raw = DagWarningApi(api_client).get_dag_warnings(
            warning_type="other", _preload_content=False
        )
        assert raw.status == 200
        assert json.loads(raw.data) == {"dag_warnings": [ETL_OTHER], "total_entries": 1}
