"""The engine and the scheduler in a snapshot.

`engine.events` lists the live events in the order they will run, each as
`[time, priority, seq, kind, argument...]` (an instant argument is
`{"at": instant}`); cancelled events are left out, as they never run. A
task instance's pending seq and a DAG's pending creation are read back from
these events. `scheduler.waiting` lists per pool the instances waiting for
a slot as `[seq, task instance id]` (in the order they are picked when
their priorities tie), `parked` per DAG those held back by the DAG as
`[pool, seq, id]`; entries of instances deleted since are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.engine import executor as ex
from simulator.engine import lifecycle as lc
from simulator.engine.clock import LATEST
from simulator.engine.core import Engine
from simulator.engine.scheduler import CREATE, Scheduler, Waiting
from simulator.snapshot.codec import Instants, dump_instant
from simulator.snapshot.reading import (
    SnapshotError,
    array,
    choice,
    fail,
    integer,
    join,
    mapping,
    text,
)
from simulator.state.run_model import TaskInstance
from simulator.state.store import Store

TI_KEY = ("str", "str", "str", "int")
SIGNATURES = {
    CREATE: ("str", "instant", "instant"),
    **{kind: TI_KEY for kind in (ex.START, ex.DEFER, ex.RESUME, ex.RETRY, ex.KILLED)},
    ex.FINISH: (*TI_KEY, "str", "str"),
}
# The state an instance is in while an event of each kind is pending for it.
STATE_FOR = {
    ex.START: lc.QUEUED,
    ex.DEFER: lc.RUNNING,
    ex.FINISH: lc.RUNNING,
    ex.RESUME: lc.DEFERRED,
    ex.RETRY: lc.UP_FOR_RETRY,
    ex.KILLED: lc.RESTARTING,
}


def _argument(value: Any) -> Any:
    return {"at": dump_instant(value)} if isinstance(value, datetime) else value


def dump_engine(engine: Engine) -> dict[str, Any]:
    events = [
        [dump_instant(entry[0]), entry[1], entry[2], entry[3], *map(_argument, entry[4:])]
        for entry in engine.pending()
    ]
    return {"now": dump_instant(engine.now), "next_seq": engine.next_seq, "events": events}


def load_engine(
    node: object, path: str, store: Store, engine: Engine, instants: Instants
) -> dict[str, int]:
    """Fill `engine`; answer the DAGs' pending creation events (seq by dag_id)."""
    spec = mapping(node, path, ("now", "next_seq", "events"))
    now = instants.read(spec["now"], join(path, "now"))
    if now >= LATEST:
        raise SnapshotError(join(path, "now"), f"expected an instant before {LATEST.date()}")
    next_seq = integer(spec["next_seq"], join(path, "next_seq"), 0)
    creation: dict[str, int] = {}
    events, seqs = [], set()
    for index, item in enumerate(array(spec["events"], join(path, "events"))):
        where = join(join(path, "events"), index)
        entry = array(item, where)
        if len(entry) < 4:
            raise SnapshotError(where, "expected [time, priority, seq, kind, argument...]")
        time = instants.read(entry[0], join(where, 0))
        if time < now:
            raise SnapshotError(join(where, 0), "expected an instant from the engine's now on")
        priority = integer(entry[1], join(where, 1))
        seq = integer(entry[2], join(where, 2), 0, next_seq - 1)
        kind = text(entry[3], join(where, 3))
        if seq in seqs:
            raise SnapshotError(join(where, 2), f"a duplicate seq {seq}")
        if kind not in engine.handlers:
            raise SnapshotError(join(where, 3), f"no handler for events of kind {kind!r}")
        arguments = [
            _read_argument(a, join(where, i), instants) for i, a in enumerate(entry[4:], start=4)
        ]
        _check_signature(kind, arguments, where)
        _bind(kind, arguments, seq, store, creation, where)
        seqs.add(seq)
        events.append((time, priority, seq, kind, *arguments))
    engine.load(events, next_seq, now)
    return creation


