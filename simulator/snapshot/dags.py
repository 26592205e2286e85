"""DAGs in a snapshot: each one's definition (what its file declares, as a
scenario writes it: fields left at their defaults are left out) and its
state (the DagModel columns the scheduler and the API change). Definitions
are read back as a scenario's are: the scenario's JSON Schema, then the
DAG parser (so a DAG added after the world was built restores too).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from jsonschema import Draft202012Validator

from simulator.scenario.dags import (
    DAG_FIELDS,
    DAGS_FOLDER,
    DEFAULT_ARGS,
    TASK_FIELDS,
    DagDefinitionError,
    dag_from_dict,
)
from simulator.scenario.loader import schema
from simulator.scenario.shapes import copy_data
from simulator.snapshot.codec import Instants
from simulator.snapshot.reading import SnapshotError, array, integer, join, mapping
from simulator.snapshot.tables import KINDS
from simulator.state.dag_model import CRON, DATASETS, DELTA, ONCE, Dag, Schedule, Task
from simulator.state.store import Store

# The state of a DAG, beside its definition.
STATE = (
    ("is_paused", "bool"),
    ("is_active", "bool"),
    ("last_parsed_time", "instant?"),
    ("has_import_errors", "bool"),
    ("next_dagrun", "instant?"),
    ("next_dagrun_data_interval_start", "instant?"),
    ("next_dagrun_data_interval_end", "instant?"),
    ("next_dagrun_create_after", "instant?"),
)
COLUMNS = ["id", "definition", *(name for name, _ in STATE)]
# Definition fields written as they are (schedule, dates, tasks and the file are not).
PLAIN = [
    f.name
    for f in dataclasses.fields(Dag)
    if f.name in DAG_FIELDS
    and f.name
    not in (
        "dag_id",
        "schedule",
        "start_date",
        "end_date",
        "tasks",
        "fileloc",
        "is_paused",
        *DEFAULT_ARGS,
    )
]
TASK_PLAIN = [f.name for f in dataclasses.fields(Task) if f.name in TASK_FIELDS]


def _defaults(cls: type) -> dict[str, Any]:
    found = {}
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            found[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            found[field.name] = field.default_factory()
    return found


DAG_DEFAULTS, TASK_DEFAULTS = _defaults(Dag), _defaults(Task)


def definition(dag: Dag) -> dict[str, Any]:
    """The DAG as a scenario defines it: dag_from_dict(definition(dag)) is the DAG."""
    found: dict[str, Any] = {"dag_id": dag.dag_id}
    if dag.fileloc != f"{DAGS_FOLDER}/{dag.dag_id}.py":
        found["fileloc"] = dag.fileloc
    schedule = _schedule(dag.schedule)
    if schedule is not None:
        found["schedule"] = schedule
    for name in ("start_date", "end_date"):
        moment = getattr(dag, name)
        if moment is not None:
            found[name] = moment.isoformat()
    found.update(_changed(dag, PLAIN, DAG_DEFAULTS))
    found["tasks"] = [_changed(task, TASK_PLAIN, TASK_DEFAULTS) for task in dag.tasks.values()]
    return found


def _changed(entity: object, names: list[str], defaults: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for name in names:
        value = getattr(entity, name)
        if name not in defaults or value != defaults[name]:
            found[name] = copy_data(value)
    return found


def _schedule(schedule: Schedule) -> Any:
    if schedule.kind == DELTA:
        return {"timedelta": schedule.value}
    if schedule.kind == DATASETS:
        return {"datasets": list(schedule.value)}
    return schedule.value if schedule.kind in (CRON, ONCE) else None


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator({"$ref": "#/$defs/dag", "$defs": schema()["$defs"]})


def build(node: object, path: str, secret_key: str) -> Dag:
    """The DAG a definition describes, checked as a scenario's DAG is."""
    validator = _validator()
    if not validator.is_valid(node):
        error = next(iter(validator.iter_errors(node)))
        where = path
        for part in error.absolute_path:
            where = join(where, part)
        raise SnapshotError(where, error.message)
    assert isinstance(node, dict)
    try:
        return dag_from_dict(copy_data(node), secret_key)
    except DagDefinitionError as exc:
        raise SnapshotError(join(path, exc.path) if exc.path else path, exc.message) from None


def dump(store: Store) -> dict[str, Any]:
    writers = [(name, KINDS[kind][0]) for name, kind in STATE]
    rows = [
        [dag.id, definition(dag), *(write(getattr(dag, name)) for name, write in writers)]
        for dag in store.dags
    ]
    return {"next_id": store.dags.next_id, "columns": COLUMNS, "rows": rows}


def load(node: object, path: str, store: Store, instants: Instants, secret_key: str) -> None:
    spec = mapping(node, path, ("next_id", "columns", "rows"))
    if spec["columns"] != COLUMNS:
        raise SnapshotError(join(path, "columns"), f"expected {COLUMNS}")
    top = 0
    for index, row in enumerate(array(spec["rows"], join(path, "rows"))):
        where = join(join(path, "rows"), index)
        values = array(row, where, len(COLUMNS))
        dag = build(values[1], join(where, 1), secret_key)
        if dag.dag_id in store.dags:
            raise SnapshotError(join(where, 1), f"a duplicate dag_id {dag.dag_id!r}")
        dag.id = integer(values[0], join(where, 0), top + 1)  # ids grow with the table
        top = dag.id
        for position, (name, kind) in enumerate(STATE, start=2):
            setattr(dag, name, KINDS[kind][1](values[position], join(where, position), instants))
        if (dag.next_dagrun is None) != (dag.next_dagrun_data_interval_end is None):
            raise SnapshotError(where, "expected next_dagrun and its interval's end together")
        store.dags.add(dag)
    store.dags.next_id = integer(spec["next_id"], join(path, "next_id"), top + 1)
