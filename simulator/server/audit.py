"""The API calls Airflow records in its audit log (event log), and how.

Airflow writes the row before the handler runs, so it also logs requests that
then fail; the simulator writes it only when the request succeeds, because a
failed request changes no state here (quirk `audit-log-on-success-only`).

Airflow 2.5.3 logs seven operations, its `extra` the str() of the query
items and path parameters. Airflow 2.10.5 logs every handler that carries
`@action_logging` (www/decorators.py): the event is `api.` and the
decorator's event or the handler's name (`ui.` when the request's Origin is
the server's own: a page it serves, such as its Swagger UI, calling it), the
owner the user's name, `extra` the JSON of the query items and path
parameters but the ones naming the DAG, task and run (their columns hold
them), merged with the JSON body, secrets masked; the run is the path's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from simulator.simulator import Simulator
from simulator.state.entities import EventLog, User
from simulator.state.redaction import redact

EVENTS = {
    "post_connection": "connection.create",
    "patch_connection": "connection.edit",
    "delete_connection": "connection.delete",
    "post_variables": "variable.create",
    "patch_variable": "variable.edit",
    "delete_variable": "variable.delete",
    "post_dag_run": "dag_run.create",
}

# Airflow 2.10.5: operation -> the events of its rows. Two handlers call
# another logged one: patch_mapped_task_instance (two rows, its own first)
# and set_mapped_task_instance_note (not logged itself: one row).
EVENTS_2_10: dict[str, tuple[str, ...]] = {
    "delete_connection": ("connection.delete",),
    "patch_connection": ("connection.edit",),
    "post_connection": ("connection.create",),
    "patch_dag": ("patch_dag",),
    "patch_dags": ("patch_dags",),
    "delete_dag": ("delete_dag",),
    "delete_dag_run": ("delete_dag_run",),
    "post_dag_run": ("post_dag_run",),
    "update_dag_run_state": ("update_dag_run_state",),
    "clear_dag_run": ("clear_dag_run",),
    "set_dag_run_note": ("set_dag_run_note",),
    "delete_dag_dataset_queued_event": ("delete_dag_dataset_queued_event",),
    "delete_dag_dataset_queued_events": ("delete_dag_dataset_queued_events",),
    "delete_dataset_queued_events": ("delete_dataset_queued_events",),
    "create_dataset_event": ("create_dataset_event",),
    "delete_pool": ("delete_pool",),
    "patch_pool": ("patch_pool",),
    "post_pool": ("post_pool",),
    "post_clear_task_instances": ("post_clear_task_instances",),
    "post_set_task_instances_state": ("post_set_task_instances_state",),
    "patch_task_instance": ("patch_task_instance",),
    "patch_mapped_task_instance": ("patch_mapped_task_instance", "patch_task_instance"),
    "set_task_instance_note": ("set_task_instance_note",),
    "set_mapped_task_instance_note": ("set_task_instance_note",),
    "delete_variable": ("variable.delete",),
    "patch_variable": ("variable.edit",),
    "post_variables": ("variable.create",),
}

# Request values the 2.10.5 decorator leaves out of `extra`.
SKIPPED = frozenset(
    {
        "csrf_token",
        "_csrf_token",
        "is_paused",
        "dag_id",
        "task_id",
        "dag_run_id",
        "run_id",
        "execution_date",
    }
)
NON_JSON_EXTRA = "Encountered non-JSON in `extra` field"


def record(
    sim: Simulator,
    operation_id: str,
    user: User | None,
    request: web.Request,
    path: Mapping[str, Any],
    body: Any = None,
) -> None:
    """The rows of a request that succeeded; `body` is its parsed JSON body."""
    if sim.version.at_least("2.10"):
        _record_2_10(sim, operation_id, user, request, path, body)
        return
    event = EVENTS.get(operation_id)
    if event is None:
        return
    # Query items then path parameters, as (name, value) pairs; the body is not logged.
    fields = [(k, redact(v, k)) for k, v in (*request.query.items(), *path.items())]
    values = dict(fields)
    sim.record_event(
        event,
        owner=user.username if user else "anonymous",
        dag_id=values.get("dag_id"),
        task_id=values.get("task_id"),
        extra=str(fields),
    )


def _record_2_10(
    sim: Simulator,
    operation_id: str,
    user: User | None,
    request: web.Request,
    path: Mapping[str, Any],
    body: Any,
) -> None:
    events = EVENTS_2_10.get(operation_id)
    if events is None:
        return
    query = list(request.query.items())
    # Only a body sent as application/json (a non-empty object) is logged.
    content_type = request.headers.get("Content-Type", "")
    logged = "application/json" in content_type and isinstance(body, dict) and body
    logged_body = body if logged else None
    # `{**request.values, **request.view_args}`: a repeated query name's first value.
    params: dict[str, Any] = {}
    for name, value in query:
        params.setdefault(name, value)
    params.update(path)
    run_id = params.get("run_id") or params.get("dag_run_id")
    prefix = "ui." if _same_origin(request) else "api."
    # No logged operation takes an `execution_date` query parameter (and an
    # undeclared one is refused), so the rows' execution_date stays null.
    for event in events:
        sim.store.event_logs.add(
            EventLog(
                when=sim.engine.now,
                event=prefix + event,
                owner=_owner(sim, user),
                dag_id=params.get("dag_id"),
                task_id=params.get("task_id"),
                extra=json.dumps(extra_2_10(event, (*query, *path.items()), logged_body, params)),
                run_id=run_id,
            )
        )


def extra_2_10(
    event: str,
    values: Iterable[tuple[str, Any]],
    body: Mapping[str, Any] | None,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """The `extra` object of a 2.10.5 row: the request's `values` (query
    items, then path parameters), or the body of a variable or connection
    call, masked."""
    fields = {k: redact(v, k) for k, v in values if k not in SKIPPED}
    if event.startswith("variable."):
        fields = _mask_variable_fields(body if body is not None else fields)
    elif event.startswith("connection."):
        fields = _mask_connection_fields(body if body is not None else fields)
    elif body is not None:
        fields = {**fields, **{k: redact(v, k) for k, v in body.items()}}
    if "is_paused" in params:
        # Airflow's own test: True when the value is "false".
        fields["is_paused"] = params["is_paused"] == "false"
    return fields


def _mask_variable_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The value after a `key` is masked when the key's name is sensitive."""
    result: dict[str, Any] = {}
    key_name = None
    for k, v in fields.items():
        if k == "key":
            key_name = v
            result[k] = v
        elif key_name and k in ("val", "value"):
            result[k] = redact(v, key_name)
            key_name = None
        else:
            result[k] = v
    return result


def _mask_connection_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Every field masked by its name; a JSON `extra` by its keys, as an object."""
    result: dict[str, Any] = {}
    for k, v in fields.items():
        if k == "extra" and v:
            try:
                loaded = json.loads(v)
            except ValueError:
                result[k] = NON_JSON_EXTRA
                continue
            if isinstance(loaded, dict):
                result[k] = {name: redact(item, name) for name, item in loaded.items()}
            else:
                # Airflow fails on an extra that is JSON but no object (the
                # request ends in a 500); the value is kept, masked.
                result[k] = redact(loaded)
        else:
            result[k] = redact(v, k)
    return result


def _owner(sim: Simulator, user: User | None) -> str:
    """The user's name; `anonymous` when the API takes no credentials."""
    if user is None or sim.settings.auth == "none":
        return "anonymous"
    return user.username


def _same_origin(request: web.Request) -> bool:
    """Whether the Origin header names this server (Flask's root URL, whose
    host drops the scheme's default port)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    scheme = request.scheme
    host = request.host
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return origin == f"{scheme}://{host}"
