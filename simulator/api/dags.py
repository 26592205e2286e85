"""DAG operations: list, read, pause, delete DAGs; their tasks and source;
clear or mark the task instances of a DAG."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from simulator.api.config import best_match
from simulator.api.dag_selection import (
    dag_tis,
    run_range,
    runs_between,
    select,
    target_run,
    task_closure,
)
from simulator.api.params import check_limit, ordering
from simulator.api.responses import Json, Text
from simulator.engine import lifecycle as lc
from simulator.engine.actions import downstream_ids, upstream_ids
from simulator.errors import AlreadyExists, BadRequest, NotAcceptable, NotFound, PermissionDenied
from simulator.schemas.dag import (
    dump_dag,
    dump_dag_collection,
    dump_dag_detail,
    dump_ti_references,
    load_clear_form,
    load_dag_patch,
    load_set_state_form,
)
from simulator.schemas.dag_source import dag_file_source
from simulator.schemas.fields import DETAIL_KEYS, check_fields, only
from simulator.schemas.task import dump_task, dump_task_collection, order_tasks
from simulator.simulator import Simulator
from simulator.state.dag_model import Dag
from simulator.state.entities import User
from simulator.state.run_model import DagRun
from simulator.state.security import accessible_dag_ids, user_permissions

ONLY_IS_PAUSED = "Only `is_paused` field can be updated through the REST API"
TEXT, JSON, HTML = "text/plain", "application/json", "text/html; charset=utf-8"
FAILED_STATES = (lc.FAILED, lc.UPSTREAM_FAILED)
# GET /dags' order_by allow-list (Airflow 2.10): the rows come by dag_id.
DAG_ORDERING: dict[str, Callable[[Dag], Any]] = {"dag_id": lambda dag: dag.dag_id}


# -- DAGs -----------------------------------------------------------------


def _ilike(pattern: str) -> re.Pattern[str]:
    """PostgreSQL's ILIKE: `%` any run, `_` one character, `\\` escapes."""
    parts, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _matching(
    sim: Simulator, allowed: set[str], only_active: bool, tags: list[str] | None, like: str | None
) -> list[Dag]:
    """DagModel rows: not subdags, active, ILIKE, permitted, any of the tags; by dag_id."""
    matcher = _ilike(like) if like is not None else None
    wanted = set(tags or ())
    return [
        dag
        for dag in sim.store.dags_by_id()
        if dag.dag_id in allowed
        and (dag.is_active or not only_active)
        and (matcher is None or matcher.fullmatch(dag.dag_id))
        and (not wanted or not wanted.isdisjoint(dag.tags))
    ]


def _readable(sim: Simulator, user: User) -> set[str]:
    granted = user_permissions(sim.store, user)
    dag_ids = sim.dag_ids()
    return accessible_dag_ids(granted, "can_read", dag_ids) | accessible_dag_ids(
        granted, "can_edit", dag_ids
    )


def _editable(sim: Simulator, user: User) -> set[str]:
    return accessible_dag_ids(user_permissions(sim.store, user), "can_edit", sim.dag_ids())


