"""Middlewares: every error rendered as a problem body, and, in response
validation mode, every response checked against the spec."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.errors import ApiError
from simulator.server import problems
from simulator.server.keys import RESPONSES, SPEC
from simulator.server.validation import ResponseMismatch

log = logging.getLogger("simulator")
# werkzeug's BadRequest text, for a client that left before its request was in.
DISCONNECTED = "The browser (or proxy) sent a request that this server could not understand."


@web.middleware
async def problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return problems.render(error, request.app[SPEC].version.docs)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problems.render_http(exc)
    except ConnectionResetError:
        # The client left before its request was in: werkzeug's
        # ClientDisconnected, a 400 no one reads.
        return problems.problem_response(400, "Bad Request", DISCONNECTED, "about:blank")
    except Exception:
        # Never expected: a crash is a bug. Answer as later Airflow releases do.
        log.exception("unhandled error in %s %s", request.method, request.path)
        return problems.problem_response(
            500,
            "Internal Server Error",
            None,
            f"{request.app[SPEC].version.docs}#section/Errors/Unknown",
        )


@web.middleware
async def response_validation_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    response = await handler(request)
    name = request.match_info.route.name
    operation = request.app[SPEC].find(name) if name else None
    if operation is None or not isinstance(response, web.Response):
        return response  # not an Airflow operation (route errors, /_sim)
    content_type = response.content_type if response.body is not None else ""
    body = None
    if content_type.endswith("json") and response.body:
        assert isinstance(response.body, bytes)
        body = json.loads(response.body)
    try:
        request.app[RESPONSES].validate(operation, response.status, content_type, body)
    except ResponseMismatch as mismatch:
        log.error("response does not conform to the spec: %s", mismatch)
        return problems.problem_response(
            500, "Response does not conform to the spec", str(mismatch), "about:blank"
        )
    return response
