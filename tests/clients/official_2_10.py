"""The official apache-airflow-client 2.10 over every operation of the Airflow
2.10.5 API, against a live simulator serving that version.

This module needs the 2.10 client, which cannot share a virtualenv with the
2.5.1 client of the test extra: `make test` installs it apart (into
.venv/client-2.10, its pin in pyproject.toml's `client-2-10` extra) and
test_official_client_2_10.py runs this module in a process of its own with
that folder first on PYTHONPATH. Its name keeps it out of the main run's
collection. Each operation is called through the client's API classes and
its answer checked for values; the process writes the operationIds it called
to $CLIENT_2_10_REPORT, which the outer test compares with the 2.10.5 spec.
"""

# ruff: noqa: E402  (the imports follow the check of the client version)
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import airflow_client.client as client
import pytest

# The 2.10.0 wheel's __version__ reads "&quot;2.10.0&quot;": ask its metadata.
VERSION = metadata.version("apache-airflow-client")
if not VERSION.startswith("2.10."):
    reason = (
        f"needs apache-airflow-client 2.10, found {VERSION} in {client.__file__}: "
        "run through tests/clients/test_official_client_2_10.py"
    )
    if os.environ.get("CLIENT_2_10_REPORT"):
        raise ImportError(reason)
    pytest.skip(reason, allow_module_level=True)

from airflow_client.client.api.config_api import ConfigApi
from airflow_client.client.api.connection_api import ConnectionApi
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DAGRunApi
from airflow_client.client.api.dag_stats_api import DagStatsApi
from airflow_client.client.api.dag_warning_api import DagWarningApi
from airflow_client.client.api.dataset_api import DatasetApi
from airflow_client.client.api.event_log_api import EventLogApi
from airflow_client.client.api.import_error_api import ImportErrorApi
from airflow_client.client.api.monitoring_api import MonitoringApi
from airflow_client.client.api.permission_api import PermissionApi
from airflow_client.client.api.plugin_api import PluginApi
from airflow_client.client.api.pool_api import PoolApi
from airflow_client.client.api.provider_api import ProviderApi
from airflow_client.client.api.role_api import RoleApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api.user_api import UserApi
from airflow_client.client.api.variable_api import VariableApi
from airflow_client.client.api.x_com_api import XComApi
from airflow_client.client.exceptions import NotFoundException
from airflow_client.client.model.action import Action
from airflow_client.client.model.action_resource import ActionResource
from airflow_client.client.model.clear_dag_run import ClearDagRun
from airflow_client.client.model.clear_task_instances import ClearTaskInstances
from airflow_client.client.model.connection import Connection
from airflow_client.client.model.create_dataset_event import CreateDatasetEvent
from airflow_client.client.model.dag import DAG
from airflow_client.client.model.dag_run import DAGRun
from airflow_client.client.model.list_dag_runs_form import ListDagRunsForm
from airflow_client.client.model.list_task_instance_form import ListTaskInstanceForm
from airflow_client.client.model.pool import Pool
from airflow_client.client.model.resource import Resource
from airflow_client.client.model.role import Role
from airflow_client.client.model.set_dag_run_note import SetDagRunNote
from airflow_client.client.model.set_task_instance_note import SetTaskInstanceNote
from airflow_client.client.model.update_dag_run_state import UpdateDagRunState
from airflow_client.client.model.update_task_instance import UpdateTaskInstance
from airflow_client.client.model.update_task_instances_state import UpdateTaskInstancesState
from airflow_client.client.model.update_task_state import UpdateTaskState
from airflow_client.client.model.user import User
from airflow_client.client.model.user_collection_item_roles import UserCollectionItemRoles
from airflow_client.client.model.variable import Variable

from simulator.config import Settings
from simulator.testing.client import SimulatorClient
from simulator.testing.live import LiveServer, live_server

