"""/_sim sub-app: health, the virtual clock, resets and the scenario served.
Bodies are checked against spec/control.yaml with the same validators as
the Airflow API."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from simulator import state_file
from simulator.control import console, faults, world
from simulator.control.validation import (
    CONTROL_SPEC,
    check_body,
    control_query_validation,
    control_response_validation,
    parse_query,
    read_json,
)
from simulator.engine.clock import LATEST
from simulator.errors import (
    BadRequest,
    Conflict,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from simulator.scenario.dags import parse_instant
from simulator.scenario.documents import DocumentError, parse
from simulator.scenario.loader import load_scenario
from simulator.scenario.problems import ScenarioError
from simulator.schemas.common import isoformat
from simulator.server.encoding import json_response
from simulator.server.keys import SIM
from simulator.simulator import Simulator
from simulator.state.journal import Entry, Filters


async def _body(request: web.Request, path: str, *, required: bool = True) -> dict[str, Any]:
    """The JSON body, checked against the operation's schema in control.yaml."""
    body = await read_json(request)
    if body is None and not required:
        return {}
    check_body(path, request.method.lower(), body)
    return dict(body)


def _sim(request: web.Request) -> Simulator:
    return request.config_dict[SIM]


def _clock(sim: Simulator) -> dict[str, Any]:
    clock = sim.clock
    return {"now": isoformat(clock.now()), "mode": clock.mode, "speed": clock.speed}


def _scenario(sim: Simulator) -> dict[str, Any]:
    scenario = sim.scenario
    return {
        "name": scenario.name,
        "description": scenario.description,
        "seed": sim.settings.seed,
        "airflow_version": sim.version.name,
        "source": scenario.source,
        "counts": sim.counts(),
    }


