"""The request pipeline every operation shares (Airflow 2.5.3 on connexion 2.14).

Checks run in this order and the first failure answers: routing (404/405),
the request body (415/400), the query (400), authentication (401),
permissions (403), then the handler. Each test names the operation it uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.simulator import Simulator
from simulator.state.entities import DagImportError, DagWarning
from tests.conftest import ADMIN, STARTUP_ROWS, basic, problem

Headers = Callable[..., dict[str, str]]

NO_ROUTE = (
    "The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again."
)
NOT_ALLOWED = "The method is not allowed for the requested URL."
JSON = {"Content-Type": "application/json"}
POOLS = "/api/v1/pools"
DAG_RUNS = "/api/v1/dags/example/dagRuns"


def bad_request(detail: str) -> dict[str, Any]:
    return problem(400, "Bad Request", detail, "BadRequest")


def verbose(message: str, keyword: str, schema: str, instance: str) -> str:
    """str(ValidationError) as jsonschema 4.17 renders it; connexion answers
    query-parameter constraint errors with the whole text."""
    return (
        f"{message}\n\nFailed validating '{keyword}' in schema:\n    {schema}\n\n"
        f"On instance:\n    {instance}"
    )


class TestRouting:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/nope",
            "/api/v1/eventLogs/abc",  # integer path parameters match digits only
            "/api/v1/importErrors/-1",
            "/api/v1/eventLogs/1.0",
            "/api/v1/eventLogs/",  # no trailing-slash redirect
            "/api/v1/eventLogs/1/extra",
        ],
    )
    async def test_no_route_is_404_about_blank(self, client: TestClient, path: str) -> None:
        # Routing comes first: no credentials needed to get a 404.
        response = await client.get(path)
        assert response.status == 404
        assert response.content_type == "application/problem+json"
        assert await response.json() == problem(404, "Not Found", NO_ROUTE)

    @pytest.mark.parametrize(
        ("method", "path"),
        [("DELETE", "/api/v1/eventLogs"), ("POST", "/api/v1/health"), ("PUT", POOLS)],
    )
    async def test_wrong_method_is_405_about_blank(
        self, client: TestClient, method: str, path: str
    ) -> None:
        response = await client.request(method, path, json={})
        assert response.status == 405
        assert response.content_type == "application/problem+json"
        assert await response.json() == problem(405, "Method Not Allowed", NOT_ALLOWED)

    async def test_405_has_no_allow_header(self, client: TestClient) -> None:
        response = await client.delete("/api/v1/eventLogs")
        assert "Allow" not in response.headers

    async def test_head_is_answered_like_get(self, client: TestClient) -> None:
        response = await client.head("/api/v1/health")
        assert response.status == 200
        assert response.content_type == "application/json"


class TestRequestBody:
    """POST /pools: a body of schema Pool (name, slots; *_slots read-only)."""

    @pytest.mark.parametrize(
        ("kwargs", "content_type"),
        [
            ({"data": '{"name": "p"}', "headers": {"Content-Type": "text/plain"}}, "text/plain"),
            ({"data": {"name": "p"}}, "application/x-www-form-urlencoded"),
            # No Content-Type header at all is not JSON either.
            ({"data": b'{"name": "p"}', "skip_auto_headers": ["Content-Type"]}, ""),
        ],
        ids=["text", "form", "none"],
    )
    async def test_415_for_a_body_not_declared_json(
        self, client: TestClient, kwargs: dict[str, Any], content_type: str
    ) -> None:
        response = await client.post(POOLS, **kwargs)
        assert response.status == 415
        assert response.content_type == "application/problem+json"
        assert await response.json() == problem(
            415,
            "Unsupported Media Type",
            f"Invalid Content-type ({content_type}), expected JSON data",
        )

    @pytest.mark.parametrize("raw", [b'{"name": ', b"{'name': 'p'}", b"\xff\xfe", b"   "])
    async def test_400_for_json_that_does_not_parse(self, client: TestClient, raw: bytes) -> None:
        response = await client.post(POOLS, data=raw, headers=JSON)
        assert response.status == 400
        assert await response.json() == bad_request("Request body is not valid JSON")

    async def test_json_suffix_types_are_json(self, client: TestClient) -> None:
        headers = {"Content-Type": "application/merge-patch+json"}
        response = await client.post(POOLS, data=b'{"name": 1}', headers=headers)
        assert await response.json() == bad_request("1 is not of type 'string' - 'name'")

    @pytest.mark.parametrize("headers", [JSON, {}], ids=["json-content-type", "no-content-type"])
    async def test_400_for_no_body(self, client: TestClient, headers: dict[str, str]) -> None:
        # No body at all is validated as None, whatever the Content-Type says.
        response = await client.post(POOLS, headers=headers, skip_auto_headers=["Content-Type"])
        assert response.status == 400
        assert await response.json() == bad_request("None is not of type 'object'")

    async def test_null_body_is_not_valid_json(self, client: TestClient) -> None:
        response = await client.post(POOLS, data=b"null", headers=JSON)
        assert await response.json() == bad_request("Request body is not valid JSON")

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ([], "[] is not of type 'object'"),
            ({"name": "p", "slots": "abc"}, "'abc' is not of type 'integer' - 'slots'"),
            ({"name": None, "slots": 1}, "None is not of type 'string' - 'name'"),
            (
                {"name": "p", "slots": 1, "occupied_slots": 0},
                "Property is read-only - 'occupied_slots'",
            ),
            ({"name": "p", "slots": 1, "open_slots": 5}, "Property is read-only - 'open_slots'"),
        ],
    )
    async def test_400_for_schema_errors(self, client: TestClient, body: Any, detail: str) -> None:
        response = await client.post(POOLS, json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(detail)

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (
                {"logical_date": "2023-01-01T00:00:00"},
                "'2023-01-01T00:00:00' is not a 'date-time' - 'logical_date'",
            ),
            ({"dag_id": "example"}, "Property is read-only - 'dag_id'"),
            ({"state": "queued"}, "Property is read-only - 'state'"),  # via $ref DagState
            ({"conf": "x"}, "'x' is not of type 'object' - 'conf'"),
        ],
    )
    async def test_400_for_dag_run_body_errors(
        self, client: TestClient, body: Any, detail: str
    ) -> None:
        # post_dag_run: body validation happens before the handler.
        response = await client.post(DAG_RUNS, json=body, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(detail)

    async def test_unknown_body_properties_pass_this_layer(
        self, client: TestClient, make_user: Headers
    ) -> None:
        # connexion ignores unknown properties; the handler's schema may reject them later.
        response = await client.post(
            POOLS, json={"name": "p", "slots": 1, "color": "red"}, headers=make_user("p", "Public")
        )
        assert response.status == 403


class TestQueryParameters:
    async def test_wrong_type(self, client: TestClient) -> None:
        response = await client.get("/api/v1/eventLogs", params={"limit": "abc"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request(
            "Wrong type, expected 'integer' for query parameter 'limit'"
        )

    async def test_empty_integer_is_a_wrong_type(self, client: TestClient) -> None:
        response = await client.get("/api/v1/importErrors?offset=", headers=ADMIN)
        assert await response.json() == bad_request(
            "Wrong type, expected 'integer' for query parameter 'offset'"
        )

    async def test_boolean_accepts_only_true_and_false(self, client: TestClient) -> None:
        response = await client.get("/api/v1/dags", params={"only_active": "yes"}, headers=ADMIN)
        assert await response.json() == bad_request(
            "Wrong type, expected 'boolean' for query parameter 'only_active'"
        )

    async def test_missing_required(self, client: TestClient) -> None:
        response = await client.patch("/api/v1/dags", json={"is_paused": True}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == bad_request("Missing query parameter 'dag_id_pattern'")

    async def test_extra_parameter_has_a_null_title(self, client: TestClient) -> None:
        response = await client.get("/api/v1/dagWarnings", params={"foo": "1"}, headers=ADMIN)
        assert response.status == 400
        assert await response.json() == problem(
            400, None, "Extra query parameter(s) foo not in spec", "BadRequest"
        )

    async def test_extra_parameters_are_listed(self, client: TestClient) -> None:
        # Airflow joins a Python set (no fixed order); the simulator sorts the names.
        response = await client.get("/api/v1/eventLogs?zeta=1&alpha=2&limit=x", headers=ADMIN)
        assert await response.json() == problem(
            400, None, "Extra query parameter(s) alpha, zeta not in spec", "BadRequest"
        )

    async def test_extra_parameter_on_a_path_only_operation(self, client: TestClient) -> None:
        # A path parameter is enough for connexion to check the query names.
        response = await client.get("/api/v1/eventLogs/1", params={"x": "1"}, headers=ADMIN)
        assert await response.json() == problem(
            400, None, "Extra query parameter(s) x not in spec", "BadRequest"
        )

    async def test_ignored_where_the_operation_declares_no_parameter(
        self, client: TestClient, make_user: Headers
    ) -> None:
        assert (await client.get("/api/v1/health", params={"foo": "1"})).status == 200
        assert (await client.get("/api/v1/version?x=1&y=2")).status == 200
        public = make_user("public", "Public")
        response = await client.post(
            POOLS, params={"foo": "1"}, json={"name": "p", "slots": 1}, headers=public
        )
        assert response.status == 403


# A '+' in a query string decodes to a space: offsets must be sent as %2B or Z.
@pytest.mark.parametrize(
    ("url", "message", "keyword", "schema", "instance"),
    [
        (
            "/api/v1/eventLogs?offset=-1",
            "-1 is less than the minimum of 0",
            "minimum",
            "{'minimum': 0, 'type': 'integer'}",
            "-1",
        ),
        (
            "/api/v1/dags/~/dagRuns?execution_date_gte=2023-01-01T00:00:00",
            "'2023-01-01T00:00:00' is not a 'date-time'",
            "format",
            "{'format': 'date-time', 'type': 'string'}",
            "'2023-01-01T00:00:00'",
        ),
        (
            "/api/v1/dags/~/dagRuns?execution_date_gte=2023-01-01T00:00:00+00:00",
            "'2023-01-01T00:00:00 00:00' is not a 'date-time'",
            "format",
            "{'format': 'date-time', 'type': 'string'}",
            "'2023-01-01T00:00:00 00:00'",
        ),
    ],
    ids=["minimum", "naive-date-time", "plus-is-a-space"],
)
class TestQueryConstraints:
    async def test_message_comes_first(
        self, client: TestClient, url: str, message: str, keyword: str, schema: str, instance: str
    ) -> None:
        response = await client.get(url, headers=ADMIN)
        assert response.status == 400
        assert (await response.json())["detail"].splitlines()[0] == message

    async def test_detail_is_jsonschemas_verbose_text(
        self,
        client: TestClient,
        url: str,
        message: str,
        keyword: str,
        schema: str,
        instance: str,
    ) -> None:
        response = await client.get(url, headers=ADMIN)
        assert await response.json() == bad_request(verbose(message, keyword, schema, instance))


class TestOrderOfChecks:
    async def test_bad_body_from_an_anonymous_client_is_400(self, client: TestClient) -> None:
        response = await client.post(POOLS, json={"slots": "x"})
        assert response.status == 400

    async def test_bad_query_from_an_anonymous_client_is_400(self, client: TestClient) -> None:
        response = await client.get("/api/v1/importErrors", params={"limit": "x"})
        assert response.status == 400

    async def test_body_is_checked_before_the_query(self, client: TestClient) -> None:
        response = await client.patch("/api/v1/dags?limit=x&foo=1", json=[], headers=ADMIN)
        assert await response.json() == bad_request("[] is not of type 'object'")

    async def test_extra_names_are_checked_before_values(self, client: TestClient) -> None:
        response = await client.get("/api/v1/eventLogs?limit=x&foo=1", headers=ADMIN)
        assert (await response.json())["title"] is None

    async def test_401_before_the_handlers_own_checks(self, client: TestClient) -> None:
        # The page limit and order_by are checked inside the handler.
        for params in ({"limit": "-1"}, {"order_by": "nope"}):
            response = await client.get("/api/v1/eventLogs", params=params)
            assert response.status == 401

    async def test_403_only_after_validation_passes(
        self, client: TestClient, make_user: Headers
    ) -> None:
        public = make_user("public", "Public")
        bad_body = await client.post(POOLS, json={"name": 1}, headers=public)
        assert await bad_body.json() == bad_request("1 is not of type 'string' - 'name'")
        bad_query = await client.get("/api/v1/dagWarnings?offset=-5", headers=public)
        assert bad_query.status == 400
        good = await client.post(POOLS, json={"name": "p", "slots": 1}, headers=public)
        assert good.status == 403
        assert await good.json() == problem(403, "Forbidden", None, "PermissionDenied")

    async def test_wrong_password_is_401_after_validation(
        self, client: TestClient, make_user: Headers
    ) -> None:
        make_user("dave", "Admin", password="right")
        wrong = basic("dave", "wrong")
        assert (await client.get("/api/v1/eventLogs?limit=x", headers=wrong)).status == 400
        response = await client.get("/api/v1/eventLogs", headers=wrong)
        assert response.status == 401
        assert await response.json() == problem(401, "Unauthorized", None, "Unauthenticated")


def _seed(sim: Simulator, url: str) -> None:
    """120 rows for one of the list endpoints of this module's owner (the
    audit log has its components' start-up rows already)."""
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for i in range(120):
        if url.endswith("eventLogs"):
            if i >= STARTUP_ROWS:
                sim.record_event("variable.create", owner="admin", extra="[]")
        elif url.endswith("importErrors"):
            error = DagImportError(filename=f"/dags/f{i}.py", stack_trace="x", timestamp=start)
            sim.store.import_errors.add(error)
        else:
            stamp = start + timedelta(seconds=i)
            warning = DagWarning(dag_id=f"d{i}", warning_type="w", message="m", timestamp=stamp)
            sim.store.dag_warnings.add(warning)


