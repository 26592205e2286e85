"""The fast request validator agrees with openapi-core's full validation.

The simulator validates with validators compiled per operation from
openapi-core's factories; this pins that it accepts and rejects the same
requests as openapi-core's own request validation over the whole spec.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from multidict import MultiDict
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest

from simulator.errors import ApiError
from simulator.server.validation import OperationValidator
from simulator.spec import load_spec

CASES: list[tuple[str, dict[str, Any] | list[tuple[str, str]], Any]] = [
    ("get_connections", {"limit": "5", "offset": "0"}, None),
    ("get_connections", {"limit": "abc"}, None),
    ("get_connections", {"offset": "-1"}, None),
    ("get_connections", {"offset": "1.5"}, None),
    ("get_dags", {"only_active": "false"}, None),
    ("get_dags", {"only_active": "maybe"}, None),
    ("get_dags", [("tags", "a"), ("tags", "b")], None),
    ("patch_dags", {"dag_id_pattern": "~", "update_mask": "is_paused"}, {"is_paused": True}),
    ("patch_dags", {"update_mask": "is_paused"}, {"is_paused": True}),
    ("get_dag_runs", {"execution_date_gte": "2023-01-01T00:00:00Z"}, None),
    ("get_dag_runs", {"execution_date_gte": "2023-01-01T00:00:00"}, None),
    ("get_dag_runs", {"start_date_lte": "yesterday"}, None),
    ("get_task_instances", {"duration_gte": "1.5"}, None),
    ("get_task_instances", {"duration_gte": "long"}, None),
    ("post_pool", {}, {"name": "p", "slots": 3}),
    ("post_pool", {}, {"name": "p", "slots": "3"}),
    ("post_pool", {}, {"name": "p", "slots": 3, "occupied_slots": 1}),
    ("post_pool", {}, [1, 2]),
    ("post_variables", {}, {"key": "k", "value": "v"}),
    ("post_variables", {}, {"key": 1, "value": "v"}),
    ("post_dag_run", {}, {"logical_date": "2023-01-01T00:00:00+00:00", "conf": {}}),
    ("post_dag_run", {}, {"logical_date": "2023-01-01T00:00:00"}),
    ("post_dag_run", {}, {"conf": None}),
    ("post_dag_run", {}, {"dag_id": "x"}),
    ("post_user", {}, {"username": "u", "email": "u@example.com", "first_name": "U",
                       "last_name": "T", "password": "p", "roles": [{"name": "Viewer"}]}),
    ("post_user", {}, {"username": "", "email": "u@example.com"}),
    ("update_dag_run_state", {}, {"state": "success"}),
    ("update_dag_run_state", {}, {"state": "running"}),
    ("get_dag_runs_batch", {}, {"page_limit": 0}),
    ("get_dag_runs_batch", {}, {"page_limit": 10, "states": ["success"]}),
]  # fmt: skip

_api = OpenAPI.from_dict(load_spec().document)


def _example_path(path: str) -> str:
    return "/api/v1" + path.replace("{map_index}", "0").replace("{task_try_number}", "1").replace(
        "{event_log_id}", "1"
    ).replace("{import_error_id}", "1").replace("{", "").replace("}", "")


def _openapi_core_accepts(operation_id: str, query: MultiDict[str], body: Any) -> bool:
    op = load_spec().operation(operation_id)
    request = MockRequest(
        "http://localhost",
        op.method.lower(),
        _example_path(op.path),
        args=query,
        data=json.dumps(body) if op.body_schema is not None else None,
    )
    try:
        _api.validate_request(request)
    except Exception:
        return False
    return True


def _simulator_accepts(operation_id: str, query: MultiDict[str], body: Any) -> bool:
    validator = OperationValidator.build(load_spec().operation(operation_id))
    try:
        if validator.body is not None:
            validator.parse_body("application/json", json.dumps(body).encode())
        validator.parse_query(query)
    except ApiError:
        return False
    return True


@pytest.mark.parametrize(("operation_id", "query", "body"), CASES)
def test_same_verdict_as_openapi_core(operation_id: str, query: Any, body: Any) -> None:
    items = query.items() if isinstance(query, dict) else query
    multi: MultiDict[str] = MultiDict(items)
    assert _simulator_accepts(operation_id, multi, body) == _openapi_core_accepts(
        operation_id, multi, body
    )
