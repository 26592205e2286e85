"""The fault rules in a snapshot: each document as stored (instants already
absolute) with its counters, the next id to assign and what windows in force
hold. Their begin and end events are on the engine's heap with the rest.
A snapshot without a `faults` key (written before faults existed) has none.
"""

from __future__ import annotations

from typing import Any

from simulator.faults.documents import FaultError, parse
from simulator.faults.model import IMPORT_ERROR, OUTAGE, POOL_STARVATION, Fault
from simulator.faults.registry import Faults, Held
from simulator.snapshot.reading import (
    SnapshotError,
    array,
    fail,
    flag,
    integer,
    join,
    mapping,
    text,
)

RULE_KEYS = ("document", "enabled", "matched", "fired", "generation")
MAX_COUNT = 2**62


def dump_faults(faults: Faults) -> dict[str, Any]:
    held = faults.held
    return {
        "next_id": faults.next_id,
        "headers": faults.headers,
        "rules": [
            {
                "document": fault.document,
                "enabled": fault.enabled,
                "matched": fault.matched,
                "fired": fault.fired,
                "generation": fault.generation,
            }
            for fault in faults
        ],
        "held": {
            "occurrences": dict(held.occurrences),
            "pools": {name: [own, dict(starving)] for name, (own, starving) in held.pools.items()},
            "dags": {dag_id: list(ids) for dag_id, ids in held.dags.items()},
        },
    }


def load_faults(node: object, path: str, faults: Faults) -> None:
    spec = mapping(node, path, ("next_id", "rules", "held"), ("headers",))
    next_id = integer(spec["next_id"], join(path, "next_id"), 1, MAX_COUNT)
    headers = integer(spec.get("headers", 0), join(path, "headers"), 0, MAX_COUNT)
    rules = []
    for index, item in enumerate(array(spec["rules"], join(path, "rules"))):
        where = join(join(path, "rules"), index)
        rule = mapping(item, where, RULE_KEYS)
        document = rule["document"]
        if type(document) is not dict or "id" not in document:
            raise fail(join(where, "document"), "a fault document with its id", document)
        try:
            fault = parse(document, faults.engine.now, str(document["id"]))
        except FaultError as exc:
            raise SnapshotError(join(join(where, "document"), exc.path), exc.message) from None
        fault.enabled = flag(rule["enabled"], join(where, "enabled"))
        fault.matched = integer(rule["matched"], join(where, "matched"), 0, MAX_COUNT)
        fault.fired = integer(rule["fired"], join(where, "fired"), 0, fault.matched)
        fault.generation = integer(rule["generation"], join(where, "generation"), 0, MAX_COUNT)
        rules.append(fault)
    by_id = {fault.id: fault for fault in rules}
    if len(by_id) != len(rules):
        raise SnapshotError(join(path, "rules"), "two faults with the same id")
    held = _held(spec["held"], join(path, "held"), set(by_id))
    _check_held(held, by_id, join(path, "held"))
    outages = sum(1 for i in held.occurrences if by_id[i].kind == OUTAGE)
    if outages != faults.actions.scheduler.outages:
        raise SnapshotError(
            join(path, "held.occurrences"), "the scheduler outages in force do not match"
        )
    faults.restore(rules, next_id, held, headers)


def _check_held(held: Held, by_id: dict[str, Fault], path: str) -> None:
    """What windows in force hold agrees with their faults: each pool or DAG
    entry names faults of that kind and target, in force, and each fault in
    force of those kinds is in its entry."""
    entries = {
        **{i: ("pools", name) for name, (_, starving) in held.pools.items() for i in starving},
        **{i: ("dags", dag_id) for dag_id, ids in held.dags.items() for i in ids},
    }
    for fault_id in held.occurrences:
        fault = by_id[fault_id]
        if fault.window is None:
            raise SnapshotError(join(join(path, "occurrences"), fault_id), "not a windowed fault")
        wanted = {POOL_STARVATION: ("pools", fault.pool), IMPORT_ERROR: ("dags", fault.dag_id)}
        found, want = entries.pop(fault_id, None), wanted.get(fault.kind)
        if found != want:
            section = (found or want or ("occurrences",))[0]
            raise SnapshotError(join(path, section), f"does not agree with fault {fault_id!r}")
    for fault_id, (section, _) in entries.items():
        raise SnapshotError(join(path, section), f"fault {fault_id!r} is not in force")


def _held(node: object, path: str, ids: set[str]) -> Held:
    spec = mapping(node, path, ("occurrences", "pools", "dags"))
    held = Held()

    def fault_id(value: object, where: str) -> str:
        found = text(value, where)
        if found not in ids:
            raise SnapshotError(where, f"no fault has the id {found!r}")
        return found

    for name, occurrence in _items(spec["occurrences"], join(path, "occurrences")):
        fault_id(name, join(path, "occurrences"))
        held.occurrences[name] = integer(occurrence, join(join(path, "occurrences"), name), 0)
    for name, value in _items(spec["pools"], join(path, "pools")):
        where = join(join(path, "pools"), name)
        own, starving = array(value, where, 2)
        slots = {
            fault_id(k, join(where, 1)): integer(v, join(join(where, 1), k), 0)
            for k, v in _items(starving, join(where, 1))
        }
        held.pools[name] = (integer(own, join(where, 0), -1), slots)
    for dag_id, value in _items(spec["dags"], join(path, "dags")):
        where = join(join(path, "dags"), dag_id)
        held.dags[dag_id] = [fault_id(v, join(where, i)) for i, v in enumerate(array(value, where))]
    return held


def _items(node: object, path: str) -> list[tuple[str, Any]]:
    if type(node) is not dict:
        raise fail(path, "an object", node)
    return list(node.items())
