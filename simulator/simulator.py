"""Simulator: the facade that owns the world (store), the clock, the engine
and the random streams. Handlers receive it as their first argument.

A simulator serves one scenario. Building the world: the installation and
the scenario's resources at the origin (`start - history`), the DAGs handed
to the scheduler, then the engine runs the history up to `start`, where the
virtual clock begins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulator import snapshot as snapshots
from simulator.config import Settings
from simulator.engine import loop
from simulator.engine.actions import Actions
from simulator.engine.clock import VirtualClock, wall_clock_minute
from simulator.engine.core import Engine
from simulator.engine.executor import Executor
from simulator.engine.retention import Retention
from simulator.engine.rng import RandomStreams
from simulator.engine.scheduler import Scheduler
from simulator.faults.documents import FaultError
from simulator.faults.registry import Faults
from simulator.scenario.budget import check_world
from simulator.scenario.dags import dag_from_dict
from simulator.scenario.loader import load_scenario
from simulator.scenario.model import Scenario
from simulator.scenario.problems import ScenarioError
from simulator.scenario.shapes import copy_data
from simulator.snapshot.reading import SnapshotError
from simulator.state.dag_model import DATASETS, Dag
from simulator.state.entities import EventLog, User
from simulator.state.journal import Journal
from simulator.state.run_model import Dataset
from simulator.state.security import DAG_PREFIX, hash_password
from simulator.state.store import Store
from simulator.versions import AirflowVersion, airflow_version
from simulator.world import seed_installation, seed_resources, start_components

REGISTRATION_ROLE = "Public"  # what a user defined without roles gets, as POST /users
MAX_EVENTS = 1_000_000  # what one run_until_idle may process at most
WORLDS_KEPT = 4  # generated worlds kept, by seed


class Simulator:
    def __init__(
        self,
        settings: Settings | None = None,
        scenario: Scenario | None = None,
        snapshot: object = None,
    ) -> None:
        """Serve `scenario` (else the settings' one) from its start, or, given
        a `snapshot` document, the world it holds (SnapshotError if it holds
        none), without building the scenario's world first."""
        self._given = settings or Settings()
        self.scenario = scenario or load_scenario(self._given.scenario)
        self.settings = resolve(self._given, self.scenario)
        self._worlds: dict[int, Scenario] = {}
        self.journal = Journal(self._given.journal_size)
        if snapshot is None:
            self.reset()
        else:
            self._restore(snapshot)

    def load(self, scenario: Scenario) -> None:
        """Serve another scenario from its start, the flags given still winning.
        A world that is refused leaves the current one untouched."""
        settings = resolve(self._given, scenario)
        assert settings.seed is not None
        if settings.airflow_version != self.settings.airflow_version:
            # The served spec (routes, validation) is the app's for its life.
            raise ScenarioError(
                [f"{scenario.source}: airflow_version: this server serves Airflow "
                 f"{self.settings.airflow_version}'s API, not {settings.airflow_version}'s"]
            )  # fmt: skip
        world = check_world(scenario, settings.seed, settings.start)
        before = dict(vars(self))
        try:
            self.scenario, self.settings = scenario, settings
            self._worlds = {settings.seed: world}
            self.reset()
        except BaseException:
            vars(self).update(before)
            raise

    @property
    def version(self) -> AirflowVersion:
        """The Airflow release whose API this world is served through."""
        assert self.settings.airflow_version is not None
        return airflow_version(self.settings.airflow_version)

    def _version_engine(self) -> None:
        """What the served release's engine does differently: Airflow 2.10
        queues dataset events for unpaused consumers only."""
        self.scheduler.datasets.queue_paused = not self.version.at_least("2.10")

    @property
    def origin(self) -> datetime:
        """When the simulated installation began: the start minus the history."""
        assert self.settings.start is not None
        return self.settings.start - self.scenario.history

    def reset(self, seed: int | None = None) -> None:
        """Back to the scenario's world at its start instant, with fresh streams
        (and another seed's world when `seed` is given)."""
        s = self.settings if seed is None else dataclasses.replace(self.settings, seed=seed)
        assert s.seed is not None and s.start is not None
        world = self._world(s.seed)  # may refuse the world: nothing has changed yet
        before = dict(vars(self))
        try:
            self._build(s, world)
        except BaseException:
            vars(self).update(before)  # a world that fails to build changes nothing
            raise
        self.journal.clear()  # as if freshly served

    def _build(self, s: Settings, world: Scenario) -> None:
        assert s.seed is not None and s.start is not None
        self.settings = s
        self.engine = Engine(self.origin)
        self.random = RandomStreams(s.seed)
        self.store = Store()
        self.scheduler = Scheduler(self.store, self.engine, self.record_event)
        self._version_engine()
        self.executor = Executor(self.store, self.engine, self.random, self.scheduler)
        self.actions = Actions(self.store, self.scheduler, self.executor)
        self.faults = Faults(s.seed, self.engine, self.actions)
        self.retention = Retention(self.store, self.engine, self.actions, s.retention_days)
        self._passwords: dict[int, str] = {}
        seed_installation(self.store, world, self.version)
        start_components(self.store, self.origin)
        self._add_users(world)
        seed_resources(self.store, world, parsed_at=s.start)
        self.add_dags(world.dags)
        self._add_faults(world, s.start)
        self.retention.start(self.origin)  # the history is cleaned as it goes
        self.engine.run(until=s.start)  # the history, before anyone looks
        self.clock = VirtualClock(s.start, mode=s.clock or "realtime", speed=s.speed or 1.0)
        self.catch_up()

    def _add_faults(self, world: Scenario, start: datetime) -> None:
        """The scenario's faults, from the origin on, so that they shape the
        history too; their relative instants count from the start."""
        try:
            self.faults.add_all(world.faults, base=start)
        except FaultError as exc:  # a reference the world lacks (a DAG, a pool)
            raise ScenarioError([f"{world.name}: {exc.where()}"]) from None

    def snapshot(self) -> dict[str, Any]:
        """The whole world as plain JSON data (simulator/snapshot/); users'
        pending passwords are hashed first, as Airflow's database holds them."""
        self.catch_up()  # the world as of the clock's now
        for user in self.store.users:
            self.password_hash(user)
        return snapshots.export(self)

    def restore(self, document: object) -> None:
        """Serve the world a snapshot describes, from where it was taken; its
        scenario, seed and start become this simulator's (the flags given
        still winning, as in load). SnapshotError, and nothing changed, when
        the document describes no world."""
        served = self.settings.airflow_version
        self._restore(document, served)

    def _restore(self, document: object, served: str | None = None) -> None:
        """restore(), refusing a world of another API version than `served`."""
        world = snapshots.restore(document, given=self._given, current=self.scenario,
                                  record=self.record_event, resolve=resolve)  # fmt: skip
        if served is not None and world.settings.airflow_version != served:
            # The served spec (routes, validation) is the app's for its life.
            raise SnapshotError(
                "scenario.airflow_version",
                f"this server serves Airflow {served}'s API, "
                f"not {world.settings.airflow_version}'s",
            )
        if world.scenario is not self.scenario:
            self._worlds = {}
        self.scenario, self.settings = world.scenario, world.settings
        self.engine, self.random, self.store = world.engine, world.random, world.store
        self.scheduler, self.executor, self.actions = world.scheduler, world.executor, world.actions
        self.faults, self.clock = world.faults, world.clock
        self.retention = world.retention
        self._version_engine()
        self._passwords = {}

    def counts(self) -> dict[str, int]:
        """How big the world is, by entity."""
        store = self.store
        return {
            "dags": len(store.dags),
            "dag_runs": len(store.dag_runs),
            "task_instances": len(store.task_instances),
            "event_logs": len(store.event_logs),
            "connections": len(store.connections),
            "variables": len(store.variables),
            "pools": len(store.pools),
            "users": len(store.users),
        }

    def _world(self, seed: int) -> Scenario:
        """The scenario with its generated parts for `seed` (made and checked
        once per seed)."""
        world = self._worlds.get(seed)
        if world is None:
            world = check_world(self.scenario, seed, self.settings.start)
            if len(self._worlds) >= WORLDS_KEPT:  # resets with ever new seeds
                del self._worlds[next(iter(self._worlds))]
            self._worlds[seed] = world
        return world

    def _add_users(self, world: Scenario) -> None:
        s = self.settings
        defined = {u["username"].lower(): u for u in world.users}
        if s.admin_user.lower() not in defined:
            admin = {"first_name": "Admin", "last_name": "User", "roles": ["Admin"]}
            email = f"{s.admin_user}@example.com"
            self.add_user(username=s.admin_user, password=s.admin_password, email=email, **admin)
        for user in world.users:
            name = user["username"]
            self.add_user(
                username=name,
                password=user.get("password"),
                first_name=user.get("first_name", name.capitalize()),
                last_name=user.get("last_name", "User"),
                email=user.get("email", f"{name}@example.com"),
                roles=list(dict.fromkeys(user.get("roles", [REGISTRATION_ROLE]))),
                active=user.get("active", True),
            )

    def add_dags(self, definitions: list[dict[str, Any]]) -> list[Dag]:
        """Parse DAG definitions into the world and let the scheduler plan them."""
        definitions = copy_data(definitions)  # scenarios are cached and shared
        dags = [dag_from_dict(item, self.settings.secret_key) for item in definitions]
        now = self.engine.now
        for dag in dags:
            self.store.dags.add(dag)
            self.store.resources.append(DAG_PREFIX + dag.dag_id)
            uris = [*(u for t in dag.tasks.values() for u in t.outlets)]
            if dag.schedule.kind == DATASETS:
                uris.extend(dag.schedule.value)
            for uri in uris:
                if uri not in self.store.datasets:
                    self.store.datasets.add(Dataset(uri=uri, created_at=now, updated_at=now))
        for dag in dags:
            self.scheduler.add_dag(dag)
        return dags

    def now(self) -> datetime:
        """The instant the world has caught up to: the clock's now while a
        request is answered, fixed for the whole request even in realtime mode."""
        return self.engine.now

    def catch_up(self) -> int:
        """Process every event due by the clock's now; called before each request."""
        ran = self.engine.run(until=self.clock.now())
        self.scheduler.beat()
        return ran

    def advance(self, seconds: float) -> int:
        """Move the clock forward and process what became due; return events run."""
        self.clock.advance(seconds)
        return self.catch_up()

    def advance_to(self, moment: datetime) -> int:
        self.clock.advance_to(moment)
        return self.catch_up()

    def advance_toward(self, moment: datetime, max_events: int) -> tuple[int, bool]:
        """Run at most `max_events` of the events due by `moment`; the clock
        follows to the instant reached (`moment` once all of them ran).
        Answers the events run and whether `moment` was reached."""
        ran = self.engine.run(until=moment, limit=max_events)
        due = self.engine.peek()
        reached = due is None or due > moment
        if reached:
            self.engine.now = max(self.engine.now, moment)
        self.clock.advance_to(max(self.engine.now, self.clock.now()))
        self.scheduler.beat()
        return ran, reached

    def advance_while(self, pending: Callable[[], bool], max_events: int) -> int:
        """Run events one by one while `pending()` holds (at most `max_events`);
        the clock follows to the instant reached."""
        ran = 0
        while ran < max_events and pending() and (due := self.engine.peek()) is not None:
            ran += self.engine.run(until=due, limit=1)
        self.clock.advance_to(max(self.engine.now, self.clock.now()))
        self.scheduler.beat()
        return ran

    def run_until_idle(self, limit: datetime | None = None, max_events: int = MAX_EVENTS) -> int:
        """Jump from event to event until nothing is pending (or `limit` is reached).

        Scheduled DAGs always have a next run planned, so without a limit this
        stops at the first point where no task instance is active and no
        queued run waits for the scheduler's next loop: nothing but new runs
        can happen then (a queued run waits for a running one,
        which waits for its instances; a run stuck behind a failed
        depends_on_past waits forever). `max_events` bounds it in any case.
        """
        ran = self.catch_up()
        while (due := self.engine.peek()) is not None and (limit is None or due <= limit):
            if limit is None and not self.store.active_tis and not self.scheduler.waking:
                break
            if ran >= max_events:
                break
            self.clock.advance_to(max(due, self.clock.now()))
            ran += self.catch_up()
        return ran

    def dag_ids(self) -> list[str]:
        """Ids of the DAGs in the world (the engine's DAG bag)."""
        return [dag.dag_id for dag in self.store.dags]

    def latest_scheduler_heartbeat(self) -> datetime | None:
        """The scheduler heartbeats every 5 virtual seconds from the origin;
        while it is down (Scheduler.outage_begin), the latest beat is the
        last one at or before the outage began."""
        return self.latest_heartbeat(self.scheduler.down_since or self.engine.now)

    def latest_heartbeat(self, moment: datetime | None = None) -> datetime:
        """The last 5-second beat at or before `moment` (now): a job that
        runs on, such as the triggerer during a scheduler outage."""
        return loop.last_beat(self.origin, loop.HEARTBEAT, moment or self.engine.now)

    def hash_password(self, username: str, password: str) -> str:
        salt = self.random.salt("password", username)
        assert self.settings.password_hash_iterations
        return hash_password(password, salt, self.settings.password_hash_iterations)

    def set_password(self, user: User, password: str | None) -> None:
        """Remember the password; it is hashed when first needed (the hash is
        slow on purpose and no answer shows it, so a world of many users
        starts without paying for every one)."""
        user.password_hash = ""
        self._passwords.pop(user.id, None)
        if password:
            self._passwords[user.id] = password

    def password_hash(self, user: User) -> str:
        """The user's stored hash ('' when it has no password)."""
        pending = self._passwords.pop(user.id, None)
        if pending is not None:
            user.password_hash = self.hash_password(user.username, pending)
        return user.password_hash

    def add_user(self, *, username: str, password: str | None, **fields: object) -> User:
        # FAB stores naive local times for users; the simulator runs in UTC.
        now = self.now().replace(tzinfo=None)
        user = User(username=username, created_on=now, changed_on=now, **fields)  # type: ignore[arg-type]
        self.store.users.add(user)
        self.set_password(user, password)
        return user

    def record_event(
        self,
        event: str,
        *,
        owner: str | None,
        dag_id: str | None = None,
        task_id: str | None = None,
        execution_date: datetime | None = None,
        extra: str | None = None,
    ) -> EventLog:
        return self.store.event_logs.add(
            EventLog(
                when=self.engine.now,
                event=event,
                owner=owner,
                dag_id=dag_id,
                task_id=task_id,
                execution_date=execution_date,
                extra=extra,
            )
        )


def resolve(settings: Settings, scenario: Scenario) -> Settings:
    """`settings` with every field the flags left unset taken from the scenario."""
    api = scenario.config.get("api", {})
    limits = (int(api.get("maximum_page_limit", 0)), int(api.get("fallback_page_limit", 0)))
    start = settings.start or scenario.start
    if not isinstance(start, datetime):  # NOW
        start = wall_clock_minute()
    expose = scenario.config.get("webserver", {}).get("expose_config", False)
    cors = {
        name: str(api.get(f"access_control_allow_{name}", ""))
        for name in ("origins", "headers", "methods")
    }
    return dataclasses.replace(
        settings,
        seed=scenario.seed if settings.seed is None else settings.seed,
        airflow_version=settings.airflow_version or scenario.airflow_version,
        auth=settings.auth or scenario.auth,
        clock=settings.clock or scenario.mode,
        speed=settings.speed or scenario.speed,
        start=start,
        expose_config=(
            str(expose).lower() == "true" if settings.expose_config is None
            else settings.expose_config
        ),
        cors_origins=cors["origins"] if settings.cors_origins is None else settings.cors_origins,
        cors_headers=cors["headers"] if settings.cors_headers is None else settings.cors_headers,
        cors_methods=cors["methods"] if settings.cors_methods is None else settings.cors_methods,
        retention_days=settings.retention_days or scenario.retention_days,
        maximum_page_limit=settings.maximum_page_limit or limits[0] or None,
        fallback_page_limit=settings.fallback_page_limit or limits[1] or None,
    )  # fmt: skip
