"""The control API's requests and responses checked against spec/control.yaml
with openapi-core's schema validators, as the Airflow API's are against v1.yaml.
Validators are built on first use, once per operation."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from simulator.errors import ApiError, BadRequest
from simulator.server import problems
from simulator.spec import control
from simulator.state import strict_json

INTEGER = re.compile(r"-?[0-9]+")  # int() would also take spaces and underscores
log = logging.getLogger("simulator")
CONTROL_SPEC = control.CONTROL_SPEC
_document, _spec = control.document, control.schema_path


def _operation(path: str, method: str) -> Any:
    return _spec() / "paths" / path / method


def _declared(path: str, method: str) -> dict[str, Any]:
    """The operation as control.yaml declares it ({} for HEAD, which aiohttp
    answers on GET routes)."""
    return dict(_document()["paths"].get(path, {}).get(method, {}))


def _write_validator(path: str, method: str, *pointer: str | int) -> Any:
    return control.write_validator("paths", path, method, *pointer)


def _first_error(validator: Any, value: Any) -> str | None:
    error = next(iter(validator.iter_errors(value)), None)
    return None if error is None else str(error.message)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body (None when empty); a 400 when it is not JSON."""
    raw = await request.read()
    if not raw:
        return None
    try:
        return strict_json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest(detail="Request body is not valid JSON") from None


def check_body(path: str, method: str, body: Any) -> None:
    """A 400 naming the first way `body` breaks the operation's schema."""
    pointer = ("requestBody", "content", "application/json", "schema")
    message = _first_error(_write_validator(path, method, *pointer), body)
    if message is not None:
        raise BadRequest(detail=message)


@functools.cache
def _query_parameters(path: str, method: str) -> dict[str, tuple[int, str]]:
    """Query parameter name -> (its index in the operation, its type)."""
    parameters = _declared(path, method).get("parameters", [])
    return {
        p["name"]: (i, p["schema"].get("type", "string"))
        for i, p in enumerate(parameters)
        if p["in"] == "query"
    }


def parse_query(path: str, method: str, query: MultiMapping[str]) -> dict[str, Any]:
    """The query's parameters, typed and checked; an unknown or repeated name
    is a 400 (a typo should not silently match everything)."""
    declared = _query_parameters(path, method)
    values: dict[str, Any] = {}
    for name in query:
        if name not in declared:
            raise BadRequest(detail=f"Unknown query parameter '{name}'")
        if len(query.getall(name)) > 1:
            raise BadRequest(detail=f"Query parameter '{name}' is given more than once")
        index, kind = declared[name]
        value: Any = query[name]
        if kind == "integer":
            try:
                if not INTEGER.fullmatch(value):
                    raise ValueError(value)
                value = int(value)
            except ValueError:
                raise BadRequest(
                    detail=f"Wrong type, expected 'integer' for query parameter '{name}'"
                ) from None
        pointer = ("parameters", index, "schema")
        message = _first_error(_write_validator(path, method, *pointer), value)
        if message is not None:
            raise BadRequest(detail=f"{name}: {message}")
        values[name] = value
    return values


@functools.cache
def _response_validator(path: str, method: str, status: str, content_type: str) -> Any:
    from openapi_core.validation.schemas import oas30_read_schema_validators_factory

    response = _operation(path, method) / "responses" / status
    schema = response / "content" / content_type / "schema"
    return oas30_read_schema_validators_factory.create(_spec(), schema).validator


def response_mismatch(path: str, method: str, response: web.Response) -> str | None:
    """Why the response does not conform to the control spec (None if it does)."""
    status, content_type = str(response.status), response.content_type
    operation = _declared(path, method)
    if not operation:
        return None
    declared = operation["responses"].get(status)
    if declared is None:
        return f"undeclared status {status}"
    if status == "204":
        return "204 with a body" if response.body else None
    if "$ref" in declared:  # a shared response (components/responses)
        declared = _document()["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
    if content_type not in declared.get("content", {}):
        return f"{status}: undeclared content type {content_type}"
    if not content_type.endswith("json"):
        return None
    assert isinstance(response.body, bytes)
    validator = _response_validator(path, method, status, content_type)
    return _first_error(validator, json.loads(response.body))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def control_response_validation(request: web.Request, handler: Handler) -> web.StreamResponse:
    """In response validation mode (the test suite), every control answer is
    checked against control.yaml; a mismatch is a 500 naming it."""
    try:
        response = await handler(request)
    except ApiError as error:  # rendered here so that problem bodies are checked too
        response = problems.render(error)
    info = request.match_info.route.resource
    if info is None or not isinstance(response, web.Response):
        return response
    path = info.canonical.removeprefix("/_sim")
    mismatch = response_mismatch(path, request.method.lower(), response)
    if mismatch is None:
        return response
    log.error("control response does not conform to control.yaml: %s", mismatch)
    return problems.problem_response(
        500, "Response does not conform to the spec", mismatch, "about:blank"
    )


@web.middleware
async def control_query_validation(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every control route's query checked against its declared parameters: a
    route that declares none refuses any (`POST /reset?seed=3` is a typo)."""
    resource = request.match_info.route.resource
    if resource is not None and request.query:
        path = resource.canonical.removeprefix("/_sim")
        parse_query(path, request.method.lower(), request.query)
    return await handler(request)
