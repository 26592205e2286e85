"""Cron ticks without croniter for the common case: a schedule that repeats
every day (day of month, month and day of week all `*`) in UTC.

Such a schedule is a sorted list of instants within a day, so the next and
the previous tick are a bisection away; croniter builds a parser per call,
which a large world asks for hundreds of thousands of times. The answers
equal croniter's: the first tick strictly after, or the last strictly
before, the moment. Anything else returns None and is croniter's.
"""

from __future__ import annotations

import bisect
import functools
from datetime import UTC, datetime, timedelta

DAY_US = 86_400_000_000  # microseconds in a day
MINUTE_US, HOUR_US = 60_000_000, 3_600_000_000


@functools.lru_cache(maxsize=256)
def daily_ticks(expression: str) -> tuple[int, ...] | None:
    """The day's ticks (microseconds after midnight) of a daily schedule,
    or None when the expression is not one (or not understood)."""
    fields = expression.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"]:
        return None
    minutes, hours = _values(fields[0], 59), _values(fields[1], 23)
    if not minutes or not hours:
        return None
    return tuple(sorted(h * HOUR_US + m * MINUTE_US for h in hours for m in minutes))


def _values(field: str, top: int) -> set[int] | None:
    """A minute or hour field: `*`, `N`, `a-b`, each optionally `/step`, comma-separated."""
    values: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        if not (step_text.isdigit() or step_text == "") or (step_text and int(step_text) < 1):
            return None
        if span == "*":
            low, high = 0, top
        elif span.isdigit():
            low = high = int(span)
            if step_text:  # croniter reads N/step as N-top/step
                high = top
        else:
            first, dash, last = span.partition("-")
            if not (dash and first.isdigit() and last.isdigit()):
                return None
            low, high = int(first), int(last)
        if not 0 <= low <= high <= top:
            return None
        values.update(range(low, high + 1, int(step_text or 1)))
    return values


def tick(expression: str, moment: datetime, forward: bool) -> datetime | None:
    """The next (or previous) tick of a daily schedule in UTC, else None."""
    if moment.tzinfo is not UTC:
        return None
    ticks = daily_ticks(expression)
    if ticks is None:
        return None
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (
        moment.hour * HOUR_US + moment.minute * MINUTE_US
        + moment.second * 1_000_000 + moment.microsecond
    )  # fmt: skip
    if forward:
        at = bisect.bisect_right(ticks, offset)
        day, found = (0, ticks[at]) if at < len(ticks) else (1, ticks[0])
    else:
        at = bisect.bisect_left(ticks, offset)
        day, found = (0, ticks[at - 1]) if at > 0 else (-1, ticks[-1])
    return (midnight + timedelta(days=day, microseconds=found)).replace(fold=0)