DATASET = "s3://warehouse/orders/cleaned.parquet"
BROKEN_FILE = "/opt/airflow/dags/broken_dag.py"
# The ci world plus what it lacks for some operations: an import error, a DAG
# warning, connection tests switched on (Airflow 2.10 has them off by default).
SCENARIO: dict[str, Any] = {
    "name": "client_2_10",
    "include": ["ci"],
    "import_errors": [
        {
            "filename": BROKEN_FILE,
            "stack_trace": "Traceback (most recent call last):\n"
            f'  File "{BROKEN_FILE}", line 3, in <module>\n'
            "    import missing_module\n"
            "ModuleNotFoundError: No module named 'missing_module'\n",
        }
    ],
    "dag_warnings": [
        {
            "dag_id": "etl_orders",
            "warning_type": "non-existent pool",
            "message": "Dag 'etl_orders' references non-existent pools: ['warehouse']",
        }
    ],
    "config": {"core": {"test_connection": "Enabled"}},
}
SETTINGS = Settings(
    scenario=SCENARIO,
    airflow_version="2.10.5",
    validate_responses=True,
    expose_config=True,
    password_hash_iterations=1000,
)
CALLED: set[str] = set()  # operationIds the simulator answered, from its journal


@pytest.fixture(scope="module")
def _server() -> Iterator[LiveServer]:
    with live_server(SETTINGS) as server:
        yield server
    report = os.environ.get("CLIENT_2_10_REPORT")
    if report:
        Path(report).write_text(json.dumps(sorted(CALLED)))


@pytest.fixture
def control(_server: LiveServer) -> Iterator[SimulatorClient]:
    """The control API of a world reset for the test; the operations the test
    called are read from the journal afterwards."""
    sim = SimulatorClient(_server.root)
    sim.reset()
    yield sim
    offset = 0
    while True:
        page = sim.requests(limit=100, offset=offset)
        CALLED.update(entry["operation_id"] for entry in page if entry["operation_id"])
        if len(page) < 100:
            break
        offset += 100


@pytest.fixture
def api(_server: LiveServer, control: SimulatorClient) -> Iterator[client.ApiClient]:
    configuration = client.Configuration(host=_server.url, username="admin", password="admin")
    with client.ApiClient(configuration) as api_client:
        yield api_client


def trigger(api: client.ApiClient, dag_id: str, run_id: str, **fields: Any) -> DAGRun:
    return DAGRunApi(api).post_dag_run(dag_id, DAGRun(dag_run_id=run_id, **fields))


def finish(control: SimulatorClient, dag_id: str, run_id: str) -> None:
    control.advance(until_dag_run={"dag_id": dag_id, "dag_run_id": run_id})


def now(control: SimulatorClient) -> datetime:
    return datetime.fromisoformat(control.clock()["now"])


# -- monitoring, config, plugins, providers -------------------------------------


def test_monitoring(api: client.ApiClient) -> None:
    monitoring = MonitoringApi(api)
    version = monitoring.get_version()
    assert (version.version, version.git_version) == (
        "2.10.5",
        ".release:b93c3db6b1641b0840bd15ac7d05bc58ff2cccbf",
    )
    health = monitoring.get_health()
    assert health.metadatabase.status.value == "healthy"
    assert health.scheduler.status.value == "healthy"
    assert health.triggerer.status.value == "healthy"  # a component 2.10 reports


def test_config(api: client.ApiClient) -> None:
    config = ConfigApi(api)
    sections = {section.name: section for section in config.get_config().sections}
    assert {"core", "webserver", "scheduler"} <= set(sections)
    core = {option.key: option.value for option in sections["core"].options}
    assert core["dags_folder"] == "/opt/airflow/dags"
    value = config.get_value("core", "parallelism")
    assert [(s.name, [(o.key, o.value) for o in s.options]) for s in value.sections] == [
        ("core", [("parallelism", "32")])
    ]


def test_plugins_and_providers(api: client.ApiClient) -> None:
    plugins = PluginApi(api).get_plugins()
    assert plugins.total_entries == len(plugins.plugins)
    providers = ProviderApi(api).get_providers()
    packages = {provider["package_name"] for provider in providers["providers"]}
    assert "apache-airflow-providers-http" in packages
    assert providers["total_entries"] == len(providers["providers"])


# -- connections, variables, pools -----------------------------------------------