def get_dags(
    sim: Simulator,
    *,
    user: User,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
    tags: list[str] | None = None,
    only_active: bool = True,
    dag_id_pattern: str | None = None,
    paused: bool | None = None,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    """GET /dags: readable (or editable) DAGs by dag_id; order_by is ignored
    in 2.5.3, 2.10.5 orders by dag_id either way."""
    size = check_limit(sim.settings, limit)
    like = f"%{dag_id_pattern}%" if dag_id_pattern else None
    dags = _matching(sim, _readable(sim, user), only_active, tags, like)
    if paused is not None:
        dags = [dag for dag in dags if dag.is_paused == paused]
    version = sim.version
    # 2.10's apply_sorting with the allow-list ["dag_id"]; the rows are by dag_id already.
    if version.at_least("2.10") and ordering(order_by, DAG_ORDERING, "dag_id").descending:
        dags.reverse()
    start = offset or 0
    page = dags[start : start + size]
    body = dump_dag_collection(page, len(dags), version)
    if fields and page:  # marshmallow checks the names when it dumps a DAG
        check_fields("DAGCollectionSchema error", "DAGSchema", list(body["dags"][0]), fields)
        body["dags"] = [only(dag, fields) for dag in body["dags"]]
    return body


def _paused_value(body: dict[str, Any], update_mask: list[str] | None) -> bool:
    """DAGSchema.load, then the mask rule, then the value to set."""
    data = load_dag_patch(body)
    if update_mask and update_mask != ["is_paused"]:
        raise BadRequest(detail=ONLY_IS_PAUSED)
    if "is_paused" not in data:
        # Airflow 2.5.3 crashes (KeyError) on a body without is_paused.
        raise BadRequest(detail=str({"is_paused": ["Missing data for required field."]}))
    return bool(data["is_paused"])


def _set_paused(sim: Simulator, dag: Dag, paused: bool) -> None:
    if dag.is_paused == paused:
        return
    dag.is_paused = paused
    if paused:
        sim.scheduler.pause(dag)
    else:
        sim.scheduler.resume(dag)


def patch_dags(
    sim: Simulator,
    *,
    user: User,
    dag_id_pattern: str,
    limit: int | None = None,
    offset: int | None = None,
    tags: list[str] | None = None,
    update_mask: list[str] | None = None,
    only_active: bool = True,
    body: dict[str, Any],
) -> dict[str, Any]:
    """PATCH /dags: pause or unpause the editable matching DAGs of one page (`~`: all)."""
    size = check_limit(sim.settings, limit)
    paused = _paused_value(body, update_mask)
    like = "%%%" if dag_id_pattern == "~" else f"%{dag_id_pattern}%"
    dags = _matching(sim, _editable(sim, user), only_active, tags, like)
    start = offset or 0
    page = dags[start : start + size]
    for dag in page:  # only the page is updated
        _set_paused(sim, dag, paused)
    return dump_dag_collection(page, len(dags), sim.version)


def get_dag(sim: Simulator, *, dag_id: str, fields: list[str] | None = None) -> dict[str, Any]:
    """GET /dags/{dag_id}: the DagModel row."""
    body = dump_dag(sim.store.dags.require(dag_id), sim.version)
    if fields:
        check_fields("DAGSchema init error", "DAGSchema", list(body), fields)
        return only(body, fields)
    return body


def _dag_not_found(dag_id: str) -> NotFound:
    return NotFound(f"Dag with id: '{dag_id}' not found")


def patch_dag(
    sim: Simulator, *, dag_id: str, update_mask: list[str] | None = None, body: dict[str, Any]
) -> dict[str, Any]:
    """PATCH /dags/{dag_id}: only is_paused changes."""
    data = load_dag_patch(body)
    if update_mask and update_mask != ["is_paused"]:
        raise BadRequest(detail=ONLY_IS_PAUSED)
    if update_mask and "is_paused" not in data:
        raise BadRequest(detail=str({"is_paused": ["Missing data for required field."]}))
    dag = sim.store.dags.require(dag_id, _dag_not_found)
    _set_paused(sim, dag, _paused_value(data, None))
    return dump_dag(dag, sim.version)


def delete_dag(sim: Simulator, *, dag_id: str) -> None:
    """DELETE /dags/{dag_id}: refused while one of its task instances runs."""
    if any(ti.state == lc.RUNNING for ti in dag_tis(sim, dag_id)):
        raise AlreadyExists(detail=f"Task instances of dag with id: '{dag_id}' are still running")
    dag = sim.store.dags.require(dag_id, _dag_not_found)
    sim.actions.delete_dag(dag)


def get_dag_details(
    sim: Simulator, *, dag_id: str, fields: list[str] | None = None
) -> dict[str, Any]:
    """GET /dags/{dag_id}/details: the parsed DAG object."""
    body = dump_dag_detail(sim.store.dags.require(dag_id), sim.version)
    if fields:
        declared = [next((n for n, k in DETAIL_KEYS.items() if k == key), key) for key in body]
        check_fields("DAGDetailSchema init error", "DAGDetailSchema", declared, fields)
        return only(body, fields, DETAIL_KEYS)
    return body


# -- tasks and source -----------------------------------------------------


def _require_dag(sim: Simulator, dag_id: str) -> Dag:
    return sim.store.dags.require(dag_id, lambda _: NotFound("DAG not found"))


def get_tasks(sim: Simulator, *, dag_id: str, order_by: str | None = None) -> dict[str, Any]:
    """GET /dags/{dag_id}/tasks: every task, ordered by any operator attribute."""
    dag = _require_dag(sim, dag_id)
    return dump_task_collection(dag, order_tasks(dag, order_by), sim.version)


def get_task(sim: Simulator, *, dag_id: str, task_id: str) -> dict[str, Any]:
    """GET /dags/{dag_id}/tasks/{task_id}."""
    dag = _require_dag(sim, dag_id)
    task = dag.tasks.get(task_id)
    if task is None:
        raise NotFound("Task not found")
    return dump_task(dag, task, sim.version)


def get_dag_source(
    sim: Simulator, *, file_token: str, user: User, accept: str | None = None
) -> Text | Json:
    """GET /dagSources/{file_token}: the DAG file, as text or {"content": ...}."""
    try:
        fileloc = URLSafeSerializer(sim.settings.secret_key).loads(file_token)
    except BadSignature:
        raise NotFound("Dag source not found") from None
    dags = [dag for dag in sim.store.dags if dag.fileloc == fileloc]
    newer = sim.version.at_least("2.10")
    if newer:  # 2.10 asks for can_read on every DAG of the file
        granted = user_permissions(sim.store, user)
        if not {d.dag_id for d in dags} <= accessible_dag_ids(granted, "can_read", sim.dag_ids()):
            raise PermissionDenied()
    if not dags:
        # Airflow 2.5.3 crashes (DagCodeNotFound) on a signed path it has no code for.
        raise NotFound("Dag source not found")
    source = dag_file_source(dags)
    media_type = best_match(accept, (TEXT, JSON))
    if media_type == TEXT:
        return Text(source, content_type=TEXT)
    if media_type == JSON:
        return Json({"content": source})  # compact, unlike other JSON bodies
    if newer:  # a plain Flask response, not a problem
        return Text("Not Allowed Accept Header", content_type=HTML, status=406)
    raise NotAcceptable("Not Allowed Accept Header")


# -- task instance actions ------------------------------------------------


def post_clear_task_instances(
    sim: Simulator, *, dag_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /dags/{dag_id}/clearTaskInstances: clear what the form selects (dry run by default)."""
    data = load_clear_form(body)
    dag = sim.store.dags.require(dag_id, lambda _: NotFound(f"Dag id {dag_id} not found"))
    start, end, run_id = data["start_date"], data["end_date"], data["dag_run_id"]
    if run_id is not None:
        run = sim.store.dag_runs.get((dag_id, run_id))
        if run is None:
            raise NotFound(f"Dag Run id {run_id} not found in dag {dag_id}")
        start = end = run.logical_date
    if data["include_past"]:
        start = None
    if data["include_future"]:
        end = None
    task_ids = set(dag.tasks)
    if data.get("task_ids") is not None:
        task_ids = task_closure(
            dag, data["task_ids"], data["include_upstream"], data["include_downstream"]
        )
    wanted: list[str | None] | None = None
    if data["only_failed"]:
        wanted = list(FAILED_STATES)
    elif data["only_running"]:
        wanted = [lc.RUNNING]
    selected = select(sim, dag, task_ids, runs_between(sim, dag_id, start, end), wanted)
    if not data["dry_run"]:
        sim.actions.clear([ti for ti, _ in selected], reset_runs=data["reset_dag_runs"])
    return dump_ti_references(selected)


def post_set_task_instances_state(
    sim: Simulator, *, dag_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /dags/{dag_id}/updateTaskInstancesState: mark a task (dry run by default)."""
    data = load_set_state_form(body)
    dag = sim.store.dags.require(dag_id, lambda _: NotFound(f"Dag ID {dag_id} not found"))
    task_id, state = data["task_id"], data["new_state"]
    if task_id not in dag.tasks:
        raise NotFound(f"Task ID {task_id} not found")
    run = target_run(sim, dag, task_id, data)
    past, future = data["include_past"], data["include_future"]
    task_ids = {task_id}
    if data["include_downstream"]:
        task_ids.update(downstream_ids(dag, task_id))
    if data["include_upstream"]:
        task_ids.update(upstream_ids(dag, task_id))
    runs = run_range(sim, dag, run, past, future)
    altered = [(ti, r) for ti, r in select(sim, dag, task_ids, runs, None) if ti.state != state]
    if not data["dry_run"]:
        sim.actions.set_state([ti for ti, _ in altered], state)
        _clear_failed_downstream(sim, dag, task_id, run, past, future)
    return dump_ti_references(altered)


def _clear_failed_downstream(
    sim: Simulator, dag: Dag, task_id: str, run: DagRun, past: bool, future: bool
) -> None:
    """DAG.set_task_instance_state's follow-up: failed or upstream_failed
    instances downstream of the task, in the date range, are cleared and
    their runs queued (the engine already cleared those in the marked runs)."""
    start = None if past else run.logical_date
    end = None if future else run.logical_date
    runs = runs_between(sim, dag.dag_id, start, end)
    selected = select(sim, dag, set(downstream_ids(dag, task_id)), runs, FAILED_STATES)
    if selected:
        sim.actions.clear([ti for ti, _ in selected], reset_runs=True)


def reparse_dag_file(sim: Simulator, *, file_token: str, user: User) -> Text:
    """PUT /parseDagFile/{file_token}: ask the DAG processor to parse the
    file soon, if the user may edit every DAG in it."""
    try:
        fileloc = URLSafeSerializer(sim.settings.secret_key).loads(file_token)
    except BadSignature:
        raise NotFound("File not found") from None
    dag_ids = {dag.dag_id for dag in sim.store.dags if dag.fileloc == fileloc}
    if not dag_ids:
        raise NotFound("File not found")
    if not dag_ids <= _editable(sim, user):
        raise PermissionDenied()
    # Flask's default type for a Response made without one.
    if not sim.actions.request_parse(fileloc):
        return Text("Duplicate request", content_type=HTML, status=201)
    return Text("", content_type=HTML, status=201)
