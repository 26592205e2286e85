"""Daily cron schedules without croniter: the same ticks as croniter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from croniter import croniter

from simulator.engine.cron import daily_ticks, tick

DAILY = [
    "0 0 * * *", "30 3 * * *", "0 */6 * * *", "0 */5 * * *", "30 * * * *",
    "*/15 * * * *", "5/20 * * * *", "10,40 2-5 * * *", "0 9-17/2 * * *", "59 23 * * *",
]  # fmt: skip


def croniter_tick(expression: str, moment: datetime, forward: bool) -> datetime:
    cron = croniter(expression, moment)
    found: datetime = cron.get_next(datetime) if forward else cron.get_prev(datetime)
    return found.replace(fold=0)


def moments(count: int) -> list[datetime]:
    """Random instants over three months, many on or next to a tick."""
    draw = random.Random(7)
    base = datetime(2023, 12, 20, tzinfo=UTC)
    found = []
    for _ in range(count):
        moment = base + timedelta(seconds=draw.randint(0, 90 * 86400))
        if draw.random() < 0.5:
            moment = moment.replace(minute=draw.choice([0, 15, 30, 45]), second=0)
        moment += timedelta(microseconds=draw.choice([0, 0, 1, -1, 500_000]))
        found.append(moment)
    return found


@pytest.mark.parametrize("expression", DAILY)
def test_ticks_equal_croniters(expression: str) -> None:
    assert daily_ticks(expression) is not None
    for moment in moments(400):
        for forward in (True, False):
            assert tick(expression, moment, forward) == croniter_tick(expression, moment, forward)


def test_strictly_after_and_before_a_tick() -> None:
    on_tick = datetime(2024, 2, 29, 6, tzinfo=UTC)
    assert tick("0 */6 * * *", on_tick, True) == datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert tick("0 */6 * * *", on_tick, False) == datetime(2024, 2, 29, 0, tzinfo=UTC)
    assert tick("0 0 * * *", on_tick, False) == datetime(2024, 2, 29, tzinfo=UTC)
    assert tick("0 22 * * *", on_tick, False) == datetime(2024, 2, 28, 22, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["0 0 * * 0", "0 0 1 * *", "0 0 * 1 *", "H * * * *"])
def test_other_schedules_are_croniters(expression: str) -> None:
    assert daily_ticks(expression) is None
    assert tick(expression, datetime(2024, 1, 1, tzinfo=UTC), True) is None


def test_other_time_zones_are_croniters() -> None:
    paris = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert tick("0 0 * * *", paris, True) is None
