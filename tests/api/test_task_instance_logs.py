"""Task logs: one attempt's file as Airflow 2.5.3's file handler serves it,
as JSON chunks with a continuation token or as plain text.

The world holds two DAGs added at the frozen start instant (each gets its
2023-03-31 run at once): `reports` (a bash task, a python task whose first
try fails and which retries after a minute, and a task mapped over two
indexes) and `sensing` (a sensor that defers for a minute).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from itsdangerous import URLSafeSerializer

from simulator.config import Settings
from simulator.simulator import Simulator
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, NO_DAGS, problem

RUN = "scheduled__2023-03-31T00:00:00+00:00"
SECRET = "simulator-secret-key"
JSON = {**ADMIN, "Accept": "application/json"}
TEXT = {**ADMIN, "Accept": "text/plain"}
UNAUTHENTICATED = problem(401, "Unauthorized", None, "Unauthenticated")
FORBIDDEN = problem(403, "Forbidden", None, "PermissionDenied")
RULE = "\n" + "-" * 80
DAGS: list[dict[str, Any]] = [
    {"dag_id": "reports", "schedule": "@daily", "start_date": "2023-03-01T00:00:00+00:00",
     "catchup": False, "owner": "analytics",
     "tasks": [
         {"task_id": "say_hello", "operator": "BashOperator",
          "module_path": "airflow.operators.bash", "duration": 5,
          "template_fields": ["bash_command", "env"]},
         {"task_id": "crunch", "operator": "PythonOperator",
          "module_path": "airflow.operators.python", "upstream": ["say_hello"], "retries": 1,
          "retry_delay": 60, "fail_tries": [1], "duration": 20},
         {"task_id": "shards", "operator": "PythonOperator",
          "module_path": "airflow.operators.python", "upstream": ["crunch"], "map_count": 2,
          "duration": 10},
     ]},
    {"dag_id": "sensing", "schedule": "@daily", "start_date": "2023-03-01T00:00:00+00:00",
     "catchup": False,
     "tasks": [{"task_id": "wait", "operator": "DateTimeSensorAsync",
                "module_path": "airflow.sensors.date_time", "deferral": 60, "duration": 2,
                "template_fields": ["target_time"]}]},
]  # fmt: skip

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def settings() -> Settings:
    return NO_DAGS


@pytest.fixture
def world(sim: Simulator) -> Simulator:
    sim.add_dags(DAGS)
    sim.advance(0)
    return sim


def log_url(dag_id: str, task_id: str, try_number: int | str, run_id: str = RUN) -> str:
    return f"/api/v1/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"


def token(**metadata: Any) -> str:
    return str(URLSafeSerializer(SECRET).dumps(metadata))


def ti_repr(dag_id: str, task_id: str, state: str, mapped: str = "") -> str:
    return f"<TaskInstance: {dag_id}.{task_id} {RUN} {mapped}[{state}]>"


def header(dag_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
    mapped = f"map_index={map_index}/" if map_index >= 0 else ""
    return (
        f"*** Reading local file: /opt/airflow/logs/dag_id={dag_id}/run_id={RUN}/"
        f"task_id={task_id}/{mapped}attempt={try_number}.log"
    )


SAY_HELLO = "\n".join([
    header("reports", "say_hello", 1),
    "[2023-04-01T00:00:02.453+0000] {taskinstance.py:1090} INFO - Dependencies all met for "
    f"dep_context=non-requeueable deps ti={ti_repr('reports', 'say_hello', 'queued')}",
    "[2023-04-01T00:00:02.453+0000] {taskinstance.py:1090} INFO - Dependencies all met for "
    f"dep_context=requeueable deps ti={ti_repr('reports', 'say_hello', 'queued')}",
    "[2023-04-01T00:00:02.453+0000] {taskinstance.py:1288} INFO - " + RULE,
    "[2023-04-01T00:00:02.453+0000] {taskinstance.py:1289} INFO - Starting attempt 1 of 1",
    "[2023-04-01T00:00:02.453+0000] {taskinstance.py:1290} INFO - " + RULE,
    "[2023-04-01T00:00:02.454+0000] {taskinstance.py:1309} INFO - Executing "
    "<Task(BashOperator): say_hello> on 2023-03-31 00:00:00+00:00",
    "[2023-04-01T00:00:02.473+0000] {standard_task_runner.py:55} INFO - Started process 22977 "
    "to run task",
    "[2023-04-01T00:00:02.494+0000] {standard_task_runner.py:82} INFO - Running: ['airflow', "
    f"'tasks', 'run', 'reports', 'say_hello', '{RUN}', '--job-id', '4', '--raw', "
    "'--subdir', 'DAGS_FOLDER/reports.py', '--cfg-path', '/tmp/tmpbvi669u9']",
    "[2023-04-01T00:00:02.495+0000] {standard_task_runner.py:83} INFO - Job 4: Subtask say_hello",
    "[2023-04-01T00:00:02.603+0000] {task_command.py:389} INFO - Running "
    f"{ti_repr('reports', 'say_hello', 'running')} on host worker-1",
    "[2023-04-01T00:00:02.753+0000] {taskinstance.py:1518} INFO - Exporting the following env "
    "vars:",
    "AIRFLOW_CTX_DAG_OWNER=analytics",
    "AIRFLOW_CTX_DAG_ID=reports",
    "AIRFLOW_CTX_TASK_ID=say_hello",
    "AIRFLOW_CTX_EXECUTION_DATE=2023-03-31T00:00:00+00:00",
    "AIRFLOW_CTX_TRY_NUMBER=1",
    f"AIRFLOW_CTX_DAG_RUN_ID={RUN}",
    "[2023-04-01T00:00:02.763+0000] {subprocess.py:63} INFO - Tmp dir root location: \n /tmp",
    "[2023-04-01T00:00:02.764+0000] {subprocess.py:75} INFO - Running command: "
    "['/usr/bin/bash', '-c', 'echo \"say_hello done\"']",
    "[2023-04-01T00:00:02.765+0000] {subprocess.py:86} INFO - Output:",
    "[2023-04-01T00:00:07.896+0000] {subprocess.py:93} INFO - say_hello done",
    "[2023-04-01T00:00:07.896+0000] {subprocess.py:97} INFO - Command exited with return code 0",
    "[2023-04-01T00:00:07.896+0000] {taskinstance.py:1332} INFO - Marking task as SUCCESS. "
    "dag_id=reports, task_id=say_hello, execution_date=20230331T000000, "
    "start_date=20230401T000002, end_date=20230401T000007",
    "[2023-04-01T00:00:07.896+0000] {local_task_job.py:212} INFO - Task exited with return "
    "code 0",
    "[2023-04-01T00:00:07.896+0000] {taskinstance.py:2596} INFO - 1 downstream tasks scheduled "
    "from follow-on schedule check",
    "",
])  # fmt: skip

CRUNCH_1_START = [
    header("reports", "crunch", 1),
    "[2023-04-01T00:00:09.178+0000] {taskinstance.py:1090} INFO - Dependencies all met for "
    f"dep_context=non-requeueable deps ti={ti_repr('reports', 'crunch', 'queued')}",
    "[2023-04-01T00:00:09.178+0000] {taskinstance.py:1090} INFO - Dependencies all met for "
    f"dep_context=requeueable deps ti={ti_repr('reports', 'crunch', 'queued')}",
    "[2023-04-01T00:00:09.178+0000] {taskinstance.py:1288} INFO - " + RULE,
    "[2023-04-01T00:00:09.178+0000] {taskinstance.py:1289} INFO - Starting attempt 1 of 2",
    "[2023-04-01T00:00:09.178+0000] {taskinstance.py:1290} INFO - " + RULE,
    "[2023-04-01T00:00:09.179+0000] {taskinstance.py:1309} INFO - Executing "
    "<Task(PythonOperator): crunch> on 2023-03-31 00:00:00+00:00",
]  # fmt: skip
CRUNCH_1_PROCESS = [
    "[2023-04-01T00:00:09.198+0000] {standard_task_runner.py:55} INFO - Started process 22534 "
    "to run task",
    "[2023-04-01T00:00:09.219+0000] {standard_task_runner.py:82} INFO - Running: ['airflow', "
    f"'tasks', 'run', 'reports', 'crunch', '{RUN}', '--job-id', '5', '--raw', "
    "'--subdir', 'DAGS_FOLDER/reports.py', '--cfg-path', '/tmp/tmpoxab4q7f']",
    "[2023-04-01T00:00:09.220+0000] {standard_task_runner.py:83} INFO - Job 5: Subtask crunch",
    "[2023-04-01T00:00:09.328+0000] {task_command.py:389} INFO - Running "
    f"{ti_repr('reports', 'crunch', 'running')} on host worker-1",
    "[2023-04-01T00:00:09.478+0000] {taskinstance.py:1518} INFO - Exporting the following env "
    "vars:",
    "AIRFLOW_CTX_DAG_OWNER=analytics",
    "AIRFLOW_CTX_DAG_ID=reports",
    "AIRFLOW_CTX_TASK_ID=crunch",
    "AIRFLOW_CTX_EXECUTION_DATE=2023-03-31T00:00:00+00:00",
    "AIRFLOW_CTX_TRY_NUMBER=1",
    f"AIRFLOW_CTX_DAG_RUN_ID={RUN}",
]  # fmt: skip
SITE = "/home/airflow/.local/lib/python3.7/site-packages"
CRUNCH_1_FAILURE = [
    "[2023-04-01T00:00:31.882+0000] {taskinstance.py:1776} ERROR - Task failed with exception",
    "Traceback (most recent call last):",
    f'  File "{SITE}/airflow/operators/python.py", line 175, in execute',
    "    return_value = self.execute_callable()",
    f'  File "{SITE}/airflow/operators/python.py", line 192, in execute_callable',
    "    return self.python_callable(*self.op_args, **self.op_kwargs)",
    "ValueError: upstream data is incomplete",
    "[2023-04-01T00:00:31.882+0000] {taskinstance.py:1332} INFO - Marking task as UP_FOR_RETRY. "
    "dag_id=reports, task_id=crunch, execution_date=20230331T000000, "
    "start_date=20230401T000009, end_date=20230401T000031",
    "[2023-04-01T00:00:31.882+0000] {standard_task_runner.py:104} ERROR - Failed to execute job "
    "5 for task crunch (upstream data is incomplete; 22534)",
    "[2023-04-01T00:00:31.882+0000] {local_task_job.py:212} INFO - Task exited with return "
    "code 1",
    "[2023-04-01T00:00:31.882+0000] {taskinstance.py:2596} INFO - 0 downstream tasks scheduled "
    "from follow-on schedule check",
    "",
]  # fmt: skip
CRUNCH_1 = "\n".join(CRUNCH_1_START + CRUNCH_1_PROCESS + CRUNCH_1_FAILURE)

WAIT_DEFERRED = "\n".join([
    header("sensing", "wait", 1),
    "[2023-04-01T00:00:02.116+0000] {taskinstance.py:1090} INFO - Dependencies all met for "
    f"dep_context=non-requeueable deps ti={ti_repr('sensing', 'wait', 'queued')}",
    "[2023-04-01T00:00:02.116+0000] {taskinstance.py:1090} INFO - Dependencies all met for "
    f"dep_context=requeueable deps ti={ti_repr('sensing', 'wait', 'queued')}",
    "[2023-04-01T00:00:02.116+0000] {taskinstance.py:1288} INFO - " + RULE,
    "[2023-04-01T00:00:02.116+0000] {taskinstance.py:1289} INFO - Starting attempt 1 of 1",
    "[2023-04-01T00:00:02.116+0000] {taskinstance.py:1290} INFO - " + RULE,
    "[2023-04-01T00:00:02.117+0000] {taskinstance.py:1309} INFO - Executing "
    "<Task(DateTimeSensorAsync): wait> on 2023-03-31 00:00:00+00:00",
    "[2023-04-01T00:00:02.136+0000] {standard_task_runner.py:55} INFO - Started process 20139 "
    "to run task",
    "[2023-04-01T00:00:02.157+0000] {standard_task_runner.py:82} INFO - Running: ['airflow', "
    f"'tasks', 'run', 'sensing', 'wait', '{RUN}', '--job-id', '3', '--raw', "
    "'--subdir', 'DAGS_FOLDER/sensing.py', '--cfg-path', '/tmp/tmpdtxa68z_']",
    "[2023-04-01T00:00:02.158+0000] {standard_task_runner.py:83} INFO - Job 3: Subtask wait",
    "[2023-04-01T00:00:02.266+0000] {task_command.py:389} INFO - Running "
    f"{ti_repr('sensing', 'wait', 'running')} on host worker-0",
    "[2023-04-01T00:00:02.416+0000] {taskinstance.py:1518} INFO - Exporting the following env "
    "vars:",
    "AIRFLOW_CTX_DAG_OWNER=airflow",
    "AIRFLOW_CTX_DAG_ID=sensing",
    "AIRFLOW_CTX_TASK_ID=wait",
    "AIRFLOW_CTX_EXECUTION_DATE=2023-03-31T00:00:00+00:00",
    "AIRFLOW_CTX_TRY_NUMBER=1",
    f"AIRFLOW_CTX_DAG_RUN_ID={RUN}",
    "[2023-04-01T00:00:03.116+0000] {taskinstance.py:1397} INFO - Pausing task as DEFERRED. "
    "dag_id=sensing, task_id=wait, execution_date=20230331T000000, start_date=20230401T000002",
    "[2023-04-01T00:00:03.116+0000] {local_task_job.py:212} INFO - Task exited with return "
    "code 0",
    "[2023-04-01T00:00:03.116+0000] {taskinstance.py:2596} INFO - 0 downstream tasks scheduled "
    "from follow-on schedule check",
    "",
])  # fmt: skip


def json_log(host: str, text: str, **metadata: Any) -> dict[str, str]:
    return {"content": repr([(host, text)]), "continuation_token": token(**metadata)}


async def get(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(url, headers=headers, params=params)
    return response.status, response.headers["Content-Type"], await response.text()


class TestGetLog:
    async def test_a_finished_try_as_json(self, client: TestClient, world: Simulator) -> None:
        world.advance(200)
        response = await client.get(log_url("reports", "say_hello", 1), headers=JSON)
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert await response.json() == json_log(
            "worker-1", SAY_HELLO, end_of_log=True, log_pos=len(SAY_HELLO)
        )

    async def test_without_accept_header_it_is_json(
        self, client: TestClient, world: Simulator
    ) -> None:
        world.advance(200)
        url = log_url("reports", "say_hello", 1)
        response = await client.get(url, headers=ADMIN, skip_auto_headers=("Accept",))
        assert response.status == 200
        assert await response.json() == json_log(
            "worker-1", SAY_HELLO, end_of_log=True, log_pos=len(SAY_HELLO)
        )

    @pytest.mark.parametrize("accept", ["text/plain", "*/*", "application/json, text/plain"])
    async def test_plain_text(self, client: TestClient, world: Simulator, accept: str) -> None:
        # Airflow prefers text/plain when the client accepts both equally.
        world.advance(200)
        headers = {**ADMIN, "Accept": accept}
        status, content_type, text = await get(client, log_url("reports", "say_hello", 1), headers)
        assert (status, content_type) == (200, "text/plain")
        assert text == "worker-1\n" + SAY_HELLO + "\n"

    async def test_a_failed_try_and_its_retry(self, client: TestClient, world: Simulator) -> None:
        world.advance(200)
        # Every chunk names the instance's current host (the retry's worker).
        response = await client.get(log_url("reports", "crunch", 1), headers=JSON)
        assert await response.json() == json_log(
            "worker-3", CRUNCH_1, end_of_log=True, log_pos=len(CRUNCH_1)
        )
        _, _, text = await get(client, log_url("reports", "crunch", 2), TEXT)
        lines = text.split("\n")
        assert lines[6] == (
            "[2023-04-01T00:01:33.621+0000] {taskinstance.py:1289} INFO - Starting attempt 2 of 2"
        )
        assert lines[-6:] == [
            "[2023-04-01T00:01:45.410+0000] {python.py:177} INFO - Done. Returned value was: "
            "{'task': 'crunch', 'rows': 5846}",
            "[2023-04-01T00:01:45.410+0000] {taskinstance.py:1332} INFO - Marking task as SUCCESS."
            " dag_id=reports, task_id=crunch, execution_date=20230331T000000, "
            "start_date=20230401T000133, end_date=20230401T000145",
            "[2023-04-01T00:01:45.410+0000] {local_task_job.py:212} INFO - Task exited with "
            "return code 0",
            "[2023-04-01T00:01:45.410+0000] {taskinstance.py:2596} INFO - 2 downstream tasks "
            "scheduled from follow-on schedule check",
            "",
            "",
        ]

    async def test_a_running_try_ends_where_the_clock_is(
        self, client: TestClient, world: Simulator
    ) -> None:
        world.advance(9.25)  # crunch started at 00:00:09.178
        url = log_url("reports", "crunch", 1)
        running = "\n".join([*CRUNCH_1_START, *CRUNCH_1_PROCESS[:3], ""])
        response = await client.get(url, headers=JSON)
        assert await response.json() == json_log(
            "worker-1", running, end_of_log=False, log_pos=len(running)
        )
        # The token continues after what was read; once the try is over the log ends.
        world.advance(60)
        continued = await client.get(
            url, headers=JSON, params={"token": token(log_pos=len(running))}
        )
        rest = CRUNCH_1[len(running) :]
        assert rest.startswith("[2023-04-01T00:00:09.328+0000] {task_command.py:389}")
        assert await continued.json() == json_log(
            "worker-1", rest, end_of_log=True, log_pos=len(CRUNCH_1)
        )

    async def test_token_at_the_end(self, client: TestClient, world: Simulator) -> None:
        world.advance(200)
        position = len(SAY_HELLO)
        params = {"token": token(end_of_log=True, log_pos=position), "full_content": "true"}
        # The file handler ignores download_logs: full_content changes nothing.
        response = await client.get(log_url("reports", "say_hello", 1), headers=JSON, params=params)
        assert response.status == 200
        assert await response.json() == json_log("worker-1", "", end_of_log=True, log_pos=position)

    async def test_plain_text_ignores_the_token(self, client: TestClient, world: Simulator) -> None:
        world.advance(200)
        url = log_url("reports", "say_hello", 1)
        _, _, text = await get(client, url, TEXT, token=token(log_pos=len(SAY_HELLO)))
        assert text == "worker-1\n" + SAY_HELLO + "\n"

    async def test_bad_token(self, client: TestClient, world: Simulator) -> None:
        # Checked before the task instance is looked up.
        url = log_url("reports", "nope", 1)
        forged = URLSafeSerializer("another-key").dumps({"log_pos": 0})
        response = await client.get(url, headers=JSON, params={"token": forged})
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Signature. Please use only the tokens provided by the API.", None,
            "BadRequest",
        )  # fmt: skip

    async def test_try_number_zero(self, client: TestClient, world: Simulator) -> None:
        response = await client.get(log_url("reports", "say_hello", 0), headers=JSON)
        assert response.status == 200
        assert await response.json() == {
            "content": "[('default_host', 'Error fetching the logs. Try number 0 is invalid.')]",
            "continuation_token": token(end_of_log=True),
        }

    async def test_a_try_that_never_ran(self, client: TestClient, world: Simulator) -> None:
        world.advance(200)
        path = f"dag_id=reports/run_id={RUN}/task_id=say_hello/attempt=2.log"
        missing = (
            f"*** Log file does not exist: /opt/airflow/logs/{path}\n"
            f"*** Fetching from: http://worker-1:8793/log/{path}\n"
            "*** Failed to fetch log file from worker. Client error '404 NOT FOUND' for url "
            f"'http://worker-1:8793/log/{path}'\n"
            "For more information check: https://httpstatuses.com/404\n"
        )
        response = await client.get(log_url("reports", "say_hello", 2), headers=JSON)
        assert await response.json() == json_log("worker-1", missing, end_of_log=True)

    async def test_an_instance_that_never_ran(self, client: TestClient, world: Simulator) -> None:
        path = f"dag_id=reports/run_id={RUN}/task_id=crunch/attempt=1.log"
        missing = (
            f"*** Log file does not exist: /opt/airflow/logs/{path}\n"
            f"*** Fetching from: http://:8793/log/{path}\n"
            "*** Failed to fetch log file from worker. Request URL is missing an 'http://' or "
            "'https://' protocol.\n"
        )
        _, _, text = await get(client, log_url("reports", "crunch", 1), TEXT)
        assert text == "\n" + missing + "\n"  # an empty host line

    async def test_mapped_instance(self, client: TestClient, world: Simulator) -> None:
        world.advance(200)
        url = log_url("reports", "shards", 1)
        status, _, text = await get(client, url, TEXT, map_index="1")
        assert status == 200
        lines = text.split("\n")
        assert lines[:2] == ["worker-2", header("reports", "shards", 1, map_index=1)]
        assert lines[2].endswith(f"ti=<TaskInstance: reports.shards {RUN} map_index=1 [queued]>")
        assert lines[-5].endswith(
            "Marking task as SUCCESS. dag_id=reports, task_id=shards, map_index=1, "
            "execution_date=20230331T000000, start_date=20230401T000147, "
            "end_date=20230401T000159"
        )

    async def test_a_deferred_try(self, client: TestClient, world: Simulator) -> None:
        world.advance(10)
        url = log_url("sensing", "wait", 1)
        response = await client.get(url, headers=JSON)
        # Deferred on this try: more may come.
        assert await response.json() == json_log(
            "worker-0", WAIT_DEFERRED, end_of_log=False, log_pos=len(WAIT_DEFERRED)
        )
        # The trigger fired at the rendered target_time (interval end + 60 s,
        # 00:01:00); the resumed task succeeded.
        world.advance(120)
        _, _, text = await get(client, url, TEXT)
        resumed = text[len("worker-0\n" + WAIT_DEFERRED) :].split("\n")
        assert resumed[4] == (
            "[2023-04-01T00:01:03.210+0000] {taskinstance.py:1289} INFO - Starting attempt 1 of 1"
        )
        assert not any("Exporting" in line for line in resumed)
        assert resumed[-5] == (
            "[2023-04-01T00:01:04.533+0000] {taskinstance.py:1332} INFO - Marking task as "
            "SUCCESS. dag_id=sensing, task_id=wait, execution_date=20230331T000000, "
            "start_date=20230401T000002, end_date=20230401T000104"
        )

    async def test_a_try_marked_while_running(self, client: TestClient, world: Simulator) -> None:
        world.advance(20)  # crunch's first try runs
        ti = world.store.task_instances.require(("reports", RUN, "crunch", -1))
        world.actions.set_state([ti], "success")
        world.advance(5)
        response = await client.get(log_url("reports", "crunch", 1), headers=JSON)
        stopped = "\n".join([
            *CRUNCH_1_START, *CRUNCH_1_PROCESS,
            "[2023-04-01T00:00:20.000+0000] {local_task_job.py:277} WARNING - State of this "
            "instance has been externally set to success. Terminating instance.",
            "[2023-04-01T00:00:20.000+0000] {process_utils.py:129} INFO - Sending "
            "Signals.SIGTERM to group 22534. PIDs of all processes in the group: [22534]",
            "[2023-04-01T00:00:20.000+0000] {process_utils.py:84} INFO - Sending the signal "
            "Signals.SIGTERM to group 22534",
            "[2023-04-01T00:00:20.000+0000] {taskinstance.py:1488} ERROR - Received SIGTERM. "
            "Terminating subprocesses.",
            # The handler finds the instance finished: the task returns, its process exits 0.
            "[2023-04-01T00:00:20.000+0000] {process_utils.py:79} INFO - Process "
            "psutil.Process(pid=22534, status='terminated', exitcode=0, started='00:00:09') "
            "(22534) terminated with exit code 0",
            "",
        ])  # fmt: skip
        assert await response.json() == json_log(
            "worker-1", stopped, end_of_log=True, log_pos=len(stopped)
        )

    @pytest.mark.parametrize(
        ("url", "params"),
        [
            (log_url("reports", "nope", 1), {}),
            (log_url("reports", "say_hello", 1, run_id="nope"), {}),
            (log_url("reports", "shards", 1), {}),  # a mapped task needs its map_index
            (log_url("reports", "say_hello", 1), {"map_index": "0"}),
        ],
    )
    async def test_not_found(
        self, client: TestClient, world: Simulator, url: str, params: dict[str, str]
    ) -> None:
        response = await client.get(url, headers=JSON, params=params)
        assert response.status == 404
        assert await response.json() == problem(404, "TaskInstance not found", None, "NotFound")

    async def test_try_number_must_be_digits(self, client: TestClient, world: Simulator) -> None:
        response = await client.get(log_url("reports", "say_hello", "-1"), headers=JSON)
        assert response.status == 404
        assert (await response.json())["type"] == "about:blank"

    async def test_unauthenticated(self, client: TestClient, world: Simulator) -> None:
        response = await client.get(log_url("reports", "say_hello", 1))
        assert response.status == 401
        assert await response.json() == UNAUTHENTICATED

    async def test_public_is_forbidden(
        self, client: TestClient, world: Simulator, make_user: Headers
    ) -> None:
        response = await client.get(log_url("reports", "say_hello", 1), headers=make_user("p"))
        assert response.status == 403
        assert await response.json() == FORBIDDEN

    async def test_viewer_may_read(
        self, client: TestClient, world: Simulator, make_user: Headers
    ) -> None:
        headers = make_user("v", "Viewer")
        response = await client.get(log_url("reports", "say_hello", 1), headers=headers)
        assert response.status == 200


def test_official_client(live: LiveServer) -> None:
    server = live  # an Airflow without DAGs, reset for this test
    import airflow_client.client as airflow_client
    from airflow_client.client.api.task_instance_api import TaskInstanceApi

    server.sim.add_dags(DAGS)
    server.sim.advance(200)
    configuration = airflow_client.Configuration(
        host=server.url, username="admin", password="admin"
    )
    with airflow_client.ApiClient(configuration) as api:
        # The client asks for application/json.
        log = TaskInstanceApi(api).get_log("reports", RUN, "say_hello", 1)
    assert log.content == repr([("worker-1", SAY_HELLO)])
    assert log.continuation_token == token(end_of_log=True, log_pos=len(SAY_HELLO))


async def test_a_cleared_running_try_runs_until_killed(
    client: TestClient, world: Simulator
) -> None:
    world.advance(20)  # crunch's first try runs (since 00:00:09.178)
    ti = world.store.task_instances.require(("reports", RUN, "crunch", -1))
    world.actions.clear([ti], reset_runs=False)
    world.advance(1)
    response = await client.get(log_url("reports", "crunch", 1), headers=JSON)
    running = "\n".join([*CRUNCH_1_START, *CRUNCH_1_PROCESS, ""])
    # Restarting: the try still runs until its job's heartbeats notice. The
    # first after the clear (00:00:24.178) lets the change pass once.
    assert await response.json() == json_log(
        "worker-1", running, end_of_log=True, log_pos=len(running)
    )
    world.advance(8)  # 00:00:29: still running
    _, _, text = await get(client, log_url("reports", "crunch", 1), TEXT)
    assert text == "worker-1\n" + running + "\n"
    world.advance(1)  # the next heartbeat (00:00:29.178) terminates it
    _, _, text = await get(client, log_url("reports", "crunch", 1), TEXT)
    killed = "\n".join([*CRUNCH_1_START, *CRUNCH_1_PROCESS, *CRUNCH_1_KILLED])
    assert text == "worker-1\n" + killed + "\n"
    assert (ti.state, ti.end_date) == ("up_for_retry", ti.tries[0].end_date)


# crunch's first try, its instance cleared at 00:00:20: its job's second
# heartbeat since then terminates it; the task's SIGTERM handler raises, the
# failure is handled (up for retry: restarting is always eligible), and the
# forked task process exits with 1.
CRUNCH_1_KILLED = [
    "[2023-04-01T00:00:29.178+0000] {local_task_job.py:277} WARNING - State of this instance "
    "has been externally set to restarting. Terminating instance.",
    "[2023-04-01T00:00:29.178+0000] {process_utils.py:129} INFO - Sending Signals.SIGTERM to "
    "group 22534. PIDs of all processes in the group: [22534]",
    "[2023-04-01T00:00:29.178+0000] {process_utils.py:84} INFO - Sending the signal "
    "Signals.SIGTERM to group 22534",
    "[2023-04-01T00:00:29.178+0000] {taskinstance.py:1488} ERROR - Received SIGTERM. "
    "Terminating subprocesses.",
    "[2023-04-01T00:00:29.178+0000] {taskinstance.py:1776} ERROR - Task failed with exception",
    "Traceback (most recent call last):",
    f'  File "{SITE}/airflow/operators/python.py", line 175, in execute',
    "    return_value = self.execute_callable()",
    f'  File "{SITE}/airflow/operators/python.py", line 192, in execute_callable',
    "    return self.python_callable(*self.op_args, **self.op_kwargs)",
    f'  File "{SITE}/airflow/models/taskinstance.py", line 1490, in signal_handler',
    '    raise AirflowException("Task received SIGTERM signal")',
    "airflow.exceptions.AirflowException: Task received SIGTERM signal",
    "[2023-04-01T00:00:29.178+0000] {taskinstance.py:1332} INFO - Marking task as UP_FOR_RETRY. "
    "dag_id=reports, task_id=crunch, execution_date=20230331T000000, "
    "start_date=20230401T000009, end_date=20230401T000029",
    "[2023-04-01T00:00:29.178+0000] {standard_task_runner.py:104} ERROR - Failed to execute job "
    "5 for task crunch (Task received SIGTERM signal; 22534)",
    "[2023-04-01T00:00:29.178+0000] {process_utils.py:79} INFO - Process "
    "psutil.Process(pid=22534, status='terminated', exitcode=1, started='00:00:09') (22534) "
    "terminated with exit code 1",
    "",
]  # fmt: skip


async def test_a_try_cleared_through_the_api_is_terminated(
    client: TestClient, world: Simulator
) -> None:
    """POST clearTaskInstances on a running instance: the try's rows and log
    end as Airflow's SIGTERM path leaves them; the next try runs after the
    retry delay."""
    world.advance(20)
    body = {"dry_run": False, "task_ids": ["crunch"], "only_failed": False}
    response = await client.post("/api/v1/dags/reports/clearTaskInstances", json=body,
                                 headers=ADMIN)  # fmt: skip
    assert response.status == 200
    assert [ref["task_id"] for ref in (await response.json())["task_instances"]] == ["crunch"]
    world.advance(100)
    page = await (await client.get("/api/v1/eventLogs", headers=ADMIN)).json()
    rows = [row for row in page["event_logs"] if row["task_id"] == "crunch"]
    started = ["cli_task_run", "running", "cli_task_run"]
    assert [(row["event"], row["when"]) for row in rows] == [
        *((event, "2023-04-01T00:00:09.178949+00:00") for event in started),
        ("failed", "2023-04-01T00:00:29.178949+00:00"),  # handle_failure's row
        *((event, "2023-04-01T00:01:30.917607+00:00") for event in started),  # try 2
        ("success", "2023-04-01T00:01:42.706607+00:00"),
    ]
    assert rows[3] == {
        "dag_id": "reports", "event": "failed", "event_log_id": rows[0]["event_log_id"] + 3,
        "execution_date": "2023-03-31T00:00:00+00:00", "extra": None, "owner": "analytics",
        "task_id": "crunch", "when": "2023-04-01T00:00:29.178949+00:00",
    }  # fmt: skip
    _, _, text = await get(client, log_url("reports", "crunch", 1), TEXT)
    assert text.split("\n")[-len(CRUNCH_1_KILLED) - 1 :] == [*CRUNCH_1_KILLED, ""]
    _, _, text = await get(client, log_url("reports", "crunch", 2), TEXT)
    assert "Marking task as SUCCESS." in text


async def test_each_try_prints_the_max_tries_of_its_time(
    client: TestClient, world: Simulator
) -> None:
    """ "Starting attempt N of M" prints max_tries + 1 as the try found it: a
    running instance's clear leaves max_tries (say_hello has no retries), so
    its next try is attempt 2 of 1; a later clear raises it for the tries
    after, not in the logs written before."""

    async def starting(try_number: int) -> str:
        _, _, text = await get(client, log_url("reports", "say_hello", try_number), TEXT)
        return next(line for line in text.split("\n") if "Starting attempt" in line)

    world.advance(3)  # say_hello's first try runs
    ti = world.store.task_instances.require(("reports", RUN, "say_hello", -1))
    assert ti.state == "running"
    world.actions.clear([ti], reset_runs=False)
    world.advance(400)
    assert (ti.state, ti.try_number, ti.max_tries) == ("success", 2, 0)
    assert (await starting(1)).endswith("Starting attempt 1 of 1")
    assert (await starting(2)).endswith("Starting attempt 2 of 1")
    world.actions.clear([ti], reset_runs=True)  # finished: max_tries = 2 + 0 retries
    world.advance(400)
    assert (ti.state, ti.try_number, ti.max_tries) == ("success", 3, 2)
    assert [(await starting(n)).split(" INFO - ")[1] for n in (1, 2, 3)] == [
        "Starting attempt 1 of 1", "Starting attempt 2 of 1", "Starting attempt 3 of 3",
    ]  # fmt: skip
    copy = Simulator(NO_DAGS)
    copy.restore(world.snapshot())  # the kept max_tries is part of the world
    assert [t.max_tries for t in copy.store.task_instances.require(ti.key).tries] == [
        None, 0, None,
    ]  # fmt: skip
