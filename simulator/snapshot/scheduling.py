"""The engine and the scheduler in a snapshot.

`engine.events` lists the live events in the order they will run, each as
`[time, priority, seq, kind, argument...]` (an instant argument is
`{"at": instant}`); cancelled events are left out, as they never run. A
task instance's pending seq, a DAG's pending creation and a DAG's pending
deactivation (its file broken: engine/dag_files.py) are read back from
these events; retention's next clean is one event without arguments.
A task try's START may carry a fault's effect (six more
arguments: engine/effects.py). `scheduler.waiting` lists per pool the
instances waiting for a slot as `[seq, task instance id]` (in the order
they are picked when their priorities tie), `parked` per DAG those held
back by the DAG as `[pool, seq, id]`; entries of instances deleted since
are left out. While the scheduler is down, `scheduler.outage` holds how
many outages are in force (`depth`), since when (`since`) and the events
held (`held`, each `[kind, argument...]` as an event without its time,
priority and seq; those void by now are left out); a snapshot without it
was taken with the scheduler up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.engine import effects, kinds, loop
from simulator.engine import lifecycle as lc
from simulator.engine.clock import LATEST
from simulator.engine.core import Engine
from simulator.engine.dag_files import DEACTIVATE
from simulator.engine.outage import Held
from simulator.engine.queues import Waiting
from simulator.engine.retention import CLEAN
from simulator.engine.scheduler import CREATE, Scheduler
from simulator.faults import registry as faults
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
KEYED = (
    kinds.START, kinds.DEFER, kinds.RESUME, kinds.RETRY, kinds.KILLED, kinds.ZOMBIE, kinds.LOST,
)  # fmt: skip
SIGNATURES = {
    CREATE: ("str", "instant", "instant"),
    DEACTIVATE: ("str",),  # the DAG's id
    loop.WAKE: ("str",),  # the DAG's id
    **dict.fromkeys(KEYED, TI_KEY),  # the instance's key alone
    kinds.FINISH: (*TI_KEY, "str", "str"),
    # A fault window: its id, generation and occurrence.
    **dict.fromkeys((faults.BEGIN, faults.END), ("str", "int", "int")),
    CLEAN: (),  # retention's next clean (engine/retention.py)
}
# A START carrying a task effect: TaskEffect.args() after the key.
EFFECT_START = (*TI_KEY, "str", "str", "str?", "float?", "float?", "str?")
# The state an instance is in while an event of each kind is pending for it.
STATE_FOR = {
    kinds.START: lc.QUEUED,
    kinds.DEFER: lc.RUNNING,
    kinds.FINISH: lc.RUNNING,
    kinds.RESUME: lc.DEFERRED,
    kinds.RETRY: lc.UP_FOR_RETRY,
    kinds.KILLED: lc.RESTARTING,
    kinds.ZOMBIE: lc.RUNNING,
    kinds.LOST: lc.QUEUED,
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
    stale: set[str] = set()  # the DAGs with a deactivation event
    cleaning = False  # a retention clean is pending
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
        if kind == DEACTIVATE:
            _bind_deactivation(arguments[0], store, stale, where)
        elif kind == CLEAN:
            if cleaning:
                raise SnapshotError(join(where, 3), "a second retention clean event")
            cleaning = True
        else:
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
    "str?": ("a string or null", lambda value: value is None or type(value) is str),
    "int": ("an integer", lambda value: type(value) is int),
    "float?": ("a number or null", lambda value: value is None or type(value) in (int, float)),
    "instant": ("an instant {at: ...}", lambda value: isinstance(value, datetime)),
}


def _check_signature(kind: str, arguments: list[Any], where: str, first: int = 4) -> None:
    """The event's arguments (the first at index `first` of its entry)."""
    signature = SIGNATURES.get(kind)
    if signature is None:  # a kind registered elsewhere: its handler checks
        return
    if kind == kinds.START and len(arguments) == len(EFFECT_START):
        signature = EFFECT_START
    if len(arguments) != len(signature):
        raise SnapshotError(where, f"expected {len(signature)} arguments for {kind!r}")
    pairs = zip(arguments, signature, strict=True)
    for index, (argument, expected) in enumerate(pairs, start=first):
        description, test = ARGUMENTS[expected]
        if not test(argument):
            raise fail(join(where, index), description, argument)


def _bind(
    kind: str, arguments: list[Any], seq: int, store: Store, creation: dict[str, int], where: str
) -> None:
    """What the event stands for exists and waits for it (the DAG, or the
    task instance, which remembers the seq as its pending event)."""
    if kind == loop.WAKE:
        if arguments[0] not in store.dags:
            raise SnapshotError(join(where, 4), "expected a DAG")
    elif kind == CREATE:
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
        if kind in (kinds.FINISH, kinds.DEFER, kinds.ZOMBIE) and not running:
            raise SnapshotError(where, "expected a task instance with a try under way")
        if kind == kinds.DEFER and task.deferral is None:
            raise SnapshotError(where, "expected a task instance of a deferrable task")
        if kind == kinds.FINISH:
            choice(arguments[4], join(where, 8), (lc.SUCCESS, lc.FAILED))
        _check_effect(kind, arguments, where)
        ti.pending = seq


