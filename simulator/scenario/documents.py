"""Reading scenario files: where the bundled ones live, and YAML (or JSON)
parsed defensively.

Bundled scenarios and fixtures are package data (`simulator/bundled/` links
to the top-level `scenarios/` and `fixtures/` folders, which the wheel
copies), found with importlib.resources. Timestamps stay strings so that the
JSON Schema and the semantic checks see what the user wrote; duplicate keys,
oversized files and alias bombs are errors, not surprises.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 32 * 2**20  # a scenario file is a description, not a data dump
MAX_NODES = 5_000_000  # values after expanding YAML aliases


def bundled_dir(name: str) -> Traversable:
    """`scenarios` or `fixtures`, wherever the package is installed."""
    return files("simulator") / "bundled" / name


def bundled_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in bundled_dir("scenarios").iterdir()
        if entry.name.endswith(".yaml")
    )


class DocumentError(ValueError):
    """A file that cannot be read or parsed; the message names the place."""


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps, refusing duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.MarkedYAMLError(
                problem=f"a key must be a plain value, not {type(key).__name__}",
                problem_mark=key_node.start_mark,
            )
        if key in result:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse(text: str | bytes, label: str) -> Any:
    """The document in `text` (YAML, so JSON too); `label` names it in errors."""
    if len(text) > MAX_BYTES:
        raise DocumentError(f"{label}: larger than {MAX_BYTES // 2**20} MB")
    try:
        document = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DocumentError(f"{label}: {where}{exc.problem or exc}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise DocumentError(f"{label}: not valid YAML or JSON ({type(exc).__name__})") from None
    if _size(document) > MAX_NODES:
        raise DocumentError(f"{label}: more than {MAX_NODES:,} values once aliases are expanded")
    return document


def _size(document: Any) -> int:
    """Values in the document with aliases expanded, counted without expanding."""
    sizes: dict[int, int] = {}

    def size(value: Any, depth: int) -> int:
        if depth > 200:
            return MAX_NODES + 1  # nesting this deep is no scenario either
        if not isinstance(value, dict | list):
            return 1
        known = sizes.get(id(value))
        if known is None:
            children = value.values() if isinstance(value, dict) else value
            known = sizes[id(value)] = 1 + sum(size(child, depth + 1) for child in children)
        return known

    return size(document, 0)


def read(path: Path | Traversable, label: str) -> Any:
    if isinstance(path, Path) and path.exists() and not path.is_file():
        # A directory, or a pipe or device that would block or never end.
        raise DocumentError(f"{label}: not a regular file, not a scenario file")
    try:
        with path.open("rb") as fh:
            text = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise DocumentError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise DocumentError(f"{label}: is a directory, not a scenario file") from None
    except OSError as exc:
        raise DocumentError(f"{label}: cannot be read ({exc.strerror})") from None
    return parse(text, label)
