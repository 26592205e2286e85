"""One aiohttp route per spec operation, named by its operationId.

Path templates become aiohttp patterns: integer parameters match digits only
(werkzeug's int converter, so `/eventLogs/abc` is no route), `format: path`
parameters may contain slashes. Static segments win over variables, as in
werkzeug: `/dags/~/dagRuns/list` is registered before `/dags/{dag_id}/dagRuns/{dag_run_id}`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from aiohttp import web

from simulator.server.adapter import CONTEXT, make_endpoint
from simulator.spec.loader import BASE_PATH, Operation, Spec


class MissingHandler(RuntimeError):
    pass


def aiohttp_path(operation: Operation) -> str:
    path = operation.path
    for param in operation.parameters:
        if param.location != "path":
            continue
        if param.type == "integer":
            pattern = param.name + r":\d+"
        elif param.schema.get("format") == "path":
            pattern = param.name + ":.+"
        else:
            pattern = param.name
        path = path.replace("{" + param.name + "}", "{" + pattern + "}")
    return BASE_PATH + path


def _specificity(operation: Operation) -> tuple[tuple[int, int], ...]:
    """Sort key: per segment, literals before digit-only variables before any-string."""
    key = []
    for segment in operation.path.strip("/").split("/"):
        if not segment.startswith("{"):
            key.append((0, 0))
            continue
        name = segment.strip("{}")
        param = next(p for p in operation.parameters if p.name == name)
        rank = 1 if param.type == "integer" else 3 if param.schema.get("format") == "path" else 2
        key.append((rank, 0))
    return tuple(key)


def resolve_handler(operation: Operation) -> Callable[..., Any]:
    module = importlib.import_module(f"simulator.api.{operation.module}")
    handler = getattr(module, operation.operation_id, None)
    if handler is None:
        raise MissingHandler(f"simulator.api.{operation.module} has no {operation.operation_id}")
    accepted = set(inspect.signature(handler).parameters)
    expected = {p.name for p in operation.parameters}
    if operation.body_schema is not None:
        expected.add("body")
    missing = expected - accepted
    unknown = accepted - expected - set(CONTEXT) - {"sim"}
    if missing or unknown:
        raise MissingHandler(
            f"{operation.operation_id}: signature lacks {sorted(missing)}, "
            f"has extra {sorted(unknown)}"
        )
    return handler


def add_routes(app: web.Application, spec: Spec) -> None:
    for operation in sorted(spec.operations, key=_specificity):
        endpoint = make_endpoint(operation, resolve_handler(operation))
        resource = app.router.add_resource(aiohttp_path(operation), name=operation.operation_id)
        resource.add_route(operation.method, endpoint)
        if operation.method == "GET":
            # werkzeug answers HEAD for every GET rule (the body is dropped).
            resource.add_route("HEAD", endpoint)