@pytest.fixture(
    params=[
        ("/api/v1/eventLogs", "event_logs"),
        ("/api/v1/importErrors", "import_errors"),
        ("/api/v1/dagWarnings", "dag_warnings"),
    ],
    ids=lambda param: param[0].rsplit("/", 1)[1],
)
def listing(request: pytest.FixtureRequest, sim: Simulator) -> tuple[str, str]:
    """(url, collection key) of a list endpoint holding 120 rows."""
    url, key = request.param
    _seed(sim, url)
    return url, key


class TestPageLimit:
    """maximum_page_limit = fallback_page_limit = 100, as a fresh 2.5.3 install."""

    @pytest.mark.parametrize(
        ("params", "size"),
        [
            ({}, 100),
            ({"limit": "1"}, 1),
            ({"limit": "100"}, 100),
            ({"limit": "101"}, 100),  # above the maximum: clamped, no error
            ({"limit": "100000"}, 100),
            ({"limit": "0"}, 100),  # zero: the fallback
            ({"limit": "500", "offset": "50"}, 70),
        ],
    )
    async def test_limit(
        self, client: TestClient, listing: tuple[str, str], params: dict[str, str], size: int
    ) -> None:
        url, key = listing
        response = await client.get(url, params=params, headers=ADMIN)
        assert response.status == 200
        body = await response.json()
        assert len(body[key]) == size
        assert body["total_entries"] == 120

    async def test_negative_limit(self, client: TestClient, listing: tuple[str, str]) -> None:
        response = await client.get(listing[0], params={"limit": "-1"}, headers=ADMIN)
        assert response.status == 400
        # Airflow passes the message as the title; detail stays null.
        assert await response.json() == problem(
            400, "Page limit must be a positive integer", None, "BadRequest"
        )


