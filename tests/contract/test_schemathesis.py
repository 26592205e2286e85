"""Contract: schemathesis generates requests from the vendored spec for every
operation the simulator answers, sends them to a live server and checks that
the answer is never a 5xx, has a sensible status, and conforms to the spec as
Airflow really answers it (simulator.quirks.response_document).

The server runs with response validation on, so a response that does not
conform to the spec is itself a 500: "no 5xx" covers conformance twice, once
with openapi-core inside the server and once with schemathesis here.

Every operation is covered. Each example starts from the same world: the
default one after WORLD_AGE of virtual time (runs, task instances, XComs,
dataset events) plus a few objects created through the API (SEED). Positive
examples mix plain generation (random names: mostly 404s) with requests on
objects that exist (harvested from the list operations) and with complete
bodies (every writable field, nothing else) that get past Airflow's
marshmallow checks; negative examples must be rejected with a 4xx.

Run `pytest -rP tests/contract/test_schemathesis.py` to see, per operation,
which statuses the examples reached."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import negative_data_rejection

from simulator.config import Settings
from simulator.quirks import response_document
from simulator.spec import load_spec
from simulator.spec.loader import Operation
from simulator.testing.live import LiveServer, live_server
from simulator.versions import VERSIONS

pytestmark = pytest.mark.schemathesis

DATASET = "s3://warehouse/orders/cleaned.parquet"  # the ci world's dataset
MAX_EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 12}
# Existing objects offered to an operation's path parameters, at most; also
# the runs whose XComs are harvested.
MAX_KNOWN = 6
AUTH = ("admin", "admin")
PROBLEM_JSON = "application/problem+json"
# Statuses Airflow answers although the spec does not always declare them:
# request validation (400, 415), auth (401, 403), lookups and routing (404,
# 405), content negotiation (406) and conflicts (409).
UNDECLARED_CLIENT_ERRORS = frozenset({400, 401, 403, 404, 405, 406, 409, 415})
# The spec declares get_dag_source's text as `plain/text`; Airflow sends text/plain.
MEDIA_TYPE_TYPOS = {"plain/text": "text/plain"}

# The built-in DAGs run this long before each example: runs and task
# instances in every state, XComs, dataset events, event logs.
WORLD_AGE = timedelta(hours=3)
# POSTs that change nothing.
READ_ONLY_POSTS = frozenset({"test_connection", "get_dag_runs_batch", "get_task_instances_batch"})
ALL = "*"  # the whole SEED, rather than one tag's part
# Objects created through the API, where the create operation is answered; a
# create that fails is left out silently (its own run reports it). Read-only
# operations see them all, the others those of their own tag.
SEED: list[tuple[str, dict[str, Any]]] = [
    (
        "post_connection",
        {
            "connection_id": "sim_conn",
            "conn_type": "http",
            "description": "seeded",
            "host": "example.com",
            "login": "user",
            "password": "secret",
            "port": 8080,
            "schema": "https",
            "extra": '{"verify": false}',
        },
    ),
    ("post_variables", {"key": "sim_var", "value": "42", "description": "seeded"}),
    ("post_pool", {"name": "sim_pool", "slots": 4, "description": "seeded"}),
    (
        "post_role",
        {
            "name": "SimRole",
            "actions": [{"action": {"name": "can_read"}, "resource": {"name": "Connections"}}],
        },
    ),
    (
        "post_user",
        {
            "username": "sim_user",
            "password": "secret",
            "first_name": "Sim",
            "last_name": "User",
            "email": "sim_user@example.com",
            "roles": [{"name": "Viewer"}],
        },
    ),
    # 2.10.5: an external event; the frozen clock keeps the consumer's queue row.
    ("create_dataset_event", {"dataset_uri": DATASET, "extra": {"seeded": True}}),
]

# List operations whose items name objects: (operation, path, collection key,
# path parameter <- item field). `~` reaches every DAG and run; a path value of
# None means each of the first few values already found (tasks per DAG, XComs
# per run).
HARVEST: list[tuple[str, dict[str, str | None], str, dict[str, str]]] = [
    ("get_connections", {}, "connections", {"connection_id": "connection_id"}),
    ("get_variables", {}, "variables", {"variable_key": "key"}),
    ("get_pools", {}, "pools", {"pool_name": "name"}),
    ("get_roles", {}, "roles", {"role_name": "name"}),
    ("get_users", {}, "users", {"username": "username"}),
    ("get_event_logs", {}, "event_logs", {"event_log_id": "event_log_id"}),
    ("get_import_errors", {}, "import_errors", {"import_error_id": "import_error_id"}),
    ("get_dags", {}, "dags", {"dag_id": "dag_id", "file_token": "file_token"}),
    ("get_datasets", {}, "datasets", {"uri": "uri"}),
    (
        "get_dag_dataset_queued_events",
        {"dag_id": "orders_dataset_consumer"},
        "queued_events",
        {"dag_id": "dag_id", "uri": "uri"},
    ),
    ("get_tasks", {"dag_id": None}, "tasks", {"task_id": "task_id"}),
    ("get_dag_runs", {"dag_id": "~"}, "dag_runs", {"dag_id": "dag_id", "dag_run_id": "dag_run_id"}),
    (
        "get_xcom_entries",
        {"dag_id": "~", "dag_run_id": None, "task_id": "~"},
        "xcom_entries",
        {"dag_id": "dag_id", "task_id": "task_id", "xcom_key": "key"},
    ),
    (
        "get_task_instances",
        {"dag_id": "~", "dag_run_id": "~"},
        "task_instances",
        {
            "dag_id": "dag_id",
            "dag_run_id": "dag_run_id",
            "task_id": "task_id",
            "map_index": "map_index",
            "task_try_number": "try_number",
        },
    ),
]

# Objects no list names: a configuration option.
KNOWN: list[dict[str, Any]] = [{"section": "core", "option": "parallelism"}]

Check = Callable[[CheckContext, Response, Case], "bool | None"]


@functools.cache
def _config() -> schemathesis.Config:
    # Explicit, so that no schemathesis.toml found on disk changes the run;
    # the credentials are admin/admin on a throwaway server: show them in curl.
    return schemathesis.Config.from_dict(
        {
            "output": {"sanitization": {"enabled": False}},
            "generation": {"deterministic": True},
            # Invalid requests must be rejected with a client error Airflow answers.
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": sorted(str(s) for s in UNDECLARED_CLIENT_ERRORS)
                }
            },
        }
    )


@functools.cache
def request_schema(version: str) -> Any:
    """Requests are generated from the normalized spec (nullable beside $ref understood)."""
    return schemathesis.openapi.from_dict(load_spec(version).document, config=_config())


@functools.cache
def response_schema(version: str) -> Any:
    """Responses are judged against the spec as that Airflow release answers it."""
    document = response_document(load_spec(version).document, version)
    return schemathesis.openapi.from_dict(document, config=_config())


def _closed(node: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """`node` with references inlined, allOf merged, read-only properties dropped,
    every other property required and no other allowed."""
    if "$ref" in node:
        node = {
            **schemas[node["$ref"].rsplit("/", 1)[1]],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    node = dict(node)
    if "allOf" in node:
        parts = [_closed(part, schemas) for part in node.pop("allOf")]
        node["properties"] = {k: v for part in parts for k, v in part.get("properties", {}).items()}
    if "properties" in node:
        properties = {name: _closed(sub, schemas) for name, sub in node["properties"].items()}
        node["properties"] = {k: v for k, v in properties.items() if not v.get("readOnly")}
        node.update(type="object", required=sorted(node["properties"]), additionalProperties=False)
    if "items" in node:
        node["items"] = _closed(node["items"], schemas)
    if "anyOf" in node:
        node["anyOf"] = [_closed(part, schemas) for part in node["anyOf"]]
    return node


@functools.cache
def complete_body_schema(version: str) -> Any:
    """Bodies with every writable field and nothing else: the spec marks few
    fields required and forbids no unknown ones, while Airflow's marshmallow
    schemas reject both, so plain generation rarely gets a body past them."""
    document = copy.deepcopy(load_spec(version).document)
    schemas = document["components"]["schemas"]
    for operation in load_spec(version).operations:
        if operation.body_schema is not None:
            node = document["paths"][operation.path][operation.method.lower()]
            content = node["requestBody"]["content"]["application/json"]
            content["schema"] = _closed(content["schema"], schemas)
    return schemathesis.openapi.from_dict(document, config=_config())


# --- checks -----------------------------------------------------------------


def _version(case: Case) -> str:
    """The Airflow release whose spec generated the case."""
    return str(case.operation.schema.raw_schema["info"]["version"])


def _is_problem(response: Response) -> bool:
    content_type = response.headers.get("content-type", [""])[0]
    return content_type.split(";")[0].strip() == PROBLEM_JSON


def status_code_is_sensible(ctx: CheckContext, response: Response, case: Case) -> None:
    """Declared statuses pass; an undeclared one must be a client error Airflow
    answers (5xx are not_a_server_error's)."""
    status = response.status_code
    declared = set(case.operation.responses.status_codes)
    if str(status) in declared or status >= 500:
        return
    assert status in UNDECLARED_CLIENT_ERRORS, (
        f"status {status} is neither declared ({', '.join(sorted(declared))}) nor one of "
        f"the client errors Airflow answers undeclared {sorted(UNDECLARED_CLIENT_ERRORS)}"
    )


def content_type_is_airflows(ctx: CheckContext, response: Response, case: Case) -> None:
    """Errors are application/problem+json (Airflow's departure from the spec's
    application/json); everything else has a media type the spec declares."""
    if response.status_code >= 400 and _is_problem(response):
        return
    schema = response_schema(_version(case))
    operation = schema[case.operation.path][case.operation.method]
    documented = {MEDIA_TYPE_TYPOS.get(m, m) for m in schema.get_content_types(operation, response)}
    received = response.headers.get("content-type", [""])[0].split(";")[0].strip().lower()
    assert not documented or received in documented, (
        f"content type {received!r}; the spec declares {', '.join(sorted(documented))}"
    )


def problem_is_well_formed(ctx: CheckContext, response: Response, case: Case) -> None:
    """Every problem body carries its own status and the RFC 7807 members."""
    if not _is_problem(response):
        return
    body = json.loads(response.content)
    assert isinstance(body, dict), f"problem body is not an object: {body!r}"
    assert body.get("status") == response.status_code, (
        f"problem status {body.get('status')!r} differs from HTTP status {response.status_code}"
    )
    assert isinstance(body.get("type"), str), f"problem type is not a string: {body!r}"
    for member in ("title", "detail"):
        assert member in body and isinstance(body[member], str | None), (
            f"problem {member} is missing or not a string: {body!r}"
        )


def _as_json(response: Response) -> Response:
    """The response relabelled application/json, the only media type the spec declares."""
    return Response(
        status_code=response.status_code,
        headers={**response.headers, "content-type": ["application/json"]},
        content=response.content,
        request=response.request,
        elapsed=response.elapsed,
        verify=response.verify,
        message=response.message,
        http_version=response.http_version,
        encoding=response.encoding,
    )


def response_conforms_to_airflow(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """schemathesis' response schema check, against the quirks-patched spec.

    A problem body is judged by the schema its status declares (the spec says
    application/json there); undeclared statuses are problem_is_well_formed's.
    """
    operation = response_schema(_version(case))[case.operation.path][case.operation.method]
    if _is_problem(response):
        response = _as_json(response)
    return operation.validate_response(response, case=case)


CHECKS: list[Check] = [
    not_a_server_error,
    status_code_is_sensible,
    content_type_is_airflows,
    problem_is_well_formed,
    response_conforms_to_airflow,
]
CHECKS_BY_MODE = {
    GenerationMode.POSITIVE: CHECKS,
    GenerationMode.NEGATIVE: [*CHECKS, negative_data_rejection],
}


# --- the world ----------------------------------------------------------------


@dataclass
class Target:
    server: LiveServer
    http: requests.Session
    version: str
    # Path parameter values of objects that exist after seed(), one dict per object.
    known: list[dict[str, Any]] = field(default_factory=list)
    # The seed the world holds; None once a request may have changed it.
    world: str | None = None

    def request(self, operation_id: str, **kwargs: Any) -> requests.Response:
        op = load_spec(self.version).operation(operation_id)
        path = op.path.format(**kwargs.pop("path", {}))
        return self.http.request(op.method, self.server.url + path, auth=AUTH, timeout=10, **kwargs)

    def seed(self, tag: str = ALL) -> None:
        """The default world after WORLD_AGE of virtual time, plus the SEED
        objects (of `tag` only, unless ALL)."""
        self.server.sim.reset()
        self.server.sim.advance(WORLD_AGE.total_seconds())
        for operation_id, body in SEED:
            operation = load_spec(self.version).find(operation_id)
            if operation is not None and tag in (ALL, operation.tag):
                self.request(operation_id, json=body)
        self.world = tag

    def prepare(self, tag: str) -> None:
        """Seed again unless the world already is that seed, untouched."""
        if self.world != tag:
            self.seed(tag)

    def harvest(self) -> None:
        self.seed()
        self.known.extend(KNOWN)
        for operation_id, path, key, fields in HARVEST:
            if load_spec(self.version).find(operation_id) is None:
                continue  # another version's operation
            for path_values in self._expand(path):
                self._collect(operation_id, path_values, key, fields)

    def _expand(self, path: dict[str, str | None]) -> list[dict[str, str]]:
        open_names = [name for name, value in path.items() if value is None]
        if not open_names:
            return [{k: v for k, v in path.items() if v is not None}]
        name = open_names[0]  # one open parameter is all HARVEST needs
        fixed = {k: v for k, v in path.items() if v is not None}
        values = list(dict.fromkeys(f[name] for f in self.known if name in f))
        return [{**fixed, name: value} for value in values[:MAX_KNOWN]]

    def _collect(
        self, operation_id: str, path: dict[str, str], key: str, fields: dict[str, str]
    ) -> None:
        response = self.request(operation_id, path=path)
        if response.status_code != 200:
            return
        for item in response.json().get(key, []):
            found = {param: item[src] for param, src in fields.items() if src in item}
            # Path values of the request itself name the object too (`~` aside).
            found.update({k: v for k, v in path.items() if v != "~" and k not in found})
            # An unmapped task instance (map_index -1) has no mapped-instance route.
            if isinstance(found.get("map_index"), int) and found["map_index"] < 0:
                del found["map_index"]
            self.known.append(found)

    def records_for(self, operation: Operation) -> list[dict[str, Any]]:
        """Existing objects that fill all of the operation's path parameters."""
        names = [p.name for p in operation.parameters if p.location == "path"]
        records: list[dict[str, Any]] = []
        for found in self.known:
            record = {name: found[name] for name in names if name in found}
            if names and len(record) == len(names) and record not in records:
                records.append(record)
        return records[:: max(1, len(records) // MAX_KNOWN)][:MAX_KNOWN]  # spread out


@contextlib.contextmanager
def _target(version: str) -> Iterator[Target]:
    # expose_config: get_config answers its document, not only 403.
    settings_ = Settings(
        scenario="ci",
        airflow_version=version,
        validate_responses=True,
        clock="frozen",
        password_hash_iterations=1000,
        expose_config=True,
    )
    with live_server(settings_) as server, requests.Session() as http:
        found = Target(server, http, version)
        found.harvest()
        yield found


@pytest.fixture(scope="module")
def targets() -> Iterator[Callable[[str], Target]]:
    """A live server per version, started when its first operation runs."""
    with contextlib.ExitStack() as stack:
        made: dict[str, Target] = {}

        def target(version: str) -> Target:
            if version not in made:
                made[version] = stack.enter_context(_target(version))
            return made[version]

        yield target


# --- the run ----------------------------------------------------------------


def is_read_only(operation: Operation) -> bool:
    return operation.method == "GET" or operation.operation_id in READ_ONLY_POSTS


def has_negatable_input(operation: Operation) -> bool:
    """Any string fits a plain string path parameter: negative generation needs
    a query parameter, a body or a typed path parameter to break."""
    return operation.body_schema is not None or any(
        p.location == "query" or p.type != "string" for p in operation.parameters
    )


def cases(operation: Operation, mode: GenerationMode, target: Target) -> st.SearchStrategy[Case]:
    """Plain generation; in positive mode also requests on existing objects and
    requests with complete bodies, each branch about as likely."""
    api_operation = request_schema(operation.version)[operation.path][operation.method]
    generated = api_operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.NEGATIVE:
        return generated
    records = target.records_for(operation)
    branches = []
    if records:
        branches.append(st.one_of([api_operation.as_strategy(path_parameters=r) for r in records]))
    if operation.body_schema is not None:
        complete = complete_body_schema(operation.version)[operation.path][operation.method]
        pinned = records or [None]
        branches.append(st.one_of([complete.as_strategy(path_parameters=r) for r in pinned]))
    return st.one_of(*branches, generated)


def run_operation(operation: Operation, mode: GenerationMode, target: Target) -> Counter[int]:
    checks = CHECKS_BY_MODE[mode]
    transport = {"base_url": target.server.url, "auth": AUTH}
    statuses: Counter[int] = Counter()
    # Every example starts from the same world: a read from all of the seed, a
    # write from its own tag's. A rejected request changes nothing, so the
    # world is rebuilt only after a write that succeeded or crashed.
    world = ALL if is_read_only(operation) else operation.tag

    @settings(
        max_examples=MAX_EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        # A failure is reported as generated: shrinking would multiply the runtime.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=cases(operation, mode, target))
    def run(case: Case) -> None:
        target.prepare(world)
        response = case.call(session=target.http, timeout=10, **transport)
        statuses[response.status_code] += 1
        if world != ALL and not 400 <= response.status_code < 500:
            target.world = None
        case.validate_response(response, checks=checks, transport_kwargs=transport)

    try:
        run()
    except FailureGroup as failure:
        failure.add_note(
            f"operation {operation.operation_id}: {operation.method} /api/v1{operation.path} "
            f"({mode.value} generation)"
        )
        raise
    return statuses


# Version by version; reads first, then writes by tag: the fewer times the
# world changes, the fewer rebuilds.
ORDER = sorted(
    (op for version in VERSIONS for op in load_spec(version).operations),
    key=lambda op: (op.version, not is_read_only(op), op.tag),
)


@pytest.mark.parametrize("operation", ORDER, ids=lambda op: f"{op.version}-{op.operation_id}")
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_operation(
    operation: Operation, mode: GenerationMode, targets: Callable[[str], Target]
) -> None:
    target = targets(operation.version)
    if mode is GenerationMode.NEGATIVE and not has_negatable_input(operation):
        pytest.skip(f"{operation.operation_id} has no input that can be made invalid")
    try:
        statuses = run_operation(operation, mode, target)
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip(f"schemathesis cannot make a request to {operation.operation_id} invalid")
    # Shown with -rP: how far into the operation the examples reached.
    print(f"{operation.operation_id} ({mode.value}): statuses {dict(sorted(statuses.items()))}")
