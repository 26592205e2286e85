"""The registry of every place the simulator departs from the OpenAPI spec.

Real Airflow 2.5.3 wins over its own spec: where it answers differently, the
simulator answers as Airflow does and the departure is listed here (and in
the README, which a test keeps in step). Where Airflow 2.5.3 crashes with a
500, the simulator answers as later 2.x releases do, also listed here.

A quirk that makes responses differ from the spec carries a patch for the
copy of the spec that response validation uses; the served spec is untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]

AIRFLOW = "airflow"  # Airflow 2.5.3 departs from its spec; we do as Airflow does
LATER = "later-release"  # Airflow 2.5.3 crashes (500); we answer as later 2.x does
SIMULATOR = "simulator"  # a deliberate choice of the simulator


@dataclass(frozen=True, slots=True)
class Quirk:
    id: str
    kind: str
    operations: tuple[str, ...]
    summary: str
    patch: Callable[[Document], None] | None = None


def _schema(doc: Document, name: str) -> Document:
    return doc["components"]["schemas"][name]


def _nullable_problem_fields(doc: Document) -> None:
    props = _schema(doc, "Error")["properties"]
    props["title"]["nullable"] = True
    props["detail"]["nullable"] = True


def _dag_warnings_key(doc: Document) -> None:
    part = _schema(doc, "DagWarningCollection")["allOf"][0]["properties"]
    part["dag_warnings"] = copy.deepcopy(part["import_errors"])


def _fail_login_count(doc: Document) -> None:
    props = _schema(doc, "UserCollectionItem")["properties"]
    props["fail_login_count"] = {"type": "integer", "nullable": True, "readOnly": True}


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
    Quirk("created-200", AIRFLOW, ("*",), "Creates answer 200 with the object, never 201."),
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
    ),
    Quirk(
        "dag-warnings-key",
        AIRFLOW,
        ("get_dag_warnings",),
        "The collection key is `dag_warnings` (the spec says `import_errors`).",
        _dag_warnings_key,
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
    ),
    Quirk(
        "variables-list-values",
        AIRFLOW,
        ("get_variables",),
        "The variable collection includes each value (the spec prose says it does not).",
    ),
]


def response_document(document: Document) -> Document:
    """The spec as response validation sees it: Airflow's own answers are valid."""
    patched = copy.deepcopy(document)
    for quirk in QUIRKS:
        if quirk.patch is not None:
            quirk.patch(patched)
    return patched
