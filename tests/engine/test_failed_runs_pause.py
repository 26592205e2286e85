"""max_consecutive_failed_dag_runs (Airflow 2.9+): a run failing by its
tasks pauses its DAG when the DAG's latest runs by logical date, that many
of them, all failed; whatever API version the simulator serves."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from simulator.engine import lifecycle as lc
from tests.engine.conftest import World, dag, seconds, task

HOURLY = {"schedule": "@hourly", "start_date": "2023-03-31T23:00:00+00:00"}


def failing(dag_id: str, limit: int, **fields: object) -> dict[str, object]:
    return dag(dag_id, task("a", fail_tries=[1]), max_consecutive_failed_dag_runs=limit,
               **{**HOURLY, **fields})  # fmt: skip


@pytest.mark.parametrize("version", ["2.5.3", "2.10.5"])
def test_paused_after_the_limit(world: Callable[..., World], version: str) -> None:
    w = world(failing("d", 2), airflow_version=version)
    d = w.dag("d")
    w.sim.advance(60)  # the first run (23:00) failed: one failure so far
    assert [run.state for run in w.sim.store.runs_of("d")] == [lc.FAILED]
    assert not d.is_paused
    w.sim.advance(3600)  # the 00:00 run, created at 01:00, failed too
    runs = w.sim.store.runs_of("d")
    assert [run.state for run in runs] == [lc.FAILED, lc.FAILED]
    assert d.is_paused
    w.sim.advance(7200)  # no run is created while it is paused
    assert len(w.sim.store.runs_of("d")) == 2


def test_no_limit_never_pauses(world: Callable[..., World]) -> None:
    w = world(failing("d", 0))
    w.sim.advance(3 * 3600)
    assert [run.state for run in w.sim.store.runs_of("d")][:3] == [lc.FAILED] * 3
    assert not w.dag("d").is_paused


def test_a_success_in_between_keeps_it_running(world: Callable[..., World]) -> None:
    w = world(failing("d", 2))
    a = w.dag("d").tasks["a"]
    w.sim.advance(60)  # 23:00 failed
    a.fail_tries = []
    w.sim.advance(3600)  # 00:00 succeeded
    a.fail_tries = [1]
    w.sim.advance(3600)  # 01:00 failed: the latest two are failed and success
    states = [run.state for run in w.sim.store.runs_of("d")]
    assert states == [lc.FAILED, lc.SUCCESS, lc.FAILED]
    assert not w.dag("d").is_paused
    w.sim.advance(3600)  # 02:00 failed as well
    assert w.dag("d").is_paused


def test_a_requested_parse_comes_in_the_next_loop(world: Callable[..., World]) -> None:
    w = world(dag("d", task("a")), dag("e", task("b")))
    d, e = w.dag("d"), w.dag("e")
    w.sim.advance(12.25)
    assert w.sim.actions.request_parse(d.fileloc)
    assert not w.sim.actions.request_parse(d.fileloc)  # one row per file
    w.sim.advance(0.5)
    assert seconds(d.last_parsed_time) == 0
    w.sim.advance(0.5)
    assert (seconds(d.last_parsed_time), seconds(e.last_parsed_time)) == (13, 0)
    assert w.sim.actions.request_parse(d.fileloc)  # served: a new one may come
