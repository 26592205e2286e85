"""The control API's own spec (control.yaml), read once, and validators for
any schema in it: the control routes check their requests with them, and the
fault documents of scenario files and headers are checked with the same
`Fault` schema."""

from __future__ import annotations

import functools
from typing import Any

from simulator.spec.loader import SPEC_DIR

CONTROL_SPEC = SPEC_DIR / "control.yaml"


@functools.cache
def document() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(CONTROL_SPEC.read_text()))


@functools.cache
def schema_path() -> Any:
    from jsonschema_path import SchemaPath

    return SchemaPath.from_dict(document())


@functools.cache
def write_validator(*pointer: str | int) -> Any:
    """The validator of the schema at `pointer` (from the document's root), as
    a request body is checked."""
    from openapi_core.validation.schemas import oas30_write_schema_validators_factory

    schema = schema_path()
    for part in pointer:
        schema = schema / part
    return oas30_write_schema_validators_factory.create(schema_path(), schema).validator
