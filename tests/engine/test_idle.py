"""run_until_idle: it stops when nothing but new runs can happen, and it is
bounded when the world never settles."""

from __future__ import annotations

from collections.abc import Callable

from tests.engine.conftest import World, dag, task


def test_a_run_stuck_behind_depends_on_past_is_idle(world: Callable[..., World]) -> None:
    w = world(
        dag(
            "stuck",
            task("a", depends_on_past=True, failure_rate=1.0),
            schedule="@hourly",
            start_date="2023-03-31T22:00:00+00:00",
            catchup=True,
        )
    )
    w.sim.run_until_idle()
    runs = sorted(w.runs("stuck"), key=lambda r: r.logical_date)
    assert [r.state for r in runs[:2]] == ["failed", "running"]
    assert w.states(runs[1]) == {"a": None}  # waits for the failed past forever
    assert not w.sim.store.active_tis


def test_a_world_that_never_settles_stops_at_max_events(world: Callable[..., World]) -> None:
    # A run every 5 minutes, none of which can ever take a slot of the empty pool.
    starved = dag("starved", task("a", pool="empty"), schedule="*/5 * * * *", catchup=False,
                  start_date="2023-03-31T00:00:00+00:00", max_active_runs=10_000)  # fmt: skip
    w = world(starved)
    ran = w.sim.run_until_idle(max_events=500)
    assert 500 <= ran < 600
    assert w.sim.store.active_tis  # still waiting for a slot that never comes
