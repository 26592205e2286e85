"""Pool bodies (Airflow's PoolSchema): slot counts come from task instances.

Airflow 2.5.3 answers occupied, running, queued, scheduled and open slots,
never the spec's `used_slots`; 2.10 adds deferred slots and include_deferred
(deferred instances then occupy slots too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from simulator.errors import BadRequest
from simulator.state.entities import Pool
from simulator.state.enums import TaskInstanceState
from simulator.state.run_model import TaskInstance
from simulator.versions import V2_5, AirflowVersion

# API name -> Pool attribute, for the fields a body may set.
WRITABLE = {"name": "pool", "slots": "slots", "description": "description"}
WRITABLE_2_10 = {**WRITABLE, "include_deferred": "include_deferred"}
# Dump-only fields: they exist for update_mask but never load from a body.
READ_ONLY = ("occupied_slots", "running_slots", "queued_slots", "scheduled_slots", "open_slots")
READ_ONLY_2_10 = (*READ_ONLY, "deferred_slots")
# String(256) column: marshmallow-sqlalchemy adds a Length(max=256) check.
NAME_MAX_LENGTH = 256
INFINITE = -1

_COUNTED = (
    TaskInstanceState.RUNNING,
    TaskInstanceState.QUEUED,
    TaskInstanceState.SCHEDULED,
    TaskInstanceState.DEFERRED,
)

SlotTally = Mapping[tuple[str, str], int]


def tally_slots(task_instances: Iterable[TaskInstance]) -> SlotTally:
    """Slots held per (pool, state) for the states a pool reports."""
    tally: Counter[tuple[str, str]] = Counter()
    for ti in task_instances:
        if ti.state in _COUNTED:
            tally[(ti.pool, str(ti.state))] += ti.pool_slots
    return tally


def dump_pool(pool: Pool, tally: SlotTally, version: AirflowVersion = V2_5) -> dict[str, Any]:
    running = tally.get((pool.pool, TaskInstanceState.RUNNING), 0)
    queued = tally.get((pool.pool, TaskInstanceState.QUEUED), 0)
    deferred = tally.get((pool.pool, TaskInstanceState.DEFERRED), 0)
    occupied = running + queued  # deferred tasks hold no slot in 2.5.3
    if pool.include_deferred and version.at_least("2.10"):  # a 2.7+ column
        occupied += deferred
    # Airflow 2.5.3 computes float("inf") for an infinite pool, which its own
    # response validation rejects (500); later 2.x releases answer -1.
    open_slots = INFINITE if pool.slots == INFINITE else pool.slots - occupied
    body = {
        "name": pool.pool,
        "slots": pool.slots,
        "description": pool.description,
        "occupied_slots": occupied,
        "running_slots": running,
        "queued_slots": queued,
        "scheduled_slots": tally.get((pool.pool, TaskInstanceState.SCHEDULED), 0),
        "open_slots": open_slots,
    }
    if version.at_least("2.10"):
        body["deferred_slots"] = deferred
        body["include_deferred"] = pool.include_deferred
    return body


def dump_pool_collection(
    pools: Iterable[Pool], total: int, tally: SlotTally, version: AirflowVersion = V2_5
) -> dict[str, Any]:
    return {"pools": [dump_pool(pool, tally, version) for pool in pools], "total_entries": total}


def load_pool(body: Mapping[str, Any], version: AirflowVersion = V2_5) -> dict[str, Any]:
    """PoolSchema.load: Pool attribute -> value for the keys the body sets
    (2.10: include_deferred loads False when absent).

    Errors read as marshmallow's messages dict (field errors, then unknown
    fields in body order); the spec layer already rejected read-only ones.
    """
    writable = WRITABLE_2_10 if version.at_least("2.10") else WRITABLE
    errors: dict[str, list[str]] = {}
    name = body.get("name")
    if isinstance(name, str) and len(name) > NAME_MAX_LENGTH:
        errors["name"] = [f"Longer than maximum length {NAME_MAX_LENGTH}."]
    for key in body:
        if key not in writable:
            errors[key] = ["Unknown field."]
    if errors:
        raise BadRequest(detail=str(errors))
    fields = {writable[key]: value for key, value in body.items()}
    if version.at_least("2.10"):
        fields.setdefault("include_deferred", False)
    return fields
