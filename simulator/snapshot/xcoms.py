"""XComs in a snapshot: one row per entry, run by run in push order (`run`
is the run's row in dag_runs, delta-coded). `kind` is `rows` for a return
value {"task": task_id, "rows": n} (`value` holds n), else `value`. A
timestamp is relative to its task instance's end_date. Entries of no run
of the store are listed whole under `loose`.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Any

from simulator.scenario.shapes import copy_data
from simulator.snapshot.codec import (
    Columns,
    Instants,
    Micros,
    bounded,
    delta,
    dump_times,
    pack,
)
from simulator.snapshot.reading import SnapshotError, array, choice, integer, join, mapping, text
from simulator.snapshot.reading import plain as plain_data
from simulator.snapshot.runs import Shape
from simulator.state.run_model import DagRun, RowsXCom, XCom
from simulator.state.run_tis import RunTis
from simulator.state.store import Store

COLUMNS = ["run", "task_id", "map_index", "key", "kind", "value", "timestamp"]
ROWS, VALUE = "rows", "value"


def positions(tis: RunTis) -> dict[tuple[str, int], int]:
    """(task_id, map_index) -> the instance's row in its run's tuple."""
    return {(ti.task_id, ti.map_index): row for row, ti in enumerate(tis.tis)}


def _value(xcom: XCom) -> tuple[str, Any]:
    if type(xcom) is RowsXCom:
        return ROWS, xcom.rows
    return VALUE, copy_data(xcom.value)


def dump_xcoms(store: Store, runs: list[DagRun], ends: Micros) -> dict[str, Any]:
    """`ends`: the instances' end_date microseconds, in table order."""
    rows: list[int] = []  # each entry's run
    xcoms: list[XCom] = []
    bases: Micros = []
    offset = 0
    known: dict[tuple[int, str], dict[tuple[str, int], int]] = {}  # same layout, same rows
    for index, run in enumerate(runs):
        tis = store.instances_by_run[run.key]
        if tis.xcoms:
            found = known.get((id(tis.layout), run.dag_id))
            if found is None:
                found = known[(id(tis.layout), run.dag_id)] = positions(tis)
            for xcom in tis.xcoms:
                at = found.get((xcom.task_id, xcom.map_index))
                rows.append(index)
                xcoms.append(xcom)
                bases.append(None if at is None else ends[offset + at])
        offset += len(tis.tis)
    return {"count": len(xcoms), "columns": _columns(rows, xcoms, bases),
            "loose": [_loose_row(xcom) for xcom in store.xcoms.loose]}  # fmt: skip


def _columns(rows: list[int], xcoms: list[XCom], bases: Micros) -> dict[str, Any]:
    values = [_value(xcom) for xcom in xcoms]
    return {
        "run": pack(delta(rows)),
        "task_id": pack(list(map(attrgetter("task_id"), xcoms))),
        "map_index": pack(list(map(attrgetter("map_index"), xcoms))),
        "key": pack(list(map(attrgetter("key"), xcoms))),
        "kind": pack([kind for kind, _ in values]),
        "value": [value for _, value in values],
        "timestamp": pack(dump_times(list(map(attrgetter("timestamp"), xcoms)), bases)[0]),
    }


def _loose_row(x: XCom) -> list[Any]:
    timestamp = dump_times([x.timestamp])[0][0]
    return [x.dag_id, x.run_id, x.task_id, x.map_index, x.key, *_value(x), timestamp]


