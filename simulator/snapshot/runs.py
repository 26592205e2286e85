"""DAG runs in a snapshot: columns (codec.py), one row per run in table
order. `dag` is the DAG's position in `dags.rows`; `run_id` is null when it
is the one the run type and logical date make (`scheduled__<logical date>`).

A run's task instances follow its DAG's tasks (the layout the scheduler
gave it): one instance of an unmapped task (map index -1), `map_count` of a
mapped one (0..n-1). Layouts are derived, not stored.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Any

from simulator.engine.plan import layout_counts
from simulator.engine.timetable import RUN_TYPE_PREFIX, run_id_for
from simulator.scenario.shapes import copy_data
from simulator.snapshot.codec import Columns, Instants, among, delta, dump_time_columns, pack
from simulator.snapshot.reading import HIGHEST, SnapshotError, array, fail, integer, join, mapping
from simulator.state.dag_model import Dag
from simulator.state.enums import DagRunState
from simulator.state.run_model import DagRun
from simulator.state.run_tis import Layout
from simulator.state.store import Store

RUN_TIMES = (
    ("logical_date", None),
    ("data_interval_start", "logical_date"),
    ("data_interval_end", "data_interval_start"),
    ("queued_at", "data_interval_end"),
    ("start_date", "queued_at"),
    ("end_date", "start_date"),
    ("last_scheduling_decision", "end_date"),
)
# Optional (snapshots before it lack it): when the run last changed.
UPDATED_AT = (("updated_at", "last_scheduling_decision"),)
RUN_OPTIONAL = ("updated_at",)
RUN_SCALARS = (
    ("run_type", "str"),
    ("state", "str"),
    ("external_trigger", "bool"),
    ("note", "str?"),
)
RUN_COLUMNS = [
    "id",
    "dag",
    "run_id",
    *(n for n, _ in RUN_SCALARS),
    "conf",
    "consumed_events",
    *(n for n, _ in RUN_TIMES),
]
RUN_STATES = frozenset(DagRunState)


class Shape:
    """The instances of a DAG's runs: the store's Layout, how many there are,
    and each one's (task_id, map_index), listed when first asked for."""

    __slots__ = ("_keys", "dag", "layout", "size")

    def __init__(self, dag: Dag, layout: Layout) -> None:
        self.dag, self.layout, self.size = dag, layout, layout.size
        self._keys: list[tuple[str, int]] | None = None

    @property
    def keys(self) -> list[tuple[str, int]]:
        if self._keys is None:
            self._keys = [
                (task.task_id, map_index)
                for task in self.dag.tasks.values()
                for map_index in (range(task.map_count) if task.map_count is not None else (-1,))
            ]
        return self._keys


def dump_runs(store: Store, dag_index: dict[str, int]) -> dict[str, Any]:
    runs = list(store.dag_runs)
    columns: dict[str, Any] = {
        "id": pack(delta([run.id for run in runs])),
        "dag": pack([dag_index[run.dag_id] for run in runs]),
        "run_id": pack([None if run.run_id == _default_id(run) else run.run_id for run in runs]),
    }
    for name, _ in RUN_SCALARS:
        columns[name] = pack(list(map(attrgetter(name), runs)))
    columns["conf"] = [copy_data(run.conf) for run in runs]
    columns["consumed_events"] = [list(run.consumed_events) for run in runs]
    columns.update(dump_time_columns(runs, (*RUN_TIMES, *UPDATED_AT))[0])
    return {"next_id": store.dag_runs.next_id, "count": len(runs), "columns": columns}


def _default_id(run: DagRun) -> str | None:
    if run.run_type not in RUN_TYPE_PREFIX:
        return None
    return run_id_for(run.run_type, run.logical_date)


