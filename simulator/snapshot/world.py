"""A whole world to a snapshot document and back (the layout: package
docstring). Restoring builds a new world aside and hands it over only when
it is complete; the simulator then swaps it in at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from simulator.config import Settings
from simulator.engine import lifecycle
from simulator.engine.actions import Actions
from simulator.engine.clock import FROZEN, LATEST, REALTIME, VirtualClock
from simulator.engine.core import Engine
from simulator.engine.executor import Executor
from simulator.engine.retention import MAX_DAYS, Retention
from simulator.engine.rng import RandomStreams
from simulator.engine.scheduler import Scheduler
from simulator.errors import AlreadyExists, ApiError
from simulator.faults.registry import Faults
from simulator.scenario.model import Scenario
from simulator.snapshot import dags, origin
from simulator.snapshot.codec import Instants, dump_instant
from simulator.snapshot.faults import dump_faults, load_faults
from simulator.snapshot.instances import dump_instances, load_instances
from simulator.snapshot.logs import dump_logs, load_logs
from simulator.snapshot.reading import (
    SnapshotError,
    choice,
    fail,
    integer,
    join,
    mapping,
    number,
    shown,
)
from simulator.snapshot.runs import dump_runs, load_runs
from simulator.snapshot.scheduling import dump_engine, dump_scheduler, load_engine, load_scheduler
from simulator.snapshot.tables import (
    dump_security,
    dump_tables,
    load_config,
    load_security,
    load_tables,
)
from simulator.snapshot.xcoms import dump_xcoms, load_xcoms
from simulator.state.entities import EventLog
from simulator.state.run_tis import RunTis
from simulator.state.store import Store

if TYPE_CHECKING:
    from simulator.simulator import Simulator

FORMAT, VERSION = "airflow-sim-snapshot", 1
KEYS = (
    "format",
    "version",
    "scenario",
    "settings",
    "clock",
    "random",
    "security",
    "config",
    "tables",
    "dags",
    "dag_runs",
    "task_instances",
    "task_tries",
    "xcoms",
    "event_logs",
    "engine",
    "scheduler",
)
OPTIONAL = ("faults",)  # snapshots written before faults existed have none
MAX_SEED = 2**63 - 1
MAX_SPEED = 1_000_000.0  # as a scenario's clock.speed
MAX_DRAWN = 2_000_000  # salt characters to draw again at most (a million users' passwords)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused (as Engine.run does): a large
    world is millions of objects, and reading or writing it builds millions
    more, none of them in cycles; its passes would find nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def export(sim: Simulator) -> dict[str, Any]:
    with _collector_paused():
        return _export(sim)


def _export(sim: Simulator) -> dict[str, Any]:
    store = sim.store
    runs = list(store.dag_runs)
    loose = store.task_instances.loose
    tis = [ti for run in runs for ti in store.instances_by_run[run.key].tis] + loose
    live = {ti.id: ti for ti in tis}
    counters = (store.next_job_id, store.next_trigger_id)
    instances, tries, micros = dump_instances(tis, loose, store.task_instances.next_id, counters)
    settings = sim.settings
    document = {
        "format": FORMAT,
        "version": VERSION,
        "scenario": origin.record(sim.scenario),
        "settings": _settings(settings),
        "clock": {
            "now": dump_instant(sim.engine.now),  # caught up: the clock's now
            "mode": sim.clock.mode,
            "speed": float(sim.clock.speed),
        },
        "random": {"drawn": dict(sim.random.drawn)},
        "security": dump_security(store),
        "config": {section: dict(options) for section, options in store.config.items()},
        "tables": dump_tables(store),
        "dags": dags.dump(store),
        "dag_runs": dump_runs(store, {dag.dag_id: i for i, dag in enumerate(store.dags)}),
        "task_instances": instances,
        "task_tries": tries,
        "xcoms": dump_xcoms(store, runs, micros["end_date"]),
        "event_logs": dump_logs(store, live),
        "engine": dump_engine(sim.engine),
        "scheduler": dump_scheduler(sim.scheduler, live),
        "faults": dump_faults(sim.faults),
    }
    return document


def _settings(settings: Settings) -> dict[str, Any]:
    """The seed, the start and (when there is one) the retention in days."""
    found: dict[str, Any] = {"seed": settings.seed, "start": dump_instant(settings.start)}
    if settings.retention_days is not None:
        found["retention_days"] = settings.retention_days
    return found


@dataclasses.dataclass(slots=True)
class Restored:
    """A world read from a snapshot, ready to be served."""

    scenario: Scenario
    settings: Settings
    store: Store
    engine: Engine
    random: RandomStreams
    scheduler: Scheduler
    executor: Executor
    actions: Actions
    faults: Faults
    clock: VirtualClock
    retention: Retention


Resolve = Callable[[Settings, Scenario], Settings]


def restore(
    document: object,
    *,
    given: Settings,
    current: Scenario,
    record: Callable[..., EventLog],
    resolve: Resolve,
) -> Restored:
    """The world `document` describes; SnapshotError when it describes none.

    Checks are made where values are read; an exception they did not
    foresee still becomes a SnapshotError naming the section being read.
    """
    section = [""]
    try:
        with _collector_paused():
            return _restore(document, given, current, record, resolve, section)
    except SnapshotError:
        raise
    except (
        ApiError,
        LookupError,
        TypeError,
        ValueError,
        AttributeError,
        ArithmeticError,
        AssertionError,
        RecursionError,
    ) as exc:
        raise SnapshotError(
            section[0], f"not a consistent snapshot ({type(exc).__name__}: {shown(str(exc))})"
        ) from exc


def _restore(
    document: object,
    given: Settings,
    current: Scenario,
    record: Callable[..., EventLog],
    resolve: Resolve,
    section: list[str],
) -> Restored:
    top = _top(document)
    instants = Instants()
    section[0] = "scenario"
    scenario = origin.load(top["scenario"], "scenario", current)
    section[0] = "settings"
    settings = _read_settings(top["settings"], given, scenario, resolve, instants)
    seed, start = settings.seed, settings.start
    assert seed is not None and start is not None
    began = start - scenario.history  # the world's origin
    engine, random, store = Engine(began), RandomStreams(seed), Store()
    scheduler = Scheduler(store, engine, record)
    executor = Executor(store, engine, random, scheduler)
    actions = Actions(store, scheduler, executor)
    faults = Faults(seed, engine, actions)  # its event handlers, before the events
    retention = Retention(store, engine, actions, settings.retention_days)
    _load_store(top, store, instants, given.secret_key, section)
    section[0] = "engine"
    lifecycle.reindex(store)
    live = {ti.id: ti for ti in store.task_instances}
    creation = load_engine(top["engine"], "engine", store, engine, instants)
    retention.bind(began)
    section[0] = "scheduler"
    load_scheduler(top["scheduler"], "scheduler", scheduler, live, creation)
    if "faults" in top:
        section[0] = "faults"
        load_faults(top["faults"], "faults", faults)
    random.replay(_drawn(top["random"], "random"))
    clock = _clock(top["clock"], "clock", instants, engine)
    return Restored(
        scenario,
        settings,
        store,
        engine,
        random,
        scheduler,
        executor,
        actions,
        faults,
        clock,
        retention,
    )


def _read_settings(
    node: object, given: Settings, scenario: Scenario, resolve: Resolve, instants: Instants
) -> Settings:
    """The flags given over the scenario's, with the document's seed and
    start, and its retention unless a flag gives one."""
    spec = mapping(node, "settings", ("seed", "start"), ("retention_days",))
    seed = integer(spec["seed"], "settings.seed", 0, MAX_SEED)
    start = instants.read(spec["start"], "settings.start")
    if start >= LATEST:
        raise SnapshotError("settings.start", f"expected an instant before {LATEST.date()}")
    settings = dataclasses.replace(resolve(given, scenario), seed=seed, start=start)
    if "retention_days" in spec and given.retention_days is None:
        days = integer(spec["retention_days"], "settings.retention_days", 1, MAX_DAYS)
        settings = dataclasses.replace(settings, retention_days=days)
    return settings


def _load_store(
    top: dict[str, Any], store: Store, instants: Instants, secret_key: str, section: list[str]
) -> None:
    """The installation's tables, the DAGs, their runs and what hangs off them."""
    section[0] = "tables"
    load_security(top["security"], "security", store)
    store.config = load_config(top["config"], "config")
    load_tables(top["tables"], "tables", store, instants)
    section[0] = "dags"
    dags.load(top["dags"], "dags", store, instants, secret_key)
    section[0] = "dag_runs"
    _load_runs(top, store, instants)


