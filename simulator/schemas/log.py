"""Task logs as Airflow 2.5.3's FileTaskHandler serves them, and the log tokens.

A log is rendered from a task instance's TaskTry records and the virtual
clock: each attempt's file holds the lines Airflow writes (dependency checks,
"Starting attempt", the worker process, the operator's own lines, the final
"Marking task as ..."), stamped by the TimezoneAware formatter
(`[2023-04-01T00:00:01.531+0000] {taskinstance.py:1090} INFO - ...`). Line
numbers are those of the 2.5.3 sources on the image's Python 3.7. A running
attempt's file ends where the clock is. One whose instance was marked or
cleared while it ran ends where its job terminated it (SIGTERM; a cleared
one fails and goes up for retry). A fault's effect shows: a `fail`
try's traceback ends in its message; a `stuck` try's file ends where its
worker stopped (nothing is written for it after: the zombie is failed by
the DAG processor, whose task logger has no file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from simulator.engine.effects import STUCK
from simulator.errors import BadRequest
from simulator.schemas.common import strftime
from simulator.schemas.task_instance import (
    DEFERRED,
    airflow_try_number,
    deferred_at,
    rendered_value,
)
from simulator.schemas.tracebacks import SIGTERM_ERROR, failure_traceback, sigterm_traceback
from simulator.state.dag_model import Dag, Task
from simulator.state.run_model import DagRun, TaskInstance, TaskTry

LOG_FOLDER = "/opt/airflow/logs"
WORKER_LOG_PORT = 8793
RULE = "\n" + "-" * 80
BAD_SIGNATURE = "Bad Signature. Please use only the tokens provided by the API."
ACTIVE = ("running", DEFERRED)
# A cleared running try keeps running (restarting) until its job kills it.
LIVE = (*ACTIVE, "restarting")
_TMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"

Chunks = list[tuple[str, str]]
Line = tuple[datetime, str, str, str]  # when, "file.py:lineno", level, message


@dataclass(frozen=True, slots=True)
class LogSubject:
    """Everything a task instance's log is rendered from."""

    ti: TaskInstance
    run: DagRun
    dag: Dag | None
    now: datetime
    job_ids: Mapping[int, int]  # position in ti.tries -> LocalTaskJob id
    run_tis: tuple[TaskInstance, ...] = ()
    returned: Any = None  # the instance's return_value XCom

    @property
    def task(self) -> Task | None:
        return self.dag.tasks.get(self.ti.task_id) if self.dag else None


# -- tokens ------------------------------------------------------------------


def dump_token(secret_key: str, metadata: Mapping[str, Any]) -> str:
    return str(URLSafeSerializer(secret_key).dumps(dict(metadata)))


def load_token(secret_key: str, token: str | None) -> dict[str, Any]:
    """The metadata a continuation token carries; a forged one is a 400."""
    if not token:
        return {}
    try:
        metadata = URLSafeSerializer(secret_key).loads(token)
    except BadSignature:
        raise BadRequest(BAD_SIGNATURE) from None
    return dict(metadata) if isinstance(metadata, dict) else {}


# -- reading ---------------------------------------------------------------------


def read_log(
    subject: LogSubject,
    try_number: int,
    metadata: Mapping[str, Any],
    parts: TryParts | None = None,
) -> tuple[Chunks, dict[str, Any]]:
    """FileTaskHandler.read for one try: [(host, text)] and the new metadata,
    in 2.5.3's format unless other `parts` are given."""
    parts = parts or PARTS
    ti = subject.ti
    if try_number < 1:
        message = f"Error fetching the logs. Try number {try_number} is invalid."
        return [("default_host", message)], {"end_of_log": True}
    path = log_path(ti, try_number)
    lines = try_lines(subject, try_number, parts)
    if not lines:
        return [(ti.hostname, _missing_file(ti, path))], {"end_of_log": True}
    text = parts.source(path) + "".join(f"{ln}\n" for ln in lines)
    current = parts.current_try(subject)
    end_of_log = current != try_number or ti.state not in ACTIVE
    position = len(text)
    if "log_pos" in metadata:
        text = text[int(metadata["log_pos"]) :]
    return [(ti.hostname, text)], {"end_of_log": end_of_log, "log_pos": position}


def log_text(chunks: Chunks) -> str:
    """The text/plain stream: each chunk's host line, then its text."""
    return "".join("\n".join([host or "", text]) + "\n" for host, text in chunks)


