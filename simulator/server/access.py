"""The permissions each operation requires (all of them: AND), per version:
REQUIRED is Airflow 2.5.3's table; `required(version)` is the served one.

An operation missing here needs no authentication at all (health, version).
"""

from __future__ import annotations

from simulator.state.security import Permission
from simulator.versions import V2_5, V2_10

R, E, C, D = "can_read", "can_edit", "can_create", "can_delete"
DAGS, RUNS, TIS = "DAGs", "DAG Runs", "Task Instances"


def _crud(
    resource: str, read: list[str], create: str, edit: str, delete: str
) -> dict[str, tuple[Permission, ...]]:
    table: dict[str, tuple[Permission, ...]] = {op: ((R, resource),) for op in read}
    table[create] = ((C, resource),)
    table[edit] = ((E, resource),)
    table[delete] = ((D, resource),)
    return table


REQUIRED: dict[str, tuple[Permission, ...]] = {
    "get_config": ((R, "Configurations"),),
    **_crud(
        "Connections",
        ["get_connections", "get_connection"],
        "post_connection",
        "patch_connection",
        "delete_connection",
    ),
    # Airflow checks can_create for the connection test.
    "test_connection": ((C, "Connections"),),
    **_crud("Pools", ["get_pools", "get_pool"], "post_pool", "patch_pool", "delete_pool"),
    **_crud(
        "Variables",
        ["get_variables", "get_variable"],
        "post_variables",
        "patch_variable",
        "delete_variable",
    ),
    **_crud("Roles", ["get_roles", "get_role"], "post_role", "patch_role", "delete_role"),
    **_crud("Users", ["get_users", "get_user"], "post_user", "patch_user", "delete_user"),
    "get_permissions": ((R, "Permissions"),),
    "get_providers": ((R, "Providers"),),
    "get_plugins": ((R, "Plugins"),),
    "get_event_logs": ((R, "Audit Logs"),),
    "get_event_log": ((R, "Audit Logs"),),
    "get_import_errors": ((R, "ImportError"),),
    "get_import_error": ((R, "ImportError"),),
    "get_dag_warnings": ((R, "DAG Warnings"),),
    "get_datasets": ((R, "Datasets"),),
    "get_dataset": ((R, "Datasets"),),
    "get_dataset_events": ((R, "Datasets"),),
    "get_dag_source": ((R, "DAG Code"),),
    "get_dags": ((R, DAGS),),
    "get_dag": ((R, DAGS),),
    "get_dag_details": ((R, DAGS),),
    "patch_dag": ((E, DAGS),),
    "patch_dags": ((E, DAGS),),
    "delete_dag": ((D, DAGS),),
    "get_tasks": ((R, DAGS), (R, TIS)),
    "get_task": ((R, DAGS), (R, TIS)),
    "get_dag_runs": ((R, DAGS), (R, RUNS)),
    "get_dag_run": ((R, DAGS), (R, RUNS)),
    "get_dag_runs_batch": ((R, DAGS), (R, RUNS)),
    "get_upstream_dataset_events": ((R, DAGS), (R, RUNS), (R, "Datasets")),
    # Triggering and deleting runs need can_edit on the DAG, not can_read.
    "post_dag_run": ((E, DAGS), (C, RUNS)),
    "delete_dag_run": ((E, DAGS), (D, RUNS)),
    "update_dag_run_state": ((R, DAGS), (E, RUNS)),
    "clear_dag_run": ((R, DAGS), (E, RUNS)),
    "set_dag_run_note": ((R, DAGS), (E, RUNS)),
    **{
        op: ((R, DAGS), (R, RUNS), (R, TIS))
        for op in (
            "get_task_instance",
            "get_task_instances",
            "get_mapped_task_instance",
            "get_mapped_task_instances",
            "get_task_instances_batch",
            "get_extra_links",
            "get_log",
        )
    },
    **{
        op: ((E, DAGS), (R, RUNS), (E, TIS))
        for op in (
            "post_clear_task_instances",
            "post_set_task_instances_state",
            "patch_task_instance",
            "patch_mapped_task_instance",
        )
    },
    "set_task_instance_note": ((E, DAGS), (R, RUNS), (R, DAGS), (E, TIS)),
    "set_mapped_task_instance_note": ((E, DAGS), (R, RUNS), (R, DAGS), (E, TIS)),
    "get_xcom_entries": ((R, DAGS), (R, RUNS), (R, TIS), (R, "XComs")),
    "get_xcom_entry": ((R, DAGS), (R, RUNS), (R, TIS), (R, "XComs")),
}