class TestResponseFormat:
    async def test_json_is_sorted_indented_ascii_with_a_newline(
        self, client: TestClient, sim: Simulator
    ) -> None:
        row = sim.record_event("variable.create", owner="zoë", extra="[]")
        response = await client.get(f"/api/v1/eventLogs/{row.id}", headers=ADMIN)
        assert response.headers["Content-Type"] == "application/json"
        text = await response.text()
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
        assert '  "owner": "zo\\u00eb",\n' in text
        assert text.startswith('{\n  "dag_id": null,\n  "event": "variable.create",\n')

    async def test_nested_collections_indent_by_two(
        self, client: TestClient, sim: Simulator
    ) -> None:
        sim.record_event("variable.create", owner="bob")
        text = await (await client.get("/api/v1/eventLogs", headers=ADMIN)).text()
        assert text.startswith('{\n  "event_logs": [\n    {\n      "dag_id": null,\n')
        assert text.endswith(f'  ],\n  "total_entries": {STARTUP_ROWS + 1}\n}}\n')

    async def test_problem_json(self, client: TestClient) -> None:
        response = await client.get("/api/v1/eventLogs/9", headers=ADMIN)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert await response.text() == (
            "{\n"
            '  "detail": null,\n'
            '  "status": 404,\n'
            '  "title": "Event Log not found",\n'
            '  "type": "https://airflow.apache.org/docs/apache-airflow/2.5.3/'
            'stable-rest-api-ref.html#section/Errors/NotFound"\n'
            "}\n"
        )
