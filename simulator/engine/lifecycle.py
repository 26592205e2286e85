"""Task instance and DAG run states: which transitions exist, the trigger
rules, and how a run's state follows from its task instances.

Every task instance state change goes through `set_state`, which keeps the
store's index of active instances (the ones pools and limits count) true.
"""

from __future__ import annotations

from collections.abc import Iterable

from simulator.state.run_model import TaskInstance
from simulator.state.store import Store

SUCCESS, FAILED, SKIPPED = "success", "failed", "skipped"
UPSTREAM_FAILED, REMOVED = "upstream_failed", "removed"
SCHEDULED, QUEUED, RUNNING, DEFERRED = "scheduled", "queued", "running", "deferred"
UP_FOR_RETRY, RESTARTING = "up_for_retry", "restarting"

FINISHED = frozenset({SUCCESS, FAILED, SKIPPED, UPSTREAM_FAILED, REMOVED})
# States that hold a pool slot or wait for one, and so count against limits.
ACTIVE = frozenset({SCHEDULED, QUEUED, RUNNING, DEFERRED, UP_FOR_RETRY, RESTARTING})

# Trigger rule decisions.
RUN, WAIT, SKIP, FAIL = "run", "wait", "skip", "upstream_failed"


# States that hold a pool slot and count against max_active_tasks.
OCCUPYING = frozenset({QUEUED, RUNNING})


def set_state(store: Store, ti: TaskInstance, state: str | None) -> None:
    old = ti.state
    if old in OCCUPYING:
        if state not in OCCUPYING:
            store.pool_occupied[ti.pool] -= ti.pool_slots
            store.dag_busy[ti.dag_id] -= 1
            store.released.add(ti.dag_id)
    elif state in OCCUPYING:
        store.pool_occupied[ti.pool] += ti.pool_slots
        store.dag_busy[ti.dag_id] += 1
    if not store.task_instances.is_loose(ti):
        store.ti_index.move(ti, old, state)
    ti.state = state
    # Keyed by row id: cheaper than the natural key, and as unique.
    if state in ACTIVE:
        store.active_tis[ti.id] = ti
    else:
        store.active_tis.pop(ti.id, None)


def trigger_decision(rule: str, states: Iterable[str | None]) -> str:
    """What a task whose upstream instances are in `states` does now.

    Mirrors Airflow's TriggerRuleDep: RUN when satisfied, WAIT while it may
    still be, else SKIP or FAIL (upstream_failed) as Airflow marks it.
    """
    success = failed = upstream_failed = skipped = done = total = 0
    for state in states:  # a plain loop: this runs for every task of every run
        total += 1
        if state == SUCCESS:
            success += 1
        elif state == FAILED:
            failed += 1
        elif state == UPSTREAM_FAILED:
            upstream_failed += 1
        elif state == SKIPPED:
            skipped += 1
        elif state != REMOVED:
            continue
        done += 1
    all_done = done >= total
    if rule == "always" or total == 0:
        return RUN
    if rule == "all_success":
        if failed or upstream_failed:
            return FAIL
        if skipped:
            return SKIP
        return RUN if all_done else WAIT
    if rule == "all_failed":
        if success or skipped:
            return SKIP
        return RUN if all_done else WAIT
    if rule == "all_done":
        return RUN if all_done else WAIT
    if rule == "all_skipped":
        if success or failed:
            return SKIP
        return RUN if skipped == total else WAIT
    if rule == "one_success":
        if success:
            return RUN
        if all_done:
            return SKIP if done == skipped else FAIL
        return WAIT
    if rule == "one_failed":
        if failed or upstream_failed:
            return RUN
        return SKIP if all_done else WAIT
    if rule == "one_done":
        if success or failed:
            return RUN
        return SKIP if all_done else WAIT
    if rule == "none_failed":
        if failed or upstream_failed:
            return FAIL
        return RUN if all_done else WAIT
    if rule == "none_failed_min_one_success":
        if failed or upstream_failed:
            return FAIL
        if not all_done:
            return WAIT
        return RUN if success else SKIP
    if rule == "none_skipped":
        if skipped:
            return SKIP
        return RUN if all_done else WAIT
    raise ValueError(f"unknown trigger rule {rule!r}")


def run_outcome(leaf_states: Iterable[str | None], all_states: Iterable[str | None]) -> str | None:
    """A run's final state once every task instance is finished, else None.

    As Airflow's DagRun.update_state: failed if any leaf failed or
    upstream_failed, success when every leaf succeeded or was skipped.
    """
    if any(state not in FINISHED for state in all_states):
        return None
    if any(state in (FAILED, UPSTREAM_FAILED) for state in leaf_states):
        return FAILED
    return SUCCESS


def reindex(store: Store) -> None:
    """The store's indices that set_state keeps (active instances, slots held
    per pool and per DAG), rebuilt from the instances' states: a restored
    world's."""
    store.active_tis.clear()
    store.pool_occupied.clear()
    store.dag_busy.clear()
    for ti in store.task_instances:
        state = ti.state
        if state in ACTIVE:
            store.active_tis[ti.id] = ti
            if state in OCCUPYING:
                store.pool_occupied[ti.pool] += ti.pool_slots
                store.dag_busy[ti.dag_id] += 1
