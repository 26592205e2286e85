"""What a JSON Schema cannot check in a scenario: DAG structure (through the
same parser the world uses), `use:` shapes, and references between parts
(pools, roles, DAGs, shapes) that must be defined."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from simulator.scenario.dags import DagDefinitionError, dag_from_dict, parse_instant
from simulator.scenario.documents import bundled_dir
from simulator.scenario.model import DEFAULT_START, Item
from simulator.scenario.problems import Problem, join_path
from simulator.scenario.shapes import OUTLETS, USE, ShapeError, apply_shape, load_shapes
from simulator.world import installation

if TYPE_CHECKING:
    from simulator.scenario.loader import Sourced

DEFAULT_POOL = "default_pool"
MAX_OCCURRENCES = 10_000  # windows of one repeating fault in a scenario's history
# Options the simulator itself acts on, so their values must make sense.
PAGE_LIMITS = ("maximum_page_limit", "fallback_page_limit")
CORS_OPTIONS = tuple(f"access_control_allow_{n}" for n in ("origins", "headers", "methods"))


@functools.cache
def shapes() -> dict[str, dict[str, Any]]:
    return load_shapes(bundled_dir("fixtures") / "shapes")


def checked_dag(item: Sourced, problems: list[Problem]) -> Item | None:
    """The full definition of a `dags` entry (a shape applied), if it parses."""
    definition = item.value
    if USE in definition:
        try:
            definition = apply_shape(shapes(), definition)
        except ShapeError as exc:
            problems.append(Problem(item.file, join_path(item.path, USE), str(exc)))
            return None
    elif OUTLETS in definition:
        problems.append(Problem(item.file, join_path(item.path, OUTLETS), "only with `use:`"))
        return None
    try:
        dag_from_dict(definition, "check")
    except DagDefinitionError as exc:
        problems.append(Problem(item.file, join_path(item.path, exc.path), exc.message))
        return None
    item.value = definition
    return definition


def check_references(
    items: Mapping[str, Mapping[Any, Sourced]],
    generate: Mapping[str, Any],
    generate_file: str,
    problems: list[Problem],
) -> None:
    pools = {DEFAULT_POOL, *(s.value["name"] for s in items["pools"].values())}
    connections = set(items["connections"])
    dag_ids = {s.value["dag_id"] for s in items["dags"].values()}
    security = installation()["security"]
    roles = {*(r["name"] for r in security["roles"]), *items["roles"]}
    for dag in items["dags"].values():
        for index, task in enumerate(dag.value.get("tasks") or []):
            pool, conn_id = task.get("pool", DEFAULT_POOL), task.get("conn_id")
            if pool not in pools:
                where = join_path(dag.path, "tasks", index, "pool")
                found = f"expected a pool defined under `pools`, found {pool!r}"
                problems.append(Problem(dag.file, where, found))
            if conn_id is not None and conn_id not in connections:
                where = join_path(dag.path, "tasks", index, "conn_id")
                found = f"expected a connection defined under `connections`, found {conn_id!r}"
                problems.append(Problem(dag.file, where, found))
    emails: dict[str, str] = {}
    for user in items["users"].values():
        email = user.value.get("email")
        if email is not None and emails.setdefault(email.lower(), user.path) != user.path:
            where = join_path(user.path, "email")
            taken = f"duplicate email {email!r} (also {emails[email.lower()]})"
            problems.append(Problem(user.file, where, taken))
        for index, role in enumerate(user.value.get("roles", [])):
            if role not in roles:
                where = join_path(user.path, "roles", index)
                problems.append(Problem(user.file, where, _expected("a role", roles, role)))
    for role in items["roles"].values():
        _check_permissions(role, security, dag_ids, problems)
    for warning in items["dag_warnings"].values():
        if warning.value["dag_id"] not in dag_ids:
            where = join_path(warning.path, "dag_id")
            found = warning.value["dag_id"]
            problems.append(
                Problem(warning.file, where, f"expected a DAG of `dags`, found {found!r}")
            )
    _check_timestamps(items, problems)
    _check_generate(generate, generate_file, problems)


def _expected(what: str, known: set[str], found: str) -> str:
    return f"expected {what} ({', '.join(sorted(known))}), found {found!r}"


def _check_permissions(
    role: Sourced, security: Mapping[str, Any], dag_ids: set[str], problems: list[Problem]
) -> None:
    actions, resources = set(security["actions"]), set(security["resources"])
    for index, (action, resource) in enumerate(role.value.get("permissions", [])):
        where = join_path(role.path, "permissions", index)
        if action not in actions:
            problems.append(Problem(role.file, where, _expected("an action", actions, action)))
        if resource not in resources and resource.removeprefix("DAG:") not in dag_ids:
            text = f"expected a resource or DAG:<dag_id> of a DAG here, found {resource!r}"
            problems.append(Problem(role.file, where, text))


def _check_timestamps(items: Mapping[str, Mapping[Any, Sourced]], problems: list[Problem]) -> None:
    for name in ("import_errors", "dag_warnings"):
        for item in items[name].values():
            checked_instant(
                item.value.get("timestamp"), item.file, f"{item.path}.timestamp", problems
            )


def checked_instant(value: Any, file: str, path: str, problems: list[Problem]) -> datetime | None:
    """The instant `value` stands for; None (and a problem) when it is not one."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        problems.append(Problem(file, path, f"expected a valid instant, found {value!r} ({exc})"))
        return None


