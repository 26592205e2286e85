"""Task logs as Airflow 2.10's FileTaskHandler serves them.

The same tries as 2.5.3's (schemas/log.py) in 2.10's format: the file opens
with a "Log message source details" group, the lines before the task's own
code are grouped as "Pre task execution logs" and the ones after it as "Post
task execution logs", the locations are those of the 2.10.5 sources, the
context is exported on one line and the state lines name the run. A try
that a clear or a mark terminated keeps 2.5.3's SIGTERM lines. The
reference deployment's example listener plugin prints lines of its own
(logging_mixin.py); a deployment without it, like the simulated one, has none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from simulator.engine import history
from simulator.schemas.log import (
    LOG_FOLDER,
    Chunks,
    Line,
    LogSubject,
    TryParts,
    compact_instant,
    context_variables,
    follow_on,
    operator_end,
    plus_ms,
    printed_max_tries,
    read_log,
    task_command,
    ti_repr,
    try_start,
)
from simulator.schemas.task_instance import deferred_at, rendered_value
from simulator.schemas.tracebacks import failure_traceback
from simulator.state.run_model import TaskTry

TI = "taskinstance.py"
RUNNER = "local_task_job_runner.py"


def read_log_2_10(
    subject: LogSubject, try_number: int, metadata: Mapping[str, Any]
) -> tuple[Chunks, dict[str, Any]]:
    """FileTaskHandler.read for one try, in 2.10's format."""
    return read_log(subject, try_number, metadata, PARTS_2_10)


def _source(path: str) -> str:
    return (
        " INFO - ::group::Log message source details\n*** Found local files:\n"
        f"***   * {LOG_FOLDER}/{path}\n INFO - ::endgroup::\n"
    )


def _current_try(subject: LogSubject) -> int:
    return history.try_number(subject.ti, subject.task)


def _start_lines(
    subject: LogSubject, position: int, attempt: TaskTry, *, resumed: bool
) -> Iterator[Line]:
    ti, start = subject.ti, attempt.start_date
    job = subject.job_ids.get(position, 0)
    yield start, f"{RUNNER}:123", "INFO", "::group::Pre task execution logs"
    for deps in ("non-requeueable deps", "requeueable deps"):
        met = f"Dependencies all met for dep_context={deps} ti={ti_repr(ti, 'queued')}"
        yield start, f"{TI}:2614", "INFO", met
    attempts = printed_max_tries(ti, position) + 1
    starting = f"Starting attempt {attempt.try_number} of {attempts}"
    yield start, f"{TI}:2867", "INFO", starting
    executing = f"Executing <Task({ti.operator}): {ti.task_id}> on {subject.run.logical_date}"
    yield plus_ms(start, 1), f"{TI}:2890", "INFO", executing
    started = f"Started process {attempt.pid} to run task"
    yield plus_ms(start, 20), "standard_task_runner.py:72", "INFO", started
    command = task_command(subject, attempt, job)
    yield plus_ms(start, 41), "standard_task_runner.py:104", "INFO", f"Running: {command!r}"
    subtask = f"Job {job}: Subtask {ti.task_id}"
    yield plus_ms(start, 42), "standard_task_runner.py:105", "INFO", subtask
    running = f"Running {ti_repr(ti, 'running')} on host {attempt.hostname}"
    yield plus_ms(start, 150), "task_command.py:467", "INFO", running
    if not resumed:  # a resumed task does not export its context again
        yield plus_ms(start, 300), f"{TI}:3134", "INFO", _exported(subject, attempt)
    yield plus_ms(start, 301), f"{TI}:732", "INFO", "::endgroup::"
    if not resumed:
        yield from _operator_start(subject, plus_ms(start, 310))


def _operator_start(subject: LogSubject, when: datetime) -> Iterator[Line]:
    task = subject.task
    if task is not None and task.conn_id is not None:
        # BaseHook.get_connection names the connection it resolves.
        yield when, "base.py:84", "INFO", f"Retrieving connection '{task.conn_id}'"
    if subject.ti.operator == "BashOperator":
        yield when, "subprocess.py:78", "INFO", "Tmp dir root location: /tmp"
        command = [
            "/usr/bin/bash",
            "-c",
            str(rendered_value("bash_command", subject.ti, subject.run)),
        ]
        yield plus_ms(when, 1), "subprocess.py:88", "INFO", f"Running command: {command!r}"
        yield plus_ms(when, 2), "subprocess.py:99", "INFO", "Output:"


def _exported(subject: LogSubject, attempt: TaskTry) -> str:
    variables = context_variables(subject, attempt)
    return "Exporting env vars: " + " ".join(f"{k}='{v}'" for k, v in variables.items())


# 2.10.5's sources: where the operators' closing lines are written.
END_LOCATIONS = ("subprocess.py:106", "subprocess.py:110", "python.py:240")


def _marking(subject: LogSubject, state: str, started: datetime, end: datetime) -> str:
    ti = subject.ti
    mapped = f"map_index={ti.map_index}, " if ti.map_index >= 0 else ""
    return (
        f"Marking task as {state}. dag_id={ti.dag_id}, task_id={ti.task_id}, "
        f"run_id={ti.run_id}, {mapped}execution_date={compact_instant(subject.run.logical_date)}, "
        f"start_date={compact_instant(started)}, end_date={compact_instant(end)}"
    )


def _end_lines(
    subject: LogSubject, position: int, attempt: TaskTry, outcome: str
) -> Iterator[Line]:
    ti, end = subject.ti, attempt.end_date
    assert end is not None
    yield from operator_end(subject, end, outcome, END_LOCATIONS)
    marking = _marking(subject, outcome.upper(), try_start(subject, position), end)
    post = (end, f"{TI}:341", "INFO", "::group::Post task execution logs")
    if outcome == "success":
        yield post
        yield end, f"{TI}:353", "INFO", marking
    else:
        error = failure_traceback(subject.task, ti.operator, attempt)
        yield end, f"{TI}:3313", "ERROR", "Task failed with exception\n" + error
        yield end, f"{TI}:1226", "INFO", marking
        yield post
        job = subject.job_ids.get(position, 0)
        reason = error.rsplit("\n", 1)[-1].split(": ", 1)[-1]
        failed = f"Failed to execute job {job} for task {ti.task_id} ({reason}; {attempt.pid})"
        yield end, "standard_task_runner.py:124", "ERROR", failed
    code = 0 if outcome == "success" else 1
    yield end, f"{RUNNER}:266", "INFO", f"Task exited with return code {code}"
    yield end, f"{TI}:3901", "INFO", follow_on(subject, end, outcome)
    yield end, f"{RUNNER}:245", "INFO", "::endgroup::"


def _deferral_lines(subject: LogSubject, position: int, attempt: TaskTry) -> Iterator[Line]:
    ti = subject.ti
    when = deferred_at(attempt)
    pausing = (
        f"Pausing task as DEFERRED. dag_id={ti.dag_id}, task_id={ti.task_id}, "
        f"run_id={ti.run_id}, execution_date={compact_instant(subject.run.logical_date)}, "
        f"start_date={compact_instant(try_start(subject, position))}"
    )
    yield when, f"{TI}:289", "INFO", pausing
    yield when, f"{TI}:341", "INFO", "::group::Post task execution logs"
    yield when, f"{RUNNER}:260", "INFO", "Task exited with return code 100 (task deferral)"
    yield when, f"{RUNNER}:245", "INFO", "::endgroup::"


PARTS_2_10 = TryParts(_source, _current_try, _start_lines, _deferral_lines, _end_lines)
