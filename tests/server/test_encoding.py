"""dump_json writes exactly what json.dumps(indent=2, sort_keys=True) + newline does."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import pytest

from simulator.schemas.page import Page
from simulator.server.encoding import dump_json, encode_page


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


def _page(key: str, rows: list[Any], versions: list[Any]) -> Page:
    return Page(key, [(row, None, version, lambda row=row: row["body"])
                      for row, version in zip(rows, versions, strict=True)], len(rows))  # fmt: skip


@pytest.mark.parametrize("key", ["dag_runs", "task_instances", "event_logs", "xcom_entries"])
def test_a_page_is_the_standard_librarys_bytes(key: str) -> None:
    """Items encoded one by one and put together read as json.dumps of the
    whole body, whatever they hold (CASES)."""
    rows = [{"body": {"n": n, "case": case}} for n, case in enumerate(CASES[:-1])]
    page = _page(key, rows, list(range(len(rows))))
    expected = (json.dumps(page.body(), indent=2, sort_keys=True) + "\n").encode()
    assert encode_page(page) == expected
    assert encode_page(page) == expected  # from the kept items
    empty = Page(key, [], 0)
    assert (
        encode_page(empty) == (json.dumps(empty.body(), indent=2, sort_keys=True) + "\n").encode()
    )


def test_an_item_is_encoded_again_when_its_version_changes() -> None:
    row: dict[str, Any] = {"body": {"state": "running"}}
    assert b'"running"' in encode_page(_page("dag_runs", [row], ["v1"]))
    row["body"] = {"state": "success"}
    assert b'"running"' in encode_page(_page("dag_runs", [row], ["v1"]))  # same version: kept
    assert b'"success"' in encode_page(_page("dag_runs", [row], ["v2"]))
    row["body"] = {"state": "failed"}
    assert b'"failed"' in encode_page(_page("dag_runs", [row], [None]))  # None: never kept
    assert b'"failed"' in encode_page(_page("dag_runs", [{"body": {"state": "failed"}}], ["v2"]))
