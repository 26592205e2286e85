"""Timetables: which data interval a DAG's first and next scheduled runs
cover, and the interval of a manual run, as Airflow 2.5.3's timetables
(CronDataIntervalTimetable, DeltaDataIntervalTimetable, OnceTimetable,
NullTimetable, DatasetTriggeredTimetable) compute them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.engine.timetable import (
    Interval,
    first_interval,
    manual_interval,
    next_interval,
    parse_schedule,
)
from simulator.scenario.dags import dag_from_dict
from simulator.state.dag_model import CRON, DATASETS, DELTA, NONE, ONCE, Dag, Schedule

T0 = datetime(2023, 4, 1, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2023, month, day, hour, minute, tzinfo=UTC)


def make(schedule: Any, start: datetime, catchup: bool = True, **fields: Any) -> Dag:
    return dag_from_dict(
        {
            "dag_id": "d",
            "schedule": schedule,
            "start_date": start.isoformat(),
            "catchup": catchup,
            **fields,
        },
        "secret",
    )


class TestParseSchedule:
    @pytest.mark.parametrize(
        ("value", "kind", "parsed"),
        [
            (None, NONE, None),
            ("@once", ONCE, "@once"),
            ("@hourly", CRON, "@hourly"),
            ("*/5 * * * *", CRON, "*/5 * * * *"),
            ({"timedelta": 90}, DELTA, 90.0),
            ({"datasets": ["s3://a", "s3://b"]}, DATASETS, ["s3://a", "s3://b"]),
        ],
    )
    def test_kinds(self, value: Any, kind: str, parsed: Any) -> None:
        assert parse_schedule(value) == Schedule(kind=kind, value=parsed)

    @pytest.mark.parametrize("value", ["every day", "61 * * * *", 5, {"cron": "x"}])
    def test_refused(self, value: Any) -> None:
        with pytest.raises(ValueError):
            parse_schedule(value)


class TestCron:
    def test_catchup_starts_at_the_first_tick_after_start_date(self) -> None:
        dag = make("@hourly", at(31, 21, 30))
        first = first_interval(dag, T0)
        assert first == Interval(at(31, 22), at(31, 23))
        assert first is not None
        assert next_interval(dag, first) == Interval(at(31, 23), T0)

    def test_catchup_start_on_a_tick(self) -> None:
        dag = make("0 * * * *", at(31, 21))
        assert first_interval(dag, T0) == Interval(at(31, 21), at(31, 22))

    @pytest.mark.parametrize(
        ("schedule", "now", "expected"),
        [
            # On a boundary: the interval that ends now.
            ("@hourly", T0, Interval(at(31, 23), T0)),
            # Between boundaries: the latest interval that has ended.
            ("@hourly", at(1, 0, 10, month=4), Interval(at(31, 23), T0)),
            ("30 * * * *", T0, Interval(at(31, 22, 30), at(31, 23, 30))),
            ("@daily", T0, Interval(at(31), T0)),
            ("@daily", at(1, 12, month=4), Interval(at(31), T0)),
            # 2023-04-01 is a Saturday: the last full week ended on Sunday 26 March.
            ("@weekly", T0, Interval(at(19), at(26))),
        ],
    )
    def test_without_catchup_the_latest_complete_interval(
        self, schedule: str, now: datetime, expected: Interval
    ) -> None:
        assert first_interval(make(schedule, at(1), catchup=False), now) == expected

    def test_without_catchup_a_future_start_date_wins(self) -> None:
        dag = make("@hourly", at(2, month=4), catchup=False)
        assert first_interval(dag, T0) == Interval(at(2, month=4), at(2, 1, month=4))

    def test_end_date_stops_the_series(self) -> None:
        dag = make("@hourly", at(31, 22), end_date=at(31, 23).isoformat())
        last = Interval(at(31, 22), at(31, 23))
        assert next_interval(dag, last) == Interval(at(31, 23), T0)  # starts on end_date
        assert next_interval(dag, Interval(at(31, 23), T0)) is None

    def test_an_ended_dag_without_catchup_has_no_first_run(self) -> None:
        # Airflow: start = the latest interval (23:00) > end_date -> no run.
        dag = make("@hourly", at(1), catchup=False, end_date=at(10).isoformat())
        assert first_interval(dag, T0) is None


class TestTimedelta:
    def test_catchup_steps_from_start_date(self) -> None:
        dag = make({"timedelta": 3600}, at(31, 21, 15))
        first = first_interval(dag, T0)
        assert first == Interval(at(31, 21, 15), at(31, 22, 15))
        assert first is not None
        assert next_interval(dag, first) == Interval(at(31, 22, 15), at(31, 23, 15))

    def test_without_catchup_aligned(self) -> None:
        dag = make({"timedelta": 3600}, at(1), catchup=False)
        assert first_interval(dag, T0) == Interval(at(31, 23), T0)

    def test_without_catchup_unaligned(self) -> None:
        # DeltaDataIntervalTimetable._skip_to_latest: max(now - delta, start_date).
        dag = make({"timedelta": 7200}, at(1, 0, 30), catchup=False)
        assert first_interval(dag, T0) == Interval(at(31, 22), T0)

    def test_without_catchup_a_recent_start_date_wins(self) -> None:
        dag = make({"timedelta": 7200}, at(31, 23, 30), catchup=False)
        assert first_interval(dag, T0) == Interval(at(31, 23, 30), at(1, 1, 30, month=4))


class TestTrivial:
    def test_once_runs_at_start_date_whatever_catchup(self) -> None:
        for catchup in (True, False):
            dag = make("@once", at(5), catchup=catchup)
            first = first_interval(dag, T0)
            assert first == Interval(at(5), at(5))
            assert first is not None
            assert next_interval(dag, first) is None

    @pytest.mark.parametrize("schedule", [None, {"datasets": ["s3://x"]}])
    def test_never_by_time(self, schedule: Any) -> None:
        assert first_interval(make(schedule, at(1)), T0) is None

    def test_no_start_date_no_runs(self) -> None:
        dag = make("@hourly", at(1))
        dag.start_date = None
        assert first_interval(dag, T0) is None


class TestManualInterval:
    @pytest.mark.parametrize(
        ("schedule", "logical", "expected"),
        [
            # The last complete interval ending at or before the logical date.
            ("@hourly", at(1, 0, 10, month=4), Interval(at(31, 23), T0)),
            ("@hourly", T0, Interval(at(31, 23), T0)),
            ("@daily", at(1, 12, month=4), Interval(at(31), T0)),
            ({"timedelta": 3600}, at(1, 0, 10, month=4), Interval(at(31, 23, 10), at(1, 0, 10, 4))),
            # Trivial timetables: an exact instant.
            (None, at(7, 5), Interval(at(7, 5), at(7, 5))),
            ("@once", at(7, 5), Interval(at(7, 5), at(7, 5))),
            ({"datasets": ["s3://x"]}, at(7, 5), Interval(at(7, 5), at(7, 5))),
        ],
    )
    def test_interval(self, schedule: Any, logical: datetime, expected: Interval) -> None:
        assert manual_interval(parse_schedule(schedule), logical) == expected
