"""One generic aiohttp wrapper per operation: extract -> validate -> auth ->
call the handler -> JSON / text / 204.

The order of checks is Airflow's: the body, then the query, then
authentication, then permissions, then the handler.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.api.responses import Json, Text
from simulator.errors import PayloadTooLarge
from simulator.server import audit
from simulator.server.access import PUBLIC
from simulator.server.encoding import json_response
from simulator.server.faults import DETAILS
from simulator.server.keys import AUTH, SIM, USER
from simulator.server.validation import OperationValidator
from simulator.spec.loader import Operation

Endpoint = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Request facts a handler may ask for by naming them in its signature.
CONTEXT = ("user", "accept")


def to_response(result: Any) -> web.StreamResponse:
    if result is None:
        return web.Response(status=204)
    if isinstance(result, Text):
        # Exactly the content type Airflow sends (aiohttp would add a charset).
        return web.Response(
            status=result.status,
            body=result.body.encode(),
            headers={"Content-Type": result.content_type},
        )
    if isinstance(result, Json):
        body = json.dumps(result.body, indent=result.indent, sort_keys=result.sort_keys)
        return web.Response(body=body.encode(), content_type="application/json")
    return json_response(result)


async def _read_body(request: web.Request) -> bytes:
    """The body, up to the app's client_max_size; past it a 413 in werkzeug's
    words, as connexion renders a RequestEntityTooLarge (Airflow itself sets
    no bound: the quirk `request-body-bound`). A client that leaves before
    its body is in is the problems middleware's (werkzeug's ClientDisconnected)."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge("Request Entity Too Large", DETAILS[413]) from None


def make_endpoint(operation: Operation, handler: Callable[..., Any]) -> Endpoint:
    wanted = set(inspect.signature(handler).parameters)
    context = [name for name in CONTEXT if name in wanted]
    path_params = [
        (p.name, p.type == "integer") for p in operation.parameters if p.location == "path"
    ]
    public = operation.operation_id in PUBLIC
    validator: OperationValidator | None = None

    async def endpoint(request: web.Request) -> web.StreamResponse:
        nonlocal validator
        if validator is None:  # built on first use: start-up stays fast
            validator = OperationValidator.build(operation)
        app = request.app
        sim = app[SIM]
        kwargs: dict[str, Any] = {}
        if validator.body is not None:
            raw = await _read_body(request)
            kwargs["body"] = validator.parse_body(request.headers.get("Content-Type", ""), raw)
        kwargs.update(validator.parse_query(request.query))
        path = {
            name: int(request.match_info[name]) if is_int else request.match_info[name]
            for name, is_int in path_params
        }
        kwargs.update(path)
        user = None
        if not public:
            user = await app[AUTH].authenticate(sim, request.headers.get("Authorization"))
            request[USER] = user.username  # for the journal, also when refused below
            dag_id = path.get("dag_id")
            app[AUTH].authorize(sim, user, operation.operation_id, str(dag_id) if dag_id else None)
        sim.catch_up()
        if "user" in context:
            kwargs["user"] = user
        if "accept" in context:
            kwargs["accept"] = request.headers.get("Accept")
        result = handler(sim, **kwargs)
        audit.record(sim, operation.operation_id, user, request, path, kwargs.get("body"))
        return to_response(result)

    endpoint.__name__ = operation.operation_id
    return endpoint
