"""Replay what a real Airflow 2.10.5 answered against the simulator in 2.10.5 mode.

`recorded/record.py` sent a fixed list of requests to a real Airflow 2.10.5 and
wrote `recorded/airflow-2.10.5.json`; `recorded/world.yaml` mirrors the example
DAGs that recording touched. The whole list is replayed once, in order, in one
simulator (the recording's waits for a run become clock advances); each
recorded request is then its own case, asserting:

- the same status and media type;
- for JSON bodies the same shape: the same keys at every level and the same
  JSON types; a null on one side only where the key is nullable somewhere in
  the 2.10.5 spec; a collection's list (`$.dags`, ...) empty on both sides or
  on neither; list items compared pairwise;
- exact equality for error bodies (title, detail, type, status) and, for the
  cases in EXACT, for every value but times and ids (the world is the same);
- for the cases in FILTERS, that every item returned passes the filter sent.

Where the simulator departs from the recording on purpose, the case is listed
in KNOWN_DIFFERENCES with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.server.app import create_app
from tests.conftest import ADMIN

HERE = Path(__file__).resolve().parent / "recorded"
RECORDING = json.loads((HERE / "airflow-2.10.5.json").read_text())
STEPS: list[dict[str, Any]] = RECORDING["steps"]
REQUESTS = [step for step in STEPS if step["kind"] == "request"]
SPEC_PATH = Path(__file__).resolve().parents[2] / "simulator" / "spec" / "v1-2.10.5.yaml"

SETTINGS = Settings(
    scenario=str(HERE / "world.yaml"),
    airflow_version="2.10.5",
    validate_responses=True,
    password_hash_iterations=1000,
)

# Cases whose whole body must match, times and ids aside: the recording's
# world and the replay's are the same there.
EXACT = {
    "version",
    "config_value_json",
    "config_value_text",
    "dependencies_finished",
    "dependencies_mapped_finished",
    "dependencies_blocked",
    "dependencies_mapped_unexpanded",
    "tries_one",
    "tries",
    "tries_page",
    "try_1",
    "try_2",
    "mapped_tries",
    "mapped_try_1",
    "mapped_try_2",
    "tries_queued",
    "tries_missing_task",
    "tries_missing_run",
    "mapped_tries_missing_index",
    "tries_mapped_parent",
    "dag_stats",
    "dag_stats_missing_dag",
    "dag_queued_events",
    "dag_queued_event",
    "dataset_queued_events",
    "dataset_queued_events_before",
    "post_dataset_event",
    "get_xcom_entries_map_index",
    "get_xcom_entries_key",
    "get_xcom_entries_no_match",
    "get_task_instances_batch",
    "get_dag_runs_fields",
    "get_dag_run_fields",
    "get_dag_fields",
}

# Values that are stamps of a moment or of a database row, never compared.
VOLATILE = {
    "pid",
    "hostname",
    "unixname",
    "id",
    "event_log_id",
    "dataset_id",
    "duration",
    "file_token",
    "fileloc",
    "git_version",
    "job_id",
    # a task's rendered values, keyed by its template fields: the world's data
    "rendered_fields",
}
# Free-form objects: their keys are data, not shape.
FREE_FORM = {"conf", "extra", "params", "rendered_fields"}
# case id -> keys whose value may be any JSON: a scenario cannot set a task's
# XCom values (the world generates them), so where Airflow answers the native
# value (stringify=false) only its presence is compared.
ANY_VALUE = {"get_xcom_entry_stringify_false": {"value"}}

MAP_DAG = "example_dynamic_task_mapping"


def _each(collection: str, **expected: Any) -> tuple[str, Callable[[dict[str, Any]], bool]]:
    return collection, lambda item: all(item.get(k) == v for k, v in expected.items())


EXCLUDED = {"running", "success", "failed"}

# Filters: every item of the simulator's collection must pass, as Airflow's do.
FILTERS: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "get_dags_pattern": ("dags", lambda dag: "dynamic_task_mapping" in dag["dag_id"]),
    "get_dags_paused": _each("dags", is_paused=False),
    "get_task_instances_state": _each("task_instances", state="success"),
    "get_task_instances_executor": _each("task_instances", executor="SequentialExecutor"),
    "get_task_instances_batch": _each("task_instances", task_id="sum_it", dag_run_id="rec_map_1"),
    "get_xcom_entries_map_index": _each("xcom_entries", map_index=0),
    "get_xcom_entries_key": _each("xcom_entries", key="return_value"),
    "get_dataset_events_source": _each("dataset_events", source_dag_id=MAP_DAG),
    "get_datasets": ("datasets", lambda dataset: "dag1" in dataset["uri"]),
    "get_datasets_dag_ids": (
        "datasets",
        lambda dataset: any(
            ref["dag_id"] == "dataset_consumes_1"
            for ref in dataset["consuming_dags"] + dataset["producing_tasks"]
        ),
    ),
    "event_logs_dag": _each("event_logs", dag_id=MAP_DAG),
    "event_logs_task": _each("event_logs", dag_id=MAP_DAG, task_id="sum_it"),
    "event_logs_run": _each("event_logs", dag_id=MAP_DAG, run_id="rec_map_1", event="running"),
    # map_index=0 filters nothing in Airflow 2.10.5 (a falsy value is no filter).
    "event_logs_map_index": _each("event_logs", dag_id=MAP_DAG, task_id="add_one"),
    "event_logs_map_index_1": _each("event_logs", dag_id=MAP_DAG, task_id="add_one", map_index=1),
    "event_logs_try_number": _each("event_logs", dag_id=MAP_DAG, try_number=2),
    "event_logs_owner": _each("event_logs", dag_id=MAP_DAG, owner="airflow"),
    "event_logs_included": (
        "event_logs",
        lambda log: log["dag_id"] == MAP_DAG and log["event"] in {"running", "success"},
    ),
    "event_logs_excluded": (
        "event_logs",
        lambda log: log["dag_id"] == MAP_DAG and log["event"] not in EXCLUDED,
    ),
}

# case id -> the deliberate difference (a quirk of the simulator) that makes
# the case fail; the comparison itself is never weakened.
KNOWN_DIFFERENCES: dict[str, str] = {
    "get_users": (
        "quirk login-stats-unchanged: Airflow counts every basic-auth call as a login "
        "(admin's fail_login_count 0, login_count in the hundreds); the simulator leaves "
        "a user's login figures as created (null)"
    ),
    "health": (
        "the deployments differ: the simulated one runs a triggerer (its deferrable "
        "sensors need one: a heartbeat and a status), the recorded one ran none (nulls)"
    ),
}

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def _nullable_keys() -> frozenset[str]:
    """Every property name the 2.10.5 spec marks nullable in some schema."""
    spec = yaml.safe_load(SPEC_PATH.read_text())
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if isinstance(prop, dict) and prop.get("nullable"):
                    names.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec.get("components", {}))
    return frozenset(names)


NULLABLE = _nullable_keys()


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_diffs(real: Any, sim: Any, where: str = "$", collection: bool = False) -> list[str]:
    """Where the two JSON values differ in shape (keys, types, list emptiness)."""
    key = where.rsplit(".", 1)[-1].split("[", 1)[0]
    if real is None or sim is None:
        if real is sim or key in NULLABLE:
            return []
        return [f"{where}: {_type(real)} in Airflow, {_type(sim)} in the simulator"]
    if _type(real) != _type(sim):
        return [f"{where}: {_type(real)} in Airflow, {_type(sim)} in the simulator"]
    if isinstance(real, dict):
        if key in FREE_FORM:
            return []
        diffs = []
        if missing := sorted(real.keys() - sim.keys()):
            diffs.append(f"{where}: keys missing in the simulator: {missing}")
        if extra := sorted(sim.keys() - real.keys()):
            diffs.append(f"{where}: keys Airflow does not send: {extra}")
        paged = "total_entries" in real
        for name in sorted(real.keys() & sim.keys()):
            diffs += shape_diffs(real[name], sim[name], f"{where}.{name}", paged)
        return diffs
    if isinstance(real, list):
        # A collection's emptiness is the API's (a filter); a nested list's is the world's.
        if bool(real) != bool(sim) and collection:
            return [f"{where}: {len(real)} item(s) in Airflow, {len(sim)} in the simulator"]
        diffs = []
        for index, (one, other) in enumerate(zip(real, sim, strict=False)):
            diffs += shape_diffs(one, other, f"{where}[{index}]")
        return diffs
    return []


# case id -> (collection, item key): Airflow builds these lists from a Python
# set, so their order changes from one process to the next; both sides sorted.
UNORDERED = {
    "dag_stats": ("dags", "dag_id"),
}


def unordered(case_id: str, body: Any) -> Any:
    if case_id not in UNORDERED or not isinstance(body, dict):
        return body
    collection, key = UNORDERED[case_id]
    items = sorted(body.get(collection) or [], key=lambda item: str(item.get(key)))
    return {**body, collection: items}


def normalized(value: Any, key: str = "") -> Any:
    """The value with times and row ids replaced by markers."""
    if key in VOLATILE and value is not None:
        return f"<{key}>"
    if isinstance(value, dict):
        return {k: normalized(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v, key) for v in value]
    if isinstance(value, str) and DATETIME.match(value):
        return "<datetime>"
    return value


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip()


# --- replay -----------------------------------------------------------------


def _fill(text: str, captured: dict[str, Any]) -> str:
    for name, value in captured.items():
        text = text.replace("{" + name + "}", str(value))
    return text


async def _send(client: TestClient, step: dict[str, Any], captured: dict[str, Any]) -> Any:
    headers = dict(step["headers"])
    if step["auth"]:
        headers.update(ADMIN)
    kwargs: dict[str, Any] = {"headers": headers}
    if step["query"]:
        kwargs["params"] = [(k, _fill(v, captured)) for k, v in step["query"]]
    if step["body"] is not None:
        kwargs["json"] = step["body"]
    path = "/api/v1" + _fill(step["path"], captured)
    async with client.request(step["method"], path, **kwargs) as response:
        answer: dict[str, Any] = {
            "status": response.status,
            "content_type": response.headers.get("Content-Type", ""),
        }
        raw = await response.read()
    if raw and "json" in answer["content_type"]:
        body = json.loads(raw)
        answer["json"] = body
        for name, keys in step.get("capture", {}).items():
            try:
                for k in keys:
                    body = body[k]
                captured[name] = body
            except (KeyError, IndexError, TypeError):
                pass
    elif raw:
        answer["text"] = raw.decode()
    return answer


async def _wait(client: TestClient, step: dict[str, Any]) -> None:
    run = {"dag_id": step["dag_id"], "dag_run_id": step["dag_run_id"]}
    async with client.post("/_sim/clock/advance", json={"until_dag_run": run}) as response:
        await response.read()


async def replay(client: TestClient) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    captured: dict[str, Any] = {}
    for step in STEPS:
        try:
            if step["kind"] == "wait":
                await _wait(client, step)
            else:
                answers[step["id"]] = await _send(client, step, captured)
        except Exception as error:  # a case reports it; the replay goes on
            answers[step["id"]] = {"error": repr(error)}
    return answers


_REPLAYED: dict[str, Any] = {}


@pytest.fixture
async def replayed(aiohttp_client: Callable[..., Any]) -> dict[str, Any]:
    """The simulator's answers to every recorded request, replayed once per run."""
    if not _REPLAYED:
        client = await aiohttp_client(create_app(SETTINGS))
        _REPLAYED.update(await replay(client))
    return _REPLAYED


