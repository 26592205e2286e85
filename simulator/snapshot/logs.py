"""The event log in a snapshot: one entry per position, its rows' ids
from `first_id` (1 unless retention dropped older rows; only written then)
on, in entry order (a deleted row leaves a hole). A task try's entry has its
task instance's id as `subject`, its time (`when`, an anchor column: rows
are written in time order) and the `code` of its label in `events` (an
event, or `running@<host>`: a try's start, three rows; state/event_logs.py);
the other rows (subject 0, one row each: the API's and the components') are
listed whole under `audit` (its `run_id` column only when a row names a
run: Airflow 2.10's API rows), and the instances whose run was deleted under
`orphans`, with the owner and execution date their rows show.
"""

from __future__ import annotations

from typing import Any

from simulator.snapshot.codec import Columns, Instants, among, dump_instant, dump_times, pack
from simulator.snapshot.reading import SnapshotError, array, integer, join, mapping, text
from simulator.snapshot.tables import columns, dump_rows, load_rows
from simulator.state.entities import EventLog
from simulator.state.event_logs import Context, parts_of
from simulator.state.run_model import TaskInstance
from simulator.state.store import Store

COLUMNS = ["subject", "when", "code"]


def dump_logs(store: Store, live: dict[int, TaskInstance]) -> dict[str, Any]:
    """`live`: the store's instances by id."""
    logs = store.event_logs
    subjects, whens, codes, events = logs.columns()
    ids: list[int] = []
    audit: list[EventLog] = []
    orphans: dict[int, TaskInstance] = {}
    for subject in subjects:
        if type(subject) is TaskInstance:
            ids.append(subject.id)
            if live.get(subject.id) is not subject:
                orphans.setdefault(subject.id, subject)
        else:
            ids.append(0)
            if subject is not None:
                audit.append(subject)  # type: ignore[arg-type]
    document: dict[str, Any] = {} if logs.first_id == 1 else {"first_id": logs.first_id}
    return document | {
        "events": list(events),
        "count": len(subjects),
        "columns": {
            "subject": pack(ids),
            "when": pack(dump_times(whens)[0]),
            "code": pack(list(codes)),
        },
        "audit": _dump_audit(audit),
        "orphans": [_orphan(ti, logs.context(ti)) for ti in orphans.values()],
    }


def _dump_audit(audit: list[EventLog]) -> dict[str, Any]:
    """The rows whole; the `run_id` column only when a row has one."""
    names = [name for name, _ in columns(EventLog)]
    rows = dump_rows(audit, EventLog)
    if all(row.run_id is None for row in audit):
        names, rows = names[:-1], [row[:-1] for row in rows]
    return {"columns": names, "rows": rows}


def _orphan(ti: TaskInstance, context: Context) -> list[Any]:
    owner, execution_date = context
    return [
        ti.id,
        ti.dag_id,
        ti.run_id,
        ti.task_id,
        ti.map_index,
        owner,
        dump_instant(execution_date),
    ]


def load_logs(
    node: object, path: str, store: Store, live: dict[int, TaskInstance], instants: Instants
) -> None:
    spec = mapping(node, path, ("events", "count", "columns", "audit", "orphans"), ("first_id",))
    first_id = integer(spec.get("first_id", 1), join(path, "first_id"), 1)
    events = [
        text(name, join(join(path, "events"), i))
        for i, name in enumerate(array(spec["events"], join(path, "events")))
    ]
    count = integer(spec["count"], join(path, "count"), 0)
    cols = Columns(spec["columns"], join(path, "columns"), COLUMNS, count)
    orphans = _orphans(spec["orphans"], join(path, "orphans"), live, instants)
    codes = cols.typed("code", "int")
    among(codes, range(256), cols.where("code"))
    whens = cols.times((("when", None),), instants)[0]["when"]
    ids = cols.typed("subject", "int")
    stand_ins = {ti_id: ti for ti_id, (ti, _) in orphans.items()}
    lookup = live.get
    subjects: list[TaskInstance | EventLog | None] = [
        lookup(subject) or stand_ins.get(subject) for subject in ids
    ]
    for row, (subject, found, when, code) in enumerate(
        zip(ids, subjects, whens, codes, strict=True)
    ):
        if subject and (found is None or when is None or code >= len(events)):
            where = cols.where("when" if found is not None and when is None else "subject")
            if found is not None and when is not None:
                where = cols.where("code")
            raise SnapshotError(
                join(where, row),
                "not a task try's row (an unknown task instance, no instant or no event)",
            )
    firsts = _first_ids(ids, codes, events, first_id)
    audit = _audit(spec["audit"], join(path, "audit"), firsts, instants)
    for position, entry in audit.items():
        if ids[position] != 0:
            raise SnapshotError(
                join(path, "audit"), f"the row of id {firsts[position]} is a task's"
            )
        subjects[position] = entry
    store.event_logs.load((subjects, whens, bytes(codes), events), orphans.values(), first_id)


def _first_ids(ids: list[int], codes: list[int], events: list[str], first_id: int) -> list[int]:
    """The id of each entry's first row (a task entry's rows follow its label)."""
    widths = [len(parts_of(label)) for label in events]
    firsts, key = [], first_id
    for subject, code in zip(ids, codes, strict=True):
        firsts.append(key)
        key += widths[code] if subject else 1
    return firsts


def _audit(node: object, path: str, firsts: list[int], instants: Instants) -> dict[int, EventLog]:
    """Position -> row (an entry's id: `firsts`)."""
    spec = mapping(node, path, ("columns", "rows"))
    expected = [name for name, _ in columns(EventLog)]
    rows = spec["rows"]
    if spec["columns"] == expected[:-1]:  # no `run_id` column: no row has one
        rows = [
            [*row, None] if type(row) is list else row for row in array(rows, join(path, "rows"))
        ]
    elif spec["columns"] != expected:
        raise SnapshotError(join(path, "columns"), f"expected {expected}")
    positions = {key: position for position, key in enumerate(firsts)}
    found: dict[int, EventLog] = {}
    for index, row in enumerate(load_rows(rows, join(path, "rows"), EventLog, instants)):
        position = positions.get(row.id)
        if position is None or position in found:
            raise SnapshotError(join(join(path, "rows"), index), "expected a new id of the log")
        found[position] = row
    return found


def _orphans(
    node: object, path: str, live: dict[int, TaskInstance], instants: Instants
) -> dict[int, tuple[TaskInstance, Context]]:
    """id -> (a stand-in instance, its rows' context)."""
    found: dict[int, tuple[TaskInstance, Context]] = {}
    for index, item in enumerate(array(node, path)):
        where = join(path, index)
        ti_id, dag_id, run_id, task_id, map_index, owner, execution_date = array(item, where, 7)
        integer(ti_id, join(where, 0), 1)
        if ti_id in live or ti_id in found:
            raise SnapshotError(join(where, 0), f"the id {ti_id} is taken")
        ti = TaskInstance(
            id=ti_id,
            dag_id=text(dag_id, join(where, 1)),
            run_id=text(run_id, join(where, 2)),
            task_id=text(task_id, join(where, 3)),
            map_index=integer(map_index, join(where, 4)),
        )
        context = (
            None if owner is None else text(owner, join(where, 5)),
            instants.optional(execution_date, join(where, 6)),
        )
        found[ti_id] = (ti, context)
    return found
