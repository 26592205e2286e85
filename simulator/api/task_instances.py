"""TaskInstance operations: list (per run, `~`, batch, mapped), read, mark,
note, extra links and logs; in Airflow 2.10 also tries and dependencies.

The lists are Airflow 2.5.3's: no limit clamp, no ordering but insertion
order (except listMapped), unknown DAG or run ids give an empty page, and
`~` for the DAG or run applies no per-DAG permission filter. Airflow 2.10
limits `~` and the batch to the DAGs the user may read, pages the batch and
adds the updated_at, executor, run and task filters.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import urlencode

from simulator.api.config import best_match
from simulator.api.responses import Text
from simulator.api.task_instance_support import (
    batch_scope,
    check_mappable,
    collection,
    dump,
    executor_of,
    filter_2_10,
    order_mapped,
    page_limit,
    page_of,
    query_filter,
    run_of,
    task_of,
)
from simulator.engine import history
from simulator.engine.dependencies import Dependency, failed_dependencies
from simulator.errors import NotFound
from simulator.schemas.dependency import dump_dependencies
from simulator.schemas.log import LogSubject, dump_token, load_token, log_text, read_log
from simulator.schemas.log_2_10 import read_log_2_10
from simulator.schemas.page import Page
from simulator.schemas.task_instance import dump_task_instance_reference
from simulator.schemas.task_instance_forms import load_batch_form, load_note, load_update_state
from simulator.schemas.task_instance_history import dump_tries, dump_try
from simulator.simulator import Simulator
from simulator.state.dag_model import Task
from simulator.state.entities import User
from simulator.state.queries import page_tis
from simulator.state.run_model import TaskInstance
from simulator.state.security import readable_scope

ANY = "~"
TEXT, JSON = "text/plain", "application/json"
MAPPED = "Task instance is mapped, add the map_index value to the URL"


def get_task_instances(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    execution_date_gte: str | None = None,
    execution_date_lte: str | None = None,
    start_date_gte: str | None = None,
    start_date_lte: str | None = None,
    end_date_gte: str | None = None,
    end_date_lte: str | None = None,
    updated_at_gte: str | None = None,
    updated_at_lte: str | None = None,
    executor: list[str] | None = None,
    duration_gte: float | None = None,
    duration_lte: float | None = None,
    state: list[str] | None = None,
    pool: list[str] | None = None,
    queue: list[str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    user: User | None = None,
) -> Page:
    """GET .../taskInstances: `~` for any DAG (readable ones in 2.10) and/or
    run; the limit is not clamped."""
    dates = (execution_date_gte, execution_date_lte, start_date_gte, start_date_lte,
             end_date_gte, end_date_lte)  # fmt: skip
    found = query_filter(dates, duration_gte, duration_lte, state, pool, queue)
    found = filter_2_10(sim, found, updated_at_gte, updated_at_lte, executor)
    scope: Collection[str] | None = None if dag_id == ANY else (dag_id,)
    if scope is None and user is not None and sim.version.at_least("2.10"):
        scope = readable_scope(sim.store, user)
    query = found.query(scope, None if dag_run_id == ANY else dag_run_id)
    rows, total = page_tis(sim.store, query, offset or 0, page_limit(limit))
    return collection(sim, rows, total)


def get_task_instances_batch(
    sim: Simulator, *, body: dict[str, Any], user: User | None = None
) -> Page:
    """POST /dags/~/dagRuns/~/taskInstances/list: every match (2.5.3), or a
    page of them among the DAGs the user may read (2.10)."""
    form = load_batch_form(body, sim.version)
    found = replace(form.found, executor_of=partial(executor_of, sim))
    scope: Collection[str] | None = found.dag_ids or None
    if user is not None and sim.version.at_least("2.10"):
        scope = batch_scope(sim, user, scope)
    query = found.query(scope, None)
    rows, total = page_tis(sim.store, query, form.offset, form.limit)
    return collection(sim, rows, total)


def get_task_instance(
    sim: Simulator, *, dag_id: str, dag_run_id: str, task_id: str
) -> dict[str, Any]:
    """GET .../taskInstances/{task_id}: an unmapped instance only."""
    tis = sim.store.run_tis.get((dag_id, dag_run_id), {}).get(task_id, [])
    if not tis:
        raise NotFound("Task instance not found")
    if any(ti.map_index != -1 for ti in tis):
        raise NotFound("Task instance not found", detail=MAPPED)
    return dump(sim, tis[0])


def get_mapped_task_instance(
    sim: Simulator, *, dag_id: str, dag_run_id: str, task_id: str, map_index: int
) -> dict[str, Any]:
    """GET .../taskInstances/{task_id}/{map_index}."""
    ti = sim.store.task_instances.get((dag_id, dag_run_id, task_id, map_index))
    if ti is None:
        raise NotFound("Task instance not found")
    return dump(sim, ti)


def get_mapped_task_instances(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    limit: int | None = None,
    offset: int | None = None,
    execution_date_gte: str | None = None,
    execution_date_lte: str | None = None,
    start_date_gte: str | None = None,
    start_date_lte: str | None = None,
    end_date_gte: str | None = None,
    end_date_lte: str | None = None,
    updated_at_gte: str | None = None,
    updated_at_lte: str | None = None,
    executor: list[str] | None = None,
    duration_gte: float | None = None,
    duration_lte: float | None = None,
    state: list[str] | None = None,
    pool: list[str] | None = None,
    queue: list[str] | None = None,
    order_by: str | None = None,
) -> Page:
    """GET .../listMapped: the expanded instances (map_index >= 0) of one task."""
    run = sim.store.dag_runs.get((dag_id, dag_run_id))
    tis = sim.store.run_tis.get((dag_id, dag_run_id), {}).get(task_id, [])
    rows = [(ti, run) for ti in tis if ti.map_index >= 0 and run is not None]
    if not rows:
        check_mappable(sim, dag_id, task_id)
    dates = (execution_date_gte, execution_date_lte, start_date_gte, start_date_lte,
             end_date_gte, end_date_lte)  # fmt: skip
    found = query_filter(dates, duration_gte, duration_lte, state, pool, queue)
    found = filter_2_10(sim, found, updated_at_gte, updated_at_lte, executor)
    rows = order_mapped([row for row in rows if found.matches(*row)], order_by)
    return collection(sim, page_of(rows, limit, offset), len(rows))


def patch_task_instance(
    sim: Simulator, *, dag_id: str, dag_run_id: str, task_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """PATCH .../taskInstances/{task_id}: mark success or failed (or a dry run)."""
    return _patch(sim, dag_id, dag_run_id, task_id, -1, body)


def patch_mapped_task_instance(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    body: dict[str, Any],
) -> dict[str, Any]:
    """PATCH .../taskInstances/{task_id}/{map_index}: as the unmapped one."""
    return _patch(sim, dag_id, dag_run_id, task_id, map_index, body)


def _patch(
    sim: Simulator, dag_id: str, run_id: str, task_id: str, map_index: int, body: dict[str, Any]
) -> dict[str, Any]:
    dry_run, new_state = load_update_state(body)
    dag = sim.store.dags.get(dag_id)
    if dag is None:
        raise NotFound("DAG not found", detail=f"DAG {dag_id!r} not found")
    if task_id not in dag.tasks:
        raise NotFound("Task not found", detail=f"Task {task_id!r} not found in DAG {dag_id!r}")
    ti = sim.store.task_instances.get((dag_id, run_id, task_id, map_index))
    if ti is None:
        raise NotFound(
            detail=f"Task instance not found for task {task_id!r} on DAG run with ID {run_id!r}"
        )
    if dry_run:
        return dump_task_instance_reference(ti, run_of(sim, ti))
    sim.actions.set_state([ti], new_state)
    # Airflow dumps the list of changed instances with the single-object
    # schema, which finds none of its fields on a list: the body is {}.
    return {}


def set_task_instance_note(
    sim: Simulator, *, dag_id: str, dag_run_id: str, task_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """PATCH .../taskInstances/{task_id}/setNote: the unmapped instance's note."""
    return _set_note(sim, dag_id, dag_run_id, task_id, -1, body)


