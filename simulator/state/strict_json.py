"""JSON as RFC 8259 has it, nested at most MAX_DEPTH levels.

Python's json module takes NaN, Infinity and -Infinity, which are not JSON;
every body and header the simulator reads goes through `loads` instead.

The depth bound guards what reads the value afterwards: copies, redaction
and checks walk it recursively (two Python frames a level or more), and
snapshots encode it with orjson, which stops at 255 levels. RFC 8259 lets a
parser limit nesting (section 9); 128 is serde_json's default, far deeper
than any Airflow body needs. The API's own body parser (server/validation)
applies the same bound through `check_depth`.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 128  # arrays and objects inside one another


class TooDeep(ValueError):
    """JSON nested deeper than MAX_DEPTH."""

    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


def loads(text: str | bytes) -> Any:
    """The JSON value of `text`; ValueError when it is not JSON (NaN and
    Infinity included), TooDeep (a ValueError) when it nests too deeply."""
    try:
        value = json.loads(text, parse_constant=_not_a_number)
    except RecursionError:  # far deeper than MAX_DEPTH: the parser gave up
        raise TooDeep() from None
    check_depth(value, text)
    return value


def check_depth(value: Any, text: str | bytes) -> None:
    """TooDeep when `value`, parsed from `text`, nests deeper than MAX_DEPTH.

    The walk is a loop, not recursion; it is skipped when `text` opens too
    few arrays and objects to get that deep (a count at C speed)."""
    if _openings(text) <= MAX_DEPTH:
        return
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise TooDeep()
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _openings(text: str | bytes) -> int:
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