def test_connections(api: client.ApiClient) -> None:
    connections = ConnectionApi(api)
    created = connections.post_connection(
        Connection(connection_id="partner", conn_type="http", host="api.example.com", port=443)
    )
    assert (created.connection_id, created.conn_type, created.host) == (
        "partner",
        "http",
        "api.example.com",
    )
    patched = connections.patch_connection(
        "partner",
        Connection(connection_id="partner", conn_type="http", host="api2.example.com"),
        update_mask=["host"],
    )
    assert (patched.host, patched.port) == ("api2.example.com", 443)
    assert connections.get_connection("partner").host == "api2.example.com"
    listing = connections.get_connections(order_by="connection_id")
    assert "partner" in [c.connection_id for c in listing.connections]
    tested = connections.test_connection(
        Connection(connection_id="probe", conn_type="http", host="api.example.com")
    )
    assert (tested.status, tested.message) == (True, "Connection successfully tested")
    connections.delete_connection("partner")
    with pytest.raises(NotFoundException):
        connections.get_connection("partner")


def test_variables(api: client.ApiClient) -> None:
    variables = VariableApi(api)
    created = variables.post_variables(
        Variable(key="batch_size", value="500", description="rows per batch")
    )
    assert (created.key, created.value, created.description) == (
        "batch_size",
        "500",
        "rows per batch",
    )
    # Without update_mask: Airflow 2.10 checks a mask against the loaded
    # fields, where the value is `val`, so update_mask=value is a 400.
    patched = variables.patch_variable("batch_size", Variable(key="batch_size", value="800"))
    # A body without a description leaves the stored one.
    assert (patched.value, patched.description) == ("800", "rows per batch")
    assert variables.get_variable("batch_size").value == "800"
    keys = [v.key for v in variables.get_variables(limit=100).variables]
    assert "batch_size" in keys
    variables.delete_variable("batch_size")
    with pytest.raises(NotFoundException):
        variables.get_variable("batch_size")


def test_pools(api: client.ApiClient) -> None:
    pools = PoolApi(api)
    created = pools.post_pool(Pool(name="gpu", slots=4, description="GPU nodes"))
    assert (created.name, created.slots, created.open_slots, created.occupied_slots) == (
        "gpu",
        4,
        4,
        0,
    )
    assert created.include_deferred is False  # a 2.10 field
    patched = pools.patch_pool("gpu", Pool(name="gpu", slots=8), update_mask=["slots"])
    assert patched.slots == 8
    assert pools.get_pool("gpu").open_slots == 8
    assert pools.get_pools(order_by="-name").pools[0].name == "gpu"
    pools.delete_pool("gpu")
    with pytest.raises(NotFoundException):
        pools.get_pool("gpu")


# -- users, roles, permissions ----------------------------------------------------


def test_roles_and_permissions(api: client.ApiClient) -> None:
    roles = RoleApi(api)
    actions = PermissionApi(api).get_permissions(limit=100)
    assert {"can_read", "can_edit"} <= {a.name for a in actions.actions}
    read_pools = ActionResource(action=Action(name="can_read"), resource=Resource(name="Pools"))
    roles.post_role(Role(name="PoolReader", actions=[read_pools]), _check_return_type=False)
    role = roles.get_role("PoolReader")
    assert [(a.action.name, a.resource.name) for a in role.actions] == [("can_read", "Pools")]
    renamed = roles.patch_role(
        "PoolReader", Role(name="PoolViewer", actions=[read_pools]), update_mask=["name"]
    )
    assert renamed.name == "PoolViewer"
    assert "PoolViewer" in [r.name for r in roles.get_roles(limit=100).roles]
    roles.delete_role("PoolViewer")
    with pytest.raises(NotFoundException):
        roles.get_role("PoolViewer")


def test_users(api: client.ApiClient) -> None:
    users = UserApi(api)
    created = users.post_user(
        User(
            username="dana",
            password="dana-pass",
            first_name="Dana",
            last_name="Scully",
            email="dana@example.com",
            roles=[UserCollectionItemRoles(name="Viewer")],
        )
    )
    assert (created.username, [r.name for r in created.roles]) == ("dana", ["Viewer"])
    # The body is loaded whole (username, first_name, last_name, email required).
    patched = users.patch_user(
        "dana",
        User(username="dana", first_name="Dana", last_name="Mulder", email="dana@example.com"),
        update_mask=["last_name"],
    )
    assert patched.last_name == "Mulder"
    assert users.get_user("dana").email == "dana@example.com"
    assert "dana" in [u.username for u in users.get_users(limit=100).users]
    users.delete_user("dana")
    with pytest.raises(NotFoundException):
        users.get_user("dana")