def _top(document: object) -> dict[str, Any]:
    if type(document) is not dict:
        raise fail("", "an object (a snapshot document)", document)
    if document.get("format") != FORMAT:
        raise SnapshotError("format", f"expected {FORMAT!r}, found {shown(document.get('format'))}")
    version = document.get("version")
    if type(version) is not int or version != VERSION:
        raise SnapshotError(
            "version",
            f"expected {VERSION} (this simulator reads version "
            f"{VERSION} snapshots), found {shown(version)}",
        )
    return mapping(document, "", KEYS, OPTIONAL)


def _load_runs(top: dict[str, Any], store: Store, instants: Instants) -> None:
    """Runs, their instances and tries, XComs and the event log."""
    runs, next_run_id = load_runs(top["dag_runs"], "dag_runs", store, list(store.dags), instants)
    tis, next_id, micros, (store.next_job_id, store.next_trigger_id) = load_instances(
        top, runs, instants
    )
    attached, position = [], 0
    for run, shape in runs:
        size = shape.size
        attached.append((run, RunTis(shape.layout, tuple(tis[position : position + size]))))
        position += size
    store.add_runs(attached)
    store.dag_runs.next_id = next_run_id
    for index, ti in enumerate(tis[position:]):
        try:
            store.task_instances.add(ti)
        except AlreadyExists:
            raise SnapshotError(join("task_instances.loose", index), "a duplicate key") from None
    store.task_instances.next_id = next_id
    load_xcoms(top["xcoms"], "xcoms", store, runs, micros["end_date"], instants)
    load_logs(top["event_logs"], "event_logs", store, {ti.id: ti for ti in tis}, instants)
    for index, dag in enumerate(store.dags):
        for task in dag.tasks.values():
            missing = [uri for uri in task.outlets if uri not in store.datasets]
            if missing:
                raise SnapshotError(
                    join(join("dags.rows", index), 1),
                    f"the outlet {shown(missing[0])} is not a dataset",
                )


