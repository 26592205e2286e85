"""The scheduler's loop and its DAG processor as beats on the virtual clock,
counted from the world's origin.

Airflow's scheduler loops about once a second ([scheduler]
scheduler_idle_sleep_time) and its DAG processor parses each file every 30
seconds ([scheduler] min_file_process_interval); with a few dozen files
every file is parsed within the same beat. No engine event runs per
beat: what a beat only stamps (a running run's last_scheduling_decision, a
DAG's last_parsed_time) is written when the world is next looked at
(Scheduler.beat), so a long history costs nothing per second; what a beat
decides (starting a run the API queued) is an event at that beat.
"""

from __future__ import annotations

from datetime import datetime, timedelta

LOOP = timedelta(seconds=1)  # [scheduler] scheduler_idle_sleep_time
HEARTBEAT = timedelta(seconds=5)  # [scheduler] scheduler_heartbeat_sec: its jobs beat from the loop
PARSE = timedelta(seconds=30)  # [scheduler] min_file_process_interval
WAKE = "runs.start"  # event: (dag_id,) the loop that starts the DAG's queued runs


def last_beat(origin: datetime, period: timedelta, moment: datetime) -> datetime:
    """The latest beat at or before `moment` (the origin is one)."""
    return origin + ((moment - origin) // period) * period


def beat_from(origin: datetime, period: timedelta, moment: datetime) -> datetime:
    """The first beat at or after `moment`."""
    before = last_beat(origin, period, moment)
    return before if before == moment else before + period
