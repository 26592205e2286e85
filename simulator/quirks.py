"""The registry of every place the simulator departs from the OpenAPI spec.

Real Airflow wins over its own spec: where the served release (2.5.3 or
2.10.5) answers differently, the simulator answers as Airflow does and the
departure is listed here (and in the README, which a test keeps in step),
with the versions it holds in. Where Airflow 2.5.3 crashes with a 500, the
simulator answers as later 2.x releases do, also listed here.

A quirk that makes responses differ from the spec carries a patch for the
copy of the spec that response validation uses (only for the versions the
quirk holds in); the served spec is untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.versions import V2_5, V2_10

Document = dict[str, Any]

AIRFLOW = "airflow"  # the served Airflow departs from its spec; we do as Airflow does
LATER = "later-release"  # Airflow 2.5.3 crashes (500); we answer as later 2.x does
SIMULATOR = "simulator"  # a deliberate choice of the simulator

# The API versions a quirk holds in (simulator/versions.py).
ALL_VERSIONS = (V2_5.name, V2_10.name)
ONLY_2_5 = (V2_5.name,)
ONLY_2_10 = (V2_10.name,)


@dataclass(frozen=True, slots=True)
class Quirk:
    id: str
    kind: str
    operations: tuple[str, ...]
    summary: str
    patch: Callable[[Document], None] | None = None
    versions: tuple[str, ...] = ALL_VERSIONS


def _schema(doc: Document, name: str) -> Document:
    return doc["components"]["schemas"][name]


def _nullable_problem_fields(doc: Document) -> None:
    props = _schema(doc, "Error")["properties"]
    props["title"]["nullable"] = True
    props["detail"]["nullable"] = True


def _dag_warnings_key(doc: Document) -> None:
    part = _schema(doc, "DagWarningCollection")["allOf"][0]["properties"]
    part["dag_warnings"] = copy.deepcopy(part["import_errors"])


def _queued_events_key(doc: Document) -> None:
    part = _schema(doc, "QueuedEventCollection")["allOf"][0]["properties"]
    part["queued_events"] = copy.deepcopy(part["datasets"])


def _fail_login_count(doc: Document) -> None:
    props = _schema(doc, "UserCollectionItem")["properties"]
    props["fail_login_count"] = {"type": "integer", "nullable": True, "readOnly": True}


def _plugin_string_lists(doc: Document) -> None:
    props = _schema(doc, "PluginCollectionItem")["properties"]
    for name in (
        "macros",
        "flask_blueprints",
        "global_operator_extra_links",
        "operator_extra_links",
    ):
        props[name]["items"] = {"type": "string", "nullable": True}


def _xcom_null_value(doc: Document) -> None:
    _schema(doc, "XCom")["allOf"][1]["properties"]["value"]["nullable"] = True


def _extra_links_flat(doc: Document) -> None:
    path = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/links"
    content = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    content["schema"] = {
        "type": "object",
        "additionalProperties": {"type": "string", "nullable": True},
    }


def _trigger_rules(doc: Document) -> None:
    _schema(doc, "TriggerRule")["enum"] += ["always", "all_skipped", "one_done"]


def _health_status_null(doc: Document) -> None:
    # The 2.10.5 schema is nullable already, but its enum rejects null.
    _schema(doc, "HealthStatus")["enum"].append(None)


def _connection_test_disabled(doc: Document) -> None:
    responses = doc["paths"]["/connections/test"]["post"]["responses"]
    responses["403"] = {
        "description": "Testing connections is disabled (or permission denied).",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Error"}},
        },
    }


def _role_created_empty(doc: Document) -> None:
    # POST /roles answers {}: its 200 schema loses its required fields.
    op = doc["paths"]["/roles"]["post"]["responses"]["200"]["content"]["application/json"]
    op["schema"] = {"type": "object"}


QUIRKS: list[Quirk] = [
    Quirk(
        "problem-null-fields",
        AIRFLOW,
        ("*",),
        "Problem bodies carry `title` or `detail` null where Airflow leaves them unset "
        "(the spec's Error schema says string).",
        _nullable_problem_fields,
    ),
    Quirk(
        "extra-query-untitled",
        AIRFLOW,
        ("*",),
        "An undeclared query parameter is a 400 whose `title` is null; operations that "
        "declare no parameter at all ignore unknown ones.",
    ),
    Quirk(
        "audit-log-on-success-only",
        SIMULATOR,
        (
            "post_connection",
            "patch_connection",
            "delete_connection",
            "post_variables",
            "patch_variable",
            "delete_variable",
            "post_dag_run",
        ),
        "Airflow writes the audit (event log) row before the handler runs, so failed "
        "requests are logged too; the simulator logs only requests that succeed, because a "
        "failed request changes no state.",
        versions=ONLY_2_5,
    ),
    Quirk(
        "audit-log-on-success-only-2-10",
        SIMULATOR,
        (
            "post_connection",
            "patch_connection",
            "delete_connection",
            "post_variables",
            "patch_variable",
            "delete_variable",
            "patch_dag",
            "patch_dags",
            "delete_dag",
            "post_dag_run",
            "delete_dag_run",
            "update_dag_run_state",
            "clear_dag_run",
            "set_dag_run_note",
            "create_dataset_event",
            "delete_dag_dataset_queued_event",
            "delete_dag_dataset_queued_events",
            "delete_dataset_queued_events",
            "post_pool",
            "patch_pool",
            "delete_pool",
            "post_clear_task_instances",
            "post_set_task_instances_state",
            "patch_task_instance",
            "patch_mapped_task_instance",
            "set_task_instance_note",
            "set_mapped_task_instance_note",
        ),
        "Airflow 2.10.5 writes its `api.<event>` audit row before the handler runs, so failed "
        "requests are logged too; the simulator logs only requests that succeed. Secrets in "
        "`extra` are masked by their names (Airflow also masks values its process has seen "
        "as secrets).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "task-run-rows-at-the-start",
        SIMULATOR,
        ("get_event_logs", "get_event_log"),
        "A try's two `cli_task_run` rows (its worker's `airflow tasks run --local` and the "
        "forked `--raw` task's) carry the try's start instant, as its `running` row does, in "
        "Airflow's order; Airflow writes the first while the worker parses the DAG file, a "
        "second or so before, and the second tens of milliseconds after.",
    ),
    Quirk(
        "event-log-try-by-time",
        SIMULATOR,
        ("get_event_logs", "get_event_log"),
        "A task row's `try_number` is the try that had started by the row's time (it is kept "
        "per try, not per row).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dag-warnings-key",
        AIRFLOW,
        ("get_dag_warnings",),
        "The collection key is `dag_warnings` (the spec says `import_errors`).",
        _dag_warnings_key,
        ONLY_2_5,  # the 2.10.5 spec says dag_warnings
    ),
    Quirk(
        "user-fail-login-count",
        AIRFLOW,
        ("get_users", "get_user", "post_user", "patch_user"),
        "Users carry `fail_login_count`; the spec's `failed_login_count` never appears.",
        _fail_login_count,
    ),
    Quirk(
        "role-create-empty-body",
        AIRFLOW,
        ("post_role",),
        "POST /roles answers 200 with `{}` (Airflow serializes the role before loading it).",
        _role_created_empty,
    ),
    Quirk(
        "pool-slot-fields",
        AIRFLOW,
        ("get_pools", "get_pool", "post_pool", "patch_pool"),
        "Pools carry occupied, running, queued, scheduled and open slots but never `used_slots`.",
        versions=ONLY_2_5,  # the 2.10.5 spec drops used_slots
    ),
    Quirk(
        "variables-list-values",
        AIRFLOW,
        ("get_variables",),
        "The variable collection includes each value (the spec prose says it does not).",
    ),
    Quirk(
        "connection-conflict-undeclared",
        AIRFLOW,
        ("post_connection",),
        'A duplicate connection id is 409 "Connection already exist. ID: <id>" (the spec '
        "declares no 409).",
    ),
    Quirk(
        "connection-test-simulated",
        SIMULATOR,
        ("test_connection",),
        "The test opens no connection: sqlite succeeds, ftp/http succeed with a host, imap "
        "and unknown types fail with the message the real hook gives (in 2.10.5 once "
        "`[core] test_connection` is Enabled).",
    ),
    Quirk(
        "connection-test-disabled",
        AIRFLOW,
        ("test_connection",),
        "Unless `[core] test_connection` is Enabled (scenario config) the test is refused "
        'with a 403 `text/html; charset=utf-8` body, "Testing connections is disabled in '
        'Airflow configuration. Contact your deployment admin to enable it.", not a problem.',
        _connection_test_disabled,
        ONLY_2_10,
    ),
    Quirk(
        "connection-patch-empty-id-renames",
        AIRFLOW,
        ("patch_connection",),
        'A body `connection_id` of "" skips the id check and renames the connection to ""; '
        'onto an existing "" id it is a 409 here (a database error in Airflow).',
    ),
    Quirk(
        "variable-patch-missing-404",
        LATER,
        ("patch_variable",),
        'PATCH of a missing variable is 404 "Variable not found" / "Variable does not '
        'exist" (2.5.3 crashes with 500); update_mask errors still come first. 2.10.5 '
        "answers this 404 itself, before checking the mask.",
        versions=ONLY_2_5,
    ),
    Quirk(
        "variable-create-upsert",
        AIRFLOW,
        ("post_variables",),
        "In both versions POST never answers 409: an existing key is replaced. In 2.5.3 the "
        "stored description is dropped and the response echoes it only when it was sent "
        "(2.10.5 stores it).",
    ),
    Quirk(
        "variable-description-not-null",
        AIRFLOW,
        ("post_variables", "patch_variable"),
        '`"description": null` passes the spec but is 400 '
        "\"{'description': ['Field may not be null.']}\".",
    ),
    Quirk(
        "variable-update-mask-val",
        AIRFLOW,
        ("patch_variable",),
        "update_mask names are the stored field names: `val` and `description` work, "
        "`value` and `key` are 400.",
    ),
    Quirk(
        "update-mask-empty-name",
        AIRFLOW,
        ("patch_connection", "patch_variable", "patch_user", "patch_role", "patch_pool"),
        "`update_mask=` (an empty name) is a 400 naming the unknown field ''.",
    ),
    Quirk(
        "request-body-bound",
        SIMULATOR,
        ("*",),
        'A request body over 16 MiB is 413 "Request Entity Too Large" with werkzeug\'s '
        "detail; Airflow sets no bound (Flask's MAX_CONTENT_LENGTH is unset).",
    ),
    Quirk(
        "json-nesting-bound",
        SIMULATOR,
        ("*",),
        'A JSON body nested deeper than 128 levels is 400 "Request body is nested too deeply '
        "(at most 128 levels)\"; Airflow accepts up to Python's recursion limit, then "
        "crashes.",
    ),
    Quirk(
        "retention-by-end-date",
        SIMULATOR,
        ("*",),
        "With `retention` (or --retention-days) a run goes once it ended that many days ago, "
        "with its task instances and XComs, each DAG keeping its latest run; `airflow db "
        "clean` cleans runs, task instances and XComs each by its own date, and old queued "
        "or running runs too. Dataset events a DAG has queued stay until consumed.",
    ),
    Quirk(
        "marshmallow-unknown-order",
        SIMULATOR,
        ("*",),
        "With several unknown body fields, Airflow's message order varies by process; the "
        "simulator lists them in body order.",
    ),
    Quirk(
        "role-create-without-actions",
        SIMULATOR,
        ("post_role", "patch_role"),
        "A role body without `actions` (or `update_mask=actions` without them) crashes in "
        "Airflow; the simulator answers 400 \"{'actions': ['Missing data for required "
        "field.']}\".",
    ),
    Quirk(
        "role-permission-item-incomplete",
        SIMULATOR,
        ("post_role", "patch_role"),
        "An `actions` item with only one of action/resource crashes in Airflow; the simulator "
        "answers a 400 naming the missing field. Empty items are skipped, as in Airflow.",
    ),
    Quirk(
        "users-order-by-not-attribute",
        SIMULATOR,
        ("get_users",),
        "`order_by=user_name|is_active|role` passes Airflow's allow-list and then crashes; "
        'the simulator answers the usual 400 "Ordering with ... is disallowed".',
    ),
    Quirk(
        "order-by-ascending-only",
        AIRFLOW,
        ("get_roles", "get_users"),
        "The allow-list is checked against the raw value, dash included, so any descending "
        "order (`-name`) is a 400.",
    ),
    Quirk(
        "role-patch-adds-permissions",
        AIRFLOW,
        ("patch_role",),
        "`actions` adds permissions to the role and never removes any.",
    ),
    Quirk(
        "role-rename-conflict-ignored",
        AIRFLOW,
        ("patch_role",),
        "Renaming a role onto an existing name is skipped silently (200, old name); the "
        "request's permissions are still added. A rename answers the new name.",
    ),
    Quirk(
        "usernames-case-insensitive",
        AIRFLOW,
        ("get_user", "post_user", "patch_user", "delete_user"),
        "Usernames match case-insensitively (`/users/ADMIN` finds `admin`; basic auth too, "
        "and falls back to the email).",
    ),
    Quirk(
        "user-changed-on-fixed",
        AIRFLOW,
        ("patch_user",),
        "`changed_on` never changes after creation.",
    ),
    Quirk(
        "marshmallow-required-fields",
        AIRFLOW,
        ("post_user", "patch_user", "post_role", "patch_role"),
        "The four user name/email fields and the role `name` are required even with an "
        'update_mask; length caps give "Longer than maximum length N.".',
    ),
    Quirk(
        "conflict-undeclared",
        AIRFLOW,
        ("patch_user", "post_role"),
        "These answer 409 on a duplicate, which the spec does not declare for them.",
    ),
    Quirk(
        "user-create-without-public-role",
        SIMULATOR,
        ("post_user",),
        "A user created without roles gets Public; if Public was deleted (a crash in "
        "Airflow) the user is created with no roles.",
    ),
    Quirk(
        "user-roles-deduplicated",
        SIMULATOR,
        ("post_user", "patch_user"),
        "A role listed twice in a user body is held once.",
    ),
    Quirk(
        "login-stats-unchanged",
        SIMULATOR,
        ("*",),
        "Airflow bumps a user's login_count/last_login (or fail_login_count) on every "
        "basic-auth call; the simulator leaves them as created, so that reading the API "
        "does not change what it reads and a failed request changes no state.",
    ),
    Quirk(
        "jsonschema-417-wording",
        AIRFLOW,
        ("*",),
        "Request validation words length errors as Airflow's jsonschema 4.17 did "
        "(\"'' is too short - 'username'\").",
    ),
    Quirk(
        "pool-infinite-open-slots",
        LATER,
        ("get_pools", "get_pool", "post_pool", "patch_pool"),
        "A pool with `slots: -1` shows `open_slots: -1` (2.5.3 computes infinity and fails "
        "its own response check).",
    ),
    Quirk(
        "pool-patch-mask-keyerror",
        LATER,
        ("patch_pool",),
        'A masked read-only field is 400 "Invalid field: <f> in update mask"; a masked field '
        'missing from the body is 400 "Missing required property(ies): [...]" (2.5.3 '
        "crashes).",
    ),
    Quirk(
        "pool-patch-rename-conflict",
        LATER,
        ("patch_pool",),
        'Renaming onto an existing pool is 409 "Pool: <name> already exists" (a database '
        "error in 2.5.3).",
    ),
    Quirk(
        "pool-conflict-undeclared",
        AIRFLOW,
        ("post_pool",),
        'A duplicate pool is 409 "Pool: <name> already exists", which the spec does not declare.',
    ),
    Quirk(
        "pool-include-deferred-api-only",
        SIMULATOR,
        (
            "get_pools",
            "get_pool",
            "post_pool",
            "patch_pool",
            "get_task_instance_dependencies",
            "get_mapped_task_instance_dependencies",
        ),
        "`include_deferred` changes the occupied and open slots answered, but the simulated "
        "scheduler (and the Pool Slots Available dependency) still lets deferred instances "
        "free their slot.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "plugin-string-lists",
        LATER,
        ("get_plugins",),
        "`macros`, `flask_blueprints` and the two extra-link lists are lists of strings "
        "(2.5.3 answers 500 for any non-empty one).",
        _plugin_string_lists,
        ONLY_2_5,  # the 2.10.5 spec and schema use string lists
    ),
    Quirk(
        "health-status-null",
        AIRFLOW,
        ("get_health",),
        "A component without a job (the DAG processor: no standalone one runs) has a null "
        "`status` and heartbeat; the spec's HealthStatus enum lacks null.",
        _health_status_null,
        ONLY_2_10,
    ),
    Quirk(
        "config-settings-overlay",
        SIMULATOR,
        ("get_config", "get_value"),
        "`[webserver] expose_config`, the `[api]` page limits and `auth_backends` show the "
        "simulator's own settings.",
    ),
    Quirk(
        "config-value-hidden",
        AIRFLOW,
        ("get_value",),
        "Sensitive options (config.yml's `sensitive: true` ones and Celery's broker_url, "
        "result_backend and flower_basic_auth) read `< hidden >`; names match "
        "case-insensitively and are echoed as asked.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dataset-event-basic-run-key",
        AIRFLOW,
        ("get_upstream_dataset_events", "get_dataset_events", "create_dataset_event"),
        "`created_dagruns` items carry `dag_run_id` (the spec's BasicDAGRun says `run_id`); "
        "events carry an `id` the spec does not list.",
    ),
    Quirk(
        "dag-run-clear-dry-run-references",
        AIRFLOW,
        ("clear_dag_run",),
        'A dry run answers `{"task_instances": [{dag_id, dag_run_id, execution_date, '
        "task_id}]}` for every task instance of the run, without `total_entries`.",
    ),
    Quirk(
        "dag-run-trigger-dates-compared-as-strings",
        AIRFLOW,
        ("post_dag_run",),
        "`logical_date` and `execution_date` conflict whenever their strings differ, even "
        "for the same instant; the detail is `'<a>' != '<b>'`.",
    ),
    Quirk(
        "dag-run-trigger-null-logical-date",
        AIRFLOW,
        ("post_dag_run",),
        '`logical_date: null` is a 400 ("Incorrect datetime argument", or a field error '
        "with a `dag_run_id`).",
    ),
    Quirk(
        "dag-run-empty-run-id-generated",
        AIRFLOW,
        ("post_dag_run",),
        '`"dag_run_id": ""` gets the generated `manual__<logical date>` id.',
    ),
    Quirk(
        "dag-run-generated-id-collision",
        SIMULATOR,
        ("post_dag_run",),
        "A generated run id that already exists with another date is a 409 (a database "
        "error in 2.5.3).",
    ),
    Quirk(
        "dag-run-empty-note-dropped",
        AIRFLOW,
        ("post_dag_run",),
        'A trigger with `"note": ""` stores no note; setNote with `""` stores `""`.',
    ),
    Quirk(
        "dag-run-trigger-offset-run-id",
        AIRFLOW,
        ("post_dag_run",),
        "The generated run id, the 409 date text and the trigger's own answer keep the "
        "request's UTC offset (its logical date, and the data interval of a DAG without a "
        "cron schedule: Airflow dumps the run it just created); the run is stored in UTC and "
        "later reads answer UTC.",
    ),
    Quirk(
        "dag-run-form-missing-field",
        SIMULATOR,
        ("update_dag_run_state", "set_dag_run_note"),
        "A body `{}` crashes Airflow (2.5.3 and 2.10.5); the simulator answers 400 "
        "\"{'state': ['Missing data for required field.']}\" (resp. 'note').",
    ),
    Quirk(
        "dag-run-order-by-conf",
        SIMULATOR,
        ("get_dag_runs", "get_dag_runs_batch"),
        "`order_by=conf` sorts by the pickled conf, approximating the database's ordering of "
        "its PickleType column.",
    ),
    Quirk(
        "dag-run-batch-updated-at-ignored",
        AIRFLOW,
        ("get_dag_runs_batch",),
        '`updated_at_gte`/`updated_at_lte` are loaded (a bad value is "Not a valid '
        'datetime.") but never applied.',
        versions=ONLY_2_10,
    ),
    Quirk(
        "dag-run-updated-at-hidden",
        AIRFLOW,
        ("get_dag_runs", "get_dag_run", "get_dag_runs_batch"),
        "Runs filter and order by `updated_at`, stamped by every change of the run's row "
        "(creation, start, each scheduling decision, end, a mark, a clear; not a note), but "
        "DAGRun bodies never show it (`fields=updated_at` is a 400).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "run-id-pattern-400",
        SIMULATOR,
        ("post_dag_run",),
        "A run id matching neither the built-in pattern nor `[scheduler] "
        "allowed_run_id_pattern` (`^[A-Za-z0-9_.~:+-]+$`) is a 400 with create_dagrun's text; "
        "Airflow 2.10.5 fails with a 500 (an uncaught AirflowException).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dag-run-trigger-data-interval",
        AIRFLOW,
        ("post_dag_run",),
        "A trigger gives both `data_interval_start` and `data_interval_end` or neither "
        "(else `{'_schema': [\"Both 'data_interval_start' and 'data_interval_end' must be "
        'specified together"]}`, checked only when the fields load cleanly); the answer keeps '
        "their offsets, later reads are UTC.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "undeclared-client-errors",
        AIRFLOW,
        ("*",),
        "Operations answer 400, 401, 403, 404 or 415 where Airflow does even when the spec "
        "does not declare that status (e.g. 400/403 on GET /dags/{dag_id}/dagRuns).",
    ),
    Quirk(
        "datasets-total-ignores-pattern",
        AIRFLOW,
        ("get_datasets",),
        "`total_entries` counts every dataset and ignores `uri_pattern` (and in 2.10.5 `dag_ids`).",
    ),
    Quirk(
        "datasets-uri-pattern-like",
        AIRFLOW,
        ("get_datasets",),
        "`uri_pattern` goes unescaped into ILIKE '%...%': `_` and `%` are wildcards.",
    ),
    Quirk(
        "dataset-events-falsy-filters",
        AIRFLOW,
        ("get_dataset_events",),
        "`dataset_id=0`, `source_map_index=0` and empty strings filter nothing.",
    ),
    Quirk(
        "dataset-references-from-definitions",
        SIMULATOR,
        ("get_datasets", "get_dataset"),
        "`producing_tasks` and `consuming_dags` come from the current DAG definitions; their "
        "dates are the dataset's `created_at`.",
    ),
    Quirk(
        "dataset-aliases-empty",
        AIRFLOW,
        ("get_datasets", "get_dataset"),
        "Datasets carry `aliases`, a field the spec does not list; it is always `[]`, as "
        "scenarios define no dataset aliases.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "queued-events-key",
        AIRFLOW,
        ("get_dag_dataset_queued_events", "get_dataset_queued_events"),
        "The collection key is `queued_events` (the spec says `datasets`).",
        _queued_events_key,
        ONLY_2_10,
    ),
    Quirk(
        "dataset-queue-unpaused-only",
        AIRFLOW,
        (
            "create_dataset_event",
            "get_dag_dataset_queued_event",
            "get_dag_dataset_queued_events",
            "get_dataset_queued_events",
        ),
        "Only unpaused consumers get a queue row: a paused consumer's events are consumed by "
        "its next run but never trigger one (2.5.3 queues them and triggers on unpause).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dataset-queue-delete-keeps-events",
        SIMULATOR,
        (
            "delete_dag_dataset_queued_event",
            "delete_dag_dataset_queued_events",
            "delete_dataset_queued_events",
        ),
        "Deleted queue rows no longer trigger their DAG, but the events stay for its next run "
        "to consume, as Airflow consumes events by timestamp.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dataset-default-roles-2-10",
        AIRFLOW,
        (
            "create_dataset_event",
            "delete_dag_dataset_queued_event",
            "delete_dag_dataset_queued_events",
            "delete_dataset_queued_events",
        ),
        "The default roles grant can_create on Datasets (User, Op, Admin) and can_delete on "
        "Datasets (Op, Admin), as 2.10.5's do.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dags-order-by-ignored",
        AIRFLOW,
        ("get_dags", "patch_dags"),
        "`order_by` is accepted but ignored: DAGs always come by dag_id ascending.",
        versions=ONLY_2_5,  # 2.10.5 orders by dag_id or -dag_id
    ),
    Quirk(
        "dag-id-pattern-ilike",
        AIRFLOW,
        ("get_dags", "patch_dags"),
        "`dag_id_pattern` is a case-insensitive substring where `%` and `_` are wildcards; "
        "`~` means every DAG only on PATCH.",
    ),
    Quirk(
        "patch-dags-page-only",
        AIRFLOW,
        ("patch_dags",),
        "Only the editable DAGs on the returned page are updated; `total_entries` counts all "
        "matches; no match is 200 with an empty list (the declared 404 never happens).",
    ),
    Quirk(
        "dag-details-row-fields-absent",
        AIRFLOW,
        ("get_dag_details",),
        "Details come from the parsed DAG: the DagModel-only fields (next_dagrun*, "
        "last_parsed_time, timetable_description, ...) and `template_search_path` are absent.",
        versions=ONLY_2_5,
    ),
    Quirk(
        "dag-detail-owners-empty",
        AIRFLOW,
        ("get_dag_details",),
        "The details are the DagModel row with the DAG's attributes set on it: `owners` reads "
        'an `owner` attribute neither has, so it is always `[]`, and `timezone` is `"UTC"`. '
        "Every DAGSchema field (next_dagrun*, last_parsed_time, timetable_description, ...) is "
        "present, and `template_searchpath` is the DAG's list as a string, or null.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dag-detail-fields-are-field-names",
        AIRFLOW,
        ("get_dag_details",),
        "`fields` takes marshmallow field names: `last_loaded` answers the key `last_parsed`, "
        'and `fields=last_parsed` is a 400 "DAGDetailSchema init error".',
        versions=ONLY_2_10,
    ),
    Quirk(
        "fields-checked-when-dumped",
        AIRFLOW,
        ("get_dags", "get_dag_runs"),
        "An unknown `fields` name is an error only when an item is dumped (an empty page is "
        "200). GET /dags names every unknown one in marshmallow's words (\"DAGCollectionSchema "
        'error", `Invalid fields for <DAGSchema(many=False)>: OrderedSet([...]).`), runs the '
        'first (`<name> not in DAGRunSchema`, "DAGRunCollectionSchema error" or "DAGRunSchema '
        'error").',
        versions=ONLY_2_10,
    ),
    Quirk(
        "dag-owners-split",
        AIRFLOW,
        ("get_dags", "get_dag"),
        "`owners` is the comma-joined owners split on commas, so later owners keep a leading "
        'space (`["alice", " bob"]`).',
    ),
    Quirk(
        "dag-details-owners-split",
        AIRFLOW,
        ("get_dag_details",),
        "`owners` is the comma-joined owners split on commas, as in the DAG list (2.10.5's "
        "details always answer `[]`).",
        versions=ONLY_2_5,
    ),
    Quirk(
        "dag-patch-is-paused-required",
        SIMULATOR,
        ("patch_dag", "patch_dags"),
        "A body without `is_paused` (a crash in Airflow, 2.10.5 too) or with it null is a "
        "400 field error.",
    ),
    Quirk(
        "dag-source-generated",
        SIMULATOR,
        ("get_dag_source",),
        "The source is a Python file generated deterministically from the DAG definitions "
        "of its fileloc; a signed token for a file without code is 404.",
    ),
    Quirk(
        "dag-source-negotiation",
        AIRFLOW,
        ("get_dag_source",),
        "`text/plain` and `*/*` get the raw text, `application/json` a compact "
        '`{"content": ...}`. In 2.5.3 anything else is a 406 problem `Not Allowed Accept '
        "Header`.",
    ),
    Quirk(
        "dag-source-406-plain",
        AIRFLOW,
        ("get_dag_source",),
        "An unacceptable Accept header gets a plain `text/html; charset=utf-8` 406 `Not "
        "Allowed Accept Header`, not a problem body; the user needs can_read on every DAG of "
        "the file (else 403).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dag-delete-permanent",
        SIMULATOR,
        ("delete_dag",),
        "A deleted DAG stays deleted (Airflow re-parses its file) with its runs, source, "
        "warnings and its file's import errors; audit logs are kept.",
    ),
    Quirk(
        "dag-stats-order",
        SIMULATOR,
        ("get_dag_stats",),
        "DAGs come in the order `dag_ids` first names them; Airflow lists them in a Python "
        "set's order, which varies by process.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "dag-stats-all-states",
        AIRFLOW,
        ("get_dag_stats",),
        "Every named DAG the user may read is listed, even without runs, with the four run "
        "states in DagRunState order (queued, running, success, failed), zeros included; "
        "unknown or unreadable ids are left out silently (200).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "parse-dag-file-created-empty",
        AIRFLOW,
        ("reparse_dag_file",),
        "Answers 201 with an empty `text/html; charset=utf-8` body, or `Duplicate request` "
        'while an earlier request waits. A bad or unknown token is 404 "File not found" '
        "with a null detail; the user needs edit on every DAG of the file (else 403).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "parse-dag-file-next-loop",
        SIMULATOR,
        ("reparse_dag_file", "get_dags", "get_dag"),
        "A requested file is parsed at the scheduler loop after the request (1 s beats from "
        "the world's origin), its DAGs' new `last_parsed_time`; Airflow's DAG processor parses "
        "it a little later, in its own loop. Pending requests wait while the scheduler is "
        "down.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "max-consecutive-failed-pauses",
        AIRFLOW,
        ("get_dags", "get_dag"),
        "A DAG with `max_consecutive_failed_dag_runs` above 0 is paused when a run fails by "
        "its tasks (not as deadlocked) and its latest that many runs by logical date all "
        "failed. No event-log row or DAG warning records it (Airflow writes it only to the "
        "scheduler's log). The engine does it under either API: Airflow 2.5.3 has no such "
        "setting, so a scenario that sets it asks for 2.9+'s behaviour.",
    ),
    Quirk(
        "task-numbers-float",
        AIRFLOW,
        ("get_tasks", "get_task"),
        "`retries`, `pool_slots` and `priority_weight` are numbers with a fraction (`1.0`); "
        "`sub_dag` is absent.",
    ),
    Quirk(
        "task-no-executor",
        AIRFLOW,
        ("get_tasks", "get_task"),
        "Tasks never carry `executor`, which the spec lists but TaskSchema lacks; "
        "`task_display_name` (the task_id when none is set) and `doc_md` are there.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "task-order-by-attribute",
        AIRFLOW,
        ("get_tasks",),
        "Any operator attribute orders the tasks (`-` descending); an unknown one is a 400 "
        "with Python's AttributeError text; None sorts last instead of crashing.",
    ),
    Quirk(
        "task-trigger-rule-names",
        AIRFLOW,
        ("get_tasks", "get_task"),
        "`trigger_rule` can be `always`, `all_skipped` or `one_done`, rules of 2.5.3 that "
        "its spec's enum lacks.",
        _trigger_rules,
        ONLY_2_5,  # the 2.10.5 spec's enum has them
    ),
    Quirk(
        "task-trigger-rule-renamed",
        AIRFLOW,
        ("get_tasks", "get_task"),
        "`dummy` and `none_failed_or_skipped` show as `always` and "
        "`none_failed_min_one_success`, as BaseOperator renames them.",
    ),
    Quirk(
        "scheduler-reacts-at-once",
        SIMULATOR,
        ("get_dag_runs", "get_dag_run", "get_task_instances", "get_task_instance"),
        "What the scheduler decides when a task ends (the next tasks scheduled, the run's "
        "state, the next run created) happens at that instant; Airflow's waits for its next "
        "loop, about a second later. Runs the API queues, and the dataset queue (a "
        "consumer's run), do wait for the next loop.",
    ),
    Quirk(
        "dag-files-parsed-together",
        SIMULATOR,
        ("get_dags", "get_dag"),
        "Every DAG file is parsed at the same beat, every 30 s from the world's origin "
        "(`last_parsed_time`); Airflow's DAG processor parses them one after another.",
    ),
    Quirk(
        "task-ui-color-by-operator",
        SIMULATOR,
        ("get_tasks", "get_task"),
        "Tasks show their operator class's UI colours.",
    ),
    Quirk(
        "set-state-dry-run-default",
        LATER,
        ("post_set_task_instances_state", "patch_task_instance", "patch_mapped_task_instance"),
        "Omitting `dry_run` (a crash in 2.5.3) is a dry run, as in 2.10.",
        versions=ONLY_2_5,
    ),
    Quirk(
        "set-state-mapped-by-date",
        SIMULATOR,
        ("post_set_task_instances_state",),
        "A mapped task named by `execution_date` (a crash in Airflow, 2.10.5 too) selects "
        "every map index.",
    ),
    Quirk(
        "set-state-past-future-timetable",
        AIRFLOW,
        ("post_set_task_instances_state",),
        "With include_past/future only runs on the timetable's own dates are affected; "
        "unscheduled DAGs take every run in the range.",
    ),
    Quirk(
        "clear-range-capped-at-now",
        AIRFLOW,
        ("post_clear_task_instances",),
        "Runs whose logical date is after now are never selected, even with include_future.",
    ),
    Quirk(
        "clear-reset-dag-runs",
        AIRFLOW,
        ("post_clear_task_instances",),
        "Without `reset_dag_runs` the cleared instances' runs keep their state.",
    ),
    Quirk(
        "naive-datetime-title",
        AIRFLOW,
        ("post_clear_task_instances", "post_set_task_instances_state"),
        "Their `format: datetime` fields skip the spec check: a naive value is 400 "
        '"Invalid datetime format" / "Naive datetime is disallowed".',
    ),
    Quirk(
        "ti-list-limits",
        AIRFLOW,
        ("get_task_instances", "get_mapped_task_instances"),
        "The limit is not clamped (`limit=0` is an empty page); a negative one (a database "
        'error in 2.5.3) is 400 "Page limit must be a positive integer".',
    ),
    Quirk(
        "ti-list-mapped-unknown-task",
        SIMULATOR,
        ("get_mapped_task_instances",),
        'An unknown task is 404 "Task id <t> not found" (a crash in 2.5.3).',
        versions=ONLY_2_5,  # 2.10.5 answers this 404 itself
    ),
    Quirk(
        "ti-batch-page-fields-ignored",
        AIRFLOW,
        ("get_task_instances_batch",),
        "`page_offset`/`page_limit` are accepted and checked but not applied.",
        versions=ONLY_2_5,
    ),
    Quirk(
        "ti-batch-duration-integers",
        AIRFLOW,
        ("get_task_instances_batch",),
        "`duration_gte`/`duration_lte` load as integers (1.9 becomes 1), as the form declares "
        "them fields.Int.",
    ),
    Quirk(
        "ti-any-dag-no-filter",
        AIRFLOW,
        ("get_task_instances", "get_task_instances_batch"),
        "`~` lists every DAG's instances, whatever DAGs the user may read.",
        versions=ONLY_2_5,
    ),
    Quirk(
        "ti-note-unmapped-route-mapped-task",
        AIRFLOW,
        ("set_task_instance_note",),
        'A mapped task on the unmapped route is 404 "Task Instance not found for '
        'dag_id=..." (not the map_index hint).',
    ),
    Quirk(
        "ti-try-number-deferred",
        AIRFLOW,
        ("get_task_instance", "get_task_instances"),
        "While deferred, `try_number` is one less, as Airflow decrements it on deferral.",
        versions=ONLY_2_5,
    ),
    Quirk(
        "ti-try-number-scheduled",
        SIMULATOR,
        (
            "get_task_instance",
            "get_task_instances",
            "get_mapped_task_instance",
            "get_mapped_task_instances",
            "get_task_instances_batch",
            "set_task_instance_note",
            "set_mapped_task_instance_note",
            "get_task_instance_tries",
            "get_mapped_task_instance_tries",
            "get_task_instance_try_details",
            "get_mapped_task_instance_try_details",
        ),
        "`try_number` counts a try from when it is scheduled, as 2.10 does, derived from the "
        "tries (scheduled or queued: tries started + 1; an EmptyOperator success: 1). A mark of "
        "a scheduled or queued instance and an empty task's reruns after clears are not counted.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "ti-tries-collection",
        AIRFLOW,
        ("get_task_instance_tries", "get_mapped_task_instance_tries"),
        "The list's key is `task_instances` (the spec says `task_instances_history`) and "
        "`limit`, `offset` and `order_by` are ignored: every try comes, history rows by try "
        "number, then the live row. An unknown run, task or map index (or a mapped task on the "
        "unmapped route) is 200 with an empty list, not 404.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "ti-tries-from-try-chain",
        SIMULATOR,
        (
            "get_task_instance_tries",
            "get_mapped_task_instance_tries",
            "get_task_instance_try_details",
            "get_mapped_task_instance_try_details",
        ),
        "History rows come from the engine's tries: an instance cleared before it ran has no "
        "try-0 row (Airflow writes one), a try cleared while running ends when its job "
        "terminates it (Airflow: at the clear), and a state a mark set before a clear is that "
        "try's outcome (failed if none). An earlier try's `queued_when` is its start less the "
        "executor's pickup draw.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "ti-dependencies-derived",
        SIMULATOR,
        ("get_task_instance_dependencies", "get_mapped_task_instance_dependencies"),
        "Dependencies come from the engine's state: `upstream_task_ids` print sorted (Airflow "
        'prints a set in hash order), "Not Previously Skipped" marks nothing skipped as '
        "Airflow's GET does, the future-date check uses the virtual clock and Previous Dagrun "
        "State reads the run before by logical date. Task Concurrency and mapped-upstream "
        "dependencies never fail (no task sets them).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "ti-updated-at-derived",
        SIMULATOR,
        ("get_task_instances", "get_mapped_task_instances"),
        "`updated_at_gte`/`updated_at_lte` compare against the latest time the instance "
        "records (run queued, instance queued, started, deferred, ended); a clear, a note or a "
        "second mark leave no time of their own.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "ti-rendered-map-index-null",
        SIMULATOR,
        (
            "get_task_instance",
            "get_task_instances",
            "get_mapped_task_instance",
            "get_mapped_task_instances",
            "get_task_instances_batch",
            "set_task_instance_note",
            "set_mapped_task_instance_note",
        ),
        "`rendered_map_index` is always null: no scenario task sets a `map_index_template`.",
        versions=ONLY_2_10,
    ),
    Quirk(
        "ti-patch-empty-body",
        AIRFLOW,
        ("patch_task_instance", "patch_mapped_task_instance"),
        "A real (not dry) state change answers `{}`.",
    ),
    Quirk(
        "ti-simulated-details",
        SIMULATOR,
        ("get_task_instance", "get_extra_links"),
        "`rendered_fields`, triggers, the triggerer job and extra-link URLs are plausible "
        "values made up from the task's definition.",
    ),
    Quirk(
        "extra-links-flat-object",
        AIRFLOW,
        ("get_extra_links",),
        'Answers a flat `{link name: url or null}` (the spec says `{"extra_links": [...]}`). '
        "A mapped task is 404 in 2.5.3 (a crash there) and in 2.10.5 without `map_index`, "
        "which selects the instance.",
        _extra_links_flat,
    ),
    Quirk(
        "xcom-value-str",
        AIRFLOW,
        ("get_xcom_entry",),
        "`value` is Python's str() of the stored object (`{'a': 1}`), in 2.10.5 with the "
        "default `stringify=true`. In 2.5.3 `deserialize` changes nothing.",
    ),
    Quirk(
        "xcom-list-order-2-10",
        AIRFLOW,
        ("get_xcom_entries",),
        "Entries come by dag_id, task_id, run_id, map_index and key (2.5.3 orders them by "
        "their run's logical date, task_id, dag_id and key).",
        versions=ONLY_2_10,
    ),
    Quirk(
        "xcom-null-value",
        LATER,
        ("get_xcom_entry",),
        "A None value is `null` (2.5.3 fails its own response check).",
        _xcom_null_value,
    ),
    Quirk(
        "xcom-mapped-entry-first",
        SIMULATOR,
        ("get_xcom_entry",),
        "When several mapped rows match (a 500 in 2.5.3) the first by map index answers.",
        versions=ONLY_2_5,  # 2.10.5 looks up one map index, -1 by default
    ),
    Quirk(
        "log-json-shape",
        AIRFLOW,
        ("get_log",),
        "`content` is the repr of `[(host, text)]`; the token carries `end_of_log` and "
        "`log_pos`; `end_of_log` is false while the try runs or is deferred.",
    ),
    Quirk(
        "log-plain-single-read",
        AIRFLOW,
        ("get_log",),
        "`text/plain` answers one read of the log; no Accept header gets JSON.",
    ),
    Quirk(
        "log-simulated-text",
        SIMULATOR,
        ("get_log",),
        "Logs are generated from the tries and the virtual clock in Airflow's file format.",
    ),
    Quirk(
        "log-2-10-format",
        SIMULATOR,
        ("get_log",),
        "Logs take 2.10's format (source-details group, pre/post execution groups, 2.10.5's "
        "locations, one-line context export, run id in the state lines), but a try ended by a "
        "clear or a mark keeps 2.5.3's SIGTERM lines and tracebacks keep 2.5.3's paths. The "
        "lines the reference deployment's example listener plugin prints are absent.",
        versions=ONLY_2_10,
    ),
]


def response_document(document: Document, version: str = V2_5.name) -> Document:
    """The spec as response validation sees it: Airflow's own answers are valid."""
    patched = copy.deepcopy(document)
    for quirk in QUIRKS:
        if quirk.patch is not None and version in quirk.versions:
            quirk.patch(patched)
    return patched
