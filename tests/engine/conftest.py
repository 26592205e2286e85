"""Engine test helpers, SimPy style: build a tiny world, run the clock,
assert on the log of transitions.

`world(*dags)` builds a Simulator with a frozen clock and no built-in DAGs,
adds the given DAG definitions, and records every task instance state change
(made through lifecycle.set_state) with the virtual time it happened at.
Tasks default to `jitter: 0`, so a try lasts exactly its `duration`; only the
executor's pickup delay (1-3 s) is random.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
import pytest

from simulator.config import Settings
from simulator.engine import lifecycle, timetable
from simulator.simulator import Simulator
from simulator.state.dag_model import Dag
from simulator.state.entities import Pool
from simulator.state.run_model import DagRun, TaskInstance
from simulator.state.store import Store

T0 = datetime(2023, 4, 1, tzinfo=UTC)
# An Airflow without DAGs, frozen at T0.
FROZEN = Settings(
    scenario={"name": "empty"}, clock="frozen", start=T0, password_hash_iterations=1000
)
START = "2023-03-01T00:00:00+00:00"


def encoded(sim: Simulator) -> bytes:
    """The world's snapshot as the control API sends it."""
    return orjson.dumps(sim.snapshot())


def restored(sim: Simulator) -> Simulator:
    """A FROZEN simulator serving `sim`'s world, through its JSON snapshot."""
    copy = Simulator(FROZEN)
    copy.restore(orjson.loads(encoded(sim)))
    return copy


def dag(dag_id: str, *tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A DAG definition (fixtures/dags.yaml format); unscheduled unless told."""
    return {"dag_id": dag_id, "schedule": None, "start_date": START, "tasks": list(tasks), **fields}


def task(task_id: str, *upstream: str, **fields: Any) -> dict[str, Any]:
    """A task definition: 10 s long, no jitter, downstream of `upstream`."""
    return {"task_id": task_id, "upstream": list(upstream), "duration": 10, "jitter": 0, **fields}


def seconds(moment: datetime) -> float:
    return (moment - T0).total_seconds()


class Transition(NamedTuple):
    at: float  # seconds since T0
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    old: str | None
    new: str | None
    try_number: int


class World:
    """A simulator and the transitions its task instances went through."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.log: list[Transition] = []

    # -- building ----------------------------------------------------------

    def dag(self, dag_id: str) -> Dag:
        return self.sim.store.dags.require(dag_id)

    def add_pool(self, name: str, slots: int) -> Pool:
        return self.sim.store.pools.add(Pool(pool=name, slots=slots))

    def trigger(self, dag_id: str, run_id: str | None = None) -> DagRun:
        """A manual run, as POST .../dagRuns creates it (logical date = now)."""
        dag = self.dag(dag_id)
        now = self.sim.engine.now
        return self.sim.scheduler.create_run(
            dag,
            run_id=run_id or f"manual__{now.isoformat()}",
            logical=now,
            interval=timetable.manual_interval(dag.schedule, now),
            run_type="manual",
            external=True,
        )

    def pause(self, dag_id: str) -> None:
        dag = self.dag(dag_id)
        dag.is_paused = True
        self.sim.scheduler.pause(dag)

    def unpause(self, dag_id: str) -> None:
        dag = self.dag(dag_id)
        dag.is_paused = False
        self.sim.scheduler.resume(dag)
        self.sim.catch_up()  # the scheduler's next loop: what became due at once

    # -- running -----------------------------------------------------------

    def advance(self, secs: float) -> None:
        self.sim.advance(secs)

    def advance_to(self, secs: float) -> None:
        """Move the clock to T0 + `secs`."""
        self.sim.advance_to(T0 + timedelta(seconds=secs))

    # -- looking -----------------------------------------------------------

    @property
    def now(self) -> float:
        return seconds(self.sim.engine.now)

    def runs(self, dag_id: str) -> list[DagRun]:
        return self.sim.store.runs_of(dag_id)

    def run(self, dag_id: str) -> DagRun:
        """The DAG's only run."""
        [only] = self.runs(dag_id)
        return only

    def ti(self, run: DagRun, task_id: str, map_index: int = -1) -> TaskInstance:
        return self.sim.store.task_instances.require((run.dag_id, run.run_id, task_id, map_index))

    def states(self, run: DagRun) -> dict[str, str | None]:
        """task_id (or task_id[map_index]) -> state, for every instance of the run."""
        return {
            ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]": ti.state
            for ti in self.sim.store.tis_of(run)
        }

    def changes(
        self, task_id: str, run: DagRun | None = None, map_index: int = -1
    ) -> list[Transition]:
        return [
            t
            for t in self.log
            if t.task_id == task_id
            and t.map_index == map_index
            and (run is None or t.run_id == run.run_id)
        ]

    def history(self, task_id: str, run: DagRun | None = None, map_index: int = -1) -> list[Any]:
        """The states a task instance went through, in order."""
        return [t.new for t in self.changes(task_id, run, map_index)]

    def entered(
        self, task_id: str, state: str, run: DagRun | None = None, map_index: int = -1
    ) -> list[float]:
        """When (seconds since T0) the instance entered `state`, each time."""
        return [t.at for t in self.changes(task_id, run, map_index) if t.new == state]

    def busy_intervals(self, task_id: str, run: DagRun | None = None) -> list[tuple[float, float]]:
        """(running since, running until) for each try of the instance."""
        spans, since = [], None
        for t in self.changes(task_id, run):
            if t.new == lifecycle.RUNNING:
                since = t.at
            elif since is not None and t.old == lifecycle.RUNNING:
                spans.append((since, t.at))
                since = None
        return spans

    def max_concurrent(self, states: frozenset[str], dag_id: str | None = None) -> int:
        """The most task instances that were at once in one of `states`."""
        current: dict[tuple[str, str, int], bool] = {}
        peak = 0
        for t in self.log:
            if dag_id is not None and t.dag_id != dag_id:
                continue
            current[(t.run_id, t.task_id, t.map_index)] = t.new in states
            peak = max(peak, sum(current.values()))
        return peak


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., World]]:
    """A factory: world(*dag_definitions, seed=0) -> World, recording transitions."""
    worlds: dict[int, World] = {}
    original = lifecycle.set_state

    def recording(store: Store, ti: TaskInstance, state: str | None) -> None:
        recorder = worlds.get(id(store))
        if recorder is not None:
            recorder.log.append(
                Transition(seconds(recorder.sim.engine.now), ti.dag_id, ti.run_id, ti.task_id,
                           ti.map_index, ti.state, state, ti.try_number)
            )  # fmt: skip
        original(store, ti, state)

    monkeypatch.setattr(lifecycle, "set_state", recording)

    def make(*dags: dict[str, Any], seed: int = 0, **settings: Any) -> World:
        sim = Simulator(dataclasses.replace(FROZEN, seed=seed, **settings))
        recorder = World(sim)
        worlds[id(sim.store)] = recorder
        sim.add_dags(list(dags))
        sim.catch_up()  # what is due at the start instant (as Simulator.reset does)
        return recorder

    yield make
