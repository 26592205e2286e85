"""Record what a real Airflow 2.10.5 answers to a fixed list of requests.

Run by hand against a reference Airflow (SequentialExecutor, example DAGs
loaded, basic auth), preferably one with a freshly migrated database so that
nothing from earlier sessions shows up in the lists:

    python tests/contract/recorded/record.py \
        --url http://127.0.0.1:28080 --user admin --password admin

It writes ``airflow-2.10.5.json`` beside this file; ``test_recorded_2_10.py``
replays every recorded request against the simulator in 2.10.5 mode.

The list (``STEPS``) is the documentation: each step is a request the
recording sends (and the replay repeats), or a ``wait`` for a DAG run to end
(the recording polls the real scheduler; the replay advances the simulator's
virtual clock). The world it builds, in order:

1. read-only checks: /health, /version, /config (JSON, text, one section, one
   option), plugins, providers, import errors, DAG warnings, DAGs and tasks;
2. a pool, a variable, a connection, a role and a user, created, read,
   patched, and (at the end) deleted, with their 404/409/400 answers;
3. ``example_dynamic_task_mapping`` unpaused and triggered as run
   ``rec_map_1`` (logical date 2024-01-01); once it succeeded its task
   instances, mapped instances, links, logs and XComs are read, then
   ``add_one`` and ``sum_it`` are cleared so that every instance has two
   tries, and the run is waited for again (tries, dependencies);
4. the DAG paused again and run ``rec_map_2`` (2024-01-02) triggered: it
   stays queued, so its instances show their blocking dependencies;
5. ``dataset_consumes_1_and_2`` unpaused, then a dataset event posted on
   ``s3://dag1/output_1.txt``: the consumer waits for the second dataset, so
   a queued event exists, read and deleted on all three paths;
6. event logs with every 2.10.5 filter, dagStats, error answers for bad
   parameter values, and the clean-up deletes.

Only the standard library is used. Values that cannot repeat (wall-clock
times, process ids, host names, the install's directory) are redacted to
values of the same type and format.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "airflow-2.10.5.json"

MAP_DAG = "example_dynamic_task_mapping"
RUN1 = "rec_map_1"
RUN2 = "rec_map_2"
DATE1 = "2024-01-01T00:00:00+00:00"
DATE2 = "2024-01-02T00:00:00+00:00"
CONSUMER = "dataset_consumes_1_and_2"
URI1 = "s3://dag1/output_1.txt"
URI1_PATH = urllib.parse.quote(URI1, safe="")
MISSING_URI_PATH = urllib.parse.quote("s3://nosuch/none.txt", safe="")
RUN1_PATH = f"/dags/{MAP_DAG}/dagRuns/{RUN1}"
RUN2_PATH = f"/dags/{MAP_DAG}/dagRuns/{RUN2}"
TI1 = f"{RUN1_PATH}/taskInstances"
TI2 = f"{RUN2_PATH}/taskInstances"
FAR_PAST = "2000-01-01T00:00:00+00:00"
FAR_FUTURE = "2100-01-01T00:00:00+00:00"
TEXT = {"Accept": "text/plain"}
JSON_ACCEPT = {"Accept": "application/json"}


def req(
    step_id: str,
    method: str,
    path: str,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    auth: bool = True,
    capture: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """One request; `capture` names values of its JSON answer (a key path)
    that later paths use as `{name}`."""
    return {
        "id": step_id,
        "kind": "request",
        "method": method,
        "path": path,
        "query": [list(pair) for pair in query or []],
        "body": body,
        "headers": headers or {},
        "auth": auth,
        "capture": capture or {},
    }


def wait(step_id: str, dag_id: str, dag_run_id: str) -> dict[str, Any]:
    """Until the run is success or failed (the scheduler runs it)."""
    return {"id": step_id, "kind": "wait", "dag_id": dag_id, "dag_run_id": dag_run_id}


def _monitoring_and_config() -> list[dict[str, Any]]:
    opt = "/config/section/core/option"
    return [
        req("health", "GET", "/health", auth=False),
        req("version", "GET", "/version", auth=False),
        req("unauthenticated_pools", "GET", "/pools", auth=False),
        req("config_json", "GET", "/config", headers=JSON_ACCEPT),
        req("config_text", "GET", "/config", headers=TEXT),
        req("config_section", "GET", "/config", [("section", "core")], headers=JSON_ACCEPT),
        req("config_section_text", "GET", "/config", [("section", "core")], headers=TEXT),
        req(
            "config_section_missing", "GET", "/config", [("section", "nosuch")], headers=JSON_ACCEPT
        ),
        req("config_value_json", "GET", f"{opt}/load_examples", headers=JSON_ACCEPT),
        req("config_value_text", "GET", f"{opt}/load_examples", headers=TEXT),
        req("config_value_missing_option", "GET", f"{opt}/nosuch", headers=JSON_ACCEPT),
        req(
            "config_value_missing_section",
            "GET",
            "/config/section/nosuch/option/x",
            headers=JSON_ACCEPT,
        ),
        req("plugins", "GET", "/plugins"),
        req("providers", "GET", "/providers"),
        req("import_errors", "GET", "/importErrors"),
        req("import_error_missing", "GET", "/importErrors/999999"),
        req("dag_warnings", "GET", "/dagWarnings"),
        req("permissions", "GET", "/permissions", [("limit", "5")]),
    ]


def _resources() -> list[dict[str, Any]]:
    pool = {"name": "rec_pool", "slots": 3, "description": "recorded", "include_deferred": False}
    conn = {
        "connection_id": "rec_conn",
        "conn_type": "postgres",
        "host": "db.example.com",
        "port": 5432,
        "login": "etl",
        "password": "secret",
        "schema": "public",
        "extra": '{"sslmode": "require"}',
        "description": "recorded",
    }
    role_actions = [{"action": {"name": "can_read"}, "resource": {"name": "DAGs"}}]
    user = {
        "username": "rec_user",
        "password": "rec-pass",
        "first_name": "Rec",
        "last_name": "User",
        "email": "rec@example.com",
        "roles": [{"name": "Viewer"}],
    }
    return [
        req("post_pool", "POST", "/pools", body=pool),
        req("post_pool_duplicate", "POST", "/pools", body=pool),
        req("post_pool_missing_slots", "POST", "/pools", body={"name": "rec_bad"}),
        req("get_pools", "GET", "/pools"),
        req("get_pool", "GET", "/pools/rec_pool"),
        req("get_pool_missing", "GET", "/pools/nosuch"),
        req(
            "patch_pool",
            "PATCH",
            "/pools/rec_pool",
            [("update_mask", "slots")],
            {"name": "rec_pool", "slots": 5},
        ),
        req("post_variable", "POST", "/variables", body={"key": "rec_var", "value": "hello"}),
        req("get_variables", "GET", "/variables"),
        req("get_variable", "GET", "/variables/rec_var"),
        req("get_variable_missing", "GET", "/variables/nosuch"),
        req(
            "patch_variable",
            "PATCH",
            "/variables/rec_var",
            body={"key": "rec_var", "value": "bye", "description": "patched"},
        ),
        req("post_connection", "POST", "/connections", body=conn),
        req("post_connection_duplicate", "POST", "/connections", body=conn),
        req("get_connections", "GET", "/connections"),
        req("get_connection", "GET", "/connections/rec_conn"),
        req("get_connection_missing", "GET", "/connections/nosuch"),
        req(
            "patch_connection",
            "PATCH",
            "/connections/rec_conn",
            [("update_mask", "host")],
            {"connection_id": "rec_conn", "conn_type": "postgres", "host": "db2.example.com"},
        ),
        req(
            "test_connection",
            "POST",
            "/connections/test",
            body={"connection_id": "rec_conn", "conn_type": "postgres"},
        ),
        req("get_roles", "GET", "/roles", [("limit", "2")]),
        req("post_role", "POST", "/roles", body={"name": "rec_role", "actions": role_actions}),
        req("post_role_duplicate", "POST", "/roles", body={"name": "rec_role", "actions": []}),
        req("get_role", "GET", "/roles/rec_role"),
        req("get_role_missing", "GET", "/roles/nosuch"),
        req(
            "patch_role",
            "PATCH",
            "/roles/rec_role",
            body={"name": "rec_role", "actions": role_actions},
        ),
        req("post_user", "POST", "/users", body=user),
        req("post_user_duplicate", "POST", "/users", body=user),
        req("get_users", "GET", "/users", [("limit", "5")]),
        req("get_user", "GET", "/users/rec_user"),
        req("get_user_missing", "GET", "/users/nosuch"),
        req(
            "patch_user",
            "PATCH",
            "/users/rec_user",
            [("update_mask", "first_name")],
            {**user, "first_name": "Recorded"},
        ),
    ]


def _dags() -> list[dict[str, Any]]:
    dag = f"/dags/{MAP_DAG}"
    return [
        req("get_dags", "GET", "/dags", [("limit", "3")]),
        req("get_dags_pattern", "GET", "/dags", [("dag_id_pattern", "dynamic_task_mapping")]),
        req("get_dags_paused", "GET", "/dags", [("paused", "false")]),
        req("get_dags_fields", "GET", "/dags", [("limit", "2"), ("fields", "dag_id,is_paused")]),
        req("get_dags_bad_field", "GET", "/dags", [("fields", "nosuch")]),
        req("get_dags_bad_limit", "GET", "/dags", [("limit", "abc")]),
        req("get_dags_bad_order_by", "GET", "/dags", [("order_by", "nosuch")]),
        req("get_dag", "GET", dag, capture={"file_token": ["file_token"]}),
        req("get_dag_fields", "GET", dag, [("fields", "dag_id,schedule_interval")]),
        req("get_dag_missing", "GET", "/dags/nosuch"),
        req("get_dag_details", "GET", f"{dag}/details"),
        req("get_dag_details_fields", "GET", f"{dag}/details", [("fields", "dag_id,params")]),
        req("get_dag_details_missing", "GET", "/dags/nosuch/details"),
        req("get_tasks", "GET", f"{dag}/tasks"),
        req("get_task_mapped", "GET", f"{dag}/tasks/add_one"),
        req("get_task_missing", "GET", f"{dag}/tasks/nosuch"),
        req("get_tasks_missing_dag", "GET", "/dags/nosuch/tasks"),
        req("get_dag_source_text", "GET", "/dagSources/{file_token}", headers=TEXT),
        req("get_dag_source_json", "GET", "/dagSources/{file_token}", headers=JSON_ACCEPT),
        req("get_dag_source_bad_token", "GET", "/dagSources/nosuch"),
        req("reparse_dag_file", "PUT", "/parseDagFile/{file_token}"),
        req("reparse_dag_file_bad_token", "PUT", "/parseDagFile/nosuch"),
        req(
            "unpause_map_dag",
            "PATCH",
            dag,
            [("update_mask", "is_paused")],
            {"is_paused": False},
        ),
        req("patch_dag_missing", "PATCH", "/dags/nosuch", body={"is_paused": False}),
    ]


def _first_run() -> list[dict[str, Any]]:
    trigger = {"dag_run_id": RUN1, "logical_date": DATE1, "conf": {}, "note": "recorded"}
    runs = f"/dags/{MAP_DAG}/dagRuns"
    return [
        req("post_dag_run", "POST", runs, body=trigger),
        req("post_dag_run_duplicate", "POST", runs, body=trigger),
        req("post_dag_run_missing_dag", "POST", "/dags/nosuch/dagRuns", body={"dag_run_id": "x"}),
        wait("wait_run_1", MAP_DAG, RUN1),
        req("get_dag_runs", "GET", runs),
        req("get_dag_runs_updated_at", "GET", runs, [("updated_at_gte", FAR_PAST)]),
        req("get_dag_runs_updated_at_lte", "GET", runs, [("updated_at_lte", FAR_PAST)]),
        req("get_dag_runs_fields", "GET", runs, [("fields", "dag_run_id,state")]),
        req("get_dag_runs_bad_date", "GET", runs, [("execution_date_gte", "notadate")]),
        req("get_dag_runs_bad_state", "GET", runs, [("state", "bogus")]),
        req("get_dag_run", "GET", RUN1_PATH),
        req("get_dag_run_fields", "GET", RUN1_PATH, [("fields", "dag_run_id,conf")]),
        req("get_dag_run_missing", "GET", f"{runs}/nosuch"),
        req(
            "get_dag_runs_batch",
            "POST",
            "/dags/~/dagRuns/list",
            body={"dag_ids": [MAP_DAG], "order_by": "dag_run_id"},
        ),
        req("set_dag_run_note", "PATCH", f"{RUN1_PATH}/setNote", body={"note": "run note"}),
        req("upstream_dataset_events", "GET", f"{RUN1_PATH}/upstreamDatasetEvents"),
        req("upstream_dataset_events_missing", "GET", f"{runs}/nosuch/upstreamDatasetEvents"),
    ]


def _task_instances() -> list[dict[str, Any]]:
    xcom = f"{TI1}/add_one/xcomEntries"
    return [
        req("get_task_instances", "GET", TI1),
        req("get_task_instances_executor", "GET", TI1, [("executor", "SequentialExecutor")]),
        req("get_task_instances_executor_other", "GET", TI1, [("executor", "CeleryExecutor")]),
        req("get_task_instances_updated_at", "GET", TI1, [("updated_at_gte", FAR_PAST)]),
        req("get_task_instances_updated_at_lte", "GET", TI1, [("updated_at_lte", FAR_PAST)]),
        req("get_task_instances_state", "GET", TI1, [("state", "success")]),
        req("get_task_instance", "GET", f"{TI1}/sum_it"),
        req("get_task_instance_mapped_parent", "GET", f"{TI1}/add_one"),
        req("get_task_instance_missing", "GET", f"{TI1}/nosuch"),
        req("get_mapped_task_instance", "GET", f"{TI1}/add_one/0"),
        req("get_mapped_task_instance_missing", "GET", f"{TI1}/add_one/7"),
        req("get_mapped_task_instances", "GET", f"{TI1}/add_one/listMapped"),
        req(
            "get_mapped_task_instances_executor",
            "GET",
            f"{TI1}/add_one/listMapped",
            [("executor", "SequentialExecutor"), ("updated_at_gte", FAR_PAST)],
        ),
        req("get_mapped_task_instances_missing", "GET", f"{TI1}/nosuch/listMapped"),
        req("get_extra_links", "GET", f"{TI1}/sum_it/links"),
        req("get_extra_links_mapped", "GET", f"{TI1}/add_one/links", [("map_index", "0")]),
        req("get_log_json", "GET", f"{TI1}/sum_it/logs/1", headers=JSON_ACCEPT),
        req("get_log_text", "GET", f"{TI1}/sum_it/logs/1", headers=TEXT),
        req(
            "get_log_mapped",
            "GET",
            f"{TI1}/add_one/logs/1",
            [("map_index", "0")],
            headers=JSON_ACCEPT,
        ),
        req("get_log_missing_ti", "GET", f"{TI1}/nosuch/logs/1", headers=JSON_ACCEPT),
        req("get_xcom_entries_map_index", "GET", xcom, [("map_index", "0")]),
        req("get_xcom_entries_key", "GET", xcom, [("xcom_key", "return_value")]),
        req("get_xcom_entries_no_match", "GET", xcom, [("xcom_key", "nosuch")]),
        req("get_xcom_entry", "GET", f"{xcom}/return_value", [("map_index", "1")]),
        req(
            "get_xcom_entry_stringify_false",
            "GET",
            f"{xcom}/return_value",
            [("map_index", "1"), ("stringify", "false")],
        ),
        req(
            "get_xcom_entry_deserialize",
            "GET",
            f"{xcom}/return_value",
            [("map_index", "2"), ("deserialize", "true"), ("stringify", "false")],
        ),
        req("get_xcom_entry_unmapped", "GET", f"{xcom}/return_value"),
        req("get_xcom_entry_missing", "GET", f"{xcom}/nosuch", [("map_index", "0")]),
        req(
            "get_task_instances_batch",
            "POST",
            "/dags/~/dagRuns/~/taskInstances/list",
            body={
                "dag_ids": [MAP_DAG],
                "dag_run_ids": [RUN1],
                "task_ids": ["sum_it"],
                "page_offset": 0,
                "page_limit": 10,
            },
        ),
        req(
            "get_task_instances_batch_executor",
            "POST",
            "/dags/~/dagRuns/~/taskInstances/list",
            body={"dag_ids": [MAP_DAG], "executor": ["SequentialExecutor"]},
        ),
        req(
            "get_task_instances_batch_page",
            "POST",
            "/dags/~/dagRuns/~/taskInstances/list",
            body={"dag_ids": [MAP_DAG], "page_offset": 1, "page_limit": 2},
        ),
        req(
            "get_task_instances_batch_bad_field",
            "POST",
            "/dags/~/dagRuns/~/taskInstances/list",
            body={"nosuch": 1},
        ),
        req(
            "set_task_instance_note",
            "PATCH",
            f"{TI1}/sum_it/setNote",
            body={"note": "ti note"},
        ),
        req(
            "set_mapped_task_instance_note",
            "PATCH",
            f"{TI1}/add_one/1/setNote",
            body={"note": "mapped note"},
        ),
        req(
            "patch_task_instance_dry_run",
            "PATCH",
            f"{TI1}/sum_it",
            body={"dry_run": True, "new_state": "failed"},
        ),
        req(
            "patch_mapped_task_instance_dry_run",
            "PATCH",
            f"{TI1}/add_one/2",
            body={"dry_run": True, "new_state": "failed"},
        ),
        req(
            "post_set_task_instances_state_missing_fields",
            "POST",
            f"/dags/{MAP_DAG}/updateTaskInstancesState",
            body={"dry_run": True, "task_id": "sum_it", "dag_run_id": RUN1, "new_state": "failed"},
        ),
        req(
            "post_set_task_instances_state_dry_run",
            "POST",
            f"/dags/{MAP_DAG}/updateTaskInstancesState",
            body={
                "dry_run": True,
                "task_id": "sum_it",
                "dag_run_id": RUN1,
                "new_state": "failed",
                "include_upstream": False,
                "include_downstream": False,
                "include_future": False,
                "include_past": False,
            },
        ),
        req("dependencies_finished", "GET", f"{TI1}/sum_it/dependencies"),
        req("dependencies_mapped_finished", "GET", f"{TI1}/add_one/0/dependencies"),
        req("dependencies_mapped_parent", "GET", f"{TI1}/add_one/dependencies"),
        req("dependencies_missing", "GET", f"{TI1}/nosuch/dependencies"),
        req("tries_one", "GET", f"{TI1}/sum_it/tries"),
    ]


def _clear_and_tries() -> list[dict[str, Any]]:
    clear = {
        "dag_run_id": RUN1,
        "task_ids": ["add_one", "sum_it"],
        "only_failed": False,
        "reset_dag_runs": True,
    }
    return [
        req(
            "clear_task_instances_dry_run",
            "POST",
            f"/dags/{MAP_DAG}/clearTaskInstances",
            body={**clear, "dry_run": True},
        ),
        req(
            "clear_task_instances",
            "POST",
            f"/dags/{MAP_DAG}/clearTaskInstances",
            body={**clear, "dry_run": False},
        ),
        wait("wait_run_1_again", MAP_DAG, RUN1),
        req("tries", "GET", f"{TI1}/sum_it/tries"),
        req("tries_page", "GET", f"{TI1}/sum_it/tries", [("limit", "1")]),
        req("try_1", "GET", f"{TI1}/sum_it/tries/1"),
        req("try_2", "GET", f"{TI1}/sum_it/tries/2"),
        req("try_missing", "GET", f"{TI1}/sum_it/tries/9"),
        req("tries_missing_task", "GET", f"{TI1}/nosuch/tries"),
        req("tries_missing_run", "GET", f"{RUN1_PATH}x/taskInstances/sum_it/tries"),
        req("mapped_tries", "GET", f"{TI1}/add_one/0/tries"),
        req("mapped_try_1", "GET", f"{TI1}/add_one/0/tries/1"),
        req("mapped_try_2", "GET", f"{TI1}/add_one/0/tries/2"),
        req("mapped_try_missing", "GET", f"{TI1}/add_one/0/tries/9"),
        req("mapped_tries_missing_index", "GET", f"{TI1}/add_one/7/tries"),
        req("tries_mapped_parent", "GET", f"{TI1}/add_one/tries"),
        req("get_log_try_2", "GET", f"{TI1}/sum_it/logs/2", headers=JSON_ACCEPT),
        req("get_task_instance_after_clear", "GET", f"{TI1}/sum_it"),
    ]


def _queued_run() -> list[dict[str, Any]]:
    trigger = {"dag_run_id": RUN2, "logical_date": DATE2, "conf": {"x": 1}}
    runs = f"/dags/{MAP_DAG}/dagRuns"
    return [
        req(
            "pause_map_dag",
            "PATCH",
            f"/dags/{MAP_DAG}",
            [("update_mask", "is_paused")],
            {"is_paused": True},
        ),
        req("post_dag_run_paused", "POST", runs, body=trigger),
        req("get_dag_run_queued", "GET", RUN2_PATH),
        req("get_task_instances_queued", "GET", TI2),
        req("dependencies_blocked", "GET", f"{TI2}/sum_it/dependencies"),
        req("dependencies_unexpanded", "GET", f"{TI2}/add_one/dependencies"),
        req("dependencies_mapped_unexpanded", "GET", f"{TI2}/add_one/0/dependencies"),
        req("tries_queued", "GET", f"{TI2}/sum_it/tries"),
        req("try_queued_missing", "GET", f"{TI2}/sum_it/tries/1"),
        req("update_dag_run_state", "PATCH", RUN2_PATH, body={"state": "failed"}),
        req("update_dag_run_state_bad", "PATCH", RUN2_PATH, body={"state": "running"}),
        req("clear_dag_run_dry_run", "POST", f"{RUN2_PATH}/clear", body={"dry_run": True}),
        req("clear_dag_run", "POST", f"{RUN2_PATH}/clear", body={"dry_run": False}),
        req("get_dag_run_cleared", "GET", RUN2_PATH),
        req("dag_stats", "GET", "/dagStats", [("dag_ids", f"{MAP_DAG},dataset_produces_1")]),
        req("dag_stats_missing_dag", "GET", "/dagStats", [("dag_ids", "nosuch")]),
        req("dag_stats_no_param", "GET", "/dagStats"),
        req("delete_dag_run", "DELETE", RUN2_PATH),
        req("delete_dag_run_missing", "DELETE", RUN2_PATH),
    ]


def _datasets() -> list[dict[str, Any]]:
    dag_q = f"/dags/{CONSUMER}/datasets/queuedEvent"
    event = {"dataset_uri": URI1, "extra": {"from": "record"}}
    post_event = req("post_dataset_event", "POST", "/datasets/events", body=event)
    return [
        req("get_datasets", "GET", "/datasets", [("uri_pattern", "dag1")]),
        req("get_datasets_dag_ids", "GET", "/datasets", [("dag_ids", "dataset_consumes_1")]),
        req("get_datasets_dag_ids_none", "GET", "/datasets", [("dag_ids", "nosuch")]),
        req("get_dataset", "GET", f"/datasets/{URI1_PATH}", capture={"dataset_id": ["id"]}),
        req("get_dataset_missing", "GET", f"/datasets/{MISSING_URI_PATH}"),
        req(
            "unpause_consumer",
            "PATCH",
            "/dags",
            [("dag_id_pattern", CONSUMER), ("update_mask", "is_paused")],
            {"is_paused": False},
        ),
        post_event,
        req(
            "post_dataset_event_missing",
            "POST",
            "/datasets/events",
            body={"dataset_uri": "s3://nosuch/none.txt"},
        ),
        req("post_dataset_event_no_uri", "POST", "/datasets/events", body={"extra": {}}),
        req("get_dataset_events", "GET", "/datasets/events", [("dataset_id", "{dataset_id}")]),
        req("get_dataset_events_source", "GET", "/datasets/events", [("source_dag_id", MAP_DAG)]),
        req("get_dataset_events_uri", "GET", "/datasets/events", [("uri_pattern", "dag1")]),
        req("dag_queued_events", "GET", dag_q),
        req("dag_queued_events_before", "GET", dag_q, [("before", FAR_PAST)]),
        req("dag_queued_event", "GET", f"{dag_q}/{URI1_PATH}"),
        req("dag_queued_event_before", "GET", f"{dag_q}/{URI1_PATH}", [("before", FAR_PAST)]),
        req("dag_queued_event_other_uri", "GET", f"{dag_q}/{MISSING_URI_PATH}"),
        req("dag_queued_events_paused_dag", "GET", "/dags/dataset_consumes_1/datasets/queuedEvent"),
        req("dataset_queued_events", "GET", f"/datasets/queuedEvent/{URI1_PATH}"),
        req(
            "dataset_queued_events_before",
            "GET",
            f"/datasets/queuedEvent/{URI1_PATH}",
            [("before", FAR_FUTURE)],
        ),
        req("dataset_queued_events_missing", "GET", f"/datasets/queuedEvent/{MISSING_URI_PATH}"),
        req("delete_dag_queued_event", "DELETE", f"{dag_q}/{URI1_PATH}"),
        req("delete_dag_queued_event_again", "DELETE", f"{dag_q}/{URI1_PATH}"),
        {**post_event, "id": "post_dataset_event_2"},
        req("delete_dag_queued_events_before", "DELETE", dag_q, [("before", FAR_PAST)]),
        req("delete_dag_queued_events", "DELETE", dag_q),
        req("delete_dag_queued_events_again", "DELETE", dag_q),
        {**post_event, "id": "post_dataset_event_3"},
        req("delete_dataset_queued_events", "DELETE", f"/datasets/queuedEvent/{URI1_PATH}"),
        req(
            "delete_dataset_queued_events_again",
            "DELETE",
            f"/datasets/queuedEvent/{URI1_PATH}",
        ),
        req(
            "pause_consumer",
            "PATCH",
            f"/dags/{CONSUMER}",
            [("update_mask", "is_paused")],
            {"is_paused": True},
        ),
    ]


def _event_logs() -> list[dict[str, Any]]:
    base = [("dag_id", MAP_DAG), ("order_by", "event_log_id"), ("limit", "2")]
    cases = {
        "event_logs_dag": [],
        "event_logs_task": [("task_id", "sum_it")],
        "event_logs_run": [("run_id", RUN1), ("event", "running")],
        "event_logs_map_index": [("task_id", "add_one"), ("map_index", "0")],
        "event_logs_map_index_1": [("task_id", "add_one"), ("map_index", "1")],
        "event_logs_try_number": [("try_number", "2")],
        "event_logs_owner": [("owner", "airflow")],
        "event_logs_before_after": [("after", FAR_PAST), ("before", FAR_FUTURE)],
        "event_logs_included": [("included_events", "running,success")],
        "event_logs_excluded": [("excluded_events", "running,success,failed")],
    }
    steps = [
        req("event_logs", "GET", "/eventLogs", [("limit", "1")], capture={"event_log_id": []}),
        req("event_logs_bad_map_index", "GET", "/eventLogs", [("map_index", "x")]),
        req("event_log", "GET", "/eventLogs/{event_log_id}"),
        req("event_log_missing", "GET", "/eventLogs/999999999"),
    ]
    steps[0]["capture"] = {"event_log_id": ["event_logs", 0, "event_log_id"]}
    steps += [req(name, "GET", "/eventLogs", base + extra) for name, extra in cases.items()]
    return steps


def _cleanup() -> list[dict[str, Any]]:
    return [
        req("delete_pool", "DELETE", "/pools/rec_pool"),
        req("delete_pool_missing", "DELETE", "/pools/rec_pool"),
        req("delete_default_pool", "DELETE", "/pools/default_pool"),
        req("delete_variable", "DELETE", "/variables/rec_var"),
        req("delete_variable_missing", "DELETE", "/variables/rec_var"),
        req("delete_connection", "DELETE", "/connections/rec_conn"),
        req("delete_connection_missing", "DELETE", "/connections/rec_conn"),
        req("delete_user", "DELETE", "/users/rec_user"),
        req("delete_user_missing", "DELETE", "/users/rec_user"),
        req("delete_role", "DELETE", "/roles/rec_role"),
        req("delete_role_missing", "DELETE", "/roles/rec_role"),
        req("delete_dag", "DELETE", "/dags/dataset_consumes_unknown_never_scheduled"),
        req("delete_dag_missing", "DELETE", "/dags/nosuch"),
        req("route_not_found", "GET", "/nosuch"),
    ]


STEPS: list[dict[str, Any]] = [
    *_monitoring_and_config(),
    *_resources(),
    *_dags(),
    *_first_run(),
    *_task_instances(),
    *_clear_and_tries(),
    *_queued_run(),
    *_datasets(),
    *_event_logs(),
    *_cleanup(),
]

# --- redaction -------------------------------------------------------------

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
LOG_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d([.,]\d+)?(Z|[+-]\d\d:?\d\d)?")
# Logical dates and filters the recording chose itself stay as they are.
KEPT_TIMES = {DATE1, DATE2, FAR_PAST, FAR_FUTURE, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"}
VOLATILE_INTS = {"pid", "job_id", "triggerer_job_id", "event_log_id", "id", "dataset_id"}
VOLATILE_STRINGS = {"hostname": "redacted-host", "unixname": "redacted-user"}


# Times from before the recording started (a DAG's start_date, the logical
# dates the recording chose) are kept; later ones are wall-clock stamps.
STARTED = datetime.now(UTC) - timedelta(days=1)


def _redact_time(value: str) -> str:
    if value in KEPT_TIMES:
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) < STARTED:
            return value
    except ValueError:
        pass
    match = DATETIME.match(value)
    assert match
    fraction = "." + "0" * (len(match.group(1)) - 1) if match.group(1) else ""
    zone = match.group(2) or ""
    return f"2020-01-01T00:00:00{fraction}{zone}"


def redact(value: Any, home: str, key: str = "") -> Any:
    """Wall-clock times, process ids, host names and the install's path."""
    if isinstance(value, dict):
        return {k: redact(v, home, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, home, key) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and key in VOLATILE_INTS:
        return 1
    if isinstance(value, str):
        if key in VOLATILE_STRINGS:
            return VOLATILE_STRINGS[key]
        if DATETIME.match(value):
            return _redact_time(value)
        if home:
            value = value.replace(home, "$AIRFLOW_REF")
        return value
    return value


def redact_text(text: str, home: str) -> str:
    if home:
        text = text.replace(home, "$AIRFLOW_REF")
    return LOG_TIME.sub("2020-01-01T00:00:00", text)


# --- sending ---------------------------------------------------------------


class Client:
    def __init__(self, url: str, user: str, password: str) -> None:
        self.base = url.rstrip("/") + "/api/v1"
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.auth = f"Basic {token}"

    def send(self, step: dict[str, Any], path: str, query: list[list[str]]) -> dict[str, Any]:
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode([tuple(pair) for pair in query])
        headers = dict(step["headers"])
        data = None
        if step["body"] is not None:
            data = json.dumps(step["body"]).encode()
            headers["Content-Type"] = "application/json"
        if step["auth"]:
            headers["Authorization"] = self.auth
        request = urllib.request.Request(url, data=data, headers=headers, method=step["method"])
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status, ctype, raw = (
                    answer.status,
                    answer.headers.get("Content-Type", ""),
                    answer.read(),
                )
        except urllib.error.HTTPError as error:
            status, ctype, raw = error.code, error.headers.get("Content-Type", ""), error.read()
        return {"status": status, "content_type": ctype, "raw": raw}

    def get_json(self, path: str) -> Any:
        step = req("poll", "GET", path)
        answer = self.send(step, path, [])
        return json.loads(answer["raw"]) if answer["status"] == 200 else None


def dig(value: Any, keys: list[Any]) -> Any:
    for key in keys:
        value = value[key]
    return value


def fill(text: str, captured: dict[str, Any]) -> str:
    for name, value in captured.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def wait_for_run(client: Client, dag_id: str, run_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get_json(f"/dags/{dag_id}/dagRuns/{run_id}")
        if run and run["state"] in ("success", "failed"):
            return str(run["state"])
        time.sleep(2)
    raise SystemExit(f"{dag_id}/{run_id} did not end within {timeout}s")


def preflight(client: Client, timeout: float) -> None:
    """Wait for the example DAGs to be parsed; undo what an earlier recording
    left behind (what the API can delete)."""
    deadline = time.monotonic() + timeout
    while True:
        dags = client.get_json("/dags?limit=1&only_active=true")
        if dags and dags["total_entries"] >= 69:
            break
        if time.monotonic() > deadline:
            raise SystemExit("the example DAGs were not parsed in time")
        time.sleep(3)
    for path in (
        RUN1_PATH,
        RUN2_PATH,
        "/pools/rec_pool",
        "/variables/rec_var",
        "/connections/rec_conn",
        "/users/rec_user",
        "/roles/rec_role",
        f"/dags/{CONSUMER}/datasets/queuedEvent",
    ):
        client.send(req("clean", "DELETE", path), path, [])
    for dag_id in (MAP_DAG, CONSUMER):
        path = f"/dags/{dag_id}"
        client.send(req("pause", "PATCH", path, body={"is_paused": True}), path, [])


def record(client: Client, home: str, timeout: float) -> list[dict[str, Any]]:
    captured: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    for step in STEPS:
        if step["kind"] == "wait":
            state = wait_for_run(client, step["dag_id"], step["dag_run_id"], timeout)
            out.append({**step, "state": state})
            print(f"{step['id']}: {state}", file=sys.stderr)
            continue
        path = fill(step["path"], captured)
        query = [[k, fill(v, captured)] for k, v in step["query"]]
        answer = client.send(step, path, query)
        entry = {k: v for k, v in step.items() if k != "capture"}
        entry["sent_path"] = redact(path, home) if path != step["path"] else path
        response: dict[str, Any] = {"status": answer["status"]}
        response["content_type"] = answer["content_type"]
        raw = answer["raw"]
        if "json" in answer["content_type"] and raw:
            body = json.loads(raw)
            for name, keys in step["capture"].items():
                captured[name] = dig(body, keys)
            response["json"] = redact(body, home)
        elif raw:
            response["text"] = redact_text(raw.decode(), home)
        entry["response"] = response
        entry["capture"] = step["capture"]
        out.append(entry)
        print(f"{step['id']}: {answer['status']}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:28080")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--home", default=str(Path.home() / "airflow-2.10.5-ref"))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per wait")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    client = Client(args.url, args.user, args.password)
    preflight(client, args.timeout)
    steps = record(client, args.home, args.timeout)
    version = client.get_json("/version") or {}
    document = {
        "airflow_version": version.get("version"),
        "executor": "SequentialExecutor",
        "note": "written by record.py; replayed by test_recorded_2_10.py",
        "steps": steps,
    }
    args.output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(steps)} steps written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
