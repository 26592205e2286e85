"""DAG definitions from YAML: Airflow's defaults, and errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.scenario.dags import DagDefinitionError, dag_from_dict
from simulator.scenario.loader import load_scenario

KEY = "secret"


def definition(**overrides: Any) -> dict[str, Any]:
    base = {
        "dag_id": "d",
        "schedule": "@daily",
        "start_date": "2023-01-01T00:00:00+00:00",
        "tasks": [{"task_id": "a"}, {"task_id": "b", "upstream": ["a"]}],
    }
    return {**base, **overrides}


def test_defaults_and_links() -> None:
    dag = dag_from_dict(definition(owner="team", retries=2), KEY)
    assert dag.fileloc == "/opt/airflow/dags/d.py"
    assert dag.tasks["a"].downstream == ["b"]
    assert dag.tasks["b"].owner == "team" and dag.tasks["b"].retries == 2
    assert dag.owners == ["team"]
    assert dag.file_token.count(".") == 1


def test_the_ci_dags_load() -> None:
    dags = [dag_from_dict(item, KEY) for item in load_scenario("ci").dags]
    assert len(dags) == 9
    assert {d.dag_id for d in dags} >= {"etl_orders", "fan_out_fan_in", "wait_for_partition"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dag_id": ""}, "dag.dag_id: a dag_id is required"),
        ({"colour": "red"}, "dag d: unknown field(s) colour"),
        ({"schedule": "every day"}, "dag d.schedule: invalid cron expression 'every day'"),
        ({"start_date": "2023-01-01T00:00:00"}, "dag d.start_date: a timezone is required"),
        (
            {"tasks": [{"task_id": "a", "upstream": ["z"]}]},
            "dag d.tasks[0].upstream: unknown task 'z'",
        ),
        (
            {"tasks": [{"task_id": "a", "upstream": ["b"]}, {"task_id": "b", "upstream": ["a"]}]},
            "dag d.tasks: the tasks form a cycle (a, b)",
        ),
        (
            {"tasks": [{"task_id": "a", "trigger_rule": "one_or_two"}]},
            "dag d.tasks[0].trigger_rule: unknown rule 'one_or_two'",
        ),
        (
            {"tasks": [{"task_id": "a"}, {"task_id": "a"}]},
            "dag d.tasks[1].task_id: duplicate task_id 'a'",
        ),
    ],
)
def test_errors_name_the_dag_and_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(DagDefinitionError) as info:
        dag_from_dict(definition(**overrides), KEY)
    assert str(info.value) == message
