"""Variable operations: list, upsert, read, update and delete variables."""

from __future__ import annotations

from typing import Any

from simulator.api.params import check_limit, extract_update_mask, order_rows
from simulator.errors import BadRequest, NotFound
from simulator.schemas.variable import (
    dump_loaded_variable,
    dump_variable,
    dump_variable_collection,
    load_variable,
)
from simulator.simulator import Simulator
from simulator.state.entities import Variable

# API order_by names -> sort keys (Airflow maps value to the val column).
ORDER_BY = {
    "value": lambda v: v.val,
    "key": lambda v: v.key,
    "id": lambda v: v.id,
}
NON_UPDATE_FIELDS = ("key",)


def get_variables(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET /variables: a page of variables, values included (default order: row id)."""
    size = check_limit(sim.settings, limit)  # before order_by, as in Airflow
    rows = order_rows(sim.store.variables, order_by, ORDER_BY, "id")
    start = offset or 0
    page = rows[start : start + size]
    return dump_variable_collection(page, len(sim.store.variables))


def post_variables(sim: Simulator, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /variables: an upsert (Variable.set: delete, then insert a new row).

    Airflow 2.5.3 stores no description on create but echoes the one sent.
    """
    data = load_variable(body)
    table = sim.store.variables
    if data["key"] in table:
        table.delete(data["key"])
    # 2.10 saves the description too.
    description = data.get("description") if sim.version.at_least("2.10") else None
    table.add(Variable(key=data["key"], val=data["val"], description=description))
    return dump_loaded_variable(data)


def get_variable(sim: Simulator, *, variable_key: str) -> dict[str, Any]:
    """GET /variables/{variable_key} (2.10's 404 has a detail)."""
    if sim.version.at_least("2.10"):
        return dump_variable(sim.store.variables.require(variable_key, _not_found))
    return dump_variable(sim.store.variables.require(variable_key))


def _not_found(key: str) -> NotFound:
    return NotFound("Variable not found", "Variable does not exist")


def delete_variable(sim: Simulator, *, variable_key: str) -> None:
    """DELETE /variables/{variable_key}."""
    sim.store.variables.delete(variable_key)


def patch_variable(
    sim: Simulator,
    *,
    variable_key: str,
    update_mask: list[str] | None = None,
    body: dict[str, Any],
) -> dict[str, Any]:
    """PATCH /variables/{variable_key}: full load -> key check -> mask -> 404 -> apply.

    Mask names are the loaded keys: `val` and `description` (so `value` is a 400).
    """
    data = load_variable(body)
    if data["key"] != variable_key:
        raise BadRequest("Invalid post body", "key from request body doesn't match uri parameter")
    if sim.version.at_least("2.10"):  # 2.10 looks the variable up before the mask
        variable = sim.store.variables.require(variable_key, _not_found)
    if update_mask:
        data = extract_update_mask(update_mask, NON_UPDATE_FIELDS, data)
    # Airflow 2.5.3 crashes (500) on a missing variable; 2.10 answers this 404.
    variable = sim.store.variables.require(variable_key, _not_found)
    for name, value in data.items():
        setattr(variable, name, value)
    return dump_variable(variable)