def load_runs(
    node: object, path: str, store: Store, dags: list[Dag], instants: Instants
) -> tuple[list[tuple[DagRun, Shape]], int]:
    """The runs (not yet in the store) and the shape of each one's
    instances; the table's next id."""
    spec = mapping(node, path, ("next_id", "count", "columns"))
    count = integer(spec["count"], join(path, "count"), 0)
    cols = Columns(spec["columns"], join(path, "columns"), RUN_COLUMNS, count, RUN_OPTIONAL)
    ids = _ids(cols)
    shapes = [Shape(dag, store.layout(layout_counts(dag))) for dag in dags]
    shape_of = [shapes[i] for i in _indexes(cols, "dag", len(dags))]
    values = {name: cols.typed(name, kind) for name, kind in RUN_SCALARS}
    among(values["run_type"], RUN_TYPE_PREFIX, cols.where("run_type"))
    among(values["state"], RUN_STATES, cols.where("state"))
    run_ids = cols.typed("run_id", "str?")
    confs = _objects(cols, "conf")
    consumed = _consumed(cols, store)
    moments, micros = cols.times(RUN_TIMES, instants)
    updated: list[datetime | None] = [None] * count
    if cols.has("updated_at"):
        updated = cols.times(UPDATED_AT, instants, micros)[0]["updated_at"]
    if None in moments["logical_date"]:
        row = moments["logical_date"].index(None)
        raise fail(join(cols.where("logical_date"), row), "an instant", None)
    dag_ids = [shape.dag.dag_id for shape in shape_of]
    made = map(_run, ids, dag_ids, run_ids, confs, consumed, *values.values(), *moments.values(),
               updated)  # fmt: skip
    runs = list(zip(made, shape_of, strict=True))
    _check_keys(cols, runs)
    top = ids[-1] if ids else 0
    return runs, integer(spec["next_id"], join(path, "next_id"), top + 1)


def _run(
    row_id: int,
    dag_id: str,
    run_id: str | None,
    conf: dict[str, Any],
    consumed_events: list[int] | tuple[()],
    run_type: str,
    state: str,
    external_trigger: bool,
    note: str | None,
    logical_date: datetime,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    queued_at: datetime | None,
    start_date: datetime | None,
    end_date: datetime | None,
    last_scheduling_decision: datetime | None,
    updated_at: datetime | None,
) -> DagRun:
    """A run from its columns (RUN_SCALARS then RUN_TIMES, in their order)."""
    return DagRun(
        id=row_id,
        dag_id=dag_id,
        run_id=run_id_for(run_type, logical_date) if run_id is None else run_id,
        logical_date=logical_date,
        run_type=run_type,
        state=state,
        external_trigger=external_trigger,
        conf=conf,
        note=note,
        queued_at=queued_at,
        start_date=start_date,
        end_date=end_date,
        data_interval_start=data_interval_start,
        data_interval_end=data_interval_end,
        last_scheduling_decision=last_scheduling_decision,
        updated_at=updated_at,
        consumed_events=consumed_events,
    )


def _ids(cols: Columns) -> list[int]:
    """Row ids: positive and growing (a table's rows keep their insertion order)."""
    ids = cols.deltas("id")
    previous = 0
    for row, value in enumerate(ids):
        if value is None or not previous < value <= HIGHEST:
            raise SnapshotError(join(cols.where("id"), row), "expected ids growing from 1")
        previous = value
    return ids  # type: ignore[return-value]


def _indexes(cols: Columns, name: str, size: int) -> list[int]:
    values = cols.typed(name, "int")
    for row, value in enumerate(values):
        if not 0 <= value < size:
            raise SnapshotError(join(cols.where(name), row), f"expected an index below {size}")
    return values


def _objects(cols: Columns, name: str) -> list[dict[str, Any]]:
    values = cols.data(name)
    for row, value in enumerate(values):
        if type(value) is not dict:
            raise fail(join(cols.where(name), row), "an object", value)
    return values


def _consumed(cols: Columns, store: Store) -> list[list[int] | tuple[()]]:
    found: list[list[int] | tuple[()]] = []
    events = store.dataset_events
    for row, value in enumerate(cols.data("consumed_events")):
        where = join(cols.where("consumed_events"), row)
        ids = array(value, where)
        for position, event_id in enumerate(ids):
            if type(event_id) is not int or event_id not in events:
                raise SnapshotError(join(where, position), "expected the id of a dataset event")
        found.append(ids or ())
    return found


def _check_keys(cols: Columns, runs: list[tuple[DagRun, Shape]]) -> None:
    seen: set[tuple[str, str]] = set()
    for row, (run, _) in enumerate(runs):
        if run.key in seen:
            raise SnapshotError(join(cols.where("run_id"), row), f"a duplicate run {run.key}")
        seen.add(run.key)
