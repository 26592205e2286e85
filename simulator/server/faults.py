"""The HTTP fault middleware: what a client of a flaky Airflow sees.

It sits inside the journal and outside response validation and the problem
renderer, so a fault's answer is journaled but never checked against the
spec. /_sim routes are never faulted. When no HTTP fault is defined and no
`X-Sim-Fault` header may be honoured, a request costs one attribute check.

A request's firings (simulator/faults/registry) come in rule order, each
with its phase:
- before: their latencies add up and are slept (wall time) before the
  handler; the first with an action answers instead of the handler, which
  then never runs (nothing changes). `truncate`, `malformed` and `dribble`
  shape the real answer, so with them the handler does run.
- after: the handler runs and its changes stay; the after-latencies are
  slept, then the first after-action replaces the answer ("committed but
  response lost").

Actions on the wire: `status` a problem body (or a given body) with the
status; `reset` an RST and no response; `empty` a FIN and no bytes;
`truncate` the real status line and headers (full Content-Length) and a
share of the body, then a FIN; `malformed` a 200 whose JSON body is cut and
followed by garbage; `dribble` the real answer with its body in pieces
spread over wall seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import struct
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.helpers import must_be_empty_body
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDict

from simulator.errors import BadRequest
from simulator.faults.documents import HEADER, parse_header
from simulator.faults.model import (
    AFTER,
    BEFORE,
    DRIBBLE,
    EMPTY,
    MALFORMED,
    RESET,
    STATUS,
    TRUNCATE,
    Firing,
    HttpAction,
    RequestFacts,
)
from simulator.server import problems
from simulator.server.auth import basic_pair
from simulator.server.encoding import dump_json
from simulator.server.keys import FAULT, SIM, SPEC

CONTROL = "/_sim"
MAX_DELAY = 300.0  # wall seconds one request waits at most, whatever faults add up to
# Actions that answer without the handler in the before phase; the others
# shape the handler's real answer.
ANSWERS = (STATUS, RESET, EMPTY)
# What follows the cut in a malformed body: no `"` or `\`, and `<` is not
# JSON outside a string, so the result never parses, wherever the cut falls.
GARBAGE = b"<!-- malformed by airflow-sim -->"

# Airflow's api_connexion EXCEPTIONS_LINK_MAP: the statuses whose problems
# link to the docs; any other status is `about:blank`, as in problems.py.
LINKED = {
    400: "BadRequest", 401: "Unauthenticated", 403: "PermissionDenied", 404: "NotFound",
    405: "MethodNotAllowed", 409: "AlreadyExists", 500: "Unknown",
}  # fmt: skip
# werkzeug's names where they differ from http.HTTPStatus's phrases.
TITLES = {414: "Request URI Too Large", 418: "I'm a teapot"}
# werkzeug's descriptions: the detail connexion gives an HTTP error.
DETAILS = {
    400: "The browser (or proxy) sent a request that this server could not understand.",
    401: "The server could not verify that you are authorized to access the URL requested. "
    "You either supplied the wrong credentials (e.g. a bad password), or your browser "
    "doesn't understand how to supply the credentials required.",
    403: "You don't have the permission to access the requested resource. It is either "
    "read-protected or not readable by the server.",
    404: problems.ROUTE_NOT_FOUND,
    405: problems.METHOD_NOT_ALLOWED,
    408: "The server closed the network connection because the browser didn't finish the "
    "request within the specified time.",
    409: "A conflict happened while processing the request. The resource might have been "
    "modified while the request was being processed.",
    413: "The data value transmitted exceeds the capacity limit.",
    429: "This user has exceeded an allotted request count. Try again later.",
    500: "The server encountered an internal error and was unable to complete your request. "
    "Either the server is overloaded or there is an error in the application.",
    501: "The server does not support the action requested by the browser.",
    502: "The proxy server received an invalid response from an upstream server.",
    503: "The server is temporarily unable to service your request due to maintenance "
    "downtime or capacity problems. Please try again later.",
    504: "The connection to an upstream server timed out.",
}


class Cut(web.StreamResponse):
    """What the middleware returns once a fault has closed the connection:
    aiohttp takes it for a client gone away (no traceback, no keep-alive).
    `sent` is the status that went out before the cut (None: none did)."""

    def __init__(self, sent: int | None) -> None:
        super().__init__(status=sent or 0)
        self.sent = sent

    async def prepare(self, request: web.BaseRequest) -> Any:
        raise ConnectionResetError("the connection was closed by a fault")


def faults_middleware(allow_header: bool) -> Middleware:
    """The middleware; `allow_header`: honour X-Sim-Fault (--allow-fault-header)."""

    @web.middleware
    async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.app[SIM].faults.has_http and not (
            allow_header and HEADER in request.headers
        ):
            return await handler(request)
        return await _faulted(request, handler, allow_header)

    return faults


async def _faulted(
    request: web.Request, handler: Handler, allow_header: bool
) -> web.StreamResponse:
    path = request.path
    if path == CONTROL or path.startswith(CONTROL + "/"):
        return await handler(request)
    sim = request.app[SIM]
    now = sim.clock.now()
    facts = request_facts(request)
    firings: list[Firing] = []
    text = request.headers.get(HEADER) if allow_header else None
    if text is not None:
        try:
            fault = parse_header(text, now)
        except BadRequest as error:
            return problems.render(error, request.app[SPEC].version.docs)  # names the header
        firings += sim.faults.fire_header(fault, facts, now)
    firings += sim.faults.http(facts, now)
    if not firings:
        return await handler(request)
    return await _apply(request, handler, firings)


async def _apply(
    request: web.Request, handler: Handler, firings: Sequence[Firing]
) -> web.StreamResponse:
    before = [f for f in firings if f.phase == BEFORE]
    after = [f for f in firings if f.phase == AFTER]
    chosen = next((f for f in before if f.action is not None), None)
    request[FAULT] = _shown(firings, chosen)
    await _sleep(before)
    if chosen is not None and chosen.action is not None and chosen.action.type in ANSWERS:
        return await _answer(request, chosen.action, None)
    response = await handler(request)
    if chosen is None:
        chosen = next((f for f in after if f.action is not None), None)
        request[FAULT] = _shown(firings, chosen)
    await _sleep(after)
    if chosen is None or chosen.action is None:
        return response
    return await _answer(request, chosen.action, response)


def _shown(firings: Sequence[Firing], chosen: Firing | None) -> str:
    """The fault the journal names: the one that answers, else the first that delays."""
    if chosen is not None:
        return chosen.fault_id
    return next((f.fault_id for f in firings if f.latency > 0), firings[0].fault_id)


async def _sleep(firings: Sequence[Firing]) -> None:
    delay = min(MAX_DELAY, sum(f.latency for f in firings))
    if delay > 0:
        await asyncio.sleep(delay)


async def _answer(
    request: web.Request, action: HttpAction, response: web.StreamResponse | None
) -> web.StreamResponse:
    kind = action.type
    if kind == STATUS:
        return status_response(action, request.app[SPEC].version.docs)
    if kind in (RESET, EMPTY):
        await _drain(request)
        _close(request, reset=kind == RESET)
        return Cut(None)
    assert response is not None  # the handler ran: these shape its answer
    body = _body(response)
    if kind == MALFORMED:
        return malformed_response(body or b"")
    if body is None or must_be_empty_body(request.method, response.status):
        return response  # no body to cut or slow down (a HEAD, a 204)
    if kind == TRUNCATE:
        return await _truncate(request, response, body, action.fraction)
    assert kind == DRIBBLE, kind
    return await _dribble(request, response, body, action.chunks, action.seconds)


def status_response(action: HttpAction, docs: str = problems.DOCS) -> web.Response:
    """A `status` action's answer: a problem body as Airflow's, or the given body."""
    status = action.status
    headers = CIMultiDict(action.headers)
    if action.retry_after is not None:
        headers["Retry-After"] = str(action.retry_after)
    if action.body is None:
        name = LINKED.get(status)
        problem = {
            "detail": action.detail if action.detail is not None else DETAILS.get(status),
            "status": status,
            "title": _title(status),
            "type": f"{docs}#section/Errors/{name}" if name else "about:blank",
        }
        body, content_type = dump_json(problem), problems.PROBLEM_JSON
    elif isinstance(action.body, str):
        body, content_type = action.body.encode(), "text/plain"
    else:
        body, content_type = dump_json(action.body), "application/json"
    headers.setdefault("Content-Type", content_type)
    return web.Response(status=status, body=body, headers=headers)


def _title(status: int) -> str | None:
    if status in TITLES:
        return TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


def malformed_response(body: bytes) -> web.Response:
    """A 200 that says JSON and is not: the real body cut halfway (on a
    character boundary) and garbage after it."""
    cut = len(body) // 2
    while cut and (body[cut] & 0xC0) == 0x80:  # not inside a UTF-8 sequence
        cut -= 1
    return web.Response(status=200, body=body[:cut] + GARBAGE, content_type="application/json")


def _body(response: web.StreamResponse) -> bytes | None:
    """The answer's body; None when it is streamed (never, for Airflow's routes)."""
    if isinstance(response, web.Response):
        body = response.body
        if body is None:
            return b""
        if isinstance(body, bytes | bytearray):
            return bytes(body)
    return None


def _headers_only(response: web.StreamResponse, length: int) -> web.StreamResponse:
    """A streamed copy of the answer's status and headers, its full length declared."""
    copy = web.StreamResponse(status=response.status, reason=response.reason)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            copy.headers.add(name, value)
    copy.content_length = length
    return copy


