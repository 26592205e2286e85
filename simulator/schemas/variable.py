"""Variable bodies: Airflow's VariableSchema (a plain marshmallow Schema)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulator.schemas.loading import Field, load
from simulator.state.entities import Variable

# No length limits (not a model schema); description may be absent but not null.
VARIABLE_FIELDS = (
    Field("key", "key", required=True, allow_none=False),
    Field("value", "val", required=True, allow_none=False),
    Field("description", "description", allow_none=False),
)


def load_variable(body: Mapping[str, Any]) -> dict[str, Any]:
    """{key, val[, description]} or 400 "Invalid Variable schema" (always a full load)."""
    return load(body, VARIABLE_FIELDS, title="Invalid Variable schema")


def dump_variable(variable: Variable) -> dict[str, Any]:
    return {"key": variable.key, "value": variable.val, "description": variable.description}


def dump_loaded_variable(data: Mapping[str, Any]) -> dict[str, Any]:
    """What POST /variables answers: the loaded body, `description` only if it was sent."""
    body = {"key": data["key"], "value": data["val"]}
    if "description" in data:
        body["description"] = data["description"]
    return body


def dump_variable_collection(variables: Sequence[Variable], total: int) -> dict[str, Any]:
    # Airflow nests the full schema, values included (the spec prose says otherwise).
    return {"variables": [dump_variable(v) for v in variables], "total_entries": total}
