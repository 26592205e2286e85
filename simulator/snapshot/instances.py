"""Task instances and their tries in a snapshot.

`task_instances` has one row per instance: the runs' instances, run by run
in each run's layout order (their dag_id, run_id, task_id and map_index
come from the run and its layout), then the instances of no run, whose
keys `loose` lists. `tries` is each instance's number of tries; the rows
of `task_tries` are those tries, instance by instance, first to last (a
try's start is relative to its instance's start_date). The columns of a
fault's effect on a try (fault, effect, message, factor) are written when
some try has one; a snapshot without them has none; so are the flags
`given_back` and `cleared` (a clear terminated the try) and `max_tries`
(what the try's log printed, when a clear changed it since). `job_id` and
`trigger_id` are the rows a try ran as and deferred to, with the ids the
next ones get (`next_job_id`, `next_trigger_id`); a snapshot without them
numbers the tries in start order, as the simulator did before it kept them.
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
from simulator.state.run_model import DagRun, TaskInstance, TaskTry, ti_spec
from simulator.state.store import FIRST_TASK_JOB

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
ID_SCALARS = (("job_id", "int"), ("trigger_id", "int?"))
GIVEN_BACK = "given_back"  # written when some try has one (a mark while it was deferred)
CLEARED = "cleared"  # written when some try has one (a clear terminated it)
MAX_TRIES = "max_tries"  # written when some try has one (a clear changed it since)
ID_COLUMNS = [n for n, _ in ID_SCALARS]
COUNTERS = ("next_job_id", "next_trigger_id")
EFFECTS = frozenset([*EFFECTS_NAMED, None])
EFFECT_COLUMNS = [n for n, _ in EFFECT_SCALARS]  # written when some try has an effect
TRY_COLUMNS = [*(n for n, _ in TRY_SCALARS), *(n for n, _ in TRY_TIMES), *EFFECT_COLUMNS]
# Ids of job and trigger rows (an id column takes 63 bits: a JSON integer).
STATES = frozenset([*TaskInstanceState, None])
MAX_ID = 2**63 - 1


def dump_instances(
    tis: list[TaskInstance], loose: list[TaskInstance], next_id: int, counters: tuple[int, int]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Micros]]:
    """The instances' table, their tries' table and the instances' time
    columns in microseconds (the bases of their XComs' timestamps);
    `counters`: the next job and trigger ids."""
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
    for flag in (GIVEN_BACK, CLEARED):
        if any(getattr(attempt, flag) for attempt in attempts):
            try_columns[flag] = pack([getattr(attempt, flag) for attempt in attempts])
    if any(attempt.max_tries is not None for attempt in attempts):
        try_columns[MAX_TRIES] = pack([attempt.max_tries for attempt in attempts])
    try_columns["job_id"] = pack(delta([attempt.job_id for attempt in attempts]))
    try_columns["trigger_id"] = pack([attempt.trigger_id for attempt in attempts])
    table = {
        "next_id": next_id,
        "count": len(tis),
        "loose": [[ti.dag_id, ti.run_id, ti.task_id, ti.map_index] for ti in loose],
        "columns": columns,
    }
    tries_table = {"count": len(attempts), "columns": try_columns,
                   **dict(zip(COUNTERS, counters, strict=True))}  # fmt: skip
    return table, tries_table, micros


def load_instances(
    document: dict[str, Any], runs: list[tuple[DagRun, Shape]], instants: Instants
) -> tuple[list[TaskInstance], int, dict[str, Micros], tuple[int, int]]:
    """Every instance in table order, the next row id, the instances' time
    columns in microseconds, and the next job and trigger ids."""
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
    counters = _load_tries(document["task_tries"], "task_tries", tis, counts, micros, instants)
    top = max(ids, default=0)
    next_id = integer(spec["next_id"], join(path, "next_id"), top + 1, MAX_ID)
    return tis, next_id, micros, counters


def _instance(
    key: tuple[str, str, str, int], ti_id: int, state: str | None, try_number: int,
    max_tries: int, pool: str, pool_slots: int, queue: str, priority_weight: int,
    operator: str | None, unixname: str, hostname: str, pid: int | None, note: str | None,
    duration: float | None, queued_dttm: datetime | None, start_date: datetime | None,
    end_date: datetime | None,
) -> TaskInstance:  # fmt: skip
    dag_id, run_id, task_id, map_index = key
    spec = ti_spec(
        pool=pool,
        pool_slots=pool_slots,
        queue=queue,
        priority_weight=priority_weight,
        operator=operator,
        unixname=unixname,
    )
    return TaskInstance(
        id=ti_id, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index,
        state=state, try_number=try_number, max_tries=max_tries, spec=spec,
        hostname=hostname, pid=pid, note=note, timed=duration is not None,
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
) -> tuple[int, int]:
    spec = mapping(node, path, ("count", "columns"), COUNTERS)
    if any(n < 0 for n in counts):
        raise SnapshotError(path, "expected task instances' numbers of tries from 0")
    total = sum(counts)
    integer(spec["count"], join(path, "count"), total, total)
    required = TRY_COLUMNS[: -len(EFFECT_COLUMNS)]
    optional = [*EFFECT_COLUMNS, *ID_COLUMNS, GIVEN_BACK, CLEARED, MAX_TRIES]
    cols = Columns(spec["columns"], join(path, "columns"), required, total, optional)
    values = [cols.typed(name, kind) for name, kind in TRY_SCALARS]
    among(values[3], STATES, cols.where("outcome"))
    effects = _effects(cols, total)
    given_back = iter(cols.typed(GIVEN_BACK, "bool") if cols.has(GIVEN_BACK) else [])
    cleared = iter(cols.typed(CLEARED, "bool") if cols.has(CLEARED) else [])
    max_tries = iter(cols.typed(MAX_TRIES, "int?") if cols.has(MAX_TRIES) else [])
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
            attempt = TaskTry(number, hostname, pid, start, end, outcome, attempt)
            attempt.deferred_until = deferred
            attempt.given_back = next(given_back, False)
            attempt.cleared = next(cleared, False)
            attempt.max_tries = next(max_tries, None)
            if effects is not None:
                marked = next(effects)
                if any(value is not None for value in marked):
                    attempt.mark(*marked)
        ti.last_try = attempt
    return _load_ids(spec, cols, path, tis, total)


def _load_ids(
    spec: dict[str, Any], cols: Columns, path: str, tis: list[TaskInstance], total: int
) -> tuple[int, int]:
    """The tries' job and trigger ids and the next ones (see the module docstring)."""
    attempts = [attempt for ti in tis for attempt in ti.tries]
    if cols.has("job_id") != cols.has("trigger_id"):
        missing = "job_id" if cols.has("trigger_id") else "trigger_id"
        raise SnapshotError(cols.where(missing), "missing (the id columns go together)")
    if cols.has("job_id"):
        # 0: a try made outside the engine (tests, odd fixtures), never numbered.
        jobs = bounded(cols.deltas("job_id"), cols.where("job_id"), 0, MAX_ID)
        triggers = cols.typed("trigger_id", "int?")
        for row, trigger_id in enumerate(triggers):
            if trigger_id is not None and not 1 <= trigger_id <= MAX_ID:
                raise fail(join(cols.where("trigger_id"), row), "an id from 1", trigger_id)
    else:
        jobs, triggers = _numbered(tis)
    for attempt, job_id, trigger_id in zip(attempts, jobs, triggers, strict=True):
        attempt.job_id, attempt.trigger_id = job_id, trigger_id
    floors = (max(jobs, default=FIRST_TASK_JOB - 1) + 1,
              max((t for t in triggers if t is not None), default=0) + 1)  # fmt: skip
    if all(name not in spec for name in COUNTERS):
        return floors
    found = [
        integer(spec.get(name), join(path, name), floor, MAX_ID)
        for name, floor in zip(COUNTERS, floors, strict=True)
    ]
    return found[0], found[1]


def _numbered(tis: list[TaskInstance]) -> tuple[list[int], list[int | None]]:
    """Job ids in start order (ties by instance id) and trigger ids of
    deferred tries in the same order, row by row."""
    rows = [(attempt.start_date, ti.id, position, attempt)
            for ti in tis for position, attempt in enumerate(ti.tries)]  # fmt: skip
    order = sorted(range(len(rows)), key=lambda row: rows[row][:3])
    jobs = [0] * len(rows)
    triggers: list[int | None] = [None] * len(rows)
    deferred = 0
    for number, row in enumerate(order):
        jobs[row] = FIRST_TASK_JOB + number
        if rows[row][3].outcome == "deferred":
            deferred += 1
            triggers[row] = deferred
    return jobs, triggers


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