def _drawn(node: object, path: str) -> dict[str, int]:
    spec = mapping(node, path, ("drawn",))
    drawn = spec["drawn"]
    if type(drawn) is not dict:
        raise fail(join(path, "drawn"), "an object", drawn)
    for name, count in drawn.items():
        integer(count, join(join(path, "drawn"), name), 1, MAX_DRAWN)
    if sum(drawn.values()) > MAX_DRAWN:
        raise SnapshotError(join(path, "drawn"), f"expected at most {MAX_DRAWN:,} in all")
    return dict(drawn)


def _clock(node: object, path: str, instants: Instants, engine: Engine) -> VirtualClock:
    spec = mapping(node, path, ("now", "mode", "speed"))
    now = instants.read(spec["now"], join(path, "now"))
    if now != engine.now:  # a later one would make the next request simulate all between
        raise SnapshotError(join(path, "now"), "expected the engine's now (engine.now)")
    mode = choice(spec["mode"], join(path, "mode"), (FROZEN, REALTIME))
    speed = number(spec["speed"], join(path, "speed"))
    if not 0 < speed <= MAX_SPEED:
        raise SnapshotError(join(path, "speed"), f"expected a number above 0, at most {MAX_SPEED}")
    return VirtualClock(now, mode=mode, speed=speed)
