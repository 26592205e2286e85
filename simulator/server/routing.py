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
    methods: dict[str, set[str]] = {}  # methods by path
    for operation in sorted(spec.operations, key=_specificity):
        endpoint = make_endpoint(operation, resolve_handler(operation))
        path = aiohttp_path(operation)
        resource = app.router.add_resource(path, name=operation.operation_id)
        resource.add_route(operation.method, endpoint)
        methods.setdefault(path, {"OPTIONS"}).add(operation.method)
        if operation.method == "GET":
            # werkzeug answers HEAD for every GET rule (the body is dropped).
            resource.add_route("HEAD", endpoint)
            methods[path].add("HEAD")
    for path in methods:
        app.router.add_route("OPTIONS", path, options)


async def options(request: web.Request) -> web.StreamResponse:
    """Flask's automatic OPTIONS answer: 200, no body, no authentication,
    `Allow` naming the methods of every route that matches the path (as
    werkzeug's union: /dags/~/dagRuns/list is also /dags/{id}/dagRuns/{run};
    sorted, where Flask's order follows a set's). An unnamed route: a
    preflight is no operation."""
    allowed = {"OPTIONS"}
    for resource in request.app.router.resources():
        allowed |= (await resource.resolve(request))[1]
    headers = {"Allow": ", ".join(sorted(allowed))}
    return web.Response(headers=headers, content_type="text/html", charset="utf-8")