def log_path(ti: TaskInstance, try_number: int) -> str:
    mapped = f"map_index={ti.map_index}/" if ti.map_index >= 0 else ""
    return (
        f"dag_id={ti.dag_id}/run_id={ti.run_id}/task_id={ti.task_id}/"
        f"{mapped}attempt={try_number}.log"
    )


def _missing_file(ti: TaskInstance, path: str) -> str:
    """No local file: the webserver asks the worker's log server, which has none."""
    url = f"http://{ti.hostname}:{WORKER_LOG_PORT}/log/{path}"
    text = f"*** Log file does not exist: {LOG_FOLDER}/{path}\n*** Fetching from: {url}\n"
    if not ti.hostname:
        reason = "Request URL is missing an 'http://' or 'https://' protocol."
    else:
        reason = (
            f"Client error '404 NOT FOUND' for url '{url}'\n"
            "For more information check: https://httpstatuses.com/404"
        )
    return text + f"*** Failed to fetch log file from worker. {reason}\n"


@dataclass(frozen=True, slots=True)
class TryParts:
    """What differs between Airflow releases: the lines a read opens with,
    the instance's current try, and parts of a try's file."""

    source: Callable[[str], str]  # the log file's path -> the opening lines
    current_try: Callable[[LogSubject], int]
    start: Callable[..., Iterator[Line]]  # (subject, position, attempt, *, resumed)
    deferral: Callable[[LogSubject, int, TaskTry], Iterator[Line]]
    end: Callable[[LogSubject, int, TaskTry, str], Iterator[Line]]


def try_lines(subject: LogSubject, try_number: int, parts: TryParts | None = None) -> list[str]:
    """The lines of attempt `try_number`'s file written by now (a deferred try
    and its resumption share one file), 2.5.3's unless other `parts` are given."""
    parts = parts or PARTS
    lines: list[Line] = []
    for position, attempt in enumerate(subject.ti.tries):
        if attempt.try_number == try_number:
            resumed = position > 0 and subject.ti.tries[position - 1].outcome == DEFERRED
            lines.extend(_attempt_lines(subject, position, attempt, parts, resumed=resumed))
    return [_format(line) for line in lines if line[0] <= subject.now]


def _format(line: Line) -> str:
    when, where, level, message = line
    stamp = f"{strftime(when, '%Y-%m-%dT%H:%M:%S')}.{when.microsecond // 1000:03d}+0000"
    return f"[{stamp}] {{{where}}} {level} - {message}"


def _attempt_lines(
    subject: LogSubject, position: int, attempt: TaskTry, parts: TryParts, *, resumed: bool
) -> Iterator[Line]:
    yield from parts.start(subject, position, attempt, resumed=resumed)
    outcome = attempt.outcome
    if attempt.effect == STUCK:
        return  # its worker stopped writing
    if attempt.cleared and attempt.end_date is not None:
        yield from _killed_lines(subject, position, attempt)
    elif outcome == DEFERRED:
        yield from parts.deferral(subject, position, attempt)
    elif outcome is not None and attempt.end_date is not None:
        yield from parts.end(subject, position, attempt, outcome)
    elif position < len(subject.ti.tries) - 1 or subject.ti.state not in LIVE:
        yield from _stopped_lines(subject, position, attempt)


def ti_repr(ti: TaskInstance, state: str | None) -> str:
    mapped = f"map_index={ti.map_index} " if ti.map_index != -1 else ""
    return f"<TaskInstance: {ti.dag_id}.{ti.task_id} {ti.run_id} {mapped}[{state}]>"


def printed_max_tries(ti: TaskInstance, position: int) -> int:
    """The instance's max_tries when its try at `position` started: the one
    kept by the first later clear that changed it, else today's. A try after
    a running instance's clear can print "attempt 2 of 1", as Airflow does."""
    for attempt in ti.tries[position:]:
        if attempt.max_tries is not None:
            return attempt.max_tries
    return ti.max_tries