# --- the cases ----------------------------------------------------------------


def _show(answer: dict[str, Any]) -> str:
    body = answer.get("json", answer.get("text", answer.get("error")))
    text = json.dumps(body, indent=1, sort_keys=True) if not isinstance(body, str) else body
    if len(text) > 3000:
        text = text[:3000] + "\n..."
    return f"{answer.get('status')} {answer.get('content_type', '')}\n{text}"


def filter_diffs(case_id: str, body: Any) -> list[str]:
    if case_id not in FILTERS or not isinstance(body, dict):
        return []
    collection, passes = FILTERS[case_id]
    failing = [i for i, item in enumerate(body.get(collection) or []) if not passes(item)]
    return [f"$.{collection}{failing}: items the filter should have left out"] if failing else []


def differences(case_id: str, real: dict[str, Any], sim: dict[str, Any]) -> list[str]:
    if "error" in sim:
        return [f"the replay raised {sim['error']}"]
    diffs = []
    if real["status"] != sim["status"]:
        diffs.append(f"status {real['status']} in Airflow, {sim['status']} in the simulator")
    has_body = "json" in real or "text" in real
    if has_body and media_type(real["content_type"]) != media_type(sim["content_type"]):
        diffs.append(f"content type {real['content_type']!r} vs {sim['content_type']!r}")
    if "json" in real:
        if "json" not in sim:
            return [*diffs, "Airflow answers JSON, the simulator does not"]
        ours, theirs = unordered(case_id, real["json"]), unordered(case_id, sim["json"])
        exact = real["status"] >= 400 or case_id in EXACT
        if exact and normalized(ours) != normalized(theirs):
            diffs.append("the bodies differ (compared exactly, times and ids aside)")
        for key in ANY_VALUE.get(case_id, ()):
            if isinstance(ours, dict) and isinstance(theirs, dict) and key in theirs:
                ours, theirs = {**ours, key: None}, {**theirs, key: None}
        diffs += shape_diffs(ours, theirs)
        diffs += filter_diffs(case_id, sim["json"])
    elif "text" in real:
        if "text" not in sim:
            diffs.append("Airflow answers text, the simulator does not")
        elif case_id in EXACT and real["text"] != sim["text"]:
            diffs.append("the texts differ")
    elif "json" in sim or "text" in sim:
        diffs.append("Airflow answers with an empty body, the simulator does not")
    return diffs


