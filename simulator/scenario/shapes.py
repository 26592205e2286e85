"""DAG shapes: reusable DAG templates (fixtures/shapes/<name>.yaml).

A shape is a DAG definition in the fixtures/dags.yaml format without its
`dag_id`. A scenario uses one as `{use: <shape>, dag_id: ..., <overrides>}`:
top-level fields of the entry replace the shape's (`tasks` wholesale), and
`outlets: [uri, ...]` replaces the outlets of every task of the shape that
has some, so that generated dataset producers and consumers pair up (a
consumer's URIs are its `schedule: {datasets: [...]}`, a top-level field).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

USE = "use"
OUTLETS = "outlets"  # an override of the entry, not a DAG field

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ShapeError(ValueError):
    pass


def load_shapes(directory: Traversable | Path) -> dict[str, dict[str, Any]]:
    """Every *.yaml of `directory` by file stem, in name order."""
    shapes: dict[str, dict[str, Any]] = {}
    files = sorted((f for f in directory.iterdir() if f.name.endswith(".yaml")), key=_name)
    for file in files:
        name = file.name.removesuffix(".yaml")
        with file.open("rb") as fh:
            shape = yaml.load(fh, Loader=_Loader)
        if not isinstance(shape, dict):
            raise ShapeError(f"shape {name}: a shape is a mapping of DAG fields")
        if "dag_id" in shape:
            raise ShapeError(f"shape {name}: a shape has no dag_id (its user gives one)")
        shapes[name] = shape
    return shapes


def _name(file: Traversable | Path) -> str:
    return file.name


def apply_shape(shapes: Mapping[str, dict[str, Any]], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The DAG definition `{use: name, dag_id: ..., **overrides}` stands for."""
    name = entry.get(USE)
    shape = shapes.get(name) if isinstance(name, str) else None
    if shape is None or not isinstance(name, str):
        known = ", ".join(sorted(shapes)) or "none"
        raise ShapeError(f"unknown shape {name!r}; known shapes: {known}")
    overrides = {k: v for k, v in entry.items() if k not in (USE, OUTLETS)}
    # Copied so that no two DAGs share a list (Task keeps the lists it is given).
    definition: dict[str, Any] = copy_data({**shape, **overrides})
    if "dag_id" in definition:  # the id first, as in dags.yaml
        definition = {"dag_id": definition.pop("dag_id"), **definition}
    if OUTLETS in entry:
        _replace_outlets(name, definition, list(entry[OUTLETS]))
    return definition


def _replace_outlets(name: str, definition: dict[str, Any], uris: list[str]) -> None:
    producers = [t for t in definition.get("tasks") or [] if t.get(OUTLETS)]
    if not producers:
        raise ShapeError(f"shape {name}: outlets given but no task of the DAG has outlets")
    for task in producers:
        task[OUTLETS] = list(uris)


def copy_data(value: Any) -> Any:
    """A deep copy of YAML data (dicts, lists, scalars); several times faster
    than copy.deepcopy, which matters when a scenario generates 10,000 DAGs."""
    if isinstance(value, dict):
        return {k: copy_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_data(v) for v in value]
    return value
