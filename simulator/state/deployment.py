"""The installation the simulator plays, where Airflow leaves it to the
deployment: the official 2.5.3 image run as its docker-compose file runs it.

A scheduler, a webserver, a triggerer and Celery workers (CeleryExecutor),
each an `airflow` command of the image's user `airflow` (the entry point
/home/airflow/.local/bin/airflow is its sys.argv[0]). A worker runs a task
in a process it forks ([core] execute_tasks_new_python_interpreter = False),
which forks the task's `--raw` process in turn (StandardTaskRunner): neither
fork changes sys.argv, so both `airflow tasks run` of a try log the worker's
own command line. Host names are the simulator's: worker-0 .. worker-3,
scheduler-0, webserver-0, triggerer-0.
"""

from __future__ import annotations

import json
from datetime import datetime

from simulator.state.entities import EventLog

AIRFLOW = "/home/airflow/.local/bin/airflow"  # sys.argv[0] of every command
OS_USER = "airflow"  # getpass.getuser() in the image: the owner of `cli_*` rows
WORKERS = 4
WORKER_HOSTS = tuple(f"worker-{n}" for n in range(WORKERS))
SCHEDULER_HOST = "scheduler-0"
WEBSERVER_HOST = "webserver-0"
TRIGGERER_HOST = "triggerer-0"
WORKER_COMMAND = ("celery", "worker")
# What starts with the installation, in the order its `cli_*` rows are
# written: (the command's function, hence the event `cli_<name>`; host; argv
# after the entry point). The scheduler's job row is 1, the triggerer's 2.
Component = tuple[str, str, tuple[str, ...]]
SCHEDULER: Component = ("scheduler", SCHEDULER_HOST, ("scheduler",))
COMPONENTS: tuple[Component, ...] = (
    SCHEDULER,
    ("triggerer", TRIGGERER_HOST, ("triggerer",)),
    ("webserver", WEBSERVER_HOST, ("webserver",)),
    *(("worker", host, WORKER_COMMAND) for host in WORKER_HOSTS),
)


def cli_extra(host: str, command: tuple[str, ...]) -> str:
    """The `extra` of a `cli_*` row (utils/cli_action_loggers.py
    default_action_log): the host name and the process's sys.argv as
    utils/cli.py `_build_metrics` keeps it (the list's repr), as JSON."""
    return json.dumps({"host_name": host, "full_command": str([AIRFLOW, *command])})


def component_started(component: Component, at: datetime) -> EventLog:
    """The `cli_<name>` row a component's `airflow` command logs as it
    starts (utils/cli.py action_cli): no DAG or task."""
    name, host, command = component
    return EventLog(when=at, event=f"cli_{name}", owner=OS_USER, extra=cli_extra(host, command))