def _start_lines(
    subject: LogSubject, position: int, attempt: TaskTry, *, resumed: bool
) -> Iterator[Line]:
    ti, start, pid = subject.ti, attempt.start_date, attempt.pid
    job = subject.job_ids.get(position, 0)
    for deps in ("non-requeueable deps", "requeueable deps"):
        met = f"Dependencies all met for dep_context={deps} ti={ti_repr(ti, 'queued')}"
        yield start, "taskinstance.py:1090", "INFO", met
    attempts = printed_max_tries(ti, position) + 1
    yield start, "taskinstance.py:1288", "INFO", RULE
    yield (
        start,
        "taskinstance.py:1289",
        "INFO",
        f"Starting attempt {attempt.try_number} of {attempts}",
    )
    yield start, "taskinstance.py:1290", "INFO", RULE
    executing = f"Executing <Task({ti.operator}): {ti.task_id}> on {subject.run.logical_date}"
    yield plus_ms(start, 1), "taskinstance.py:1309", "INFO", executing
    yield (
        plus_ms(start, 20),
        "standard_task_runner.py:55",
        "INFO",
        f"Started process {pid} to run task",
    )
    command = task_command(subject, attempt, job)
    yield plus_ms(start, 41), "standard_task_runner.py:82", "INFO", f"Running: {command!r}"
    yield (
        plus_ms(start, 42),
        "standard_task_runner.py:83",
        "INFO",
        f"Job {job}: Subtask {ti.task_id}",
    )
    running = f"Running {ti_repr(ti, 'running')} on host {attempt.hostname}"
    yield plus_ms(start, 150), "task_command.py:389", "INFO", running
    if not resumed:  # a resumed task does not export its context again
        yield plus_ms(start, 300), "taskinstance.py:1518", "INFO", _exported(subject, attempt)
        yield from _operator_start(subject, plus_ms(start, 310))


def plus_ms(moment: datetime, milliseconds: int) -> datetime:
    return moment + timedelta(milliseconds=milliseconds)


def task_command(subject: LogSubject, attempt: TaskTry, job: int) -> list[str]:
    ti = subject.ti
    fileloc = subject.dag.fileloc if subject.dag else f"{ti.dag_id}.py"
    digest = hashlib.sha256(f"{ti.key}/{attempt.start_date}".encode()).digest()
    tmp = "tmp" + "".join(_TMP_CHARS[b % len(_TMP_CHARS)] for b in digest[:8])
    subdir = "DAGS_FOLDER/" + fileloc.rsplit("/", 1)[-1]
    command = ["airflow", "tasks", "run", ti.dag_id, ti.task_id, ti.run_id, "--job-id",
               str(job), "--raw", "--subdir", subdir, "--cfg-path", f"/tmp/{tmp}"]  # fmt: skip
    if ti.map_index != -1:
        command += ["--map-index", str(ti.map_index)]
    return command


def context_variables(subject: LogSubject, attempt: TaskTry) -> dict[str, str]:
    """The AIRFLOW_CTX_* variables a try exports before its task runs."""
    ti, task = subject.ti, subject.task
    return {
        "AIRFLOW_CTX_DAG_OWNER": task.owner if task else "airflow",
        "AIRFLOW_CTX_DAG_ID": ti.dag_id,
        "AIRFLOW_CTX_TASK_ID": ti.task_id,
        "AIRFLOW_CTX_EXECUTION_DATE": subject.run.logical_date.isoformat(),
        "AIRFLOW_CTX_TRY_NUMBER": str(attempt.try_number),
        "AIRFLOW_CTX_DAG_RUN_ID": ti.run_id,
    }


def _exported(subject: LogSubject, attempt: TaskTry) -> str:
    variables = context_variables(subject, attempt)
    return "Exporting the following env vars:\n" + "\n".join(
        f"{k}={v}" for k, v in variables.items()
    )


def _bash_command(subject: LogSubject) -> str:
    return str(rendered_value("bash_command", subject.ti, subject.run))


def _operator_start(subject: LogSubject, when: datetime) -> Iterator[Line]:
    task = subject.task
    if task is not None and task.conn_id is not None:
        # BaseHook.get_connection announces the connection it resolves.
        using = f"Using connection ID '{task.conn_id}' for task execution."
        yield when, "base.py:73", "INFO", using
    if subject.ti.operator == "BashOperator":
        yield when, "subprocess.py:63", "INFO", "Tmp dir root location: \n /tmp"
        command = ["/usr/bin/bash", "-c", _bash_command(subject)]
        yield plus_ms(when, 1), "subprocess.py:75", "INFO", f"Running command: {command!r}"
        yield plus_ms(when, 2), "subprocess.py:86", "INFO", "Output:"