def _bind_deactivation(dag_id: str, store: Store, stale: set[str], where: str) -> None:
    """A deactivation waits for an active DAG whose file does not parse."""
    dag = store.dags.get(dag_id)
    if dag is None or not (dag.is_active and dag.has_import_errors) or dag_id in stale:
        expected = "expected an active DAG with import errors, without another deactivation"
        raise SnapshotError(join(where, 4), expected)
    stale.add(dag_id)


def _check_effect(kind: str, arguments: list[Any], where: str, first: int = 4) -> None:
    """A START's task effect, when it carries one."""
    if kind == kinds.START and len(arguments) > len(TI_KEY):
        problem = effects.problem(arguments[len(TI_KEY) :])
        if problem is not None:
            index, expected = problem
            raise SnapshotError(join(where, first + len(TI_KEY) + index), expected)


def _instance(arguments: list[Any], store: Store, where: str) -> TaskInstance:
    tis = store.instances_by_run.get((arguments[0], arguments[1]))
    ti = tis.find(arguments[2], arguments[3]) if tis is not None else None
    if ti is None:
        raise SnapshotError(join(where, 4), "expected the key of a task instance of a run")
    return ti


# -- the scheduler ----------------------------------------------------------


def dump_scheduler(scheduler: Scheduler, live: dict[int, TaskInstance]) -> dict[str, Any]:
    queues = scheduler.queues
    waiting, parked = queues.waiting, queues.parked
    document = {
        "next_seq": queues.next_seq,
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
        "dataset_after": dict(scheduler.datasets.after),
    }
    if scheduler.files.requests:  # PUT /parseDagFile's files, waiting for a loop
        document["parse_requests"] = {
            fileloc: dump_instant(asked) for fileloc, asked in scheduler.files.requests.items()
        }
    outage = scheduler.outage
    if outage.down:
        document["outage"] = {
            "depth": outage.depth,
            "since": dump_instant(outage.since),
            "held": [
                [entry[0], *map(_argument, entry[1:])]
                for entry in outage.held
                if _holds(scheduler.store, entry)
            ],
        }
    return document


def _holds(store: Store, entry: Held) -> bool:
    """Whether a held event still stands (Executor.release would run it)."""
    tis = store.instances_by_run.get((entry[1], entry[2]))
    ti = tis.find(entry[3], entry[4]) if tis is not None else None
    return ti is not None and ti.pending is None and ti.state == kinds.HELD_STATE[entry[0]]


def load_scheduler(
    node: object,
    path: str,
    scheduler: Scheduler,
    live: dict[int, TaskInstance],
    creation: dict[str, int],
    instants: Instants | None = None,
) -> None:
    keys = ("next_seq", "waiting", "parked", "released", "dataset_queue")
    spec = mapping(node, path, keys, ("outage", "dataset_after", "parse_requests"))
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
    where = join(path, "dataset_after")
    after = {
        dag_id: integer(value, join(where, dag_id), 0)
        for dag_id, value in _object(spec.get("dataset_after", {}), where).items()
    }
    scheduler.datasets.load(
        _queue(spec["dataset_queue"], join(path, "dataset_queue"), scheduler.store), after
    )
    # The engine's events are loaded (and checked) already.
    pending = scheduler.events.pending()
    waking = {e[4]: (e[0], e[2]) for e in pending if e[3] == loop.WAKE}
    scheduler.load(waiting, parked, next_seq, creation, waking)
    scheduler.files.load({e[4]: e[2] for e in pending if e[3] == DEACTIVATE})
    where = join(path, "parse_requests")
    for fileloc, asked in _object(spec.get("parse_requests", {}), where).items():
        moment = (instants or Instants()).read(asked, join(where, fileloc))
        if moment > scheduler.events.now:
            raise SnapshotError(join(where, fileloc), "expected an instant up to the engine's now")
        scheduler.files.requests[fileloc] = moment
    if "outage" in spec:
        where = join(path, "outage")
        _load_outage(spec["outage"], where, scheduler, instants or Instants())


def _load_outage(node: object, path: str, scheduler: Scheduler, instants: Instants) -> None:
    spec = mapping(node, path, ("depth", "since", "held"))
    depth = integer(spec["depth"], join(path, "depth"), 1)
    since = instants.read(spec["since"], join(path, "since"))
    if since > scheduler.events.now:
        raise SnapshotError(join(path, "since"), "expected an instant up to the engine's now")
    held: list[Held] = []
    holding: set[tuple[Any, ...]] = set()
    where = join(path, "held")
    for index, item in enumerate(array(spec["held"], where)):
        at = join(where, index)
        entry = array(item, at)
        if not entry or entry[0] not in kinds.HELD_STATE:
            raise SnapshotError(join(at, 0), f"expected one of {sorted(kinds.HELD_STATE)}")
        kind, arguments = entry[0], [_read_argument(a, join(at, i + 1), instants)
                                     for i, a in enumerate(entry[1:])]  # fmt: skip
        _check_signature(kind, arguments, at, 1)
        _check_effect(kind, arguments, at, 1)
        if not _holds(scheduler.store, (kind, *arguments)) or tuple(arguments[:4]) in holding:
            raise SnapshotError(at, "expected a task instance waiting for this event alone")
        holding.add(tuple(arguments[:4]))
        held.append((kind, *arguments))
    scheduler.outage.load(depth, since, held)


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