def _read_argument(node: object, path: str, instants: Instants) -> Any:
    if type(node) is dict:
        return instants.read(mapping(node, path, ("at",))["at"], join(path, "at"))
    if type(node) not in (str, int, float, bool, type(None)):
        raise fail(path, "a string, number, boolean, null or {at: instant}", node)
    return node


ARGUMENTS = {
    "str": ("a string", lambda value: type(value) is str),
    "int": ("an integer", lambda value: type(value) is int),
    "instant": ("an instant {at: ...}", lambda value: isinstance(value, datetime)),
}


def _check_signature(kind: str, arguments: list[Any], where: str) -> None:
    signature = SIGNATURES.get(kind)
    if signature is None:  # a kind registered elsewhere: its handler checks
        return
    if len(arguments) != len(signature):
        raise SnapshotError(where, f"expected {len(signature)} arguments for {kind!r}")
    for index, (argument, expected) in enumerate(zip(arguments, signature, strict=True), start=4):
        description, test = ARGUMENTS[expected]
        if not test(argument):
            raise fail(join(where, index), description, argument)


def _bind(
    kind: str, arguments: list[Any], seq: int, store: Store, creation: dict[str, int], where: str
) -> None:
    """What the event stands for exists and waits for it (the DAG, or the
    task instance, which remembers the seq as its pending event)."""
    if kind == CREATE:
        if arguments[0] not in store.dags or arguments[0] in creation:
            raise SnapshotError(join(where, 4), "expected a DAG without another creation event")
        creation[arguments[0]] = seq
    elif kind in STATE_FOR:
        ti = _instance(arguments, store, where)
        if ti.pending is not None:
            raise SnapshotError(where, "a second pending event for one task instance")
        if ti.state != STATE_FOR[kind]:
            raise SnapshotError(where, f"expected a task instance in state {STATE_FOR[kind]!r}")
        task = store.dags.rows[ti.dag_id].tasks[ti.task_id]
        running = ti.last_try is not None and ti.start_date is not None
        if kind in (ex.FINISH, ex.DEFER) and not running:
            raise SnapshotError(where, "expected a task instance with a try under way")
        if kind == ex.DEFER and task.deferral is None:
            raise SnapshotError(where, "expected a task instance of a deferrable task")
        if kind == ex.FINISH:
            choice(arguments[4], join(where, 8), (lc.SUCCESS, lc.FAILED))
        ti.pending = seq


def _instance(arguments: list[Any], store: Store, where: str) -> TaskInstance:
    tis = store.instances_by_run.get((arguments[0], arguments[1]))
    ti = tis.find(arguments[2], arguments[3]) if tis is not None else None
    if ti is None:
        raise SnapshotError(join(where, 4), "expected the key of a task instance of a run")
    return ti


# -- the scheduler ----------------------------------------------------------


def dump_scheduler(scheduler: Scheduler, live: dict[int, TaskInstance]) -> dict[str, Any]:
    waiting, parked = scheduler.queues()
    return {
        "next_seq": scheduler.next_seq,
        "waiting": {
            pool: [
                [entry[3], entry[4].id]
                for entry in sorted(heap)
                if live.get(entry[4].id) is entry[4]
            ]
            for pool, heap in waiting.items()
        },
        "parked": {
            dag_id: [
                [pool, entry[3], entry[4].id]
                for pool, entry in entries
                if live.get(entry[4].id) is entry[4]
            ]
            for dag_id, entries in parked.items()
        },
        "released": sorted(scheduler.store.released),
        "dataset_queue": {
            dag_id: {uri: list(ids) for uri, ids in queue.items()}
            for dag_id, queue in scheduler.datasets.queue.items()
        },
    }


