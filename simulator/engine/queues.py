"""Scheduled task instances waiting for a slot, and their dispatch.

Per pool, a heap of entries `(-priority weight, the run's logical date,
map index, seq, instance)`: the order Airflow's scheduler picks them in,
ties broken by the order they were scheduled (`seq`, a plain counter). Per
DAG, the entries held back by the DAG itself (paused, or at
max_active_tasks) are parked as `(pool, entry)` until it has room again
(store.released, or the scheduler resuming it), so that a full DAG is not
re-examined at every pass. The scheduler owns one and dispatches while it
is up.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime

from simulator.engine import lifecycle as lc
from simulator.state.dag_model import Task
from simulator.state.run_model import TaskInstance
from simulator.state.store import Store

Waiting = tuple[int, datetime, int, int, TaskInstance]


class Queues:
    def __init__(self, store: Store) -> None:
        self.store = store
        # Read, never write (a snapshot records them): the heaps per pool,
        # the entries parked per DAG, the next entry's seq.
        self.waiting: dict[str, list[Waiting]] = {}
        self.parked: dict[str, list[tuple[str, Waiting]]] = {}
        self.next_seq = 0

    def add(self, ti: TaskInstance, logical: datetime) -> None:
        """The scheduled instance (of a run of `logical` date) waits in its pool."""
        seq = self.next_seq
        self.next_seq = seq + 1
        entry = (-ti.priority_weight, logical, ti.map_index, seq, ti)
        heap = self.waiting.get(ti.pool)
        if heap is None:
            heap = self.waiting[ti.pool] = []
        heapq.heappush(heap, entry)

    def dispatch(self, queue: Callable[[TaskInstance, Task], None]) -> None:
        """Hand waiting instances to `queue` by priority while their pool and
        DAG have room (DAGs that released a slot unpark first)."""
        released = self.store.released
        if released:
            if self.parked:
                for dag_id in released:
                    if dag_id in self.parked:
                        self.unpark(dag_id)
            released.clear()
        for pool_name, heap in self.waiting.items():
            if heap:
                self._dispatch_pool(pool_name, heap, queue)

    def _dispatch_pool(
        self, pool_name: str, heap: list[Waiting], queue: Callable[[TaskInstance, Task], None]
    ) -> None:
        store = self.store
        pool = store.pools.get(pool_name)
        slots = pool.slots if pool is not None else 0
        occupied, busy, dags = store.pool_occupied, store.dag_busy, store.dags.rows
        held: list[Waiting] = []
        while heap:
            entry = heap[0]
            ti = entry[4]
            if ti.state != lc.SCHEDULED:
                heapq.heappop(heap)  # cleared or marked meanwhile
                continue
            free = slots - occupied[pool_name]
            if slots != -1 and free <= 0:
                break  # the pool is full
            heapq.heappop(heap)
            dag = dags[ti.dag_id]
            # Airflow skips an instance that does not fit (pool slots, the
            # DAG's max_active_tasks, a paused DAG) and tries lower priorities.
            if slots != -1 and free < ti.pool_slots:
                held.append(entry)
            elif dag.is_paused or busy[ti.dag_id] >= dag.max_active_tasks:
                # Parked until its DAG has room: not re-examined at every pass.
                self.parked.setdefault(ti.dag_id, []).append((pool_name, entry))
            else:
                queue(ti, dag.tasks[ti.task_id])
        for entry in held:
            heapq.heappush(heap, entry)

    def unpark(self, dag_id: str) -> None:
        """The DAG's held-back instances wait in their pools again when it has
        room (in their original order: an entry keeps its priority and seq)."""
        dag = self.store.dags.get(dag_id)
        if dag is None or (
            not dag.is_paused and self.store.dag_busy[dag_id] < dag.max_active_tasks
        ):
            for pool_name, entry in self.parked.pop(dag_id):
                heapq.heappush(self.waiting[pool_name], entry)

    def load(
        self,
        waiting: dict[str, list[Waiting]],
        parked: dict[str, list[tuple[str, Waiting]]],
        next_seq: int,
    ) -> None:
        """A snapshot's heaps, parked entries and seq counter, replacing these."""
        self.waiting = {pool: sorted(entries) for pool, entries in waiting.items()}
        self.parked = parked
        self.next_seq = next_seq
