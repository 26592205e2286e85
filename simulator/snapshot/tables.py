"""The installation's tables in a snapshot (connections, variables, pools,
roles, users, import errors, DAG warnings, plugins, providers, datasets,
dataset events): `{"next_id": n, "columns": [...], "rows": [[...], ...]}`
with one column per field of the entity, rows in the table's order (the
order its listing shows, which a rename changes), values as their kind says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from simulator.errors import AlreadyExists
from simulator.scenario.shapes import copy_data
from simulator.snapshot.codec import Instants, dump_instant
from simulator.snapshot.reading import (
    SnapshotError,
    array,
    fail,
    flag,
    integer,
    join,
    mapping,
    number,
    optional_text,
    plain,
    text,
)
from simulator.state.entities import (
    Connection,
    DagImportError,
    DagWarning,
    Plugin,
    Pool,
    Provider,
    Role,
    User,
    Variable,
)
from simulator.state.run_model import Dataset, DatasetEvent
from simulator.state.store import Store
from simulator.state.table import Table

Load = Callable[[Any, str, Instants], Any]


def _same(value: Any) -> Any:
    return value


def _strings(node: object, path: str, instants: Instants) -> list[str]:
    return [text(item, join(path, i)) for i, item in enumerate(array(node, path))]


def _pairs(node: object, path: str, instants: Instants) -> list[tuple[str, str]]:
    pairs = []
    for i, item in enumerate(array(node, path)):
        where = join(path, i)
        first, second = array(item, where, 2)
        pairs.append((text(first, join(where, 0)), text(second, join(where, 1))))
    return pairs


def _object(node: object, path: str) -> dict[str, Any]:
    if type(node) is not dict:
        raise fail(path, "an object", node)
    return dict(plain(node, path))


def _objects(node: object, path: str) -> list[dict[str, Any]]:
    return [_object(item, join(path, i)) for i, item in enumerate(array(node, path))]


# kind -> (write, read)
KINDS: dict[str, tuple[Callable[[Any], Any], Load]] = {
    "id": (_same, lambda node, path, _: integer(node, path, 1)),
    "int": (_same, lambda node, path, _: integer(node, path)),
    "int?": (_same, lambda node, path, _: None if node is None else integer(node, path)),
    "str": (_same, lambda node, path, _: text(node, path)),
    "str?": (_same, lambda node, path, _: optional_text(node, path)),
    "bool": (_same, lambda node, path, _: flag(node, path)),
    "float?": (_same, lambda node, path, _: None if node is None else number(node, path)),
    "instant": (dump_instant, lambda node, path, instants: instants.read(node, path)),
    "instant?": (dump_instant, lambda node, path, instants: instants.optional(node, path)),
    "naive?": (dump_instant, lambda node, path, at: at.optional(node, path, naive=True)),
    "strings": (list, _strings),
    "pairs": (lambda pairs: [list(pair) for pair in pairs], _pairs),
    "object": (copy_data, lambda node, path, _: _object(node, path)),
    "objects": (copy_data, lambda node, path, _: _objects(node, path)),
}
# A field's kind, by its annotation.
ANNOTATED = {
    "int": "int",
    "int | None": "int?",
    "str": "str",
    "str | None": "str?",
    "bool": "bool",
    "float | None": "float?",
    "datetime": "instant",
    "datetime | None": "instant?",
    "list[str]": "strings",
    "list[tuple[str, str]]": "pairs",
    "list[dict[str, object]]": "objects",
    "dict[str, Any]": "object",
}
NAIVE = {"created_on", "changed_on", "last_login"}  # FAB's users: naive local times


def columns(cls: type) -> list[tuple[str, str]]:
    """(field, kind) for each field of an entity."""
    found = []
    for field in dataclasses.fields(cls):
        kind = "id" if field.name == "id" else ANNOTATED[str(field.type)]
        if cls is User and field.name in NAIVE:
            kind = "naive?"
        found.append((field.name, kind))
    return found


TABLES: dict[str, type] = {
    "connections": Connection,
    "variables": Variable,
    "pools": Pool,
    "roles": Role,
    "users": User,
    "import_errors": DagImportError,
    "dag_warnings": DagWarning,
    "plugins": Plugin,
    "providers": Provider,
    "datasets": Dataset,
    "dataset_events": DatasetEvent,
}


def dump_rows(rows: Any, cls: type) -> list[list[Any]]:
    writers = [(name, KINDS[kind][0]) for name, kind in columns(cls)]
    return [[write(getattr(row, name)) for name, write in writers] for row in rows]


def load_rows(
    node: object, path: str, cls: type, instants: Instants, width: int | None = None
) -> list[Any]:
    """The entities of `rows` (each an array of the first `width` columns'
    values; the others keep their defaults)."""
    spec = columns(cls)[:width]
    readers = [(name, KINDS[kind][1]) for name, kind in spec]
    entities = []
    for index, row in enumerate(array(node, path)):
        where = join(path, index)
        values = array(row, where, len(spec))
        fields = {
            name: read(value, join(where, position), instants)
            for position, ((name, read), value) in enumerate(zip(readers, values, strict=True))
        }
        entities.append(cls(**fields))
    return entities


def _defaulted(cls: type, names: list[str]) -> bool:
    fields = {field.name: field for field in dataclasses.fields(cls)}
    missing = dataclasses.MISSING
    return all(
        fields[name].default is not missing or fields[name].default_factory is not missing
        for name in names
    )


def dump_table(table: Table[Any, Any], cls: type) -> dict[str, Any]:
    return {
        "next_id": table.next_id,
        "columns": [name for name, _ in columns(cls)],
        "rows": dump_rows(table, cls),
    }


def load_table(
    node: object, path: str, table: Table[Any, Any], cls: type, instants: Instants
) -> None:
    spec = mapping(node, path, ("next_id", "columns", "rows"))
    expected = [name for name, _ in columns(cls)]
    given = spec["columns"]
    # A snapshot from before a column was added lacks it (new columns come
    # last and have defaults).
    added = expected[len(given) :] if isinstance(given, list) else []
    if given != expected[: len(expected) - len(added)] or not _defaulted(cls, added):
        raise SnapshotError(join(path, "columns"), f"expected {expected}")
    rows = load_rows(spec["rows"], join(path, "rows"), cls, instants, len(given))
    ids: set[int] = set()
    for index, row in enumerate(rows):
        if row.id in ids:
            raise SnapshotError(join(join(path, "rows"), index), f"a duplicate id {row.id}")
        ids.add(row.id)
        try:
            table.add(row)
        except AlreadyExists:
            raise SnapshotError(join(join(path, "rows"), index), "a duplicate key") from None
    table.next_id = integer(spec["next_id"], join(path, "next_id"), max(ids, default=0) + 1)


def dump_tables(store: Store) -> dict[str, Any]:
    return {name: dump_table(getattr(store, name), cls) for name, cls in TABLES.items()}


def load_tables(node: object, path: str, store: Store, instants: Instants) -> None:
    spec = mapping(node, path, list(TABLES))
    for name, cls in TABLES.items():
        load_table(spec[name], join(path, name), getattr(store, name), cls, instants)
    datasets = {dataset.id for dataset in store.datasets}
    for index, event in enumerate(store.dataset_events):
        if event.dataset_id not in datasets:
            where = join(join(join(path, "dataset_events"), "rows"), index)
            raise SnapshotError(where, f"no dataset has the id {event.dataset_id}")


def dump_security(store: Store) -> dict[str, Any]:
    """The security model's vocabulary: FAB's actions and resources."""
    return {"actions": list(store.actions), "resources": list(store.resources)}


def load_security(node: object, path: str, store: Store) -> None:
    spec = mapping(node, path, ("actions", "resources"))
    store.actions = _strings(spec["actions"], join(path, "actions"), Instants())
    store.resources = _strings(spec["resources"], join(path, "resources"), Instants())


def load_config(node: object, path: str) -> dict[str, dict[str, str]]:
    return _config(node, path)


def _config(node: object, path: str) -> dict[str, dict[str, str]]:
    """[section] -> option -> value, all strings."""
    if type(node) is not dict:
        raise fail(path, "an object", node)
    config = plain(node, path)
    for section, options in config.items():
        where = join(path, section)
        if type(options) is not dict:
            raise fail(where, "an object", options)
        for key, value in options.items():
            text(value, join(where, key))
    return dict(config)
