"""The virtual clock and the event heap, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.engine.clock import VirtualClock
from simulator.engine.core import Engine
from simulator.engine.rng import RandomStreams

T0 = datetime(2023, 4, 1, tzinfo=UTC)


class TestVirtualClock:
    def test_frozen_moves_only_when_told(self) -> None:
        clock = VirtualClock(T0)
        assert clock.now() == T0
        assert clock.advance(90) == T0 + timedelta(seconds=90)
        assert clock.advance_to(T0 + timedelta(hours=1)) == T0 + timedelta(hours=1)

    def test_never_backwards(self) -> None:
        clock = VirtualClock(T0)
        clock.advance(10)
        with pytest.raises(ValueError):
            clock.advance_to(T0)
        with pytest.raises(ValueError):
            clock.advance(-1)

    def test_realtime_follows_wall_times_speed(self) -> None:
        wall = [100.0]
        clock = VirtualClock(T0, mode="realtime", speed=60, wall=lambda: wall[0])
        wall[0] = 102.0
        assert clock.now() == T0 + timedelta(minutes=2)
        clock.advance(60)  # jumps ahead, then keeps following the wall clock
        wall[0] = 103.0
        assert clock.now() == T0 + timedelta(minutes=4)


class TestEngine:
    def test_runs_due_events_in_time_priority_then_schedule_order(self) -> None:
        engine, log = Engine(T0), []
        engine.on("note", log.append)
        engine.schedule(T0 + timedelta(seconds=2), "note", "late")
        engine.schedule(T0, "note", "b", priority=1)
        engine.schedule(T0, "note", "a1")
        engine.schedule(T0, "note", "a2")
        assert engine.run(until=T0 + timedelta(seconds=1)) == 3
        assert log == ["a1", "a2", "b"]
        assert engine.peek() == T0 + timedelta(seconds=2)

    def test_cancelled_events_do_not_run(self) -> None:
        engine, log = Engine(T0), []
        engine.on("note", log.append)
        seq = engine.schedule(T0, "note", "x")
        engine.cancel(seq)
        assert engine.run(until=T0) == 0
        assert log == [] and len(engine) == 0

    def test_events_are_plain_tuples(self) -> None:
        engine = Engine(T0)
        engine.on("note", lambda *key: None)
        first = engine.schedule(T0 + timedelta(seconds=5), "note", "dag", "run", 3)
        engine.schedule(T0, "note", "other", priority=1)
        engine.cancel(engine.schedule(T0, "note", "gone"))
        assert engine.pending() == [
            (T0, 1, first + 1, "note", "other"),
            (T0 + timedelta(seconds=5), 0, first, "note", "dag", "run", 3),
        ]
        assert len(engine) == 2


class TestRandomStreams:
    def test_streams_depend_on_seed_and_key_only(self) -> None:
        a, b = RandomStreams(1), RandomStreams(1)
        a.stream("other").random()  # drawing elsewhere changes nothing here
        assert a.stream("dag", "etl").random() == b.stream("dag", "etl").random()
        assert (
            RandomStreams(2).stream("dag", "etl").random()
            != RandomStreams(1).stream("dag", "etl").random()
        )