# -- DAGs, tasks, sources, stats ------------------------------------------------------


def test_dags(api: client.ApiClient) -> None:
    dags = DAGApi(api)
    listing = dags.get_dags(tags=["maintenance"], order_by="dag_id")
    assert [d.dag_id for d in listing.dags] == [
        "legacy_cleanup",
        "manual_backfill_tool",
        "refresh_reference_data",
    ]
    assert dags.get_dags(paused=True).total_entries == 1  # a 2.10 filter: legacy_cleanup
    dag = dags.get_dag("etl_orders")
    assert (dag.dag_id, dag.is_paused, dag.owners) == ("etl_orders", False, ["data-eng"])
    details = dags.get_dag_details("etl_orders")
    assert details.catchup is False
    assert details.params["full_refresh"]["value"] is False
    paused = dags.patch_dag("etl_orders", DAG(is_paused=True), update_mask=["is_paused"])
    assert paused.is_paused is True
    batch = dags.patch_dags("orders_dataset_%", DAG(is_paused=True), update_mask=["is_paused"])
    assert sorted(d.dag_id for d in batch.dags) == [
        "orders_dataset_consumer",
        "orders_dataset_producer",
    ]
    assert all(d.is_paused for d in batch.dags)
    tasks = dags.get_tasks("etl_orders", order_by="task_id")
    assert [t.task_id for t in tasks.tasks] == [
        "extract_customers",
        "extract_orders",
        "load_warehouse",
        "notify",
        "transform",
    ]
    task = dags.get_task("etl_orders", "transform")
    assert (task.task_id, sorted(task.downstream_task_ids)) == ("transform", ["load_warehouse"])
    source = dags.get_dag_source(dag.file_token)
    assert "etl_orders" in source.content
    assert dags.reparse_dag_file(dag.file_token) is None  # 201, no body
    dags.delete_dag("legacy_cleanup")
    with pytest.raises(NotFoundException):
        dags.get_dag("legacy_cleanup")


def test_dag_stats(api: client.ApiClient, control: SimulatorClient) -> None:
    trigger(api, "etl_orders", "stats-run")
    finish(control, "etl_orders", "stats-run")
    runs = DAGRunApi(api).get_dag_runs("etl_orders").dag_runs
    counts = Counter(run.state.value for run in runs)
    stats = DagStatsApi(api).get_dag_stats("manual_backfill_tool,etl_orders,unknown_dag")
    assert stats.total_entries == 2
    by_dag = {d.dag_id: {s.state: s.count for s in d.stats} for d in stats.dags}
    assert sorted(by_dag) == ["etl_orders", "manual_backfill_tool"]  # Airflow iterates a set
    states = ["queued", "running", "success", "failed"]
    assert [list(stat) for stat in by_dag.values()] == [states, states]
    assert by_dag["etl_orders"] == {state: counts.get(state, 0) for state in states}
    assert by_dag["etl_orders"]["success"] >= 1
    assert by_dag["manual_backfill_tool"] == dict.fromkeys(states, 0)


# -- DAG runs -------------------------------------------------------------------------