def load_xcoms(
    node: object,
    path: str,
    store: Store,
    runs: list[tuple[DagRun, Shape]],
    ends: Micros,
    instants: Instants,
) -> None:
    spec = mapping(node, path, ("count", "columns", "loose"))
    count = integer(spec["count"], join(path, "count"), 0)
    cols = Columns(spec["columns"], join(path, "columns"), COLUMNS, count)
    run_rows = bounded(cols.deltas("run"), cols.where("run"), 0, len(runs) - 1)
    task_ids, map_indexes = cols.typed("task_id", "str"), cols.typed("map_index", "int")
    keys, kinds, values = cols.typed("key", "str"), cols.typed("kind", "str"), cols.data("value")
    _check_values(cols, kinds, values)
    bases = _bases(runs, run_rows, task_ids, map_indexes, ends)
    stamps = cols.times((("timestamp", "base"),), instants, {"base": bases})[0]["timestamp"]
    if None in stamps:
        where = join(cols.where("timestamp"), stamps.index(None))
        raise SnapshotError(where, "expected an instant")
    grouped: dict[int, list[XCom]] = {}
    for index, task_id, map_index, key, kind, value, stamp in zip(
        run_rows, task_ids, map_indexes, keys, kinds, values, stamps, strict=True
    ):
        run = runs[index][0]
        make = RowsXCom if kind == ROWS else XCom
        xcom = make(run.dag_id, run.run_id, task_id, key, value, stamp, map_index)
        found = grouped.get(index)
        if found is None:
            found = grouped[index] = []
        found.append(xcom)
    for index, xcoms in grouped.items():
        if len({(x.task_id, x.map_index, x.key) for x in xcoms}) != len(xcoms):
            raise SnapshotError(cols.where("key"), f"a duplicate XCom in run {runs[index][0].key}")
        store.xcoms.attach(store.instances_by_run[runs[index][0].key], xcoms)
    _load_loose(spec["loose"], join(path, "loose"), store, instants)


def _bases(
    runs: list[tuple[DagRun, Shape]],
    run_rows: list[int],
    task_ids: list[str],
    map_indexes: list[int],
    ends: Micros,
) -> Micros:
    """Each entry's instance's end_date (microseconds; None: no such instance)."""
    offsets, total, known = [], 0, {}
    for _, shape in runs:
        offsets.append(total)
        total += shape.size
        if id(shape) not in known:
            known[id(shape)] = {key: row for row, key in enumerate(shape.keys)}
    bases: Micros = []
    for index, task_id, map_index in zip(run_rows, task_ids, map_indexes, strict=True):
        at = known[id(runs[index][1])].get((task_id, map_index))
        bases.append(None if at is None else ends[offsets[index] + at])
    return bases


def _check_values(cols: Columns, kinds: list[str], values: list[Any]) -> None:
    if not set(kinds) <= {ROWS, VALUE}:
        bad = next(i for i, kind in enumerate(kinds) if kind not in (ROWS, VALUE))
        choice(kinds[bad], join(cols.where("kind"), bad), (ROWS, VALUE))
    for row, (kind, value) in enumerate(zip(kinds, values, strict=True)):
        if kind == ROWS and type(value) is not int:
            integer(value, join(cols.where("value"), row))


def _xcom(
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
    key: str,
    kind: str,
    value: Any,
    timestamp: datetime,
    where: str,
) -> XCom:
    if kind == ROWS:
        rows = integer(value, where)
        return RowsXCom(dag_id, run_id, task_id, key, rows, timestamp, map_index)
    return XCom(dag_id, run_id, task_id, key, value, timestamp, map_index)


def _load_loose(node: object, path: str, store: Store, instants: Instants) -> None:
    for index, item in enumerate(array(node, path)):
        where = join(path, index)
        dag_id, run_id, task_id, map_index, key, kind, value, stamp = array(item, where, 8)
        if (text(dag_id, join(where, 0)), text(run_id, join(where, 1))) in store.dag_runs:
            raise SnapshotError(where, "an XCom of a run of the store listed as loose")
        xcom = _xcom(
            dag_id,
            run_id,
            text(task_id, join(where, 2)),
            integer(map_index, join(where, 3)),
            text(key, join(where, 4)),
            choice(kind, join(where, 5), (ROWS, VALUE)),
            plain_data(value, join(where, 6)),
            instants.read(stamp, join(where, 7)),
            join(where, 6),
        )
        if store.xcoms.get(xcom.ident) is not None:
            raise SnapshotError(where, "a duplicate XCom")
        store.xcoms.add(xcom)
