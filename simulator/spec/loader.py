"""Load a version's spec (v1-<version>.yaml) once, normalize it, and
describe each operation.

The spec is the single source of truth for routes and validity. Loading it
is the largest part of start-up, so each is read once per process and shared.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.versions import DEFAULT_VERSION, AirflowVersion, airflow_version

SPEC_DIR = Path(__file__).parent
BASE_PATH = "/api/v1"

# Spec tag -> api/ module. An operation with several tags uses its first.
TAG_MODULES = {
    "Config": "config",
    "Connection": "connections",
    "DAG": "dags",
    "DAGRun": "dag_runs",
    "DagStats": "dag_stats",
    "DagWarning": "dag_warnings",
    "Dataset": "datasets",
    "EventLog": "event_logs",
    "ImportError": "import_errors",
    "Monitoring": "monitoring",
    "Permission": "permissions",
    "Plugin": "plugins",
    "Pool": "pools",
    "Provider": "providers",
    "Role": "roles",
    "TaskInstance": "task_instances",
    "User": "users",
    "Variable": "variables",
    "XCom": "xcom",
}
METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # "path" | "query"
    required: bool
    schema: dict[str, Any]
    explode: bool
    default: Any = None
    # Where the parameter's schema sits in the document, for validators.
    pointer: tuple[str | int, ...] = ()

    @property
    def type(self) -> str:
        return str(self.schema.get("type", "string"))


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # spec path, relative to /api/v1
    tag: str
    module: str
    parameters: tuple[Parameter, ...]
    body_schema: dict[str, Any] | None
    body_required: bool
    responses: dict[str, dict[str, Any]] = field(repr=False)
    version: str = DEFAULT_VERSION  # the Airflow release whose spec declares it

    @property
    def query_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.parameters if p.location == "query")


@dataclass
class Spec:
    version: AirflowVersion
    raw: dict[str, Any]
    document: dict[str, Any]  # normalized: what validation uses
    operations: list[Operation]

    def operation(self, operation_id: str) -> Operation:
        found = self.find(operation_id)
        if found is None:
            raise KeyError(operation_id)
        return found

    def find(self, operation_id: str) -> Operation | None:
        return self._by_id.get(operation_id)

    @functools.cached_property
    def _by_id(self) -> dict[str, Operation]:
        return {op.operation_id: op for op in self.operations}


# Keywords that stay on the outer schema when a nullable one is wrapped.
OUTER_KEYWORDS = frozenset({"description", "readOnly", "writeOnly", "default", "example"})


def normalize(document: dict[str, Any]) -> dict[str, Any]:
    """Make `nullable: true` mean what Airflow means by it, for the validators.

    OpenAPI 3.0 honours `nullable` only beside a `type`, so validators refuse
    null where the spec puts it beside a `$ref` (whose siblings are ignored)
    or beside an `anyOf` with a discriminator (ScheduleInterval), although
    Airflow returns and accepts null there. Such a schema becomes
    `anyOf: [the schema, null]`. (Wrapping in `allOf` is not enough:
    openapi-schema-validator descends into the referenced schema with the null.)
    """

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            node = {key: walk(value) for key, value in node.items()}
            if node.get("nullable") is True and "type" not in node:
                inner = {k: v for k, v in node.items() if k not in OUTER_KEYWORDS | {"nullable"}}
                outer = {k: v for k, v in node.items() if k in OUTER_KEYWORDS}
                return {**outer, "anyOf": [inner, {"enum": [None]}]}
            return node
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(document)  # the walk rebuilds every container: `document` is untouched


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _parameter(
    document: dict[str, Any], node: dict[str, Any], pointer: tuple[str | int, ...]
) -> Parameter:
    if "$ref" in node:
        pointer = tuple(node["$ref"].lstrip("#/").split("/"))
        node = _resolve(document, node)
    location = node["in"]
    style_default = "form" if location == "query" else "simple"
    explode = node.get("explode", node.get("style", style_default) == "form")
    return Parameter(
        name=node["name"],
        location=location,
        required=bool(node.get("required", False)),
        schema=node.get("schema", {}),
        explode=bool(explode),
        default=node.get("schema", {}).get("default"),
        pointer=(*pointer, "schema"),
    )


def _operations(document: dict[str, Any], version: str) -> list[Operation]:
    operations = []
    for path, item in document["paths"].items():
        shared = [
            _parameter(document, p, ("paths", path, "parameters", i))
            for i, p in enumerate(item.get("parameters", []))
        ]
        for method in METHODS:
            node = item.get(method)
            if node is None:
                continue
            own = [
                _parameter(document, p, ("paths", path, method, "parameters", i))
                for i, p in enumerate(node.get("parameters", []))
            ]
            names = {p.name for p in own}
            params = tuple([p for p in shared if p.name not in names] + own)
            body = node.get("requestBody")
            body_schema = None
            if body is not None:
                body = _resolve(document, body)
                body_schema = body["content"]["application/json"]["schema"]
            tag = node["tags"][0]
            operations.append(
                Operation(
                    operation_id=node["operationId"],
                    method=method.upper(),
                    path=path,
                    tag=tag,
                    module=TAG_MODULES[tag],
                    parameters=params,
                    body_schema=body_schema,
                    body_required=bool(body and body.get("required", False)),
                    responses={
                        str(code): _resolve(document, resp)
                        for code, resp in node.get("responses", {}).items()
                    },
                    version=version,
                )
            )
    return operations


@functools.cache
def load_spec(version: str = DEFAULT_VERSION) -> Spec:
    release = airflow_version(version)
    with (SPEC_DIR / release.spec_file).open("rb") as fh:
        raw = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    document = normalize(raw)
    return Spec(release, raw, document, _operations(document, version))