def load_scheduler(
    node: object,
    path: str,
    scheduler: Scheduler,
    live: dict[int, TaskInstance],
    creation: dict[str, int],
) -> None:
    keys = ("next_seq", "waiting", "parked", "released", "dataset_queue")
    spec = mapping(node, path, keys)
    next_seq = integer(spec["next_seq"], join(path, "next_seq"), 0)
    entries = _Entries(scheduler.store, live, next_seq)
    waiting: dict[str, list[Waiting]] = {}
    where = join(path, "waiting")
    for pool, items in _object(spec["waiting"], where).items():
        at = join(where, pool)
        waiting[pool] = []
        for i, item in enumerate(array(items, at)):
            seq, ti_id = array(item, join(at, i), 2)
            waiting[pool].append(entries.read(seq, ti_id, join(at, i), pool, None))
    parked: dict[str, list[tuple[str, Waiting]]] = {}
    where = join(path, "parked")
    for dag_id, items in _object(spec["parked"], where).items():
        at = join(where, dag_id)
        parked[dag_id] = []
        for i, item in enumerate(array(items, at)):
            pool_node, seq, ti_id = array(item, join(at, i), 3)
            pool = text(pool_node, join(join(at, i), 0))
            if pool not in waiting:  # where the instance waits again when unparked
                raise SnapshotError(join(join(at, i), 0), "expected a pool of `waiting`")
            parked[dag_id].append((pool, entries.read(seq, ti_id, join(at, i), pool, dag_id, 1)))
    released = array(spec["released"], join(path, "released"))
    scheduler.store.released = {
        text(d, join(join(path, "released"), i)) for i, d in enumerate(released)
    }
    scheduler.datasets.load(
        _queue(spec["dataset_queue"], join(path, "dataset_queue"), scheduler.store)
    )
    scheduler.load(waiting, parked, next_seq, creation)


def _object(node: object, path: str) -> dict[str, Any]:
    if type(node) is not dict:
        raise fail(path, "an object", node)
    return node


class _Entries:
    """Waiting entries read back: (-priority, logical date, map index, seq, instance)."""

    def __init__(self, store: Store, live: dict[int, TaskInstance], next_seq: int) -> None:
        self.store, self.live, self.next_seq = store, live, next_seq
        self.seqs: set[int] = set()

    def read(
        self,
        seq_node: object,
        ti_node: object,
        path: str,
        pool: str,
        dag_id: str | None,
        first: int = 0,
    ) -> Waiting:
        """The entry `[seq, id]` at `path` (whose items start at `first`)."""
        seq = integer(seq_node, join(path, first), 0, self.next_seq - 1)
        if seq in self.seqs:
            raise SnapshotError(join(path, first), f"a duplicate seq {seq}")
        ti = self.live.get(integer(ti_node, join(path, first + 1)))
        run = self.store.dag_runs.get((ti.dag_id, ti.run_id)) if ti is not None else None
        if ti is None or run is None:
            raise SnapshotError(join(path, first + 1), "expected the id of an instance of a run")
        if ti.pool != pool or (dag_id is not None and ti.dag_id != dag_id):
            raise SnapshotError(join(path, first + 1), "an instance of another pool or DAG")
        self.seqs.add(seq)
        return (-ti.priority_weight, run.logical_date, ti.map_index, seq, ti)


def _queue(node: object, path: str, store: Store) -> dict[str, dict[str, list[int]]]:
    queue: dict[str, dict[str, list[int]]] = {}
    for dag_id, uris in _object(node, path).items():
        where = join(path, dag_id)
        queue[dag_id] = {}
        for uri, ids in _object(uris, where).items():
            at = join(where, uri)
            queue[dag_id][uri] = [integer(i, join(at, n)) for n, i in enumerate(array(ids, at))]
            for n, event_id in enumerate(queue[dag_id][uri]):
                if event_id not in store.dataset_events:
                    raise SnapshotError(join(at, n), "expected the id of a dataset event")
    return queue
