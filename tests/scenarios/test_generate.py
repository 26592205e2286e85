"""`generate:`: deterministic, prefix-stable bulk worlds whose DAGs load."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from simulator.scenario.dags import dag_from_dict
from simulator.scenario.generate import CONNECTIONS, Generated, GenerateError, generate
from simulator.scenario.shapes import ShapeError
from tests.scenarios.test_shapes import BRANCH_LANDED, SHAPES

SPEC: dict[str, Any] = {
    "dags": {"count": 200},
    "connections": 50,
    "variables": 200,
    "users": 20,
}
# Every shape that can load today (see test_shapes.BRANCH_LANDED).
LOADABLE = {name: 1 for name in SHAPES if BRANCH_LANDED or name != "branch"}
DAG_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")
ROLES = {"Admin", "Op", "User", "Viewer", "Public"}


def first_task(dag: dict[str, Any]) -> str:
    return str(dag["tasks"][0]["task_id"])


def test_the_same_seed_makes_the_same_world() -> None:
    assert generate(SPEC, 7, SHAPES) == generate(SPEC, 7, SHAPES)


def test_another_seed_makes_other_names() -> None:
    one, two = generate(SPEC, 7, SHAPES), generate(SPEC, 8, SHAPES)
    assert len({d["dag_id"] for d in one.dags} & {d["dag_id"] for d in two.dags}) < 20
    assert {u["username"] for u in one.users} != {u["username"] for u in two.users}
    assert [c["conn_id"] for c in one.connections] != [c["conn_id"] for c in two.connections]
    assert [v["key"] for v in one.variables] != [v["key"] for v in two.variables]


def test_more_items_keep_the_earlier_ones() -> None:
    counts = {"connections": 30, "variables": 40, "users": 10}
    small = generate({"dags": {"count": 80}, **counts}, 3, SHAPES)
    large = generate({"dags": {"count": 81}, **{k: n + 1 for k, n in counts.items()}}, 3, SHAPES)
    assert large.dags[:80] == small.dags
    assert large.connections[:30] == small.connections
    assert large.variables[:40] == small.variables
    assert large.users[:10] == small.users


def test_dag_ids_are_unique_and_valid_at_scale() -> None:
    ids = [d["dag_id"] for d in generate({"dags": {"count": 5000}}, 1, SHAPES).dags]
    assert len(set(ids)) == 5000
    assert all(DAG_ID.match(dag_id) for dag_id in ids)


def test_every_generated_dag_loads() -> None:
    made = generate({"dags": {"count": 400, "shapes": LOADABLE}}, 11, SHAPES)
    dags = [dag_from_dict(definition, "key") for definition in made.dags]
    assert {dag.dag_id for dag in dags} == {d["dag_id"] for d in made.dags}
    assert all(dag.description and dag.owners and dag.tags for dag in dags)


def test_shape_weights_are_respected() -> None:
    spec = {"dags": {"count": 2000, "shapes": {"etl": 3, "sensor": 1, "backfill": 0}}}
    counts = Counter(first_task(d) for d in generate(spec, 5, SHAPES).dags)
    assert set(counts) == {"extract_db", "wait_for_export"}
    assert 0.71 < counts["extract_db"] / 2000 < 0.79


def test_paused_fraction() -> None:
    dags = generate({"dags": {"count": 2000, "paused": 0.3}}, 5, SHAPES).dags
    assert 0.26 < sum(d["is_paused"] for d in dags) / 2000 < 0.34
    assert not any(d["is_paused"] for d in generate({"dags": {"paused": 0}}, 5, SHAPES).dags)


def test_schedules_start_date_and_prefix() -> None:
    spec = {
        "dags": {
            "count": 100, "shapes": {"etl": 1, "dataset_consumer": 1, "dataset_producer": 1},
            "schedules": ["@hourly", None], "start_date": "2023-06-01T00:00:00Z", "prefix": "gen.",
        }
    }  # fmt: skip
    dags = generate(spec, 2, SHAPES).dags
    timed = [d["schedule"] for d in dags if not isinstance(d["schedule"], dict)]
    assert set(timed) == {"@hourly", None}
    assert {d["start_date"] for d in dags} == {"2023-06-01T00:00:00Z"}
    assert all(d["dag_id"].startswith("gen.") for d in dags)


def test_the_default_schedules_are_mostly_daily() -> None:
    dags = generate({"dags": {"count": 1000, "shapes": {"etl": 1}}}, 4, SHAPES).dags
    schedules = [d["schedule"] for d in dags]
    daily = [s for s in schedules if s == "@daily" or (s and re.fullmatch(r"\d+ \d+ \* \* \*", s))]
    assert len(daily) > 400
    assert 0 < schedules.count(None) < 150 and "@hourly" in schedules


def test_dataset_consumers_follow_earlier_producers() -> None:
    spec = {"dags": {"count": 300, "shapes": {"dataset_consumer": 3, "dataset_producer": 1}}}
    dags = generate(spec, 9, SHAPES).dags
    produced: set[str] = set()
    consumers = 0
    for dag in dags:
        if isinstance(dag["schedule"], dict):
            consumers += 1
            assert set(dag["schedule"]["datasets"]) <= produced, dag["dag_id"]
        outlets = [uri for task in dag["tasks"] for uri in task.get("outlets", [])]
        assert len(outlets) <= 1
        produced.update(outlets)
    assert not isinstance(dags[0]["schedule"], dict)  # the first one produces
    assert 200 < consumers < 250 and len(produced) > 40
    assert all(re.match(r"^(s3|postgres)://", uri) for uri in produced)


def test_generated_dags_vary_their_shape() -> None:
    dags = generate({"dags": {"count": 50, "shapes": {"fan_out_fan_in": 1}}}, 6, SHAPES).dags
    assert len({d["tasks"][1]["map_count"] for d in dags}) > 5
    assert len({d["tasks"][1]["duration"] for d in dags}) > 20
    assert {d["owner"] for d in dags} != {SHAPES["fan_out_fan_in"]["owner"]}


def test_connections() -> None:
    connections = generate({"connections": 300}, 1, SHAPES).connections
    assert len({c["conn_id"] for c in connections}) == 300
    assert {c["conn_type"] for c in connections} == set(CONNECTIONS)
    for c in connections:
        assert list(c) == [
            "conn_id", "conn_type", "description", "host", "login", "password", "schema",
            "port", "extra",
        ]  # fmt: skip
        assert c["port"] is None or isinstance(c["port"], int)
        assert c["extra"] is None or isinstance(json.loads(c["extra"]), dict)
        for name in ("description", "host", "login", "password", "schema"):
            assert c[name] is None or (isinstance(c[name], str) and "{" not in c[name])
    postgres = next(c for c in connections if c["conn_type"] == "postgres")
    assert postgres["port"] == 5432 and postgres["host"] and postgres["login"]


def test_variables() -> None:
    variables = generate({"variables": 300}, 1, SHAPES).variables
    assert len({v["key"] for v in variables}) == 300
    assert all(list(v) == ["key", "value", "description"] for v in variables)
    assert all(isinstance(v["value"], str) for v in variables)
    parsed = [json.loads(v["value"]) for v in variables if v["value"][:1] in "[{"]
    assert any(isinstance(p, dict) for p in parsed) and any(isinstance(p, list) for p in parsed)
    assert 0 < sum(v["description"] is None for v in variables) < 200


def test_users() -> None:
    users = generate({"users": 200}, 1, SHAPES).users
    assert len({u["username"] for u in users}) == 200
    assert len({u["email"] for u in users}) == 200
    roles = Counter(role for u in users for role in u["roles"])
    assert set(roles) <= ROLES and roles["Viewer"] and roles["User"] and roles["Op"]
    assert 0 < roles["Admin"] < 40
    for u in users:
        assert list(u) == ["username", "password", "first_name", "last_name", "email", "roles"]
        assert u["password"] == u["username"] and "@" in u["email"]
        assert u["first_name"] and u["last_name"]


def test_an_empty_spec_makes_nothing() -> None:
    assert generate({}, 1, SHAPES) == Generated()


@pytest.mark.parametrize(
    ("shapes", "error", "message"),
    [
        ({"nope": 1}, ShapeError, "unknown shape 'nope'; known shapes: "),
        ({"etl": 0}, GenerateError, "generate.dags.shapes: no shape has a positive weight"),
    ],
)
def test_bad_weights(shapes: dict[str, float], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        generate({"dags": {"shapes": shapes}}, 1, SHAPES)
    assert str(info.value).startswith(message)
