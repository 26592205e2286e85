"""Windowed faults (scheduler outage, import error, pool starvation) as the
registry runs them: windows that repeat, overlap, start in the past, or are
changed, disabled or removed while in force; pools changed meanwhile; task
faults changed while tries run; snapshots of all that, and damaged ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.simulator import Simulator
from simulator.snapshot import SnapshotError
from tests.conftest import TEST_SETTINGS

START = datetime(2023, 4, 1, tzinfo=UTC)
OUTAGE = {"kind": "scheduler_outage"}


@pytest.fixture
def sim() -> Simulator:
    return Simulator(TEST_SETTINGS)


def at(sim: Simulator, minutes: float) -> None:
    sim.advance_to(START + timedelta(minutes=minutes))


def pool_slots(sim: Simulator) -> int:
    return sim.store.pools.require("default_pool").slots


class TestOutageWindows:
    def test_a_repeating_window_comes_back(self, sim: Simulator) -> None:
        sim.faults.add({**OUTAGE, "id": "o", "at": "+10m", "seconds": 300, "repeat": "1h"})
        seen = []
        for minute in (5, 12, 20, 72, 80):
            at(sim, minute)
            seen.append(sim.scheduler.down)
        assert seen == [False, True, False, True, False]
        assert (sim.faults.get("o").matched, sim.faults.get("o").fired) == (2, 2)

    def test_a_window_begun_in_the_past_holds_now(self, sim: Simulator) -> None:
        at(sim, 30)
        sim.faults.add({**OUTAGE, "from": "-10m", "until": "+10m"})
        sim.catch_up()  # its beginning is due now
        assert sim.scheduler.down
        at(sim, 41)
        assert not sim.scheduler.down

    def test_past_occurrences_of_a_repeat_are_skipped(self, sim: Simulator) -> None:
        at(sim, 30)
        fault = sim.faults.add({**OUTAGE, "at": "-5h10m", "seconds": 60, "repeat": "1h"})
        at(sim, 60)  # the last one was 00:20-00:21, the next is 01:20
        assert (fault.matched, sim.scheduler.down) == (0, False)
        at(sim, 80.5)
        assert (fault.matched, sim.scheduler.down) == (1, True)

    def test_overlapping_outages_end_with_the_last(self, sim: Simulator) -> None:
        sim.faults.add({**OUTAGE, "from": "+1m", "until": "+10m"})
        sim.faults.add({**OUTAGE, "from": "+5m", "until": "+20m"})
        at(sim, 12)
        assert sim.scheduler.down
        at(sim, 21)
        assert not sim.scheduler.down

    @pytest.mark.parametrize("change", ["disable", "delete", "clear", "patch"])
    def test_a_window_in_force_ends_when_changed(self, sim: Simulator, change: str) -> None:
        sim.faults.add({**OUTAGE, "id": "o", "from": "+1m", "until": "+1h"})
        at(sim, 5)
        assert sim.scheduler.down
        if change == "disable":
            sim.faults.patch("o", {"enabled": False})
        elif change == "delete":
            sim.faults.remove("o")
        elif change == "clear":
            sim.faults.clear()
        else:
            sim.faults.patch("o", {"from": "+30m"})  # planned again, later
        assert not sim.scheduler.down
        at(sim, 40)
        assert sim.scheduler.down is (change == "patch")
        at(sim, 61)
        assert not sim.scheduler.down


class TestPoolStarvation:
    def test_the_pool_shrinks_then_comes_back(self, sim: Simulator) -> None:
        sim.faults.add({"kind": "pool_starvation", "pool": "default_pool", "slots": 3,
                        "from": "+1m", "until": "+10m"})  # fmt: skip
        at(sim, 5)
        assert pool_slots(sim) == 3
        at(sim, 11)
        assert pool_slots(sim) == 128

    def test_overlapping_squeezes_the_fewest_wins(self, sim: Simulator) -> None:
        squeeze = {"kind": "pool_starvation", "pool": "default_pool"}
        sim.faults.add({**squeeze, "slots": 5, "from": "+1m", "until": "+10m"})
        sim.faults.add({**squeeze, "slots": 2, "from": "+5m", "until": "+20m"})
        sim.faults.add({**squeeze, "slots": 500, "from": "+2m", "until": "+30m"})
        slots = []
        for minute in (3, 6, 15, 25, 31):
            at(sim, minute)
            slots.append(pool_slots(sim))
        assert slots == [5, 2, 2, 128, 128]  # never more than its own

    def test_a_pool_changed_meanwhile_keeps_its_change(self, sim: Simulator) -> None:
        sim.faults.add({"kind": "pool_starvation", "pool": "default_pool", "slots": 1,
                        "from": "+1m", "until": "+10m"})  # fmt: skip
        at(sim, 5)
        sim.actions.set_pool_slots(sim.store.pools.require("default_pool"), 50)
        at(sim, 11)
        assert pool_slots(sim) == 50


class TestTaskFaultChanges:
    def test_a_change_does_not_apply_again_to_tries_under_way(self, sim: Simulator) -> None:
        at(sim, 0.5)
        ti = next(t for t in sim.store.active_tis.values() if t.task_id == "extract_orders")
        sim.faults.add({"id": "s", "kind": "task", "match": {"task_id": "extract_orders"},
                        "effect": "slow", "factor": 3})  # fmt: skip
        finish = [e[0] for e in sim.engine.pending() if e[3] == "ti.finish" and e[6] == ti.task_id]
        sim.faults.patch("s", {"description": "three times as slow"})
        again = [e[0] for e in sim.engine.pending() if e[3] == "ti.finish" and e[6] == ti.task_id]
        assert again == finish
        assert sim.faults.get("s").matched == 1

    def test_enabling_applies_to_tries_under_way(self, sim: Simulator) -> None:
        at(sim, 0.5)
        sim.faults.add({"id": "s", "kind": "task", "match": {"task_id": "extract_orders"},
                        "effect": "fail", "enabled": False})  # fmt: skip
        sim.faults.patch("s", {"enabled": True})
        at(sim, 5)
        ti = next(t for t in sim.store.task_instances if t.task_id == "extract_orders"
                  and t.try_number)  # fmt: skip
        assert (ti.state, sim.faults.get("s").fired) == ("up_for_retry", 1)


class TestSnapshots:
    def test_windows_in_force_survive_a_round_trip(self, sim: Simulator) -> None:
        sim.faults.add({**OUTAGE, "from": "+1m", "until": "+1h", "repeat": "2h"})
        sim.faults.add({"kind": "pool_starvation", "pool": "default_pool", "slots": 2,
                        "from": "+1m", "until": "+1h"})  # fmt: skip
        sim.faults.add({"kind": "import_error", "dag_id": "etl_orders",
                        "from": "+1m", "until": "+1h"})  # fmt: skip
        at(sim, 30)
        other = Simulator(TEST_SETTINGS, snapshot=sim.snapshot())
        for world in (sim, other):
            at(world, 150)
        assert other.snapshot() == sim.snapshot()
        assert (other.scheduler.down, pool_slots(other)) == (True, 128)

    @pytest.mark.parametrize(
        ("damage", "where"),
        [
            (lambda h: h["pools"].clear(), "faults.held.pools"),
            (lambda h: h["dags"].update({"etl_orders": ["f1"]}), "faults.held.dags"),
            (lambda h: h["occurrences"].pop("f1"), "faults.held.occurrences"),
        ],
    )
    def test_what_windows_hold_must_agree(self, sim: Simulator, damage: Any, where: str) -> None:
        sim.faults.add({**OUTAGE, "from": "+1m", "until": "+1h"})
        sim.faults.add({"kind": "pool_starvation", "pool": "default_pool", "slots": 2,
                        "from": "+1m", "until": "+1h"})  # fmt: skip
        at(sim, 30)
        document = sim.snapshot()
        damage(document["faults"]["held"])
        with pytest.raises(SnapshotError) as raised:
            Simulator(TEST_SETTINGS, snapshot=document)
        assert raised.value.where == where
