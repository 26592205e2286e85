"""Request and response validation against the spec, with openapi-core.

Validators are built per operation from openapi-core's schema validator
factories, once, on the operation's first request: the route already knows
its operation, so the hot path skips path finding and parameter resolution
and only runs the compiled schema checks. Error texts are connexion's, as
Airflow 2.5.3 answers them.
"""

from __future__ import annotations

import functools
import json
import pprint
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.errors import BadRequest, UnsupportedMediaType
from simulator.quirks import response_document
from simulator.spec import load_spec
from simulator.spec.loader import Operation, Parameter
from simulator.state import strict_json
from simulator.versions import DEFAULT_VERSION, V2_5

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema_path import SchemaPath
    from multidict import MultiMapping

JSON_TYPES = ("application/json",)
TOO_DEEP = f"Request body is nested too deeply (at most {strict_json.MAX_DEPTH} levels)"


class ResponseMismatch(Exception):
    """A response that does not conform to the spec (response validation mode)."""


def _schema_path(root: SchemaPath, pointer: tuple[str | int, ...]) -> SchemaPath:
    node = root
    for part in pointer:
        node = node / part
    return node


def _first_error(validator: Any, value: Any) -> ValidationError | None:
    return next(iter(validator.iter_errors(value)), None)


def _message(error: ValidationError, version: str) -> str:
    """connexion's wording for a jsonschema error."""
    if error.validator == "readOnly":
        return "Property is read-only"
    if error.validator == "type" and error.instance is None:
        return f"None is not of type {error.validator_value!r}"
    if version != V2_5.name:  # Airflow 2.10.5 runs this jsonschema's wording
        return error.message
    # Airflow 2.5.3 runs jsonschema 4.17, before length messages were reworded.
    if error.validator in ("minLength", "minItems"):
        return f"{error.instance!r} is too short"
    if error.validator in ("maxLength", "maxItems"):
        return f"{error.instance!r} is too long"
    return error.message


def _verbose(error: ValidationError, version: str) -> str:
    """str(error) as Airflow's jsonschema renders it: connexion answers
    query-parameter errors with the whole text. Airflow 2.10.5 runs the
    jsonschema installed here; 2.5.3's 4.17 sorted the schema by key."""
    if version != V2_5.name:
        return str(error)

    def index(word: str, parts: list[Any]) -> str:
        return f"{word}[{']['.join(repr(p) for p in parts)}]" if parts else word

    def pretty(thing: Any) -> str:
        return textwrap.indent(pprint.pformat(thing, width=72), " " * 4).lstrip()

    return (
        f"{error.message}\n\n"
        f"Failed validating {error.validator!r} in "
        f"{index('schema', list(error.relative_schema_path)[:-1])}:\n"
        f"    {pretty(error.schema)}\n\n"
        f"On {index('instance', list(error.relative_path))}:\n"
        f"    {pretty(error.instance)}"
    )


def is_json_mimetype(content_type: str) -> bool:
    mimetype = content_type.split(";", 1)[0].strip().lower()
    maintype, _, subtype = mimetype.partition("/")
    return mimetype in JSON_TYPES or (maintype == "application" and subtype.endswith("+json"))


class _TypeError(Exception):
    pass


def _coerce(param: Parameter, raw: str) -> Any:
    if param.type == "array":
        item_type = str(param.schema.get("items", {}).get("type", "string"))
        return [_coerce_scalar(item_type, item) for item in raw.split(",")]
    return _coerce_scalar(param.type, raw)


def _coerce_scalar(kind: str, raw: str) -> Any:
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError as exc:
        raise _TypeError from exc
    if kind == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise _TypeError
        return lowered == "true"
    return raw


def _json_body(raw: bytes) -> Any:
    """The body as Flask's get_json(silent=True) reads it (NaN and Infinity
    taken), None when it is not JSON; a 400 when it nests deeper than the
    simulator walks (Airflow's RecursionError, a 500: the quirk
    `json-nesting-bound`)."""
    try:
        data = json.loads(raw)
        strict_json.check_depth(data, raw)
    except (RecursionError, strict_json.TooDeep):
        raise BadRequest(detail=TOO_DEEP) from None
    except ValueError:  # also not UTF-8
        return None
    return data