def test_dag_runs(api: client.ApiClient, control: SimulatorClient) -> None:
    runs = DAGRunApi(api)
    created = trigger(api, "manual_backfill_tool", "by-hand", conf={"reason": "rerun"})
    assert (created.dag_run_id, created.state.value, created.conf) == (
        "by-hand",
        "queued",
        {"reason": "rerun"},
    )
    triggered_at = now(control)
    finish(control, "manual_backfill_tool", "by-hand")
    ended_at = now(control)
    run = runs.get_dag_run("manual_backfill_tool", "by-hand")
    assert run.state.value == "success"
    assert run.end_date == ended_at
    # updated_at filters (2.10): the run changed last when it ended.
    assert [
        r.dag_run_id
        for r in runs.get_dag_runs("manual_backfill_tool", updated_at_gte=ended_at).dag_runs
    ] == ["by-hand"]
    assert (
        runs.get_dag_runs(
            "manual_backfill_tool", updated_at_lte=triggered_at - timedelta(seconds=1)
        ).dag_runs
        == []
    )
    batch = runs.get_dag_runs_batch(
        ListDagRunsForm(dag_ids=["manual_backfill_tool"], states=["success"])
    )
    assert [(r.dag_id, r.dag_run_id) for r in batch.dag_runs] == [
        ("manual_backfill_tool", "by-hand")
    ]
    noted = runs.set_dag_run_note("manual_backfill_tool", "by-hand", SetDagRunNote(note="checked"))
    assert noted.note == "checked"
    failed = runs.update_dag_run_state(
        "manual_backfill_tool", "by-hand", UpdateDagRunState(state="failed")
    )
    assert failed.state.value == "failed"
    cleared = runs.clear_dag_run(
        "manual_backfill_tool", "by-hand", ClearDagRun(dry_run=True), _check_return_type=False
    )
    assert [ti["task_id"] for ti in cleared["task_instances"]] == ["reprocess"]
    assert runs.get_upstream_dataset_events("manual_backfill_tool", "by-hand").total_entries == 0
    runs.delete_dag_run("manual_backfill_tool", "by-hand")
    with pytest.raises(NotFoundException):
        runs.get_dag_run("manual_backfill_tool", "by-hand")


# -- task instances ----------------------------------------------------------------------


def test_task_instances(api: client.ApiClient, control: SimulatorClient) -> None:
    tis = TaskInstanceApi(api)
    trigger(api, "refresh_reference_data", "ref-1")
    started_at = now(control)
    finish(control, "refresh_reference_data", "ref-1")
    listing = tis.get_task_instances("refresh_reference_data", "ref-1")
    states = {ti.task_id: ti.state.value for ti in listing.task_instances}
    assert set(states) == {"download_rates", "load_reference_tables"}
    assert (
        tis.get_task_instances(
            "refresh_reference_data", "ref-1", updated_at_lte=started_at - timedelta(seconds=1)
        ).total_entries
        == 0
    )
    one = tis.get_task_instance("refresh_reference_data", "ref-1", "download_rates")
    assert (one.task_id, one.dag_run_id, one.map_index) == ("download_rates", "ref-1", -1)
    # The batch with task_ids and dag_run_ids (2.10), as dagster-airlift posts it.
    batch = tis.get_task_instances_batch(
        ListTaskInstanceForm(
            dag_ids=["refresh_reference_data"],
            dag_run_ids=["ref-1"],
            task_ids=["load_reference_tables"],
        )
    )
    assert [(ti.task_id, ti.dag_run_id) for ti in batch.task_instances] == [
        ("load_reference_tables", "ref-1")
    ]
    noted = tis.set_task_instance_note(
        "refresh_reference_data", "ref-1", "download_rates", SetTaskInstanceNote(note="slow")
    )
    assert noted.note == "slow"
    patched = tis.patch_task_instance(
        "refresh_reference_data",
        "ref-1",
        "download_rates",
        UpdateTaskInstance(dry_run=True, new_state=UpdateTaskState("failed")),
    )
    assert (patched.task_id, patched.dag_run_id) == ("download_rates", "ref-1")
    assert tis.get_extra_links("refresh_reference_data", "ref-1", "download_rates") is not None
    log = tis.get_log("refresh_reference_data", "ref-1", "download_rates", 1, full_content=True)
    assert "download_rates" in log.content
    deps = tis.get_task_instance_dependencies("refresh_reference_data", "ref-1", "download_rates")
    assert deps.dependencies == []  # finished: nothing holds it
    tries = tis.get_task_instance_tries("refresh_reference_data", "ref-1", "download_rates")
    assert [t.try_number for t in tries.task_instances] == [1]
    detail = tis.get_task_instance_try_details(
        "refresh_reference_data", "ref-1", "download_rates", 1
    )
    assert (detail.task_id, detail.try_number, detail.state.value) == (
        "download_rates",
        1,
        states["download_rates"],
    )


