"""The scenario's `retention: {days: N}`: read, merged through includes, and
its errors named by file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.scenario.loader import load_scenario, schema
from simulator.scenario.problems import ScenarioError


def write(tmp_path: Path, name: str, document: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(problem) for problem in info.value.problems]


def test_without_retention_everything_is_kept() -> None:
    assert load_scenario({"name": "w"}).retention_days is None
    assert load_scenario("ci").retention_days is None


@pytest.mark.parametrize("days", [1, 30, 36600, 7.0])
def test_the_days_are_read(days: float) -> None:
    scenario = load_scenario({"name": "w", "retention": {"days": days}})
    assert scenario.retention_days == int(days) and type(scenario.retention_days) is int


def test_the_including_file_wins(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", {"name": "base", "retention": {"days": 30}})
    top = write(tmp_path, "top.yaml", {"name": "top", "include": ["./base.yaml"]})
    assert load_scenario(top).retention_days == 30
    top = write(tmp_path, "top.yaml",
                {"name": "top", "include": ["./base.yaml"], "retention": {"days": 7}})  # fmt: skip
    assert load_scenario(top).retention_days == 7


@pytest.mark.parametrize(
    ("retention", "message"),
    [
        ({"days": 0}, "retention.days: expected a number >= 1, found 0"),
        ({"days": 36601}, "retention.days: expected a number <= 36600, found 36601"),
        ({"days": 1.5}, "retention.days: expected an integer, found 1.5"),
        ({"days": "30"}, "retention.days: expected an integer, found '30'"),
        ({}, "retention: missing required key 'days'"),
        ({"days": 3, "hours": 4}, "retention.hours: unknown key 'hours'"),
        (30, "retention: expected a mapping, found 30"),
    ],
)
def test_a_bad_value_names_the_file_and_the_field(
    tmp_path: Path, retention: Any, message: str
) -> None:
    path = write(tmp_path, "w.yaml", {"name": "w", "retention": retention})
    assert errors(path) == [f"{path}: {message}"]


def test_the_schema_documents_it() -> None:
    retention = schema()["properties"]["retention"]
    assert retention["required"] == ["days"]
    assert retention["properties"]["days"] == {"type": "integer", "minimum": 1, "maximum": 36600}
