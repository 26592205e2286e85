"""Simulator: the facade that owns the world (store), the clock, the engine
and the random streams. Handlers receive it as their first argument."""

from __future__ import annotations

from datetime import datetime, timedelta

from simulator.config import Settings
from simulator.engine.clock import VirtualClock
from simulator.engine.core import Engine
from simulator.engine.rng import RandomStreams
from simulator.state.entities import EventLog, User
from simulator.state.security import hash_password
from simulator.state.store import Store
from simulator.world import seed_installation

SCHEDULER_HEARTBEAT = timedelta(seconds=5)


class Simulator:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.reset()

    def reset(self) -> None:
        """Back to the default world at the start instant, with fresh streams."""
        s = self.settings
        self.clock = VirtualClock(s.start, mode=s.clock, speed=s.speed)
        self.engine = Engine()
        self.random = RandomStreams(s.seed)
        self.store = Store()
        seed_installation(self.store, s.fixtures_dir)
        self.add_user(
            username=s.admin_user,
            password=s.admin_password,
            first_name="Admin",
            last_name="User",
            email=f"{s.admin_user}@example.com",
            roles=["Admin"],
        )

    def now(self) -> datetime:
        return self.clock.now()

    def catch_up(self) -> int:
        """Process every event due by the clock's now; called before each request."""
        return self.engine.run(until=self.clock.now())

    def dag_ids(self) -> list[str]:
        """Ids of the DAGs in the world (the engine's DAG bag)."""
        return []

    def latest_scheduler_heartbeat(self) -> datetime | None:
        """The scheduler heartbeats every 5 virtual seconds from the start instant."""
        now = self.clock.now()
        ticks = (now - self.settings.start) // SCHEDULER_HEARTBEAT
        return self.settings.start + ticks * SCHEDULER_HEARTBEAT

    def hash_password(self, username: str, password: str) -> str:
        rng = self.random.stream("password", username)
        return hash_password(password, rng, self.settings.password_hash_iterations)

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
                when=self.now(),
                event=event,
                owner=owner,
                dag_id=dag_id,
                task_id=task_id,
                execution_date=execution_date,
                extra=extra,
            )
        )