def _check_generate(generate: Mapping[str, Any], file: str, problems: list[Problem]) -> None:
    spec = generate.get("dags", {})
    weights = spec.get("shapes", {})
    for name in weights:
        if name not in shapes():
            known = set(shapes())
            where = f"generate.dags.shapes.{name}"
            problems.append(Problem(file, where, _expected("a shape", known, name)))
    if weights and not any(weights.values()):
        found = "expected at least one shape with a positive weight, found none"
        problems.append(Problem(file, "generate.dags.shapes", found))
    checked_instant(spec.get("start_date"), file, "generate.dags.start_date", problems)


def check_config(
    config: Mapping[str, Mapping[str, Any]], file: str, problems: list[Problem]
) -> None:
    for key in PAGE_LIMITS:
        value = config.get("api", {}).get(key)
        if value is not None and not (str(value).isdigit() and int(value) > 0):
            found = f"expected a positive integer, found {value!r}"
            problems.append(Problem(file, f"config.api.{key}", found))
    for name in CORS_OPTIONS:  # sent as response headers: one line each
        value = str(config.get("api", {}).get(name, ""))
        if len(value) > 4096 or any(c in value for c in "\r\n\x00"):
            found = "expected one line of at most 4096 characters"
            problems.append(Problem(file, f"config.api.{name}", found))
    expose = config.get("webserver", {}).get("expose_config")
    if expose is not None and str(expose).lower() not in ("true", "false"):
        found = f"expected true or false, found {expose!r}"
        problems.append(Problem(file, "config.webserver.expose_config", found))


def check_faults(items: Iterable[Sourced], history: timedelta, problems: list[Problem]) -> None:
    """Each fault document as POST /_sim/faults would check it (instants
    relative to the start are checked against a fixed one), and windows that
    repeat at most MAX_OCCURRENCES times in the history (building it runs them)."""
    from simulator.faults.documents import FaultError, parse

    for item in items:
        try:
            fault = parse(item.value, DEFAULT_START, "f1")
        except FaultError as exc:
            problems.append(Problem(item.file, join_path(item.path, exc.path), exc.message))
            continue
        repeat = fault.window.repeat if fault.window is not None else None
        if repeat and history.total_seconds() / repeat > MAX_OCCURRENCES:
            problems.append(Problem(item.file, join_path(item.path, "repeat"), (
                f"expected at most {MAX_OCCURRENCES:,} windows in the history "
                f"({history.total_seconds() / repeat:,.0f} with this repeat)"
            )))  # fmt: skip