def test_retried_task_tries(api: client.ApiClient, control: SimulatorClient) -> None:
    """flaky_api_sync's fetch_records fails its first try: two tries, the
    first failed, kept in the task instance history."""
    tis = TaskInstanceApi(api)
    trigger(api, "flaky_api_sync", "flaky-1")
    finish(control, "flaky_api_sync", "flaky-1")
    tries = tis.get_task_instance_tries("flaky_api_sync", "flaky-1", "fetch_records")
    numbers = [t.try_number for t in tries.task_instances]
    assert numbers[:2] == [1, 2]
    assert tries.total_entries == len(numbers)
    first = tis.get_task_instance_try_details("flaky_api_sync", "flaky-1", "fetch_records", 1)
    assert first.state.value == "failed"


def test_mapped_task_instances(api: client.ApiClient, control: SimulatorClient) -> None:
    tis = TaskInstanceApi(api)
    trigger(api, "fan_out_fan_in", "fan-1")
    finish(control, "fan_out_fan_in", "fan-1")
    mapped = tis.get_mapped_task_instances("fan_out_fan_in", "fan-1", "process_file")
    assert [ti.map_index for ti in mapped.task_instances] == [0, 1, 2, 3]
    second = tis.get_mapped_task_instance("fan_out_fan_in", "fan-1", "process_file", 1)
    assert (second.task_id, second.map_index) == ("process_file", 1)
    noted = tis.set_mapped_task_instance_note(
        "fan_out_fan_in", "fan-1", "process_file", 1, SetTaskInstanceNote(note="big file")
    )
    assert (noted.map_index, noted.note) == (1, "big file")
    patched = tis.patch_mapped_task_instance(
        "fan_out_fan_in",
        "fan-1",
        "process_file",
        1,
        update_task_instance=UpdateTaskInstance(dry_run=True, new_state=UpdateTaskState("success")),
    )
    assert (patched.task_id, patched.dag_run_id) == ("process_file", "fan-1")
    deps = tis.get_mapped_task_instance_dependencies("fan_out_fan_in", "fan-1", "process_file", 1)
    assert deps.dependencies == []
    tries = tis.get_mapped_task_instance_tries("fan_out_fan_in", "fan-1", "process_file", 1)
    assert [(t.map_index, t.try_number) for t in tries.task_instances] == [(1, 1)]
    detail = tis.get_mapped_task_instance_try_details(
        "fan_out_fan_in", "fan-1", "process_file", 1, 1
    )
    assert (detail.map_index, detail.try_number) == (1, 1)
    # XComs: list_files pushes file_count.
    entries = XComApi(api).get_xcom_entries("fan_out_fan_in", "fan-1", "list_files")
    assert "file_count" in [e.key for e in entries.xcom_entries]
    entry = XComApi(api).get_xcom_entry(
        "fan_out_fan_in", "fan-1", "list_files", "file_count", _check_return_type=False
    )
    assert (entry["key"], entry["task_id"]) == ("file_count", "list_files")


def test_waiting_task_dependencies(api: client.ApiClient) -> None:
    """A run just queued: the downstream task is held by its trigger rule."""
    trigger(api, "refresh_reference_data", "ref-2")
    deps = TaskInstanceApi(api).get_task_instance_dependencies(
        "refresh_reference_data", "ref-2", "load_reference_tables"
    )
    assert deps.dependencies, "a task whose upstream has not run has unmet dependencies"
    assert all(d.name and d.reason for d in deps.dependencies)


def test_clear_and_set_state(api: client.ApiClient, control: SimulatorClient) -> None:
    dags = DAGApi(api)
    trigger(api, "refresh_reference_data", "ref-3")
    finish(control, "refresh_reference_data", "ref-3")
    cleared = dags.post_clear_task_instances(
        "refresh_reference_data",
        ClearTaskInstances(
            dry_run=True, only_failed=False, dag_run_id="ref-3", task_ids=["download_rates"]
        ),
    )
    assert [ti.task_id for ti in cleared.task_instances] == ["download_rates"]
    marked = dags.post_set_task_instances_state(
        "refresh_reference_data",
        UpdateTaskInstancesState(
            dry_run=True,
            dag_run_id="ref-3",
            task_id="load_reference_tables",
            new_state=UpdateTaskState("failed"),
            # Airflow's schema requires them, though the spec does not.
            include_upstream=False,
            include_downstream=False,
            include_future=False,
            include_past=False,
        ),
    )
    assert [(ti.task_id, ti.dag_run_id) for ti in marked.task_instances] == [
        ("load_reference_tables", "ref-3")
    ]


