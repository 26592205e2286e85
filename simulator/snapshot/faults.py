"""The fault rules in a snapshot: each document as stored (instants already
absolute) with its counters, the next id to assign and what windows in force
hold. Their begin and end events are on the engine's heap with the rest.
A snapshot without a `faults` key (written before faults existed) has none.
"""

from __future__ import annotations

from typing import Any

from simulator.faults.documents import FaultError, parse
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
    spec = mapping(node, path, ("next_id", "rules", "held"))
    next_id = integer(spec["next_id"], join(path, "next_id"), 1, MAX_COUNT)
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
    ids = {fault.id for fault in rules}
    if len(ids) != len(rules):
        raise SnapshotError(join(path, "rules"), "two faults with the same id")
    faults.restore(rules, next_id, _held(spec["held"], join(path, "held"), ids))


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