# Where the operators' closing lines are written: the output, the exit code, the
# returned value (2.5.3's sources; schemas/log_2_10.py has 2.10.5's).
END_LOCATIONS = ("subprocess.py:93", "subprocess.py:97", "python.py:177")


def operator_end(
    subject: LogSubject, when: datetime, outcome: str, where: tuple[str, ...] = END_LOCATIONS
) -> Iterator[Line]:
    ti = subject.ti
    if ti.operator == "BashOperator":
        if outcome == "success":
            output = subject.returned if subject.returned is not None else ""
            yield when, where[0], "INFO", str(output)
        code = 0 if outcome == "success" else 1
        yield when, where[1], "INFO", f"Command exited with return code {code}"
    elif ti.operator == "PythonOperator" and outcome == "success":
        yield when, where[2], "INFO", f"Done. Returned value was: {subject.returned}"


def _end_lines(
    subject: LogSubject, position: int, attempt: TaskTry, outcome: str
) -> Iterator[Line]:
    ti, end = subject.ti, attempt.end_date
    assert end is not None
    yield from operator_end(subject, end, outcome)
    marking = _marking(subject, outcome.upper(), try_start(subject, position), end)
    if outcome == "success":
        yield end, "taskinstance.py:1332", "INFO", marking
    else:
        error = failure_traceback(subject.task, ti.operator, attempt)
        yield end, "taskinstance.py:1776", "ERROR", "Task failed with exception\n" + error
        yield end, "taskinstance.py:1332", "INFO", marking
        job = subject.job_ids.get(position, 0)
        reason = error.rsplit("\n", 1)[-1].split(": ", 1)[-1]
        failed = f"Failed to execute job {job} for task {ti.task_id} ({reason}; {attempt.pid})"
        yield end, "standard_task_runner.py:104", "ERROR", failed
    code = 0 if outcome == "success" else 1
    yield end, "local_task_job.py:212", "INFO", f"Task exited with return code {code}"
    yield end, "taskinstance.py:2596", "INFO", follow_on(subject, end, outcome)


def try_start(subject: LogSubject, position: int) -> datetime:
    """The try's start date: a resumed deferral keeps the one it first ran with."""
    tries = subject.ti.tries
    while position > 0 and tries[position - 1].outcome == DEFERRED:
        position -= 1
    return tries[position].start_date


def _marking(subject: LogSubject, state: str, started: datetime, end: datetime) -> str:
    ti = subject.ti
    mapped = f"map_index={ti.map_index}, " if ti.map_index >= 0 else ""
    return (
        f"Marking task as {state}. dag_id={ti.dag_id}, task_id={ti.task_id}, {mapped}"
        f"execution_date={compact_instant(subject.run.logical_date)}, "
        f"start_date={compact_instant(started)}, end_date={compact_instant(end)}"
    )