def set_mapped_task_instance_note(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    body: dict[str, Any],
) -> dict[str, Any]:
    """PATCH .../taskInstances/{task_id}/{map_index}/setNote."""
    return _set_note(sim, dag_id, dag_run_id, task_id, map_index, body)


def _set_note(
    sim: Simulator, dag_id: str, run_id: str, task_id: str, map_index: int, body: dict[str, Any]
) -> dict[str, Any]:
    note = load_note(body)
    # The unmapped route looks for map_index -1 only, so a mapped task is
    # simply not found there.
    ti = sim.store.task_instances.get((dag_id, run_id, task_id, map_index))
    if ti is None:
        raise NotFound(
            f"Task Instance not found for dag_id={dag_id}, run_id={run_id}, task_id={task_id}"
        )
    ti.note = note
    return dump(sim, ti)


def get_extra_links(
    sim: Simulator, *, dag_id: str, dag_run_id: str, task_id: str, map_index: int | None = None
) -> dict[str, str | None]:
    """GET .../links: a flat {link name: url or null} object, sorted by name."""
    dag = sim.store.dags.get(dag_id)
    if dag is None:
        raise NotFound("DAG not found", detail=f'DAG with ID = "{dag_id}" not found')
    task = dag.tasks.get(task_id)
    if task is None:
        raise NotFound("Task not found", detail=f'Task with ID = "{task_id}" not found')
    # Like later 2.x releases (map_index defaults to -1): a mapped task has no
    # instance here, where Airflow 2.5.3 crashes on its several instances;
    # 2.10 takes the map index as a parameter.
    index = -1 if map_index is None else map_index
    ti = sim.store.task_instances.get((dag_id, dag_run_id, task_id, index))
    if ti is None:
        raise NotFound("DAG Run not found", detail=f'DAG Run with ID = "{dag_run_id}" not found')
    return {name: _link(ti, task, name) for name in sorted(task.extra_links)}