# Airflow 2.10.5's auth manager maps each `requires_access_dag(method,
# entity)` to the DAG (read for GET, else edit) and the entity's resources
# (a task instance's are its run's and its own), the method's action on each.
RUN_EDITS = ("update_dag_run_state", "clear_dag_run", "set_dag_run_note")
TI_EDITS = (
    "post_clear_task_instances",
    "post_set_task_instances_state",
    "patch_task_instance",
    "patch_mapped_task_instance",
    "set_task_instance_note",
    "set_mapped_task_instance_note",
)
CHANGED_2_10: dict[str, tuple[Permission, ...]] = {
    **dict.fromkeys(RUN_EDITS, ((E, DAGS), (E, RUNS))),
    **dict.fromkeys(TI_EDITS, ((E, DAGS), (E, RUNS), (E, TIS))),
    "get_dag_source": ((R, DAGS), (R, "DAG Code")),
    "get_log": ((R, DAGS), (R, "Task Logs")),
    "get_xcom_entries": ((R, DAGS), (R, "XComs")),
    "get_xcom_entry": ((R, DAGS), (R, "XComs")),
    "get_dag_warnings": ((R, DAGS), (R, "DAG Warnings")),
    "get_event_logs": ((R, DAGS), (R, "Audit Logs")),
    "get_event_log": ((R, DAGS), (R, "Audit Logs")),
}
ADDED_2_10: dict[str, tuple[Permission, ...]] = {
    **{
        op: ((R, DAGS), (R, RUNS), (R, TIS))
        for op in (
            "get_task_instance_dependencies",
            "get_mapped_task_instance_dependencies",
            "get_task_instance_tries",
            "get_mapped_task_instance_tries",
            "get_task_instance_try_details",
            "get_mapped_task_instance_try_details",
        )
    },
    "get_dag_stats": ((R, DAGS), (R, RUNS)),
    "reparse_dag_file": ((E, DAGS),),
    "get_value": ((R, "Configurations"),),
    "get_dag_dataset_queued_event": ((R, "Datasets"), (R, DAGS)),
    "get_dag_dataset_queued_events": ((R, "Datasets"), (R, DAGS)),
    "delete_dag_dataset_queued_event": ((D, "Datasets"), (R, DAGS)),
    "delete_dag_dataset_queued_events": ((D, "Datasets"), (R, DAGS)),
    "get_dataset_queued_events": ((R, "Datasets"),),
    "delete_dataset_queued_events": ((D, "Datasets"),),
    "create_dataset_event": ((C, "Datasets"),),
}
BY_VERSION = {V2_5.name: REQUIRED, V2_10.name: {**REQUIRED, **CHANGED_2_10, **ADDED_2_10}}

PUBLIC = frozenset({"get_health", "get_version"})


def required(version: str, operation_id: str, dag_id: str | None) -> tuple[Permission, ...]:
    """What `operation_id` requires of the user. In 2.10.5 an entity's check
    names the DAG only when the path does: without one (or with `~`) only
    the entity's resources are checked."""
    needed = BY_VERSION[version].get(operation_id, ())
    if version == V2_5.name or (dag_id not in (None, "~")) or len(needed) < 2:
        return needed
    entity = tuple(p for p in needed if p[1] != DAGS)
    return entity or needed