# -- datasets and their queues ----------------------------------------------------------


def test_datasets(api: client.ApiClient, control: SimulatorClient) -> None:
    datasets = DatasetApi(api)
    listing = datasets.get_datasets()
    assert [d.uri for d in listing.datasets] == [DATASET]
    dataset = datasets.get_dataset(DATASET)
    assert [d.dag_id for d in dataset.consuming_dags] == ["orders_dataset_consumer"]
    assert [t.dag_id for t in dataset.producing_tasks] == ["orders_dataset_producer"]
    event = datasets.create_dataset_event(
        CreateDatasetEvent(dataset_uri=DATASET, extra={"rows": 12})
    )
    assert (event.dataset_uri, event.extra) == (DATASET, {"rows": 12, "from_rest_api": True})
    events = datasets.get_dataset_events(dataset_id=dataset.id)
    assert [e.id for e in events.dataset_events] == [event.id]
    # The consumer is unpaused (2.10 queues no paused DAG) and the clock is
    # frozen: its queue row waits for the next scheduler loop, so the queue
    # can be read and emptied.
    queued = datasets.get_dag_dataset_queued_event("orders_dataset_consumer", DATASET)
    assert (queued.uri, queued.dag_id) == (DATASET, "orders_dataset_consumer")
    per_dag = datasets.get_dag_dataset_queued_events("orders_dataset_consumer")
    # Airflow's key is `queued_events`, not the spec's `datasets`: the client
    # keeps it as the plain JSON it received.
    assert [(q["uri"], q["dag_id"]) for q in per_dag.queued_events] == [
        (DATASET, "orders_dataset_consumer")
    ]
    per_uri = datasets.get_dataset_queued_events(DATASET)
    assert per_uri.total_entries == 1
    datasets.delete_dag_dataset_queued_event("orders_dataset_consumer", DATASET)
    with pytest.raises(NotFoundException):
        datasets.get_dag_dataset_queued_event("orders_dataset_consumer", DATASET)
    datasets.create_dataset_event(CreateDatasetEvent(dataset_uri=DATASET))
    datasets.delete_dag_dataset_queued_events("orders_dataset_consumer")
    datasets.create_dataset_event(CreateDatasetEvent(dataset_uri=DATASET))
    datasets.delete_dataset_queued_events(DATASET)
    with pytest.raises(NotFoundException):
        datasets.get_dataset_queued_events(DATASET)


# -- event logs, import errors, DAG warnings ----------------------------------------------


def test_event_logs(api: client.ApiClient) -> None:
    events = EventLogApi(api)
    DAGApi(api).patch_dag("etl_orders", DAG(is_paused=True), update_mask=["is_paused"])
    # The dag_id filter is new in 2.10.
    listing = events.get_event_logs(dag_id="etl_orders", order_by="-event_log_id")
    assert listing.total_entries == len(listing.event_logs) > 0
    assert {log.dag_id for log in listing.event_logs} == {"etl_orders"}
    latest = listing.event_logs[0]
    assert latest.owner == "admin"
    one = events.get_event_log(latest.event_log_id)
    assert (one.event, one.dag_id, one.when) == (latest.event, "etl_orders", latest.when)


def test_import_errors_and_warnings(api: client.ApiClient) -> None:
    errors = ImportErrorApi(api)
    listing = errors.get_import_errors()
    assert [e.filename for e in listing.import_errors] == [BROKEN_FILE]
    one = errors.get_import_error(listing.import_errors[0].import_error_id)
    assert one.stack_trace.endswith("No module named 'missing_module'\n")
    warnings = DagWarningApi(api).get_dag_warnings(dag_id="etl_orders")
    # The 2.10 client's model still names the list import_errors (the spec
    # before 2.10): Airflow's dag_warnings come as an additional property.
    assert [(w["dag_id"], w["warning_type"]) for w in warnings["dag_warnings"]] == [
        ("etl_orders", "non-existent pool")
    ]
