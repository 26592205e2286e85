"""One aiohttp route per spec operation, named by its operationId.

Path templates become aiohttp patterns: integer parameters match digits only
(werkzeug's int converter, so `/eventLogs/abc` is no route), `format: path`
parameters may contain slashes. Static segments win over variables, as in
werkzeug: `/dags/~/dagRuns/list` is registered before `/dags/{dag_id}/dagRuns/{dag_run_id}`.

Routes match the percent-decoded path, as werkzeug matches PATH_INFO (see
DecodedRoutes): a `%2F` in a path parameter is a `/` that routing sees.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from yarl import URL

from simulator.server.adapter import CONTEXT, make_endpoint
from simulator.spec.loader import BASE_PATH, Operation, Spec

if TYPE_CHECKING:
    from aiohttp.web_urldispatcher import _InfoDict


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
    signature = inspect.signature(handler).parameters
    accepted = set(signature)
    expected = {p.name for p in operation.parameters}
    if operation.body_schema is not None:
        expected.add("body")
    missing = expected - accepted
    # A parameter another version declares has a default: this version never sends it.
    optional = {name for name, p in signature.items() if p.default is not p.empty}
    unknown = accepted - expected - optional - set(CONTEXT) - {"sim"}
    if missing or unknown:
        raise MissingHandler(
            f"{operation.operation_id}: signature lacks {sorted(missing)}, "
            f"has extra {sorted(unknown)}"
        )
    return handler


def add_routes(app: web.Application, spec: Spec) -> None:
    routes = DecodedRoutes()
    app.router.register_resource(routes)
    methods: dict[str, set[str]] = {}  # methods by path
    for operation in sorted(spec.operations, key=_specificity):
        endpoint = make_endpoint(operation, resolve_handler(operation))
        path = aiohttp_path(operation)
        resource = routes.router.add_resource(path, name=operation.operation_id)
        resource.add_route(operation.method, endpoint)
        methods.setdefault(path, {"OPTIONS"}).add(operation.method)
        if operation.method == "GET":
            # werkzeug answers HEAD for every GET rule (the body is dropped).
            resource.add_route("HEAD", endpoint)
            methods[path].add("HEAD")
    for path in methods:
        routes.router.add_route("OPTIONS", path, options)


def as_routed(request: web.Request) -> web.Request:
    """The request with the path werkzeug routes on. gunicorn percent-decodes
    the whole path into PATH_INFO, so `dagRuns/a%2Fb` is `dagRuns/a/b` to
    werkzeug, whose converters match no `/` (but `path`'s). aiohttp matches
    `path_safe`, which keeps `%2F` (and `%25`) encoded. Only a path with a
    `%2F` (yarl writes `%2f` so too) routes otherwise: it is routed on the
    decoded path, with each `%` written `%25` as path_safe writes it (so
    `%252F` stays the text `%2F` in a parameter, as in werkzeug)."""
    if "%2F" not in request.rel_url.path_safe:
        return request
    decoded = request.path.replace("%", "%25")
    return request.clone(rel_url=URL.build(path=decoded, encoded=True))


class DecodedRoutes(web.AbstractResource):
    """The API's routes, one resource of the app's router that resolves them
    (in an inner router of their own) against the decoded path, as
    werkzeug does (`as_routed`): a run id `a/b` sent as `a%2Fb` is no route
    (the 404 of an unknown path), `x%2FtaskInstances` lists run x's task
    instances, and a `format: path` parameter (a variable key, a dataset
    uri) gets its slashes. Indexed at `/`, the app's router tries it after
    any other route (the docs, `/_sim`)."""

    def __init__(self) -> None:
        super().__init__()
        self.router = web.UrlDispatcher()

    @property
    def canonical(self) -> str:
        return "/"

    async def resolve(
        self, request: web.Request
    ) -> tuple[web.UrlMappingMatchInfo | None, set[str]]:
        match_info = await self.router.resolve(as_routed(request))
        error = match_info.http_exception
        if error is None:
            return match_info, set()
        if isinstance(error, web.HTTPMethodNotAllowed):
            return None, set(error.allowed_methods)  # the app's router answers 405
        return None, set()  # and here 404

    async def methods(self, request: web.Request) -> set[str]:
        """The methods of every route that matches the request's path."""
        routed = as_routed(request)
        allowed: set[str] = set()
        for resource in self.router.resources():
            allowed |= (await resource.resolve(routed))[1]
        return allowed

    def url_for(self, **kwargs: str) -> URL:
        raise RuntimeError("DecodedRoutes has no URL of its own")

    def add_prefix(self, prefix: str) -> None:
        raise RuntimeError("DecodedRoutes is no sub-application")

    def get_info(self) -> _InfoDict:
        return {}

    def raw_match(self, path: str) -> bool:
        return False

    def freeze(self) -> None:
        self.router.freeze()

    def __len__(self) -> int:
        return len(self.router.routes())

    def __iter__(self) -> Iterator[web.AbstractRoute]:
        return iter(self.router.routes())


async def options(request: web.Request) -> web.StreamResponse:
    """Flask's automatic OPTIONS answer: 200, no body, no authentication,
    `Allow` naming the methods of every route that matches the path (as
    werkzeug's union: /dags/~/dagRuns/list is also /dags/{id}/dagRuns/{run};
    sorted, where Flask's order follows a set's). An unnamed route: a
    preflight is no operation."""
    allowed = {"OPTIONS"}
    for resource in request.app.router.resources():
        if isinstance(resource, DecodedRoutes):
            allowed |= await resource.methods(request)
        else:
            allowed |= (await resource.resolve(request))[1]
    headers = {"Allow": ", ".join(sorted(allowed))}
    return web.Response(headers=headers, content_type="text/html", charset="utf-8")
