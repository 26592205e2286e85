"""Reading a snapshot document defensively: every value is checked where it
is read, and a problem is a SnapshotError naming its place in the document
(`snapshot: dag_runs.columns.state[12]: expected a string, found a number`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any


class SnapshotError(ValueError):
    """A document that is not a snapshot this simulator can restore."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"snapshot: {where}: {problem}" if where else f"snapshot: {problem}")


def join(path: str, key: str | int) -> str:
    """The path of `key` inside `path`: `a.b`, `a[3]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def describe(value: object) -> str:
    """A JSON value's kind, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__} (not JSON)"


def shown(value: object) -> str:
    """A found value, briefly."""
    if value is not None and type(value) not in (str, int, float, bool):
        return describe(value)
    text = repr(value) if value is not None else "null"
    return text if len(text) <= 60 else text[:57] + "..."


def fail(path: str, expected: str, value: object) -> SnapshotError:
    return SnapshotError(path, f"expected {expected}, found {describe(value)}")


def mapping(
    node: object, path: str, keys: Sequence[str], optional: Collection[str] = ()
) -> dict[str, Any]:
    """An object with exactly `keys` (and maybe `optional` ones)."""
    if type(node) is not dict:
        raise fail(path, "an object", node)
    for key in keys:
        if key not in node:
            raise SnapshotError(join(path, key), "missing")
    if len(node) > len(keys):
        extra = sorted(str(k) for k in node if k not in keys and k not in optional)
        if extra:
            raise SnapshotError(join(path, extra[0]), "unexpected key")
    return node


def array(node: object, path: str, size: int | None = None) -> list[Any]:
    if type(node) is not list:
        raise fail(path, "an array", node)
    if size is not None and len(node) != size:
        raise SnapshotError(path, f"expected {size} items, found {len(node)}")
    return node


LOWEST, HIGHEST = -(2**63), 2**63 - 1  # what JSON encoders take (a 64-bit integer)


def integer(node: object, path: str, low: int = LOWEST, high: int = HIGHEST) -> int:
    if type(node) is not int:
        raise fail(path, "an integer", node)
    if not low <= node <= high:
        raise SnapshotError(path, f"expected an integer from {low} to {high}, found {shown(node)}")
    return node


def text(node: object, path: str) -> str:
    if type(node) is not str:
        raise fail(path, "a string", node)
    return node


def optional_text(node: object, path: str) -> str | None:
    return None if node is None else text(node, path)


def flag(node: object, path: str) -> bool:
    if type(node) is not bool:
        raise fail(path, "a boolean", node)
    return node


def number(node: object, path: str) -> float:
    """A finite number, as a float."""
    if type(node) not in (int, float) or not math.isfinite(node):  # type: ignore[arg-type]
        raise fail(path, "a finite number", node)
    return float(node)  # type: ignore[arg-type]


def choice(node: object, path: str, options: Collection[str | None]) -> Any:
    if type(node) not in (str, type(None)) or node not in options:
        options_text = ", ".join(repr(o) if o is not None else "null" for o in options)
        raise SnapshotError(path, f"expected one of {options_text}, found {shown(node)}")
    return node


def plain(node: object, path: str) -> Any:
    """A deep copy of JSON data (objects with string keys, arrays, strings,
    finite numbers, booleans, null), checked without recursion."""
    if type(node) not in (dict, list):
        return _scalar(node, path)
    top: list[Any] = [None]
    stack: list[tuple[object, str, Any, Any]] = [(node, path, top, 0)]
    while stack:
        value, where, into, slot = stack.pop()
        if type(value) is dict:
            copy: Any = dict.fromkeys(value)  # the keys in order; values filled below
            for key, item in value.items():
                if type(key) is not str:
                    raise SnapshotError(where, f"expected string keys, found {key!r}")
                stack.append((item, join(where, key), copy, key))
        elif type(value) is list:
            copy = [None] * len(value)
            stack.extend((item, join(where, i), copy, i) for i, item in enumerate(value))
        else:
            copy = _scalar(value, where)
        into[slot] = copy
    return top[0]


def _scalar(node: object, path: str) -> Any:
    kind = type(node)
    if kind is float and not math.isfinite(node):  # type: ignore[arg-type]
        raise fail(path, "a finite number", node)
    if kind is int and not LOWEST <= node <= HIGHEST:  # type: ignore[operator]
        raise fail(path, "a 64-bit integer", node)
    if kind not in (str, int, float, bool, type(None)):
        raise fail(path, "JSON data", node)
    return node