def _link(ti: TaskInstance, task: Task, name: str) -> str | None:
    """An operator link's URL; links built from what the task pushed are empty
    (null) until it has run."""
    if not ti.tries:
        return None
    slug = "-".join(name.lower().split())
    query = urlencode({"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": task.task_id,
                       "try_number": ti.try_number})  # fmt: skip
    return f"https://{slug}.example.com/?{query}"


def get_log(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    task_try_number: int,
    full_content: bool | None = None,
    map_index: int | None = None,
    token: str | None = None,
    accept: str | None = None,
) -> dict[str, Any] | Text:
    """GET .../logs/{task_try_number}: JSON with a continuation token, or plain text."""
    # Airflow prefers text/plain when the client accepts both (so `*/*` gets it).
    secret = sim.settings.secret_key
    metadata = load_token(secret, token)
    # The file handler ignores download_logs: full_content changes no answer.
    metadata["download_logs"] = bool(full_content or metadata.get("download_logs"))
    key = (dag_id, dag_run_id, task_id, -1 if map_index is None else map_index)
    ti = sim.store.task_instances.get(key)
    if ti is None:
        raise NotFound("TaskInstance not found")
    subject = _log_subject(sim, ti)
    media = best_match(accept, (TEXT, JSON))
    read = read_log_2_10 if sim.version.at_least("2.10") else read_log
    if media == TEXT:
        # The stream starts over (no log_pos) and reads the try to its end so far.
        chunks, _ = read(subject, task_try_number, {})
        return Text(log_text(chunks), content_type=TEXT)
    chunks, metadata = read(subject, task_try_number, metadata)
    return {"content": repr(chunks), "continuation_token": dump_token(secret, metadata)}