async def _truncate(
    request: web.Request, response: web.StreamResponse, body: bytes, fraction: float
) -> web.StreamResponse:
    stream = _headers_only(response, len(body))
    try:
        await stream.prepare(request)
        await stream.write(body[: int(len(body) * fraction)])  # b"" still sends the headers
    except ConnectionError:
        return Cut(response.status)  # the client left first
    _close(request, reset=False)
    return Cut(response.status)


async def _dribble(
    request: web.Request, response: web.StreamResponse, body: bytes, chunks: int, seconds: float
) -> web.StreamResponse:
    """The headers at once, then piece k of `chunks` at k * seconds / chunks."""
    stream = _headers_only(response, len(body))
    bounds = [len(body) * k // chunks for k in range(chunks + 1)]
    try:
        await stream.prepare(request)
        await stream.write(b"")  # the headers
        for start, end in itertools.pairwise(bounds):
            await asyncio.sleep(seconds / chunks)
            await stream.write(body[start:end])
        await stream.write_eof()
    except ConnectionError:
        return Cut(response.status)  # the client left before the end
    return stream


async def _drain(request: web.Request) -> None:
    """Read the request's body first: the journal keeps it, and a socket
    closed with unread bytes would send an RST instead of a FIN."""
    if request.body_exists:
        with contextlib.suppress(web.HTTPException, ConnectionError):
            await request.read()


def _close(request: web.Request, *, reset: bool) -> None:
    """Close the connection: with an RST (SO_LINGER 0, then abort) or a FIN."""
    transport = request.transport
    if transport is None or transport.is_closing():
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


def request_facts(request: web.Request) -> RequestFacts:
    """What a fault's `match` looks at."""
    name = request.match_info.route.name
    operation = request.app[SPEC].find(name) if name else None
    return RequestFacts(
        method=request.method,
        path=request.path,
        operation_id=name,
        tag=operation.tag if operation else None,
        user=named_user(request.headers.get("Authorization")),
    )


def named_user(header: str | None) -> str | None:
    """The username a Basic Authorization header names (its password unchecked)."""
    pair = basic_pair(header)
    return pair[0] if pair is not None else None
