"""/_sim sub-app: the virtual clock. Bodies are checked against
spec/control.yaml with the same validators as the Airflow API."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

from simulator.errors import BadRequest
from simulator.schemas.common import isoformat
from simulator.server.encoding import dump_json
from simulator.server.keys import SIM
from simulator.simulator import Simulator
from simulator.spec.loader import SPEC_PATH

CONTROL_SPEC = SPEC_PATH.with_name("control.yaml")


@functools.cache
def _advance_validator() -> Any:
    import yaml
    from jsonschema_path import SchemaPath
    from openapi_core.validation.schemas import oas30_write_schema_validators_factory

    spec = SchemaPath.from_dict(yaml.safe_load(CONTROL_SPEC.read_text()))
    body = spec / "paths" / "/clock/advance" / "post" / "requestBody" / "content"
    schema = body / "application/json" / "schema"
    return oas30_write_schema_validators_factory.create(spec, schema).validator


def _json(data: dict[str, Any]) -> web.Response:
    return web.Response(body=dump_json(data), content_type="application/json")


def _sim(request: web.Request) -> Simulator:
    return request.config_dict[SIM]


async def get_clock(request: web.Request) -> web.Response:
    sim = _sim(request)
    sim.catch_up()
    clock = sim.clock
    return _json({"now": isoformat(clock.now()), "mode": clock.mode, "speed": clock.speed})


async def advance_clock(request: web.Request) -> web.Response:
    sim = _sim(request)
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        raise BadRequest(detail="Request body is not valid JSON") from None
    error = next(iter(_advance_validator().iter_errors(body)), None)
    if error is not None:
        raise BadRequest(detail=error.message)
    sim.catch_up()
    if "seconds" in body:
        events = sim.advance(body["seconds"])
    elif "until" in body:
        moment = sim.parse_instant(body["until"])
        if moment < sim.clock.now():
            raise BadRequest(detail="the clock never moves backwards")
        events = sim.advance_to(moment)
    else:
        events = sim.run_until_idle()
    return _json({"now": isoformat(sim.clock.now()), "events": events})


def create_control_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/clock", get_clock, name="get_clock")
    app.router.add_post("/clock/advance", advance_clock, name="advance_clock")
    return app