# -- helpers ----------------------------------------------------------------------


def _log_subject(sim: Simulator, ti: TaskInstance) -> LogSubject:
    run = run_of(sim, ti)
    returned = sim.store.xcoms.get((*ti.key, "return_value"))
    return LogSubject(
        ti=ti,
        run=run,
        dag=sim.store.dags.get(ti.dag_id),
        now=sim.now(),
        job_ids={position: attempt.job_id for position, attempt in enumerate(ti.tries)},
        run_tis=sim.store.tis_of(run),
        returned=returned.value if returned is not None else None,
    )


def get_task_instance_dependencies(
    sim: Simulator, *, dag_id: str, dag_run_id: str, task_id: str
) -> dict[str, Any]:
    """GET .../{task_id}/dependencies: why the unmapped instance is not running."""
    return _dependencies(sim, dag_id, dag_run_id, task_id, -1)


def get_mapped_task_instance_dependencies(
    sim: Simulator, *, dag_id: str, dag_run_id: str, task_id: str, map_index: int
) -> dict[str, Any]:
    """GET .../{task_id}/{map_index}/dependencies."""
    return _dependencies(sim, dag_id, dag_run_id, task_id, map_index)


def _dependencies(
    sim: Simulator, dag_id: str, run_id: str, task_id: str, map_index: int
) -> dict[str, Any]:
    ti = sim.store.task_instances.get((dag_id, run_id, task_id, map_index))
    if ti is None:
        raise NotFound(
            f"Task Instance not found for dag_id={dag_id}, run_id={run_id}, task_id={task_id}"
        )
    dag = sim.store.dags.get(dag_id)
    task = dag.tasks.get(task_id) if dag is not None else None
    found: list[Dependency] = []
    if dag is not None and task is not None:
        found = failed_dependencies(sim.store, ti, run_of(sim, ti), dag, task, sim.now())
    return dump_dependencies(found)


def get_task_instance_tries(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET .../{task_id}/tries: every try; limit, offset and order_by are ignored."""
    return _tries(sim, dag_id, dag_run_id, task_id, -1)


def get_mapped_task_instance_tries(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
) -> dict[str, Any]:
    """GET .../{task_id}/{map_index}/tries."""
    return _tries(sim, dag_id, dag_run_id, task_id, map_index)


def _tries(
    sim: Simulator, dag_id: str, run_id: str, task_id: str, map_index: int
) -> dict[str, Any]:
    # An unknown run, task or map index is an empty list, not a 404.
    ti = sim.store.task_instances.get((dag_id, run_id, task_id, map_index))
    if ti is None:
        return dump_tries([], None)
    task = task_of(sim, ti)
    return dump_tries(history.tries(ti, task, sim.random.seed), task)


def get_task_instance_try_details(
    sim: Simulator, *, dag_id: str, dag_run_id: str, task_id: str, task_try_number: int
) -> dict[str, Any]:
    """GET .../{task_id}/tries/{task_try_number}."""
    return _try(sim, dag_id, dag_run_id, task_id, -1, task_try_number)


def get_mapped_task_instance_try_details(
    sim: Simulator,
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    task_try_number: int,
) -> dict[str, Any]:
    """GET .../{task_id}/{map_index}/tries/{task_try_number}."""
    return _try(sim, dag_id, dag_run_id, task_id, map_index, task_try_number)


def _try(
    sim: Simulator, dag_id: str, run_id: str, task_id: str, map_index: int, number: int
) -> dict[str, Any]:
    ti = sim.store.task_instances.get((dag_id, run_id, task_id, map_index))
    task = task_of(sim, ti) if ti is not None else None
    row = history.find(ti, task, sim.random.seed, number) if ti is not None else None
    if row is None:
        raise NotFound(
            "Task instance not found",
            detail=f"Task Instance not found for dag_id={dag_id}, run_id={run_id}, "
            f"task_id={task_id}, map_index={map_index}, try_number={number}.",
        )
    return dump_try(row, task)
