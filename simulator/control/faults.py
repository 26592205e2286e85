"""/_sim/faults: the fault rules in force, added, changed and removed at run
time. Documents are checked by simulator/faults/documents.py against
control.yaml's Fault schema, so a 400 names the field as a scenario file's
error would."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator.control.validation import check_body, read_json
from simulator.errors import BadRequest
from simulator.faults.documents import FaultError, check
from simulator.server.encoding import json_response
from simulator.server.keys import SIM
from simulator.simulator import Simulator


def _sim(request: web.Request) -> Simulator:
    sim = request.config_dict[SIM]
    sim.catch_up()  # windows due by now have begun or ended
    return sim


def _collection(views: list[dict[str, Any]]) -> dict[str, Any]:
    return {"faults": views, "total_entries": len(views)}


async def get_faults(request: web.Request) -> web.Response:
    return json_response(_collection([fault.view() for fault in _sim(request).faults]))


async def post_faults(request: web.Request) -> web.Response:
    """One fault, or {"faults": [...]}: all are added or none."""
    sim = _sim(request)
    body = await read_json(request)
    several = isinstance(body, dict) and "faults" in body
    try:
        if several:
            check(body, "FaultList")
        added = sim.faults.add_all(body["faults"] if several else [body])
        sim.catch_up()  # a window that begins now has begun in the answer
    except FaultError as exc:
        raise BadRequest(detail=exc.where() if several else str(exc)) from None
    if several:
        return json_response(_collection([fault.view() for fault in added]), status=201)
    return json_response(added[0].view(), status=201)


async def delete_faults(request: web.Request) -> web.Response:
    _sim(request).faults.clear()
    return web.Response(status=204)


async def get_fault(request: web.Request) -> web.Response:
    return json_response(_sim(request).faults.get(request.match_info["fault_id"]).view())


async def patch_fault(request: web.Request) -> web.Response:
    sim = _sim(request)
    fault_id = request.match_info["fault_id"]
    sim.faults.get(fault_id)  # 404 before the body's faults
    body = await read_json(request)
    check_body("/faults/{fault_id}", "patch", body)
    try:
        fault = sim.faults.patch(fault_id, body)
        sim.catch_up()  # a window that begins now has begun in the answer
        return json_response(fault.view())
    except FaultError as exc:
        raise BadRequest(detail=str(exc)) from None


async def delete_fault(request: web.Request) -> web.Response:
    _sim(request).faults.remove(request.match_info["fault_id"])
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/faults", get_faults, name="get_faults")
    router.add_post("/faults", post_faults, name="post_faults")
    router.add_delete("/faults", delete_faults, name="delete_faults")
    router.add_get("/faults/{fault_id}", get_fault, name="get_fault")
    router.add_patch("/faults/{fault_id}", patch_fault, name="patch_fault")
    router.add_delete("/faults/{fault_id}", delete_fault, name="delete_fault")
