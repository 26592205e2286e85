"""Pool operations: list, create, read, update and delete slot pools."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simulator.api.params import check_limit, order_rows, paginate
from simulator.errors import BadRequest
from simulator.schemas.pool import (
    READ_ONLY,
    READ_ONLY_2_10,
    WRITABLE,
    WRITABLE_2_10,
    dump_pool,
    dump_pool_collection,
    load_pool,
    tally_slots,
)
from simulator.simulator import Simulator
from simulator.state.entities import Pool
from simulator.state.store import DEFAULT_POOL

ORDERING: dict[str, Callable[[Pool], Any]] = {
    "name": lambda p: p.pool,
    "slots": lambda p: p.slots,
    "id": lambda p: p.id,
}
REQUIRED = ("name", "slots")
# What a 2.10 PATCH of default_pool may mask when its body renames it.
DEFAULT_POOL_MASK = frozenset({"slots", "include_deferred"})


def get_pools(
    sim: Simulator,
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET /pools: every pool, by row id unless ordered by name or slots."""
    limit = check_limit(sim.settings, limit)  # the limit is checked before ordering
    rows = order_rows(sim.store.pools, order_by, ORDERING, "id")
    page = paginate(sim.settings, rows, limit, offset)
    tally = tally_slots(sim.store.active_tis.values())
    return dump_pool_collection(page, len(sim.store.pools), tally, sim.version)


def post_pool(sim: Simulator, *, body: dict[str, Any]) -> dict[str, Any]:
    """POST /pools: create a pool; both name and slots are required."""
    _require_name_and_slots(body)
    fields = load_pool(body, sim.version)
    pool = sim.actions.add_pool(Pool(**fields))
    # Airflow answers 200, not 201, here.
    return dump_pool(pool, tally_slots(sim.store.active_tis.values()), sim.version)


def get_pool(sim: Simulator, *, pool_name: str) -> dict[str, Any]:
    """GET /pools/{pool_name}."""
    pool = sim.store.pools.require(pool_name)
    return dump_pool(pool, tally_slots(sim.store.active_tis.values()), sim.version)


def delete_pool(sim: Simulator, *, pool_name: str) -> None:
    """DELETE /pools/{pool_name}: any pool but default_pool."""
    if pool_name == DEFAULT_POOL:
        raise BadRequest(detail="Default Pool can't be deleted")
    sim.actions.delete_pool(pool_name)


def patch_pool(
    sim: Simulator,
    *,
    pool_name: str,
    update_mask: list[str] | None = None,
    body: dict[str, Any],
) -> dict[str, Any]:
    """PATCH /pools/{pool_name}: update the masked fields, or name and slots."""
    _check_default_pool_name(pool_name, update_mask, body, sim.version.at_least("2.10"))
    pool = sim.store.pools.require(pool_name)
    fields = load_pool(body, sim.version)
    if update_mask:
        fields = _masked(fields, update_mask, sim.version.at_least("2.10"))
    else:
        _require_name_and_slots(body)
    new_name = fields.get("pool", pool.pool)
    if new_name != pool.pool and new_name in sim.store.pools:
        # Airflow 2.5.3 crashes (IntegrityError) on a rename onto another pool.
        raise sim.store.pools.exists(new_name)
    sim.actions.update_pool(pool, fields)
    return dump_pool(pool, tally_slots(sim.store.active_tis.values()), sim.version)


def _require_name_and_slots(body: Mapping[str, Any]) -> None:
    missing = sorted(set(REQUIRED) - set(body))
    if missing:
        raise BadRequest(detail=f"Missing required property(ies): {missing}")


def _check_default_pool_name(
    pool_name: str, update_mask: list[str] | None, body: Mapping[str, Any], v2_10: bool
) -> None:
    """Only default_pool's slots may change (2.10: and include_deferred);
    checked before the pool is looked up."""
    if pool_name != DEFAULT_POOL or body.get("name", DEFAULT_POOL) == DEFAULT_POOL:
        return
    if v2_10:
        if update_mask and all(name.strip() in DEFAULT_POOL_MASK for name in update_mask):
            return
    elif update_mask and len(update_mask) == 1 and update_mask[0].strip() == "slots":
        return
    raise BadRequest(detail="Default Pool's name can't be modified")


def _masked(fields: dict[str, Any], update_mask: list[str], v2_10: bool) -> dict[str, Any]:
    """The loaded fields the mask names, by Pool attribute.

    Unlike most endpoints, an empty name (`update_mask=`) is not dropped: it
    is an invalid field, as in Airflow. Where Airflow 2.5.3 crashes with a
    KeyError (a read-only field, or a field the body lacks), this answers 400.
    """
    writable, read_only = (WRITABLE_2_10, READ_ONLY_2_10) if v2_10 else (WRITABLE, READ_ONLY)
    names = [name.strip() for name in update_mask]
    for name in names:
        if name not in writable and name not in read_only:
            raise BadRequest(detail=f"Invalid field: {name} in update mask")
    for name in names:
        if name in read_only:
            raise BadRequest(detail=f"Invalid field: {name} in update mask")
    missing = sorted({name for name in names if writable[name] not in fields})
    if missing:
        raise BadRequest(detail=f"Missing required property(ies): {missing}")
    return {writable[name]: fields[writable[name]] for name in names}
