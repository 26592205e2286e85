"""Airflow 2.10's `fields` query parameter: a subset of a body's fields.

DAG bodies pass `fields` to marshmallow's `only`: a name the schema does not
declare fails with marshmallow's ValueError text, listing every unknown name
(first mention first). DAGRun bodies pick the requested keys after dumping
and name the first one missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulator.errors import BadRequest

# DAGDetailSchema's field names whose dumped key differs (data_key).
DETAIL_KEYS = {"last_loaded": "last_parsed"}


def unknown_fields(schema: str, declared: Sequence[str], fields: Sequence[str]) -> str | None:
    """marshmallow's `Invalid fields for <Schema(many=False)>: OrderedSet([...]).`,
    or None when every name is declared."""
    known = set(declared)
    invalid = [name for name in dict.fromkeys(fields) if name not in known]
    if not invalid:
        return None
    return f"Invalid fields for <{schema}(many=False)>: OrderedSet({invalid!r})."


def check_fields(title: str, schema: str, declared: Sequence[str], fields: Sequence[str]) -> None:
    message = unknown_fields(schema, declared, fields)
    if message is not None:
        raise BadRequest(title, detail=message)


def only(
    body: Mapping[str, Any], fields: Sequence[str], keys: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The body's keys for these (checked) field names."""
    renamed = keys or {}
    picked = (renamed.get(name, name) for name in fields)
    return {key: body[key] for key in picked if key in body}


def pick_run_fields(title: str, body: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """DAGRunSchema's post_dump: the requested keys, in the request's order."""
    picked: dict[str, Any] = {}
    for name in fields:
        if name not in body:
            raise BadRequest(title, detail=f"{name} not in DAGRunSchema")
        picked[name] = body[name]
    return picked
