"""Middleware that records every Airflow API call in the request journal
(state/journal): outermost, so that it sees the status finally sent, error
bodies and fault answers included (with the fault's id; no status when a
fault closed the connection before sending one). /_sim calls are not
journaled."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.server.faults import Cut
from simulator.server.keys import FAULT, SIM, USER
from simulator.state.journal import Entry, kept_body

CONTROL = "/_sim"


@web.middleware
async def journal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sim = request.app[SIM]
    path = request.path
    if not sim.journal.size or path == CONTROL or path.startswith(CONTROL + "/"):
        return await handler(request)
    virtual = sim.clock.now()
    # The entry's wall_time and duration_ms: the journal's own facts, which the
    # world never sees (the world runs on the virtual clock only).
    wall, started = time.time(), time.perf_counter()
    response = await handler(request)
    elapsed = time.perf_counter() - started
    try:
        raw = await request.read() if request.body_exists else b""
    except web.HTTPException:  # too large: the handler has answered 413
        raw = b""
    except ConnectionError:  # a fault closed the connection before the body was read
        raw = b""
    sim.journal.add(
        Entry(
            id=sim.journal.next_id(),
            time=virtual,
            wall_time=wall,
            method=request.method,
            path=path,
            query=tuple(request.query.items()),
            operation_id=request.match_info.route.name,
            status=response.sent if isinstance(response, Cut) else response.status,
            user=request.get(USER),
            body=kept_body(raw),
            body_size=len(raw),
            duration_ms=round(elapsed * 1000, 3),
            fault=request.get(FAULT),
        )
    )
    return response
