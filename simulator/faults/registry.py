"""The faults in force, in the order they are tried, with their counters.

HTTP faults are asked per request (`http`), task faults per try (the
executor's `effects` hook), and windowed faults (scheduler outage, import
error, pool starvation) begin and end as engine events keyed by the fault's
id, generation and occurrence, so the heap stays plain data and an event of
a fault since changed or removed does nothing.

Every firing decision is a keyed draw (seed, fault id, match number): the
same seed and the same requests and clock moves fire the same way.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulator.engine import lifecycle as lc
from simulator.engine.actions import Actions
from simulator.engine.clock import LATEST
from simulator.engine.core import Engine
from simulator.engine.effects import TaskEffect
from simulator.engine.rng import unit
from simulator.errors import AlreadyExists, NotFound
from simulator.faults import documents
from simulator.faults import model as m
from simulator.state.dag_model import Task
from simulator.state.run_model import TaskInstance

BEGIN, END = "fault.begin", "fault.end"  # events: (fault id, generation, occurrence)


@dataclass(slots=True)
class Held:
    """What windows in force hold: per pool, its own slots and each
    starving fault's slots (the pool has the fewest); per DAG, the faults
    that keep its file broken; per fault, the occurrence in force."""

    pools: dict[str, tuple[int, dict[str, int]]] = field(default_factory=dict)
    dags: dict[str, list[str]] = field(default_factory=dict)
    occurrences: dict[str, int] = field(default_factory=dict)


class Faults:
    def __init__(self, seed: int, engine: Engine, actions: Actions) -> None:
        self.seed = seed
        self.engine = engine
        self.actions = actions
        self.store = actions.store
        self._faults: dict[str, m.Fault] = {}
        self._next_id = 1
        self.held = Held()
        self.headers = 0  # requests with an X-Sim-Fault header: their draws' keys
        self.has_http = False
        self._http: list[m.Fault] = []
        self._task: list[m.Fault] = []
        engine.on(BEGIN, self._begin)
        engine.on(END, self._end)

    # -- the collection -----------------------------------------------------

    def __len__(self) -> int:
        return len(self._faults)

    def __iter__(self) -> Iterator[m.Fault]:
        return iter(list(self._faults.values()))

    def get(self, fault_id: str) -> m.Fault:
        fault = self._faults.get(fault_id)
        if fault is None:
            raise NotFound(title="Fault not found", detail=f"No fault has the id '{fault_id}'")
        return fault

    def add(self, document: Any, base: datetime | None = None) -> m.Fault:
        return self.add_all([document], base)[0]

    def add_all(self, documents_: Iterable[Any], base: datetime | None = None) -> list[m.Fault]:
        """Parse every document, then add them all (or none, and nothing
        changed: FaultError, or a 409 for an id in use). Relative instants
        count from `base`, else now."""
        base = base or self.engine.now
        items = list(documents_)
        given = {d.get("id") for d in items if isinstance(d, dict)}
        taken = set(self._faults)
        number = self._next_id
        parsed: list[m.Fault] = []
        for index, document in enumerate(items):
            while f"f{number}" in taken or f"f{number}" in given:
                number += 1
            try:
                fault = documents.parse(document, base, f"f{number}")
                self._check_references(fault)
            except documents.FaultError as error:
                error.index = index
                raise
            if fault.id in taken:
                raise AlreadyExists(detail=f"A fault with the id '{fault.id}' exists")
            if fault.id == f"f{number}":
                number += 1
            taken.add(fault.id)
            parsed.append(fault)
        self._next_id = number
        for fault in parsed:
            self._faults[fault.id] = fault
            self._install(fault, current_tries=True)
        self._index()
        return parsed

    def _check_references(self, fault: m.Fault) -> None:
        if fault.dag_id is not None and fault.dag_id not in self.store.dags:
            raise documents.FaultError("dag_id", f"no DAG has the id '{fault.dag_id}'")
        if fault.pool is not None and fault.pool not in self.store.pools:
            raise documents.FaultError("pool", f"no pool is named '{fault.pool}'")

    @property
    def next_id(self) -> int:
        """The number of the next id assigned ("f<n>")."""
        return self._next_id

    def restore(self, rules: list[m.Fault], next_id: int, held: Held, headers: int) -> None:
        """A snapshot's faults, counters and windows in force (their events
        are on the engine's heap already)."""
        self._faults = {fault.id: fault for fault in rules}
        self._next_id, self.held, self.headers = next_id, held, headers
        self._index()

    def patch(self, fault_id: str, changes: Mapping[str, Any]) -> m.Fault:
        """Replace some fields (None removes one); the counts stay, a window in
        force ends and the new one is planned. A task fault applies to tries
        under way only when the change enables it."""
        old = self.get(fault_id)
        if changes.get("id", fault_id) != fault_id:
            raise documents.FaultError("id", "a fault's id cannot be changed")
        document = documents.changed(old.document, old.enabled, changes)
        fault = documents.parse(document, self.engine.now, fault_id)
        self._check_references(fault)
        self._uninstall(old)
        fault.matched, fault.fired, fault.generation = old.matched, old.fired, old.generation + 1
        self._faults[fault_id] = fault  # same place in the order
        self._install(fault, current_tries=not old.enabled)
        self._index()
        return fault

    def remove(self, fault_id: str) -> None:
        self._uninstall(self.get(fault_id))
        del self._faults[fault_id]
        self._index()

    def clear(self) -> None:
        for fault in list(self._faults.values()):
            self._uninstall(fault)
        self._faults.clear()
        self._index()

    def _index(self) -> None:
        self._http = [f for f in self._faults.values() if f.kind == m.HTTP]
        self._task = [f for f in self._faults.values() if f.kind == m.TASK]
        self.has_http = any(f.enabled for f in self._http)
        self._by_route: dict[tuple[str | None, str], list[m.Fault]] = {}
        enabled = any(f.enabled for f in self._task)
        self.actions.executor.effects = self.effect_for if enabled else None

    def _install(self, fault: m.Fault, *, current_tries: bool) -> None:
        if fault.window is not None:
            self._plan(fault, self._first_occurrence(fault))
        elif fault.kind == m.TASK and fault.enabled and current_tries:
            self._apply_to_current_tries(fault)

    def _uninstall(self, fault: m.Fault) -> None:
        """A removed or changed fault: its window in force ends now, and its
        planned events are void (the generation moves on)."""
        fault.generation += 1
        if fault.id in self.held.occurrences:
            self._revert(fault)

    # -- HTTP ---------------------------------------------------------------

    def http(self, facts: m.RequestFacts, now: datetime) -> list[m.Firing]:
        """The HTTP faults that fire for a request, in rule order."""
        if not self.has_http:
            return []
        # The faults whose operation, tag and method can match, once per route
        # (not for paths no route matched: their methods are anyone's words).
        route = (facts.operation_id, facts.method)
        candidates = self._by_route.get(route) if facts.operation_id else None
        if candidates is None:
            static = m.RequestFacts(facts.method, "", facts.operation_id, facts.tag, None)
            candidates = [
                f for f in self._http if f.enabled and _http_matches(f.match, static, STATIC)
            ]
            if facts.operation_id:
                self._by_route[route] = candidates
        firings = []
        for fault in candidates:
            if _http_matches(fault.match, facts, DYNAMIC):
                firing = self._fire_http(fault, now)
                if firing is not None:
                    firings.append(firing)
        return firings

    def fire_header(self, fault: m.Fault, facts: m.RequestFacts, now: datetime) -> list[m.Firing]:
        """An X-Sim-Fault header's fault, for its one request (not kept)."""
        if fault.kind != m.HTTP or not fault.enabled or not _http_matches(fault.match, facts):
            return []
        # Counted across such requests, so that each draws afresh.
        self.headers += 1
        fault.matched = self.headers - 1
        firing = self._fire_http(fault, now)
        return [firing] if firing is not None else []

    def _fire_http(self, fault: m.Fault, now: datetime) -> m.Firing | None:
        if not self._fires(fault, now):
            return None
        latency = 0.0
        if fault.latency is not None:
            latency = fault.latency.fixed or 0.0
            if fault.latency.fixed is None:
                key = f"{self.seed}:fault/{fault.id}/{fault.matched}/latency/"
                latency = fault.latency.seconds(unit(key + "u1"), unit(key + "u2"))
        return m.Firing(fault.id, fault.phase, fault.action, latency)

    def _fires(self, fault: m.Fault, now: datetime) -> bool:
        """Count a match, then decide: the conditions, then the seeded draw."""
        fault.matched += 1
        when = fault.when
        if not when.holds(fault.matched, fault.fired, now):
            return False
        draw = f"{self.seed}:fault/{fault.id}/{fault.matched}"
        if when.probability is not None and unit(draw) >= when.probability:
            return False
        fault.fired += 1
        return True

    # -- tasks --------------------------------------------------------------

    def effect_for(self, ti: TaskInstance, task: Task, try_number: int) -> TaskEffect | None:
        """The executor's hook: what the first task fault that fires does to
        this try (each matching fault counts the try)."""
        now = self.engine.now
        chosen = None
        for fault in self._task:
            matches = fault.enabled and _task_matches(fault.match, ti, try_number)
            if matches and self._fires(fault, now) and chosen is None:
                chosen = _effect(fault)
        return chosen

    def _apply_to_current_tries(self, fault: m.Fault) -> None:
        """A fault added while tries are queued or running applies to them."""
        now = self.engine.now
        current = [
            ti for ti in self.store.active_tis.values() if ti.state in (lc.QUEUED, lc.RUNNING)
        ]
        for ti in sorted(current, key=lambda t: t.id):
            try_number = ti.try_number + (1 if ti.state == lc.QUEUED else 0)
            if _task_matches(fault.match, ti, try_number) and self._fires(fault, now):
                self.actions.executor.apply_effect(ti, _effect(fault))

    # -- windows ------------------------------------------------------------

    def _bounds(self, fault: m.Fault, occurrence: int) -> tuple[datetime, datetime | None]:
        window = fault.window
        assert window is not None
        shift = timedelta(seconds=(window.repeat or 0) * occurrence)
        return window.start + shift, None if window.end is None else window.end + shift

    def _first_occurrence(self, fault: m.Fault) -> int | None:
        """The first occurrence that has not ended yet (None: all have)."""
        window = fault.window
        assert window is not None
        now = self.engine.now
        if window.end is None or window.end > now:
            return 0
        if window.repeat is None:
            return None
        passed = (now - window.end).total_seconds() // window.repeat + 1
        return int(passed)

    def _plan(self, fault: m.Fault, occurrence: int | None) -> None:
        if occurrence is None:
            return
        try:
            start, _ = self._bounds(fault, occurrence)
        except OverflowError:
            return
        if start >= LATEST:  # the clock never gets there
            return
        self.engine.schedule(
            max(start, self.engine.now), BEGIN, fault.id, fault.generation, occurrence
        )

    def _begin(self, fault_id: str, generation: int, occurrence: int) -> None:
        fault = self._faults.get(fault_id)
        if fault is None or fault.generation != generation:
            return
        assert fault.window is not None
        if fault.window.repeat is not None:
            self._plan(fault, occurrence + 1)
        if not fault.enabled or not self._fires(fault, self.engine.now):
            return
        self._apply(fault)
        self.held.occurrences[fault.id] = occurrence
        _, end = self._bounds(fault, occurrence)
        if end is not None:
            self.engine.schedule(end, END, fault.id, generation, occurrence)

    def _end(self, fault_id: str, generation: int, occurrence: int) -> None:
        fault = self._faults.get(fault_id)
        current = fault is not None and fault.generation == generation
        if current and self.held.occurrences.get(fault_id) == occurrence:
            assert fault is not None
            self._revert(fault)

    def _apply(self, fault: m.Fault) -> None:
        if fault.kind == m.OUTAGE:
            self.actions.scheduler.outage_begin()
        elif fault.kind == m.IMPORT_ERROR:
            assert fault.dag_id is not None
            breaking = self.held.dags.setdefault(fault.dag_id, [])
            breaking.append(fault.id)
            dag = self.store.dags.get(fault.dag_id)
            if dag is not None and len(breaking) == 1:
                self.actions.break_dag_file(dag, documents.stacktrace(fault, dag.fileloc))
        elif fault.kind == m.POOL_STARVATION:
            assert fault.pool is not None and fault.slots is not None
            pool = self.store.pools.get(fault.pool)
            own, starving = self.held.pools.get(fault.pool, (pool.slots if pool else 0, {}))
            starving[fault.id] = fault.slots
            self.held.pools[fault.pool] = (own, starving)
            if pool is not None:
                self.actions.set_pool_slots(pool, _squeezed(own, starving))

    def _revert(self, fault: m.Fault) -> None:
        del self.held.occurrences[fault.id]
        if fault.kind == m.OUTAGE:
            self.actions.scheduler.outage_end()
        elif fault.kind == m.IMPORT_ERROR:
            assert fault.dag_id is not None
            breaking = self.held.dags[fault.dag_id]
            breaking.remove(fault.id)
            if not breaking:
                del self.held.dags[fault.dag_id]
                dag = self.store.dags.get(fault.dag_id)
                if dag is not None:
                    self.actions.repair_dag_file(dag)
        elif fault.kind == m.POOL_STARVATION:
            assert fault.pool is not None
            own, starving = self.held.pools[fault.pool]
            squeezed = _squeezed(own, starving)
            del starving[fault.id]
            if not starving:
                del self.held.pools[fault.pool]
            pool = self.store.pools.get(fault.pool)
            if pool is not None and pool.slots == squeezed:  # changed meanwhile: left so
                self.actions.set_pool_slots(pool, _squeezed(own, starving))


