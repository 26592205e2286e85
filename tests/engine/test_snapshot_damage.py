"""Restoring damaged snapshots: any JSON value either restores or raises
SnapshotError naming the place, and a refused document changes nothing."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from simulator.simulator import Simulator
from simulator.snapshot import SnapshotError
from simulator.snapshot.world import KEYS
from tests.conftest import TEST_SETTINGS

Edit = Callable[[dict[str, Any]], object]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """A snapshot of the ci world with work under way (a retry, a try running)."""
    sim = Simulator(TEST_SETTINGS)
    sim.advance(970.25)
    return sim.snapshot()


@pytest.fixture
def sim() -> Simulator:
    world = Simulator(TEST_SETTINGS)
    world.advance(600)
    return world


def refused(sim: Simulator, damaged: object) -> str:
    """The error restoring `damaged` raises; the world is as it was."""
    before = orjson.dumps(sim.snapshot())
    with pytest.raises(SnapshotError) as caught:
        sim.restore(damaged)
    assert orjson.dumps(sim.snapshot()) == before
    return str(caught.value)


def edited(document: dict[str, Any], edit: Edit) -> dict[str, Any]:
    damaged = copy.deepcopy(document)
    edit(damaged)
    return damaged


def test_the_document_restores(sim: Simulator, document: dict[str, Any]) -> None:
    sim.restore(copy.deepcopy(document))
    assert sim.snapshot() == document


@pytest.mark.parametrize("value", [None, 1, "snapshot", [], [{}], True, 1.5])
def test_not_an_object(sim: Simulator, value: object) -> None:
    assert refused(sim, value).startswith("snapshot: expected an object")


def test_another_format(sim: Simulator, document: dict[str, Any]) -> None:
    damaged = edited(document, lambda d: d.update(format="airflow-sim-save"))
    message = refused(sim, damaged)
    assert message == "snapshot: format: expected 'airflow-sim-snapshot', found 'airflow-sim-save'"


@pytest.mark.parametrize("version", [2, 0, "1", True, None, 1.0])
def test_another_version(sim: Simulator, document: dict[str, Any], version: object) -> None:
    message = refused(sim, edited(document, lambda d: d.update(version=version)))
    assert message.startswith("snapshot: version: expected 1 (this simulator reads version 1")


@pytest.mark.parametrize("key", KEYS[2:])
def test_a_missing_key(sim: Simulator, document: dict[str, Any], key: str) -> None:
    assert refused(sim, edited(document, lambda d: d.pop(key))) == f"snapshot: {key}: missing"


def test_an_unexpected_key(sim: Simulator, document: dict[str, Any]) -> None:
    damaged = edited(document, lambda d: d["engine"].update(extra=1))
    assert refused(sim, damaged) == "snapshot: engine.extra: unexpected key"


def _set(path: list[str | int], value: object) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


WRONG: list[tuple[list[str | int], object, str]] = [
    (["settings", "seed"], "0", "settings.seed: expected an integer, found a string"),
    (["settings", "start"], "yesterday", "settings.start: expected an ISO 8601 instant"),
    (["clock", "mode"], "fast", "clock.mode: expected one of 'frozen', 'realtime'"),
    (["clock", "speed"], -1, "clock.speed: expected a number above 0, at most"),
    (["dag_runs", "columns", "state"], 3, "dag_runs.columns.state: expected an array"),
    (["dag_runs", "count"], -1, "dag_runs.count: expected an integer from 0"),
    (["task_instances", "count"], 3, "task_instances.count: expected an integer from"),
    (["tables", "pools", "rows", 0, 3], 5, "tables.pools.rows[0][3]: expected a string"),
    (["tables", "pools", "columns"], ["pool"], "tables.pools.columns: expected ['id', 'pool',"),
    (["dags", "rows", 0, 1, "tasks", 0, "duration"], "long", "dags.rows[0][1].tasks[0].duration"),
    (["engine", "events", 0, 3], "ti.vanish", "no handler for events of kind 'ti.vanish'"),
    (["engine", "next_seq"], 0, "engine.events[0][2]: expected an integer from 0 to -1"),
    (["random", "drawn", "password/admin"], 10**9, "random.drawn.password/admin: expected an"),
    (["scenario", "name"], "../ci", "scenario.name: expected a bundled scenario"),
    (["scenario", "digest"], "sha256:0", "scenario.digest: the scenario 'ci' differs"),
]


@pytest.mark.parametrize(("path", "value", "expected"), WRONG, ids=[w[2][:40] for w in WRONG])
def test_a_wrong_value(
    sim: Simulator, document: dict[str, Any], path: list[str | int], value: object, expected: str
) -> None:
    assert expected in refused(sim, edited(document, _set(path, value)))


def _first_event(document: dict[str, Any], prefix: str) -> list[Any]:
    return next(e for e in document["engine"]["events"] if e[3].startswith(prefix))


DANGLING: list[tuple[str, Edit, str]] = [
    (
        "an event of a task instance of no run",
        lambda d: _first_event(d, "ti.").__setitem__(5, "no_such_run"),
        "expected the key of a task instance of a run",
    ),
    (
        "an event of a task instance in another state",
        lambda d: _first_event(d, "ti.retry").__setitem__(3, "ti.start"),
        "expected a task instance in state 'queued'",
    ),
    (
        "a creation event of a DAG that is gone",
        lambda d: _first_event(d, "create").__setitem__(4, "gone"),
        "expected a DAG without another creation event",
    ),
    (
        "an XCom of a run that does not exist",
        lambda d: d["xcoms"]["columns"].update(run=[10**6] * d["xcoms"]["count"]),
        "xcoms.columns.run[0]: expected an integer from 0 to",
    ),
    (
        "an event log row of an unknown task instance",
        lambda d: d["event_logs"]["columns"].update(subject=[10**6] * d["event_logs"]["count"]),
        "event_logs.columns.subject[0]: not a task try's row",
    ),
    (
        "a waiting instance that does not exist",
        lambda d: d["scheduler"]["waiting"].update(default_pool=[[0, 10**6]]),
        "expected the id of an instance of a run",
    ),
    (
        "a run of a DAG that does not exist",
        lambda d: d["dag_runs"]["columns"].update(dag=[99] * d["dag_runs"]["count"]),
        "dag_runs.columns.dag[0]: expected an index below 9",
    ),
    (
        "a dataset event of no dataset",
        lambda d: d["tables"]["dataset_events"]["rows"][0].__setitem__(1, 99),
        "tables.dataset_events.rows[0]: no dataset has the id 99",
    ),
    (
        "an outlet without its dataset",
        lambda d: d["tables"]["datasets"]["rows"][0].__setitem__(1, "s3://elsewhere"),
        "is not a dataset",
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [d[1:] for d in DANGLING], ids=[d[0] for d in DANGLING]
)
def test_a_dangling_reference(
    sim: Simulator, document: dict[str, Any], edit: Edit, expected: str
) -> None:
    assert expected in refused(sim, edited(document, edit))


# -- random damage --------------------------------------------------------------

REPLACEMENTS: list[object] = [
    None, 0, -1, 1, 2**63, 1.5, float("nan"), "", "x", "2023-04-01T00:00:00", True, [], {},
    [0], {"at": 0}, {"values": [1], "codes": "AA=="}, -(10**20),
]  # fmt: skip


def _nodes(node: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_nodes(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_nodes(value, (*path, index)))
    return found


def _damage(document: dict[str, Any], rng: random.Random) -> object:
    damaged = orjson.loads(orjson.dumps(document))
    for _ in range(rng.choice((1, 1, 2, 3))):
        path = rng.choice(_nodes(damaged)[1:])
        parent: Any = damaged
        for key in path[:-1]:
            parent = parent[key]
        action = rng.random()
        if (action < 0.3 and isinstance(parent, dict)) or (
            action < 0.4 and isinstance(parent, list)
        ):
            del parent[path[-1]]
        elif action < 0.5 and isinstance(parent[path[-1]], int | float):
            parent[path[-1]] += rng.choice((-1, 1, 1000))
        elif action < 0.6 and isinstance(parent[path[-1]], str):
            parent[path[-1]] += "x"
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(REPLACEMENTS))
    return damaged


@pytest.mark.parametrize("seed", range(6))
def test_random_damage_restores_or_is_refused(
    sim: Simulator, document: dict[str, Any], seed: int
) -> None:
    rng = random.Random(seed)
    before = orjson.dumps(sim.snapshot())
    for _ in range(60):
        try:
            sim.restore(_damage(document, rng))
        except SnapshotError as error:
            assert str(error).startswith("snapshot: ")
            assert "\n" not in str(error)
            assert orjson.dumps(sim.snapshot()) == before
        else:  # harmless damage: a world that runs; then back to the one of before
            sim.advance(7200)
            sim.snapshot()
            sim.restore(orjson.loads(before))
            assert orjson.dumps(sim.snapshot()) == before