async def get_sim_health(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.catch_up()
    health = {"status": "ok", "scenario": sim.scenario.name, "now": isoformat(sim.now())}
    return json_response(health)


async def get_clock(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.catch_up()
    return json_response(_clock(sim))


async def patch_clock(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _body(request, "/clock")
    sim.catch_up()
    sim.clock.configure(mode=body.get("mode"), speed=body.get("speed"))
    return json_response(_clock(sim))


SLICE = 20_000  # events between two chances for other requests to be answered
TARGETS = ("seconds", "until", "until_idle", "until_dag_run")
TERMINAL = ("success", "failed")


async def advance_clock(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _body(request, "/clock/advance")
    if sum(key in body for key in TARGETS) != 1:
        raise BadRequest(
            detail="Exactly one of seconds, until, until_idle and until_dag_run is required"
        )
    budget = min(body.get("max_events", sim.settings.max_events), sim.settings.max_events)
    sim.catch_up()
    if body.get("until_idle"):
        events, complete = await _advance_until_idle(sim, budget)
    elif "until_dag_run" in body:
        events, complete = await _advance_until_run(sim, body["until_dag_run"], budget)
    else:
        target = _target(sim, body)
        events, complete = await _advance(sim, target, budget)
    answer = {"now": isoformat(sim.clock.now()), "events": events, "complete": complete}
    return json_response(answer)


def _target(sim: Simulator, body: dict[str, Any]) -> datetime:
    now = sim.clock.now()
    if "seconds" in body:
        moment = now + timedelta(seconds=body["seconds"])
        if moment >= LATEST:
            raise BadRequest(detail=f"seconds: the clock cannot reach {LATEST.date()}")
        return moment
    try:
        moment = parse_instant(body["until"])
    except ValueError as exc:
        raise BadRequest(detail=f"until: {exc}") from None
    if moment < now:
        raise BadRequest(detail="the clock never moves backwards")
    return moment


async def _in_slices(step: Callable[[int], tuple[int, bool]], budget: int) -> tuple[int, bool]:
    """Run `step(n)` (at most n events; answers how many ran and whether the
    target is reached) in slices of SLICE events, letting other requests in
    between (they see the clock at the instant reached so far), until the
    target, `budget` events, or a step that can run nothing more."""
    events = 0
    while True:
        ran, done = step(min(SLICE, budget - events))
        events += ran
        if done or events >= budget or not ran:
            return events, done
        await asyncio.sleep(0)


async def _advance(sim: Simulator, target: datetime, budget: int) -> tuple[int, bool]:
    return await _in_slices(lambda n: sim.advance_toward(target, n), budget)


async def _advance_until_idle(sim: Simulator, budget: int) -> tuple[int, bool]:
    """Until no task instance is active."""

    def step(n: int) -> tuple[int, bool]:
        ran = sim.run_until_idle(max_events=n)
        return ran, ran < n

    return await _in_slices(step, budget)


async def _advance_until_run(sim: Simulator, ref: dict[str, str], budget: int) -> tuple[int, bool]:
    """Until the run is success or failed."""
    key = (ref["dag_id"], ref["dag_run_id"])
    sim.store.dag_runs.require(key)  # 404, Airflow's text, when there is no such run

    def state() -> str | None:
        run = sim.store.dag_runs.get(key)
        return run.state if run is not None else None

    def pending() -> bool:
        return state() not in (None, *TERMINAL)

    def step(n: int) -> tuple[int, bool]:
        ran = sim.advance_while(pending, n)
        return ran, state() in TERMINAL

    if state() in TERMINAL:
        return 0, True
    return await _in_slices(step, budget)


async def get_control_spec(request: web.Request) -> web.Response:
    return web.Response(body=CONTROL_SPEC.read_bytes(), content_type="application/yaml")


async def reset(request: web.Request) -> web.Response:
    sim = _sim(request)
    body = await _body(request, "/reset", required=False)
    try:
        sim.reset(seed=body.get("seed"))
    except ScenarioError as exc:  # the seed's generated world is refused
        raise BadRequest(detail=str(exc)) from None
    return json_response(_scenario(sim))


async def get_scenario(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.catch_up()
    return json_response(_scenario(sim))


YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
# Only scenario files may be read from the server's disk through `path`.
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


async def put_scenario(request: web.Request) -> web.Response:
    """Load a scenario (a bundled name, a file, or a document) and serve it
    from its start; an invalid one is a 400 listing every error."""
    sim = _sim(request)
    if request.content_type in YAML_TYPES:
        source = _yaml_document(await request.read())
    else:
        body = await _body(request, "/scenario")
        if len(body) != 1:
            raise BadRequest(detail="Exactly one of name, path and scenario is required")
        ((kind, source),) = body.items()
        if kind == "path" and not source.endswith(SCENARIO_SUFFIXES):
            raise BadRequest(detail="path: expected a .yaml, .yml or .json file")
    try:
        sim.load(load_scenario(source))
    except ScenarioError as exc:
        raise BadRequest(detail=str(exc)) from None
    return json_response(_scenario(sim))


def _yaml_document(raw: bytes) -> dict[str, Any]:
    try:
        document = parse(raw, "(request body)")
    except DocumentError as exc:
        raise BadRequest(detail=str(exc)) from None
    if not isinstance(document, dict):
        raise BadRequest(detail="(request body): expected a mapping, a scenario document")
    return document


async def get_requests(request: web.Request) -> web.Response:
    """The journal, newest first, filtered and paged."""
    sim = _sim(request)
    query = parse_query("/requests", "get", request.query)
    filters = Filters(
        operation_id=query.get("operation_id"),
        method=query.get("method"),
        path=query.get("path"),
        status=query.get("status"),
        since=_instant("since", query["since"]) if "since" in query else None,
    )
    entries, total = sim.journal.page(filters, query.get("limit", 100), query.get("offset", 0))
    return json_response({"requests": [_entry(e) for e in entries], "total_entries": total})


def _instant(name: str, value: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise BadRequest(detail=f"{name}: {exc}") from None


def _entry(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "time": isoformat(entry.time),
        "wall_time": isoformat(datetime.fromtimestamp(entry.wall_time, UTC)),
        "method": entry.method,
        "path": entry.path,
        "query": entry.shown_query(),
        "operation_id": entry.operation_id,
        "status": entry.status,
        "user": entry.user,
        "request_body": entry.shown_body(),
        "duration_ms": entry.duration_ms,
        "fault": entry.fault,
    }


async def delete_requests(request: web.Request) -> web.Response:
    _sim(request).journal.clear()
    return web.Response(status=204)


async def get_snapshot(request: web.Request) -> web.Response:
    """The whole world as one JSON document (compact: it may be large)."""
    sim = _sim(request)
    return web.Response(body=state_file.encode(sim.snapshot()), content_type="application/json")


async def post_snapshot(request: web.Request) -> web.Response:
    """The world becomes the document's; a damaged one is a 400 that changes nothing."""
    sim = _sim(request)
    if request.content_type != "application/json":
        raise UnsupportedMediaType(detail="A snapshot is an application/json body")
    if request.headers.get("Content-Encoding", "identity").lower() != "identity":
        # A compressed body would be bounded only after it is inflated.
        raise UnsupportedMediaType(detail="A snapshot is sent without Content-Encoding")
    raw = await _read_bounded(request, state_file.MAX_BYTES)
    try:
        sim.restore(state_file.decode(raw))
    except ValueError as exc:  # not JSON, or a SnapshotError
        raise BadRequest(detail=str(exc)) from None
    return json_response(_scenario(sim))


async def _read_bounded(request: web.Request, limit: int) -> bytearray:
    """The body, read past aiohttp's per-request cap (a snapshot outgrows it)
    up to `limit` bytes; a 413 beyond."""
    body = bytearray()
    async for chunk in request.content.iter_chunked(2**20):
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(detail=f"A snapshot may be at most {limit} bytes")
    return body


async def save_snapshot(request: web.Request) -> web.Response:
    """Save the world to --state-file now."""
    sim = _sim(request)
    path = sim.settings.state_file
    if path is None:
        raise BadRequest(detail="The server runs without --state-file")
    try:
        size = state_file.save(sim, path)
    except state_file.StateFileError as exc:
        raise Conflict(detail=str(exc)) from None
    return json_response({"path": str(path), "bytes": size})


# CI waits and health checks need no token, nor the console's files (its
# calls to the control API do).
OPEN = frozenset({"get_sim_health", *console.ROUTES})


@web.middleware
async def control_token(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """With --control-token, every route but health and the console's files
    needs the bearer token."""
    token = _sim(request).settings.control_token
    if token and request.match_info.route.name not in OPEN:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            headers = {"WWW-Authenticate": "Bearer"}
            raise Unauthenticated(detail="A valid control token is required", headers=headers)
    return await handler(request)


def create_control_app(*, validate_responses: bool = False) -> web.Application:
    # Validation outermost: 401s from the token check are checked too.
    middlewares = [control_token, control_query_validation]
    if validate_responses:
        middlewares.insert(0, control_response_validation)
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/openapi.yaml", get_control_spec, name="get_control_spec")
    app.router.add_get("/health", get_sim_health, name="get_sim_health")
    app.router.add_get("/clock", get_clock, name="get_clock")
    app.router.add_patch("/clock", patch_clock, name="patch_clock")
    app.router.add_post("/clock/advance", advance_clock, name="advance_clock")
    app.router.add_post("/reset", reset, name="reset")
    app.router.add_get("/scenario", get_scenario, name="get_scenario")
    app.router.add_put("/scenario", put_scenario, name="put_scenario")
    app.router.add_get("/requests", get_requests, name="get_requests")
    app.router.add_delete("/requests", delete_requests, name="delete_requests")
    app.router.add_get("/snapshot", get_snapshot, name="get_snapshot")
    app.router.add_post("/snapshot", post_snapshot, name="post_snapshot")
    app.router.add_post("/snapshot/save", save_snapshot, name="save_snapshot")
    faults.add_routes(app)
    world.add_routes(app)
    console.add_routes(app)
    return app