def compact_instant(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%dT%H%M%S") if moment else ""


def follow_on(subject: LogSubject, when: datetime, outcome: str) -> str:
    """The mini scheduler after a success: downstream instances (but empty
    operators) whose upstream instances have all succeeded by then."""
    count = 0
    dag, task = subject.dag, subject.task
    if outcome == "success" and dag is not None and task is not None:
        by_task: dict[str, list[TaskInstance]] = {}
        for other in subject.run_tis:
            by_task.setdefault(other.task_id, []).append(other)
        for task_id in task.downstream:
            downstream = dag.tasks[task_id]
            upstream = [u for up in downstream.upstream for u in by_task.get(up, [])]
            if downstream.operator != "EmptyOperator" and all(
                _succeeded_by(u, when) for u in upstream
            ):
                count += len(by_task.get(task_id, []))
    return f"{count} downstream tasks scheduled from follow-on schedule check"


def _succeeded_by(ti: TaskInstance, when: datetime) -> bool:
    if any(t.outcome == "success" and t.end_date and t.end_date <= when for t in ti.tries):
        return True
    return ti.state == "success" and ti.end_date is not None and ti.end_date <= when


def _deferral_lines(subject: LogSubject, position: int, attempt: TaskTry) -> Iterator[Line]:
    ti = subject.ti
    when = deferred_at(attempt)
    pausing = (
        f"Pausing task as DEFERRED. dag_id={ti.dag_id}, task_id={ti.task_id}, "
        f"execution_date={compact_instant(subject.run.logical_date)}, "
        f"start_date={compact_instant(try_start(subject, position))}"
    )
    yield when, "taskinstance.py:1397", "INFO", pausing
    yield when, "local_task_job.py:212", "INFO", "Task exited with return code 0"
    yield when, "taskinstance.py:2596", "INFO", follow_on(subject, when, DEFERRED)


def _stopped_lines(subject: LogSubject, position: int, attempt: TaskTry) -> Iterator[Line]:
    """A try whose instance was marked while it ran: the job notices on its
    next heartbeat and terminates the task, whose SIGTERM handler finds the
    state finished and returns; its process exits with 0."""
    ti, tries = subject.ti, subject.ti.tries
    later = tries[position + 1].start_date if position + 1 < len(tries) else None
    stop = ti.end_date if ti.end_date and ti.end_date >= attempt.start_date else later
    when = stop or attempt.start_date
    yield from _sigterm_lines(subject, attempt, when, str(ti.state))
    yield _reaped(attempt, when, 0)


def _killed_lines(subject: LogSubject, position: int, attempt: TaskTry) -> Iterator[Line]:
    """A try whose instance was cleared while it ran (restarting): its job
    terminates it (executor.killed_at); the task's SIGTERM handler raises,
    handle_failure logs the error and marks it up for retry (restarting is
    always eligible), and its process exits with 1."""
    ti, end = subject.ti, attempt.end_date
    assert end is not None
    yield from _sigterm_lines(subject, attempt, end, "restarting")
    error = sigterm_traceback(ti.operator)
    yield end, "taskinstance.py:1776", "ERROR", "Task failed with exception\n" + error
    marking = _marking(subject, "UP_FOR_RETRY", try_start(subject, position), end)
    yield end, "taskinstance.py:1332", "INFO", marking
    job = subject.job_ids.get(position, 0)
    failed = f"Failed to execute job {job} for task {ti.task_id} ({SIGTERM_ERROR}; {attempt.pid})"
    yield end, "standard_task_runner.py:104", "ERROR", failed
    yield _reaped(attempt, end, 1)


def _sigterm_lines(
    subject: LogSubject, attempt: TaskTry, when: datetime, state: str
) -> Iterator[Line]:
    """The job terminates the task (local_task_job.py heartbeat_callback,
    then process_utils.py reap_process_group); the task's SIGTERM handler
    (taskinstance.py) calls the operator's on_kill."""
    pid = attempt.pid
    externally = f"State of this instance has been externally set to {state}."
    yield when, "local_task_job.py:277", "WARNING", externally + " Terminating instance."
    signal = f"Sending Signals.SIGTERM to group {pid}. PIDs of all processes in the group: [{pid}]"
    yield when, "process_utils.py:129", "INFO", signal
    yield when, "process_utils.py:84", "INFO", f"Sending the signal Signals.SIGTERM to group {pid}"
    yield when, "taskinstance.py:1488", "ERROR", "Received SIGTERM. Terminating subprocesses."
    if subject.ti.operator == "BashOperator":  # SubprocessHook.send_sigterm
        yield when, "subprocess.py:104", "INFO", "Sending SIGTERM signal to process group"


def _reaped(attempt: TaskTry, when: datetime, code: int) -> Line:
    """psutil.wait_procs's callback once the task's process (forked as the
    try started) has exited; psutil shows its start as a time of day, with
    the date once a day old."""
    pid, created = attempt.pid, plus_ms(attempt.start_date, 20)
    recent = (when - created).total_seconds() < 86400
    started = created.strftime("%H:%M:%S" if recent else "%Y-%m-%d %H:%M:%S")
    process = (
        f"psutil.Process(pid={pid}, status='terminated', exitcode={code}, started={started!r})"
    )
    reaped = f"Process {process} ({pid}) terminated with exit code {code}"
    return when, "process_utils.py:79", "INFO", reaped


def _source(path: str) -> str:
    return f"*** Reading local file: {LOG_FOLDER}/{path}\n"


def _current_try(subject: LogSubject) -> int:
    # TaskInstance.try_number is the stored counter while running, one more otherwise.
    ti = subject.ti
    return airflow_try_number(ti) + (0 if ti.state == "running" else 1)


PARTS = TryParts(_source, _current_try, _start_lines, _deferral_lines, _end_lines)