def _case(step: dict[str, Any]) -> Any:
    marks = []
    if step["id"] in KNOWN_DIFFERENCES:
        marks.append(pytest.mark.xfail(reason=KNOWN_DIFFERENCES[step["id"]], strict=True))
    return pytest.param(step, id=step["id"], marks=marks)


@pytest.mark.parametrize("step", [_case(step) for step in REQUESTS])
async def test_recorded_answer(step: dict[str, Any], replayed: dict[str, Any]) -> None:
    real = step["response"]
    sim = replayed[step["id"]]
    diffs = differences(step["id"], real, sim)
    query = "&".join(f"{k}={v}" for k, v in step["query"])
    request = f"{step['method']} {step['path']}{'?' + query if query else ''}"
    assert not diffs, (
        f"{request}\n- "
        + "\n- ".join(diffs)
        + f"\n--- Airflow 2.10.5:\n{_show(real)}\n--- simulator:\n{_show(sim)}"
    )


def _operations() -> list[tuple[str, str, re.Pattern[str], int]]:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    found = []
    for template, item in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                params = template.count("{")
                found.append((operation["operationId"], method.upper(), pattern, params))
    return found


def test_the_recording_covers_every_operation() -> None:
    operations = _operations()
    assert len(operations) == 89
    covered = set()
    for step in REQUESTS:
        path = step.get("sent_path") or step["path"]
        matches = [op for op in operations if op[1] == step["method"] and op[2].match(path)]
        if matches:
            covered.add(min(matches, key=lambda op: op[3])[0])
    assert sorted({op[0] for op in operations} - covered) == []
