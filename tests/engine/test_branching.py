"""Branch operators (`branch: true`): a successful try follows one direct
downstream task, picked by a keyed draw, and skips the others at once, as
Airflow 2.5's BaseBranchOperator and SkipMixin.skip_all_except do; the usual
trigger rules then apply downstream of what was skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.engine import branching
from simulator.state.run_model import DagRun
from tests.engine.conftest import World, dag, task

S, K, UF = "success", "skipped", "upstream_failed"
JOIN = "none_failed_min_one_success"


def branch(task_id: str, *upstream: str, **fields: Any) -> dict[str, Any]:
    return task(task_id, *upstream, branch=True, operator="BranchPythonOperator", **fields)


def load_dag(dag_id: str = "d", **fields: Any) -> dict[str, Any]:
    """choose -> full | incremental -> join -> publish (the `branch` shape)."""
    return dag(
        dag_id,
        branch("choose", **fields),
        task("full", "choose"),
        task("incremental", "choose"),
        task("join", "full", "incremental", trigger_rule=JOIN),
        task("publish", "join"),
    )


def xcom(w: World, run: DagRun, task_id: str, key: str) -> Any:
    found = w.sim.store.xcoms.get((run.dag_id, run.run_id, task_id, -1, key))
    return None if found is None else found.value


def followed(w: World, run: DagRun) -> str:
    chosen = xcom(w, run, "choose", "return_value")
    assert chosen in ("full", "incremental")
    return str(chosen)


class TestSkipAllExcept:
    def test_follows_one_path_and_skips_the_other_at_once(
        self, world: Callable[..., World]
    ) -> None:
        w = world(load_dag())
        run = w.trigger("d")
        w.advance(200)
        chosen = followed(w, run)
        other = "incremental" if chosen == "full" else "full"
        assert w.states(run) == {"choose": S, chosen: S, other: K, "join": S, "publish": S}
        assert run.state == "success"
        # Skipped when the branch's try ended, before the branch's own success.
        [done] = w.entered("choose", S)
        assert w.entered(other, K) == [done]
        assert w.history(other) == [K]
        assert [t.task_id for t in w.log if t.at == done][:2] == [other, "choose"]

    def test_skip_stamps_dates_and_leaves_duration(self, world: Callable[..., World]) -> None:
        w = world(load_dag())
        run = w.trigger("d")
        w.advance(200)
        chosen = followed(w, run)
        other = w.ti(run, "incremental" if chosen == "full" else "full")
        branch_ti = w.ti(run, "choose")
        # SkipMixin updates state, start_date and end_date only.
        assert other.start_date == other.end_date == branch_ti.end_date
        assert other.duration is None and other.try_number == 0 and not other.tries

    def test_pushes_the_choice_and_what_it_followed(self, world: Callable[..., World]) -> None:
        w = world(load_dag())
        run = w.trigger("d")
        w.advance(200)
        chosen = followed(w, run)
        assert xcom(w, run, "choose", branching.XCOM_KEY) == {"followed": [chosen]}
        keys = [x.key for x in w.sim.store.xcoms if x.task_id == "choose"]
        assert keys == ["skipmixin_key", "return_value"]  # execute() pushes first

    def test_downstream_of_the_skipped_path_follows_trigger_rules(
        self, world: Callable[..., World]
    ) -> None:
        w = world(
            dag(
                "d",
                branch("choose"),
                task("left", "choose"),
                task("left_more", "left"),
                task("right", "choose"),
                task("right_more", "right"),
                task("end", "left_more", "right_more", trigger_rule=JOIN),
                task("strict", "left_more", "right_more"),  # all_success
            )
        )
        run = w.trigger("d")
        w.advance(500)
        chosen = str(xcom(w, run, "choose", "return_value"))
        other = "right" if chosen == "left" else "left"
        states = w.states(run)
        assert (states[other], states[f"{other}_more"]) == (K, K)
        assert (states[chosen], states[f"{chosen}_more"]) == (S, S)
        assert (states["end"], states["strict"]) == (S, K)
        assert run.state == "success"  # a skipped leaf does not fail the run


class TestChoice:
    def test_a_keyed_draw_per_run_and_seed(self, world: Callable[..., World]) -> None:
        w = world(load_dag())
        runs = [w.trigger("d", run_id=f"run_{n}") for n in range(12)]
        w.advance(300)
        choices = [followed(w, run) for run in runs]
        assert set(choices) == {"full", "incremental"}  # both paths are taken
        again = world(load_dag(), dag("other", task("x")))
        runs = [again.trigger("d", run_id=f"run_{n}") for n in range(12)]
        again.advance(300)
        assert [followed(again, run) for run in runs] == choices  # other DAGs change nothing
        reseeded = world(load_dag(), seed=7)
        runs = [reseeded.trigger("d", run_id=f"run_{n}") for n in range(12)]
        reseeded.advance(300)
        assert [followed(reseeded, run) for run in runs] != choices

    def test_a_retried_branch_chooses_with_its_last_try(self, world: Callable[..., World]) -> None:
        w = world(load_dag(retries=1, retry_delay=30, fail_tries=[1]))
        run = w.trigger("d")
        w.advance(300)
        assert w.history("choose") == ["scheduled", "queued", "running", "up_for_retry",
                                       "scheduled", "queued", "running", S]  # fmt: skip
        chosen = followed(w, run)
        assert w.states(run)[chosen] == S
        assert run.state == "success"

    def test_a_failed_branch_follows_nothing(self, world: Callable[..., World]) -> None:
        w = world(load_dag(fail_tries=[1]))
        run = w.trigger("d")
        w.advance(300)
        assert w.states(run) == {
            "choose": "failed", "full": UF, "incremental": UF, "join": UF, "publish": UF,
        }  # fmt: skip
        assert xcom(w, run, "choose", branching.XCOM_KEY) is None


class TestEmptyBranch:
    def test_a_direct_downstream_task_below_the_chosen_one_is_followed(
        self, world: Callable[..., World]
    ) -> None:
        # choose -> work -> join and choose -> join: following `work` follows `join` too.
        w = world(
            dag(
                "d",
                branch("choose"),
                task("work", "choose"),
                task("join", "choose", "work", trigger_rule=JOIN),
            )
        )
        runs = [w.trigger("d", run_id=f"run_{n}") for n in range(8)]
        w.advance(300)
        for run in runs:
            chosen = xcom(w, run, "choose", "return_value")
            pushed = xcom(w, run, "choose", branching.XCOM_KEY)
            if chosen == "work":
                assert pushed == {"followed": ["work", "join"]}
                assert w.states(run) == {"choose": S, "work": S, "join": S}
            else:
                assert pushed == {"followed": ["join"]}
                assert w.states(run) == {"choose": S, "work": K, "join": S}
        assert {xcom(w, run, "choose", "return_value") for run in runs} == {"work", "join"}


class TestNotPreviouslySkipped:
    def test_a_cleared_skipped_task_is_skipped_again(self, world: Callable[..., World]) -> None:
        w = world(load_dag())
        run = w.trigger("d")
        w.advance(200)
        other = w.ti(run, "incremental" if followed(w, run) == "full" else "full")
        w.advance(100)
        w.sim.actions.clear([other], reset_runs=True)  # the run is queued again
        w.advance(1)  # and started by the scheduler's next loop
        assert other.state == K  # the branch's XCom does not follow it
        assert w.history(other.task_id) == [K, None, K]
        assert other.try_number == 0 and other.duration == 0.0  # the scheduler's skip
        assert run.state == "success"