@dataclass(slots=True)
class OperationValidator:
    operation: Operation
    params: list[tuple[Parameter, Any]]
    body: Any | None
    query_names: frozenset[str]
    check_extra: bool

    @classmethod
    def build(cls, operation: Operation) -> OperationValidator:
        query = [p for p in operation.parameters if p.location == "query"]
        params: list[tuple[Parameter, Any]] = []
        body = None
        if query or operation.body_schema is not None:
            from openapi_core.validation.schemas import oas30_write_schema_validators_factory

            factory = oas30_write_schema_validators_factory
            spec_path = request_spec_path(operation.version)
            params = [
                (p, factory.create(spec_path, _schema_path(spec_path, p.pointer)).validator)
                for p in query
            ]
        if operation.body_schema is not None:
            pointer = (
                "paths", operation.path, operation.method.lower(),
                "requestBody", "content", "application/json", "schema",
            )  # fmt: skip
            body = factory.create(spec_path, _schema_path(spec_path, pointer)).validator
        return cls(
            operation=operation,
            params=params,
            body=body,
            query_names=operation.query_names,
            # connexion checks for unknown query parameters only where the
            # operation declares at least one parameter.
            check_extra=bool(operation.parameters),
        )

    def parse_body(self, content_type: str, raw: bytes) -> Any:
        """Decode and validate a JSON body the way connexion does."""
        data = None
        if raw:
            if not is_json_mimetype(content_type):
                raise UnsupportedMediaType(
                    detail=f"Invalid Content-type ({content_type}), expected JSON data"
                )
            data = _json_body(raw)
            if data is None:
                # Unparseable or a literal null: connexion cannot tell them apart.
                raise BadRequest(detail="Request body is not valid JSON")
        assert self.body is not None
        error = _first_error(self.body, data)
        if error is not None:
            path = ".".join(str(part) for part in error.path)
            suffix = f" - '{path}'" if path else ""
            raise BadRequest(detail=f"{_message(error, self.operation.version)}{suffix}")
        return data

    def parse_query(self, query: MultiMapping[str]) -> dict[str, Any]:
        """Coerce and validate query parameters; fill in the spec's defaults."""
        if self.check_extra:
            extra = sorted(set(query.keys()) - self.query_names)
            if extra:
                raise BadRequest(
                    detail=f"Extra query parameter(s) {', '.join(extra)} not in spec",
                    untitled=True,
                )
        values: dict[str, Any] = {}
        for param, validator in self.params:
            if param.name not in query:
                if param.required:
                    raise BadRequest(detail=f"Missing query parameter '{param.name}'")
                values[param.name] = param.default
                continue
            # connexion keeps the last of repeated values; an exploded array
            # joins them with "," and every array then splits on "," (its
            # uri_parsing), so `state=a,b` and `state=a&state=b` are the same.
            values_seen = query.getall(param.name)
            explode = param.type == "array" and param.explode
            raw = ",".join(values_seen) if explode else values_seen[-1]
            try:
                value = _coerce(param, raw)
            except _TypeError:
                raise BadRequest(
                    detail=f"Wrong type, expected '{param.type}' for query parameter '{param.name}'"
                ) from None
            error = _first_error(validator, value)
            if error is not None:
                raise BadRequest(detail=_verbose(error, self.operation.version))
            values[param.name] = value
        return values


class ResponseValidator:
    """Checks a response against the operation's declared responses."""

    def __init__(self, version: str = DEFAULT_VERSION) -> None:
        self._spec_path = response_spec_path(version)
        self._cache: dict[tuple[str, str, str], Any] = {}

    def _validator(self, operation: Operation, status: str, content_type: str) -> Any:
        key = (operation.operation_id, status, content_type)
        if key not in self._cache:
            response = operation.responses.get(status)
            if response is None:
                raise ResponseMismatch(f"{operation.operation_id}: undeclared status {status}")
            content = response.get("content") or {}
            if content_type not in content:
                declared = ", ".join(content) or "no body"
                raise ResponseMismatch(
                    f"{operation.operation_id} {status}: content type {content_type!r}, "
                    f"spec declares {declared}"
                )
            pointer = ("paths", operation.path, operation.method.lower(), "responses", status)
            schema = _schema_path(self._spec_path, (*pointer, "content", content_type, "schema"))
            self._cache[key] = _read_validator(self._spec_path, schema)
        return self._cache[key]

    def validate(self, operation: Operation, status: int, content_type: str, body: Any) -> None:
        # Text answers (a log, a DAG file, flask's bare 406) have no schema to check.
        if status == 204 or content_type in ("text/plain", "text/html"):
            if status == 204 and body:
                raise ResponseMismatch(f"{operation.operation_id}: 204 with a body")
            return
        if content_type == "application/problem+json":
            validator = self._error_validator()
        else:
            validator = self._validator(operation, str(status), content_type)
        errors = list(validator.iter_errors(body))
        if errors:
            details = "; ".join(
                f"{'.'.join(str(p) for p in e.absolute_path) or '<body>'}: {e.message}"
                for e in errors[:5]
            )
            raise ResponseMismatch(f"{operation.operation_id} {status}: {details}")

    def _error_validator(self) -> Any:
        key = ("", "error", "")
        if key not in self._cache:
            schema = _schema_path(self._spec_path, ("components", "schemas", "Error"))
            self._cache[key] = _read_validator(self._spec_path, schema)
        return self._cache[key]


def _read_validator(root: SchemaPath, schema: SchemaPath) -> Any:
    from openapi_core.validation.schemas import oas30_read_schema_validators_factory

    return oas30_read_schema_validators_factory.create(root, schema).validator


# openapi-core and the spec's path objects load on first use, not at start-up.
@functools.cache
def request_spec_path(version: str = DEFAULT_VERSION) -> SchemaPath:
    from jsonschema_path import SchemaPath

    return SchemaPath.from_dict(load_spec(version).document)


@functools.cache
def response_spec_path(version: str = DEFAULT_VERSION) -> SchemaPath:
    from jsonschema_path import SchemaPath

    return SchemaPath.from_dict(response_document(load_spec(version).document, version))
