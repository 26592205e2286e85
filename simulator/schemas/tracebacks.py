"""The tracebacks a task's log shows (handle_failure's "Task failed with
exception"): where a failed try raised, per operator, and where a SIGTERM
finds a running task. Frames are those below TaskInstance._execute_task, as
handle_failure truncates them, in the image's site-packages; line numbers
are those of the 2.5.3 sources as Python 3.7 reports them.
"""

from __future__ import annotations

from simulator.engine.effects import FAIL
from simulator.state.dag_model import Task
from simulator.state.run_model import TaskTry

SITE = "/home/airflow/.local/lib/python3.7/site-packages"
Frame = tuple[str, int, str, str]  # path under SITE, line, function, the line's code
_PYTHON_CALLABLE: list[Frame] = [
    ("airflow/operators/python.py", 175, "execute", "return_value = self.execute_callable()"),
    ("airflow/operators/python.py", 192, "execute_callable",
     "return self.python_callable(*self.op_args, **self.op_kwargs)"),
]  # fmt: skip
# Where a failed try raised, per operator: traceback frames and the exception line.
_FAILURES: dict[str, tuple[list[Frame], str]] = {
    "BashOperator": (
        [("airflow/operators/bash.py", 197, "execute",
          'f"Bash command failed. The command returned a non-zero exit code {result.exit_code}."')],
        "airflow.exceptions.AirflowException: "
        "Bash command failed. The command returned a non-zero exit code 1.",
    ),
    "PythonOperator": (_PYTHON_CALLABLE, "ValueError: upstream data is incomplete"),
    "SimpleHttpOperator": (
        [("airflow/providers/http/operators/http.py", 124, "execute",
          "response = http.run(self.endpoint, self.data, self.headers, self.extra_options)"),
         ("airflow/providers/http/hooks/http.py", 153, "check_response",
          'raise AirflowException(str(response.status_code) + ":" + response.reason)')],
        "airflow.exceptions.AirflowException: 429:Too Many Requests",
    ),
}  # fmt: skip
_DEFAULT_FAILURE: tuple[list[Frame], str] = (
    [("airflow/models/baseoperator.py", 1396, "execute", "raise NotImplementedError()")],
    "airflow.exceptions.AirflowException: Task failed",
)
_TIMEOUT: list[Frame] = [
    ("airflow/utils/timeout.py", 69, "handle_timeout",
     "raise AirflowTaskTimeout(self.error_message)"),
]  # fmt: skip
# Where the SIGTERM finds a running task, per operator (waiting on its bash
# process's output, in its callable), then its handler
# (TaskInstance._execute_task_with_callbacks' signal_handler) raising.
_SIGTERM_FRAMES: dict[str, list[Frame]] = {
    "BashOperator": [
        ("airflow/operators/bash.py", 191, "execute", "cwd=self.cwd,"),
        ("airflow/hooks/subprocess.py", 91, "run_command",
         'for raw_line in iter(self.sub_process.stdout.readline, b""):'),
    ],
    "PythonOperator": _PYTHON_CALLABLE,
    "BranchPythonOperator": [
        ("airflow/operators/python.py", 210, "execute", "branch = super().execute(context)"),
        *_PYTHON_CALLABLE,
    ],
}  # fmt: skip
_SIGTERM_HANDLER: Frame = (
    "airflow/models/taskinstance.py", 1490, "signal_handler",
    'raise AirflowException("Task received SIGTERM signal")',
)  # fmt: skip
SIGTERM_ERROR = "Task received SIGTERM signal"


def failure_traceback(task: Task | None, operator: str | None, attempt: TaskTry) -> str:
    """The traceback a failed try logged: a timeout, or the operator's own error."""
    assert attempt.end_date is not None
    ran = (attempt.end_date - attempt.start_date).total_seconds()
    if task is not None and task.execution_timeout is not None and ran >= task.execution_timeout:
        frames = _TIMEOUT
        error = f"airflow.exceptions.AirflowTaskTimeout: Timeout, PID: {attempt.pid}"
    else:
        frames, error = _FAILURES.get(operator or "", _DEFAULT_FAILURE)
        if attempt.effect == FAIL:  # a fault's failure, raised where the operator's would be
            error = f"airflow.exceptions.AirflowException: {attempt.message}"
    return _traceback(frames, error)


def sigterm_traceback(operator: str | None) -> str:
    """The traceback of the AirflowException a task's SIGTERM handler raised."""
    frames = [*_SIGTERM_FRAMES.get(operator or "", []), _SIGTERM_HANDLER]
    return _traceback(frames, f"airflow.exceptions.AirflowException: {SIGTERM_ERROR}")


def _traceback(frames: list[Frame], error: str) -> str:
    text = "".join(
        f'  File "{SITE}/{path}", line {line}, in {function}\n    {code}\n'
        for path, line, function, code in frames
    )
    return f"Traceback (most recent call last):\n{text}{error}"
