"""Simulator: the facade that owns the world (store), the clock, the engine
and the random streams. Handlers receive it as their first argument."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from simulator.config import Settings
from simulator.engine.actions import Actions
from simulator.engine.clock import VirtualClock
from simulator.engine.core import Engine
from simulator.engine.executor import Executor
from simulator.engine.rng import RandomStreams
from simulator.engine.scheduler import Scheduler
from simulator.scenario.dags import dag_from_dict
from simulator.state.dag_model import DATASETS, Dag
from simulator.state.entities import EventLog, User
from simulator.state.run_model import Dataset
from simulator.state.security import DAG_PREFIX, hash_password
from simulator.state.store import Store
from simulator.world import load_fixture, seed_installation

SCHEDULER_HEARTBEAT = timedelta(seconds=5)


class Simulator:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.reset()

    def reset(self) -> None:
        """Back to the default world at the start instant, with fresh streams."""
        s = self.settings
        self.clock = VirtualClock(s.start, mode=s.clock, speed=s.speed)
        self.engine = Engine(self.clock.now())
        self.random = RandomStreams(s.seed)
        self.store = Store()
        self.scheduler = Scheduler(self.store, self.engine, self.record_event)
        self.executor = Executor(self.store, self.engine, self.random, self.scheduler)
        self.actions = Actions(self.store, self.scheduler, self.executor)
        seed_installation(self.store, s.fixtures_dir)
        self.add_user(
            username=s.admin_user,
            password=s.admin_password,
            first_name="Admin",
            last_name="User",
            email=f"{s.admin_user}@example.com",
            roles=["Admin"],
        )
        if s.dags_file is not None:
            self.add_dags(load_fixture(s.dags_file.parent, s.dags_file.name))
        self.catch_up()

    def add_dags(self, definitions: list[dict[str, Any]]) -> list[Dag]:
        """Parse DAG definitions into the world and let the scheduler plan them."""
        definitions = copy.deepcopy(definitions)  # fixtures are cached and shared
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
        return self.engine.run(until=self.clock.now())

    def advance(self, seconds: float) -> int:
        """Move the clock forward and process what became due; return events run."""
        self.clock.advance(seconds)
        return self.catch_up()

    def advance_to(self, moment: datetime) -> int:
        self.clock.advance_to(moment)
        return self.catch_up()

    def run_until_idle(self, limit: datetime | None = None) -> int:
        """Jump from event to event until nothing is pending (or `limit` is reached).

        Scheduled DAGs always have a next run planned, so without a limit this
        stops at the first point where only future run creations remain.
        """
        ran = self.catch_up()
        while (due := self.engine.peek()) is not None and (limit is None or due <= limit):
            if limit is None and not self.store.active_tis and self._only_creations_pending():
                break
            self.clock.advance_to(max(due, self.clock.now()))
            ran += self.catch_up()
        return ran

    def _only_creations_pending(self) -> bool:
        return all(run.state not in ("queued", "running") for run in self.store.dag_runs)

    @staticmethod
    def parse_instant(value: str) -> datetime:
        """An RFC 3339 instant (already format-checked) as an aware datetime."""
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))

    def dag_ids(self) -> list[str]:
        """Ids of the DAGs in the world (the engine's DAG bag)."""
        return [dag.dag_id for dag in self.store.dags]

    def latest_scheduler_heartbeat(self) -> datetime | None:
        """The scheduler heartbeats every 5 virtual seconds from the start instant."""
        now = self.engine.now
        ticks = (now - self.settings.start) // SCHEDULER_HEARTBEAT
        return self.settings.start + ticks * SCHEDULER_HEARTBEAT

    def hash_password(self, username: str, password: str) -> str:
        salt = self.random.salt("password", username)
        return hash_password(password, salt, self.settings.password_hash_iterations)

    def add_user(self, *, username: str, password: str | None, **fields: object) -> User:
        # FAB stores naive local times for users; the simulator runs in UTC.
        now = self.now().replace(tzinfo=None)
        user = User(username=username, created_on=now, changed_on=now, **fields)  # type: ignore[arg-type]
        if password:
            user.password_hash = self.hash_password(username, password)
        return self.store.users.add(user)

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
