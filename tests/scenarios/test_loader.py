"""Scenario files: every kind of error names the file and the path of the
field, all errors of a file are reported, includes merge, `use:` applies a
shape with overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.scenario.loader import load_scenario
from simulator.scenario.problems import ScenarioError


def write(tmp_path: Path, name: str, document: dict[str, Any] | str) -> Path:
    path = tmp_path / name
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    path.write_text(text)
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(problem) for problem in info.value.problems]


def dag(dag_id: str = "d", *tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = list(tasks) or [{"task_id": "a"}, {"task_id": "b", "upstream": ["a"]}]
    return {"dag_id": dag_id, "schedule": "@daily", "start_date": "2024-01-01T00:00:00Z",
            "tasks": body, **fields}  # fmt: skip


SCHEMA_ERRORS = [
    ({"name": "w", "colour": "red"}, "colour: unknown key 'colour'"),
    (
        {"name": "w", "dags": [dag("d", {"task_id": "a", "trigger_rul": "all_done"})]},
        "dags[0].tasks[0].trigger_rul: unknown key 'trigger_rul' (did you mean 'trigger_rule'?)",
    ),
    (
        {"name": "w", "dags": [dag("d", {"task_id": "a", "trigger_rule": "sometimes"})]},
        "dags[0].tasks[0].trigger_rule: expected one of 'all_success', 'all_failed', "
        "'all_done', 'all_skipped', 'one_success', 'one_failed', 'one_done', 'none_failed', "
        "'none_skipped', 'none_failed_or_skipped', 'none_failed_min_one_success', 'dummy', "
        "'always', found 'sometimes'",
    ),
    ({"description": "no name"}, "(top level): missing required key 'name'"),
    ({"name": "w", "seed": "forty-two"}, "seed: expected an integer, found 'forty-two'"),
    (
        {"name": "w", "clock": {"mode": "paused"}},
        "clock.mode: expected one of 'frozen', 'realtime', found 'paused'",
    ),
    (
        {"name": "w", "clock": {"start": "2024-01-01T00:00:00"}},
        "clock.start: expected 'now' or an ISO 8601 instant with an offset, "
        "found '2024-01-01T00:00:00'",
    ),
    ({"name": "w", "history": {"days": -1}}, "history.days: expected a number >= 0, found -1"),
    (
        {"name": "w", "dags": [dag("d", schedule=5)]},
        "dags[0].schedule: expected null, '@once', a cron expression or preset, "
        "{timedelta: seconds} or {datasets: [uri, ...]}, found 5",
    ),
    (
        {"name": "w", "pools": [{"name": "p"}]},
        "pools[0]: missing required key 'slots'",
    ),
    (
        {"name": "w", "dags": [dag("bad id!")]},
        "dags[0].dag_id: expected an id of letters, digits, '_', '.' and '-' (at most 250), "
        "found 'bad id!'",
    ),
]


SEMANTIC_ERRORS = [
    (
        {"name": "w", "dags": [dag("d", {"task_id": "a", "upstream": ["z"]})]},
        "dags[0].tasks[0].upstream: unknown task 'z'",
    ),
    (
        {
            "name": "w",
            "dags": [
                dag("d", {"task_id": "a", "upstream": ["b"]}, {"task_id": "b", "upstream": ["a"]})
            ],
        },
        "dags[0].tasks: the tasks form a cycle (a, b)",
    ),
    (
        {"name": "w", "dags": [{"use": "etl_v2", "dag_id": "x"}]},
        "dags[0].use: unknown shape 'etl_v2'; known shapes: backfill, branch, "
        "dataset_consumer, dataset_producer, etl, fan_out_fan_in, flaky_api, ml_training, sensor",
    ),
    ({"name": "w", "dags": [dag("d"), dag("d")]}, "dags[1]: duplicate 'd' (also dags[0])"),
    (
        {"name": "w", "dags": [dag("d", {"task_id": "a", "pool": "gpu"})]},
        "dags[0].tasks[0].pool: expected a pool defined under `pools`, found 'gpu'",
    ),
    (
        {
            "name": "w",
            "dags": [dag("d", {"task_id": "a", "conn_id": "warehouse"})],
            "connections": [{"conn_id": "other", "conn_type": "postgres"}],
        },
        "dags[0].tasks[0].conn_id: expected a connection defined under `connections`, "
        "found 'warehouse'",
    ),
    (
        {"name": "w", "auth": {"users": [{"username": "u", "roles": ["Viewer", "Boss"]}]}},
        "auth.users[0].roles[1]: expected a role (Admin, Op, Public, User, Viewer), found 'Boss'",
    ),
    (
        {
            "name": "w",
            "auth": {
                "users": [
                    {"username": "a", "email": "x@example.com"},
                    {"username": "b", "email": "X@example.com"},
                ]
            },
        },
        "auth.users[1].email: duplicate email 'X@example.com' (also auth.users[0])",
    ),
    (
        {"name": "w", "auth": {"roles": [{"name": "r", "permissions": [["can_fly", "DAGs"]]}]}},
        "auth.roles[0].permissions[0]: expected an action (can_create, can_delete, can_edit, "
        "can_read, menu_access), found 'can_fly'",
    ),
    (
        {"name": "w", "auth": {"roles": [{"name": "r", "permissions": [["can_read", "DAG:x"]]}]}},
        "auth.roles[0].permissions[0]: expected a resource or DAG:<dag_id> of a DAG here, "
        "found 'DAG:x'",
    ),
    (
        {"name": "w", "dag_warnings": [{"dag_id": "ghost", "message": "m"}]},
        "dag_warnings[0].dag_id: expected a DAG of `dags`, found 'ghost'",
    ),
    (
        {"name": "w", "clock": {"start": "2024-13-01T00:00:00Z"}},
        "clock.start: expected a valid instant, found '2024-13-01T00:00:00Z' "
        "(month must be in 1..12)",
    ),
    (
        {"name": "w", "clock": {"start": "0001-01-01T00:00:00Z"}, "history": {"days": 1}},
        "clock.start: expected a valid instant, found '0001-01-01T00:00:00Z' "
        "(instants before 1970-01-01 are not supported)",
    ),
    (
        {"name": "w", "generate": {"dags": {"count": 2, "shapes": {"etl": 1, "nope": 2}}}},
        "generate.dags.shapes.nope: expected a shape (backfill, branch, dataset_consumer, "
        "dataset_producer, etl, fan_out_fan_in, flaky_api, ml_training, sensor), found 'nope'",
    ),
    (
        {"name": "w", "config": {"api": {"maximum_page_limit": "lots"}}},
        "config.api.maximum_page_limit: expected a positive integer, found 'lots'",
    ),
    (
        {"name": "w", "generate": {"dags": {"shapes": {"etl": 0}}}},
        "generate.dags.shapes: expected at least one shape with a positive weight, found none",
    ),
    (
        {"name": "w", "include": ["no_such_world"]},
        "include[0]: expected a bundled scenario (chaos, ci, default, demo, large) or a file path, "
        "found 'no_such_world'",
    ),
]


@pytest.mark.parametrize(("document", "message"), [*SCHEMA_ERRORS, *SEMANTIC_ERRORS])
def test_each_error_kind_names_file_and_path(
    tmp_path: Path, document: dict[str, Any], message: str
) -> None:
    path = write(tmp_path, "world.yaml", document)
    assert errors(path) == [f"{path}: {message}"]


def test_every_error_of_a_file_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "w.yaml", {"name": "w", "seed": -1, "clock": {"speed": 0}, "x": 1})
    assert errors(path) == [
        f"{path}: x: unknown key 'x'",
        f"{path}: clock.speed: expected a number > 0, found 0",
        f"{path}: seed: expected a number >= 0, found -1",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: w\nseed: [1,\n",
            "line 3, column 1: expected the node content, but found '<stream end>'",
        ),
        ("name: w\nname: v\n", "line 2, column 1: duplicate key 'name'"),
        ("- just\n- a list\n", "(top level): expected a mapping, found a list"),
        ("", "(top level): expected a mapping, found null"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e]\n"
            "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
            "more than 5,000,000 values once aliases are expanded",
        ),
    ],
)
def test_unreadable_files(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "w.yaml", text)
    found = errors(path)
    assert len(found) == 1
    assert found[0].startswith(f"{path}: ")
    assert found[0].endswith(message)


def test_missing_file_and_include_errors(tmp_path: Path) -> None:
    assert errors(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]
    a = write(tmp_path, "a.yaml", {"name": "a", "include": ["./b.yaml", "./gone.yaml"]})
    write(tmp_path, "b.yaml", {"name": "b", "include": ["./a.yaml"]})
    assert errors(a) == [
        f"{tmp_path / 'b.yaml'}: include[0]: include cycle: {a} -> {tmp_path / 'b.yaml'} -> {a}",
        f"{tmp_path / 'gone.yaml'}: no such file",
    ]


def test_errors_in_an_included_file_name_that_file(tmp_path: Path) -> None:
    broken = dag("d", {"task_id": "a", "upstream": ["q"]})
    write(tmp_path, "base.yaml", {"name": "base", "dags": [broken]})
    top = write(tmp_path, "top.yaml", {"name": "top", "include": ["base.yaml"]})
    assert errors(top) == [f"{tmp_path / 'base.yaml'}: dags[0].tasks[0].upstream: unknown task 'q'"]


def test_include_merges_and_the_including_file_wins(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", {
        "name": "base", "seed": 3, "clock": {"mode": "frozen", "speed": 2},
        "dags": [dag("one"), dag("two")],
        "variables": [{"key": "k", "value": "base"}, {"key": "only_base", "value": 1}],
        "config": {"core": {"parallelism": 8, "dag_concurrency": 4}},
        "generate": {"dags": {"count": 3, "paused": 0.5}},
    })  # fmt: skip
    top = write(tmp_path, "top.yaml", {
        "name": "top", "include": ["base.yaml", "ci"], "clock": {"speed": 5},
        "dags": [dag("two", tags=["mine"]), dag("three")],
        "variables": [{"key": "k", "value": "top"}],
        "config": {"core": {"parallelism": 16}},
        "generate": {"dags": {"count": 4}},
    })  # fmt: skip
    scenario = load_scenario(top)
    assert (scenario.name, scenario.seed, scenario.mode, scenario.speed) == ("top", 0, "frozen", 5)
    ids = [d["dag_id"] for d in scenario.dags]
    assert ids[:2] == ["one", "two"] and ids[-1] == "three" and "etl_orders" in ids
    assert next(d for d in scenario.dags if d["dag_id"] == "two")["tags"] == ["mine"]
    assert scenario.variables == [{"key": "k", "value": "top"}, {"key": "only_base", "value": 1}]
    assert scenario.config == {"core": {"parallelism": 16, "dag_concurrency": 4}}
    assert scenario.generate == {"dags": {"count": 4, "paused": 0.5}}
    assert scenario.source == str(top.resolve())


def test_a_file_included_twice_merges_once(tmp_path: Path) -> None:
    write(
        tmp_path, "common.yaml", {"name": "common", "variables": [{"key": "k", "value": "common"}]}
    )
    write(tmp_path, "team.yaml", {"name": "team", "include": ["common.yaml"],
                                  "variables": [{"key": "k", "value": "team"}]})  # fmt: skip
    top = write(tmp_path, "top.yaml", {"name": "top", "include": ["team.yaml", "common.yaml"]})
    assert load_scenario(top).variables == [{"key": "k", "value": "team"}]


def test_use_applies_a_shape_with_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "w.yaml", {"name": "w", "dags": [
        {"use": "etl", "dag_id": "sales_etl", "schedule": "@hourly", "tags": ["sales"]},
        {"use": "dataset_producer", "dag_id": "p", "outlets": ["s3://b/x"]},
    ]})  # fmt: skip
    etl, producer = load_scenario(path).dags
    assert (etl["dag_id"], etl["schedule"], etl["tags"]) == ("sales_etl", "@hourly", ["sales"])
    assert "use" not in etl and [t["task_id"] for t in etl["tasks"]][:2] == [
        "extract_db",
        "extract_api",
    ]
    assert [t["outlets"] for t in producer["tasks"] if t.get("outlets")] == [["s3://b/x"]]


def test_json_files_and_inline_documents(tmp_path: Path) -> None:
    path = write(tmp_path, "w.json", '{"name": "j", "seed": 9}')
    assert (load_scenario(path).name, load_scenario(path).seed) == ("j", 9)
    inline = load_scenario({"name": "inline", "include": ["ci"]})
    assert (inline.source, len(inline.dags)) == ("inline", 9)
