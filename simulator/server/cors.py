"""CORS as Airflow 2.5.3's webserver sends it (www/extensions/init_views.py,
`set_cors_headers_on_response`, an after-request hook of the API blueprint):
every answer of a route the API has gets

- `Access-Control-Allow-Headers` and `-Methods` when [api]
  access_control_allow_headers / _methods are set, whatever the origin;
- `Access-Control-Allow-Origin`: `*` when the origins are `*`; else the
  request's `Origin` when it is one of the space-separated origins (no
  `Origin` header counts as the first of them); nothing for another origin.

Errors of a matched route (400, 401, 403, 404 from a handler, a fault's
answer) carry them too; a path no route matches (404) or a method the
route lacks (405) does not, as in Flask, where those never reach the
blueprint. /_sim is not the API."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.server.keys import SETTINGS
from simulator.spec.loader import BASE_PATH


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    matched = request.match_info.route.resource is not None
    # A fault that streams its own answer (dribble, truncate) has sent its head.
    if matched and request.path.startswith(BASE_PATH) and not response.prepared:
        add_headers(request, response)
    return response


def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    settings = request.app[SETTINGS]
    if settings.cors_headers:
        response.headers["Access-Control-Allow-Headers"] = settings.cors_headers
    if settings.cors_methods:
        response.headers["Access-Control-Allow-Methods"] = settings.cors_methods
    origins = settings.cors_origins
    if origins == "*":
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origins:
        allowed = origins.split(" ")
        origin = request.headers.get("Origin", allowed[0])
        if origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
