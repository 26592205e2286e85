"""JSON as RFC 8259 has it: Python's json module takes NaN, Infinity and
-Infinity, which are not JSON; every body and header the simulator reads
goes through `loads` instead."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes) -> Any:
    """The JSON value of `text`; ValueError when it is not JSON (NaN and
    Infinity included), RecursionError when it nests too deeply."""
    return json.loads(text, parse_constant=_not_a_number)


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
