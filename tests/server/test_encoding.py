"""dump_json writes exactly what json.dumps(indent=2, sort_keys=True) + newline does."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import pytest

from simulator.server.encoding import dump_json


class Colour(StrEnum):
    RED = "red"


CASES: list[Any] = [
    {},
    [],
    {"b": 1, "a": [1, 2, {"d": None, "c": True}], "e": {}},
    {"float": [0.1, 1.5, 2.0, -0.0, 1e16, 1e22, 123456789.123, 30.293, 0.0001]},
    {"small": [1e-05, 3e-07, 5e-324]},  # Python's exponent form
    {"text": "caf\u00e9 \u2603 \U0001f600", "key\u00e9": 1},  # escaped as ASCII
    {"quote": 'a "b" \\ c\n\t', "ctrl": "\x00\x1f"},
    {"big": 2**70, "neg": -(2**63)},
    {"enum": Colour.RED, Colour.RED: "value"},
    {"nested": [[[]], [{}], [{"z": [1e-5]}]]},
    {1: "int key"},  # orjson refuses it; the standard library answers
]


@pytest.mark.parametrize("obj", CASES)
def test_same_bytes_as_the_standard_library(obj: Any) -> None:
    assert dump_json(obj) == (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def test_what_the_standard_library_refuses_is_refused() -> None:
    from datetime import UTC, datetime

    with pytest.raises(TypeError):
        dump_json({"when": datetime(2023, 1, 1, tzinfo=UTC)})
