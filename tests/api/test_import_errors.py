"""ImportError: get_import_errors and get_import_error (DAG files that failed to parse).

2.5.3 has no write API for import errors: tests add rows to the store directly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from simulator.state.entities import DagImportError
from tests.conftest import ADMIN, problem

URL = "/api/v1/importErrors"
TRACE = 'Traceback (most recent call last):\n  File "{}", line 1\nSyntaxError: invalid syntax\n'


def seed_three(sim: Simulator) -> None:
    """Insertion, timestamp and filename orders all differ."""
    for filename, day in (("/dags/b.py", 3), ("/dags/c.py", 1), ("/dags/a.py", 2)):
        sim.store.import_errors.add(
            DagImportError(
                filename=filename,
                stack_trace=TRACE.format(filename),
                timestamp=datetime(2023, 3, day, 12, 30, tzinfo=UTC),
            )
        )


def error_body(import_error_id: int, filename: str, day: int) -> dict[str, Any]:
    return {
        "filename": filename,
        "import_error_id": import_error_id,
        "stack_trace": TRACE.format(filename),
        "timestamp": f"2023-03-0{day}T12:30:00+00:00",
    }


B, C, A = (
    error_body(1, "/dags/b.py", 3),
    error_body(2, "/dags/c.py", 1),
    error_body(3, "/dags/a.py", 2),
)


class TestGetImportError:
    async def test_returns_the_error(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        response = await client.get(f"{URL}/2", headers=ADMIN)
        assert response.status == 200
        assert await response.json() == C

    async def test_viewer_can_read(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        seed_three(sim)
        response = await client.get(f"{URL}/1", headers=make_user("viewer", "Viewer"))
        assert response.status == 200

    async def test_404(self, client: TestClient) -> None:
        response = await client.get(f"{URL}/7", headers=ADMIN)
        assert response.status == 404
        assert await response.json() == problem(
            404,
            "Import error not found",
            "The ImportError with import_error_id: `7` was not found",
            "NotFound",
        )

    async def test_leading_zeros_are_the_same_id(self, client: TestClient) -> None:
        # werkzeug's int converter turns `007` into 7.
        response = await client.get(f"{URL}/007", headers=ADMIN)
        body = await response.json()
        assert body["detail"] == "The ImportError with import_error_id: `7` was not found"

    async def test_401(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        response = await client.get(f"{URL}/1")
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_403(
        self, client: TestClient, sim: Simulator, make_user: Callable[..., dict[str, str]]
    ) -> None:
        seed_three(sim)
        response = await client.get(f"{URL}/1", headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")


class TestGetImportErrors:
    async def test_empty(self, client: TestClient) -> None:
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"import_errors": [], "total_entries": 0}

    async def test_default_order_is_import_error_id(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_three(sim)
        response = await client.get(URL, headers=ADMIN)
        assert response.status == 200
        assert await response.json() == {"import_errors": [B, C, A], "total_entries": 3}

    async def test_limit_and_offset_keep_the_total(
        self, client: TestClient, sim: Simulator
    ) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"limit": 2, "offset": 1}, headers=ADMIN)
        assert await response.json() == {"import_errors": [C, A], "total_entries": 3}

    async def test_deleted_rows_leave_gaps_in_ids(self, client: TestClient, sim: Simulator) -> None:
        seed_three(sim)
        sim.store.import_errors.delete(2)
        body = await (await client.get(URL, headers=ADMIN)).json()
        assert body == {"import_errors": [B, A], "total_entries": 2}

    @pytest.mark.parametrize(
        ("order_by", "expected"),
        [
            ("import_error_id", [1, 2, 3]),  # alias of the id column
            ("-import_error_id", [3, 2, 1]),
            ("timestamp", [2, 3, 1]),
            ("-timestamp", [1, 3, 2]),
            ("filename", [3, 1, 2]),
            ("-filename", [2, 1, 3]),
        ],
    )
    async def test_order_by(
        self, client: TestClient, sim: Simulator, order_by: str, expected: list[int]
    ) -> None:
        seed_three(sim)
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert [error["import_error_id"] for error in body["import_errors"]] == expected
        assert body["total_entries"] == 3

    @pytest.mark.parametrize(
        ("order_by", "name"),
        [("id", "id"), ("-stack_trace", "stack_trace"), ("stacktrace", "stacktrace")],
    )
    async def test_order_by_outside_the_allow_list(
        self, client: TestClient, order_by: str, name: str
    ) -> None:
        response = await client.get(URL, params={"order_by": order_by}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400,
            "Bad Request",
            f"Ordering with '{name}' is disallowed or the attribute does not exist on the model",
            "BadRequest",
        )

    async def test_401(self, client: TestClient) -> None:
        response = await client.get(URL)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")

    async def test_403(self, client: TestClient, make_user: Callable[..., dict[str, str]]) -> None:
        response = await client.get(URL, headers=make_user("public", "Public"))
        assert response.status == 403
        assert await response.json() == problem(403, "Forbidden", None, "PermissionDenied")


class TestOfficialClient:
    def test_get_import_errors_and_get_import_error(self, api_client: Any, live: Any) -> None:
        from airflow_client.client.api.import_error_api import ImportErrorApi

        seed_three(live.sim)
        api = ImportErrorApi(api_client)
        page = api.get_import_errors(order_by="-timestamp", limit=2)
        assert page.total_entries == 3
        assert [error.filename for error in page.import_errors] == ["/dags/b.py", "/dags/a.py"]
        error = api.get_import_error(3)
        assert error.import_error_id == 3
        assert error.stack_trace == TRACE.format("/dags/a.py")
        # The spec says `format: datetime`, so the client keeps the string.
        assert error.timestamp == "2023-03-02T12:30:00+00:00"

    def test_not_found(self, api_client: Any) -> None:
        from airflow_client.client.api.import_error_api import ImportErrorApi
        from airflow_client.client.exceptions import NotFoundException

        with pytest.raises(NotFoundException) as raised:
            ImportErrorApi(api_client).get_import_error(42)
        assert raised.value.status == 404
