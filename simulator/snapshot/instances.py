"""Task instances and their tries in a snapshot.

`task_instances` has one row per instance: the runs' instances, run by run
in each run's layout order (their dag_id, run_id, task_id and map_index
come from the run and its layout), then the instances of no run, whose
keys `loose` lists. `tries` is each instance's number of tries; the rows
of `task_tries` are those tries, instance by instance, first to last (a
try's start is relative to its instance's start_date). The columns of a
fault's effect on a try (fault, effect, message, factor) are written when
some try has one; a snapshot without them has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from operator import attrgetter
from typing import Any

from simulator.engine.effects import EFFECTS as EFFECTS_NAMED
from simulator.engine.effects import MAX_FACTOR
from simulator.snapshot.codec import (
    Columns,
    Instants,
    Micros,
    among,
    bounded,
    delta,
    dump_time_columns,
    pack,
)
from simulator.snapshot.reading import SnapshotError, array, fail, integer, join, mapping, text
from simulator.snapshot.runs import Shape
from simulator.state.enums import TaskInstanceState
from simulator.state.run_model import DagRun, TaskInstance, TaskTry

TI_TIMES = (("queued_dttm", None), ("start_date", "queued_dttm"), ("end_date", "start_date"))
TI_SCALARS = (
    ("state", "str?"),
    ("try_number", "int"),
    ("max_tries", "int"),
    ("pool", "str"),
    ("pool_slots", "int"),
    ("queue", "str"),
    ("priority_weight", "int"),
    ("operator", "str?"),
    ("unixname", "str"),
    ("hostname", "str"),
    ("pid", "int?"),
    ("note", "str?"),
    ("duration", "float?"),
)
TI_COLUMNS = ["id", *(n for n, _ in TI_SCALARS), *(n for n, _ in TI_TIMES), "tries"]
TRY_TIMES = (("start_date", "owner"), ("end_date", "start_date"), ("deferred_until", "start_date"))
TRY_SCALARS = (("try_number", "int"), ("hostname", "str"), ("pid", "int"), ("outcome", "str?"))
EFFECT_SCALARS = (("fault", "str?"), ("effect", "str?"), ("message", "str?"), ("factor", "float?"))
EFFECTS = frozenset([*EFFECTS_NAMED, None])
EFFECT_COLUMNS = [n for n, _ in EFFECT_SCALARS]  # written when some try has an effect
TRY_COLUMNS = [*(n for n, _ in TRY_SCALARS), *(n for n, _ in TRY_TIMES), *EFFECT_COLUMNS]
STATES = frozenset([*TaskInstanceState, None])
MAX_ID = 2**63 - 1


def dump_instances(
    tis: list[TaskInstance], loose: list[TaskInstance], next_id: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Micros]]:
    """The instances' table, their tries' table and the instances' time
    columns in microseconds (the bases of their XComs' timestamps)."""
    columns: dict[str, Any] = {"id": pack(delta([ti.id for ti in tis]))}
    for name, _ in TI_SCALARS:
        columns[name] = pack(list(map(attrgetter(name), tis)))
    times, micros = dump_time_columns(tis, TI_TIMES)
    columns.update(times)
    tries = [ti.tries for ti in tis]
    columns["tries"] = pack([len(each) for each in tries])
    attempts = [attempt for each in tries for attempt in each]
    owner = [micros["start_date"][row] for row, each in enumerate(tries) for _ in each]
    try_columns = {name: pack(list(map(attrgetter(name), attempts))) for name, _ in TRY_SCALARS}
    try_columns.update(dump_time_columns(attempts, TRY_TIMES, {"owner": owner})[0])
    if any(attempt.effect is not None for attempt in attempts):
        for name, _ in EFFECT_SCALARS:
            try_columns[name] = pack(list(map(attrgetter(name), attempts)))
    table = {
        "next_id": next_id,
        "count": len(tis),
        "loose": [[ti.dag_id, ti.run_id, ti.task_id, ti.map_index] for ti in loose],
        "columns": columns,
    }
    return table, {"count": len(attempts), "columns": try_columns}, micros


def load_instances(
    document: dict[str, Any], runs: list[tuple[DagRun, Shape]], instants: Instants
) -> tuple[list[TaskInstance], int, dict[str, Micros]]:
    """Every instance in table order, the next row id, and the instances'
    time columns in microseconds."""
    path = "task_instances"
    spec = mapping(document[path], path, ("next_id", "count", "loose", "columns"))
    loose = _loose(spec["loose"], join(path, "loose"))
    count = sum(shape.size for _, shape in runs) + len(loose)
    integer(spec["count"], join(path, "count"), count, count)
    cols = Columns(spec["columns"], join(path, "columns"), TI_COLUMNS, count)
    ids = bounded(cols.deltas("id"), cols.where("id"), 1, MAX_ID, unique=True)
    values = {name: cols.typed(name, kind) for name, kind in TI_SCALARS}
    among(values["state"], STATES, cols.where("state"))
    moments, micros = cols.times(TI_TIMES, instants)
    counts = cols.typed("tries", "int")
    # Columns in the order of _instance's parameters: TI_SCALARS, then TI_TIMES.
    tis = list(map(_instance, _keys(runs, loose), ids, *values.values(), *moments.values()))
    _load_tries(document["task_tries"], "task_tries", tis, counts, micros, instants)
    top = max(ids, default=0)
    return tis, integer(spec["next_id"], join(path, "next_id"), top + 1, MAX_ID), micros


def _instance(
    key: tuple[str, str, str, int], ti_id: int, state: str | None, try_number: int,
    max_tries: int, pool: str, pool_slots: int, queue: str, priority_weight: int,
    operator: str | None, unixname: str, hostname: str, pid: int | None, note: str | None,
    duration: float | None, queued_dttm: datetime | None, start_date: datetime | None,
    end_date: datetime | None,
) -> TaskInstance:  # fmt: skip
    dag_id, run_id, task_id, map_index = key
    return TaskInstance(
        id=ti_id, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index,
        state=state, try_number=try_number, max_tries=max_tries, pool=pool,
        pool_slots=pool_slots, queue=queue, priority_weight=priority_weight, operator=operator,
        unixname=unixname, hostname=hostname, pid=pid, note=note, duration=duration,
        queued_dttm=queued_dttm, start_date=start_date, end_date=end_date,
    )  # fmt: skip


def _loose(node: object, path: str) -> list[tuple[str, str, str, int]]:
    keys = []
    for index, item in enumerate(array(node, path)):
        where = join(path, index)
        dag_id, run_id, task_id, map_index = array(item, where, 4)
        keys.append(
            (
                text(dag_id, join(where, 0)),
                text(run_id, join(where, 1)),
                text(task_id, join(where, 2)),
                integer(map_index, join(where, 3)),
            )
        )
    return keys


def _keys(
    runs: list[tuple[DagRun, Shape]], loose: list[tuple[str, str, str, int]]
) -> Iterator[tuple[str, str, str, int]]:
    for run, shape in runs:
        dag_id, run_id = run.dag_id, run.run_id
        for task_id, map_index in shape.keys:
            yield (dag_id, run_id, task_id, map_index)
    yield from loose


def _load_tries(
    node: object,
    path: str,
    tis: list[TaskInstance],
    counts: list[int],
    micros: dict[str, Micros],
    instants: Instants,
) -> None:
    spec = mapping(node, path, ("count", "columns"))
    if any(n < 0 for n in counts):
        raise SnapshotError(path, "expected task instances' numbers of tries from 0")
    total = sum(counts)
    integer(spec["count"], join(path, "count"), total, total)
    required = TRY_COLUMNS[: -len(EFFECT_COLUMNS)]
    cols = Columns(spec["columns"], join(path, "columns"), required, total, EFFECT_COLUMNS)
    values = [cols.typed(name, kind) for name, kind in TRY_SCALARS]
    among(values[3], STATES, cols.where("outcome"))
    effects = _effects(cols, total)
    owner = [micros["start_date"][row] for row, n in enumerate(counts) for _ in range(n)]
    moments, _ = cols.times(TRY_TIMES, instants, {"owner": owner})
    if None in moments["start_date"]:
        bad = moments["start_date"].index(None)
        raise fail(join(cols.where("start_date"), bad), "an instant", None)
    rows = zip(*values, *moments.values(), strict=True)
    for ti, n in zip(tis, counts, strict=True):
        attempt = None
        for _ in range(n):
            number, hostname, pid, outcome, start, end, deferred = next(rows)
            attempt = TaskTry(number, hostname, pid, start, end, outcome, deferred, attempt)
            if effects is not None:
                attempt.fault, attempt.effect, attempt.message, attempt.factor = next(effects)
        ti.last_try = attempt


def _effects(cols: Columns, total: int) -> Iterator[tuple[Any, ...]] | None:
    """The tries' effect columns, row by row (None: the snapshot has none)."""
    present = [cols.has(name) for name in EFFECT_COLUMNS]
    if not any(present):
        return None
    if not all(present):
        missing = EFFECT_COLUMNS[present.index(False)]
        raise SnapshotError(cols.where(missing), "missing (the effect columns go together)")
    values = [cols.typed(name, kind) for name, kind in EFFECT_SCALARS]
    among(values[1], EFFECTS, cols.where("effect"))
    for row, factor in enumerate(values[3]):  # a deferred try resumes under it
        if factor is not None and not 0 < factor <= MAX_FACTOR:
            raise SnapshotError(
                join(cols.where("factor"), row), f"expected a number above 0 up to {MAX_FACTOR:.0f}"
            )
    return zip(*values, strict=True)