def _squeezed(own: int, starving: dict[str, int]) -> int:
    """A pool's slots while faults starve it: the fewest, never more than its
    own (-1: unlimited)."""
    fewest = min(starving.values(), default=own)
    return fewest if own < 0 else min(own, fewest)


# What a request's route fixes (its operation, tag and method), and the rest.
STATIC = frozenset({"operation_id", "tag", "method"})
DYNAMIC = frozenset({"path", "user"})


def _http_matches(
    match: dict[str, tuple[str, ...]],
    facts: m.RequestFacts,
    fields: frozenset[str] = STATIC | DYNAMIC,
) -> bool:
    for name, wanted in match.items():
        if name not in fields:
            continue
        if name == "path":
            if not fnmatch.fnmatchcase(facts.path, wanted[0]):
                return False
        elif getattr(facts, name) not in wanted:
            return False
    return True


def _task_matches(match: dict[str, tuple[str, ...]], ti: TaskInstance, try_number: int) -> bool:
    for name, (pattern,) in match.items():
        value = str(try_number) if name == "try_number" else getattr(ti, name) or ""
        if not fnmatch.fnmatchcase(value, pattern):
            return False
    return True


def _effect(fault: m.Fault) -> TaskEffect:
    return TaskEffect(
        fault_id=fault.id, effect=fault.effect or m.FAIL, state=fault.state,
        seconds=fault.seconds, factor=fault.factor, message=fault.message,
    )  # fmt: skip
