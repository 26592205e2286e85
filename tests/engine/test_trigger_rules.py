"""Trigger rules: the decision table, then whole runs where upstream tasks
succeed, fail, are skipped or upstream_failed, and the outcome propagates.

Expected outcomes follow Airflow 2.5.3's TriggerRuleDep (flag_upstream_failed
on, as the scheduler runs it): a task whose rule can no longer be met is
marked skipped or upstream_failed; `always` never waits. The loader renames
the deprecated `dummy` and `none_failed_or_skipped` as BaseOperator does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from simulator.engine.lifecycle import FAIL, RUN, SKIP, WAIT, trigger_decision
from tests.engine.conftest import T0, World, dag, task

S, F, K, UF, N = "success", "failed", "skipped", "upstream_failed", None
RULES = [
    "all_success",
    "all_failed",
    "all_done",
    "all_skipped",
    "one_success",
    "one_failed",
    "one_done",
    "none_failed",
    "none_skipped",
    "none_failed_min_one_success",
    "always",
]


class TestDecisionTable:
    @pytest.mark.parametrize(
        ("rule", "states", "decision"),
        [
            # all_success
            ("all_success", [S, S], RUN),
            ("all_success", [S, N], WAIT),
            ("all_success", [S, "running"], WAIT),
            ("all_success", [F, "running"], FAIL),  # no need to wait
            ("all_success", [UF, S], FAIL),
            ("all_success", [K, "running"], SKIP),
            ("all_success", [F, K], FAIL),  # failure wins over skip
            # all_failed
            ("all_failed", [F, UF], RUN),
            ("all_failed", [F, N], WAIT),
            ("all_failed", [S, N], SKIP),
            ("all_failed", [K, F], SKIP),
            # all_done
            ("all_done", [S, F], RUN),
            ("all_done", [K, UF], RUN),
            ("all_done", [S, "up_for_retry"], WAIT),
            # one_success
            ("one_success", [S, N], RUN),  # fires at the first success
            ("one_success", [F, N], WAIT),
            ("one_success", [F, F], FAIL),
            ("one_success", [F, K], FAIL),
            ("one_success", [K, K], SKIP),
            # one_failed
            ("one_failed", [F, N], RUN),
            ("one_failed", [UF, "running"], RUN),
            ("one_failed", [S, N], WAIT),
            ("one_failed", [S, K], SKIP),
            # none_failed
            ("none_failed", [S, K], RUN),
            ("none_failed", [K, K], RUN),
            ("none_failed", [F, N], FAIL),
            ("none_failed", [UF, S], FAIL),
            ("none_failed", [S, "queued"], WAIT),
            # none_skipped
            ("none_skipped", [S, F], RUN),
            ("none_skipped", [K, N], SKIP),
            ("none_skipped", [S, N], WAIT),
            # none_failed_min_one_success and its deprecated alias
            ("none_failed_min_one_success", [S, K], RUN),
            ("none_failed_min_one_success", [K, K], SKIP),
            ("none_failed_min_one_success", [F, S], FAIL),
            ("none_failed_min_one_success", [K, N], WAIT),
            # all_skipped
            ("all_skipped", [K, K], RUN),
            ("all_skipped", [K, N], WAIT),
            ("all_skipped", [K, S], SKIP),
            ("all_skipped", [F, N], SKIP),
            ("all_skipped", [K, UF], WAIT),  # Airflow's run deadlocks here too
            # one_done fires at the first success or failure
            ("one_done", [S, N], RUN),
            ("one_done", [F, "running"], RUN),
            ("one_done", [UF, N], WAIT),
            ("one_done", [K, UF], SKIP),
            # always never waits
            ("always", [N, N], RUN),
            ("always", [F, UF], RUN),
        ],
    )
    def test_decision(self, rule: str, states: list[str | None], decision: str) -> None:
        assert trigger_decision(rule, states) == decision

    @pytest.mark.parametrize("rule", RULES)
    def test_no_upstream_always_runs(self, rule: str) -> None:
        assert trigger_decision(rule, []) == RUN

    def test_unknown_rule(self) -> None:
        with pytest.raises(ValueError, match="unknown trigger rule 'sometimes'"):
            trigger_decision("sometimes", [S])


def sources(index: int, outcome: str) -> list[dict[str, Any]]:
    """Tasks whose last one (src_<index>) ends in `outcome`."""
    name = f"src_{index}"
    if outcome == S:
        return [task(name)]
    if outcome == F:
        return [task(name, fail_tries=[1])]
    if outcome == K:  # one_failed with a successful upstream is skipped
        return [task(f"pre_{index}"), task(name, f"pre_{index}", trigger_rule="one_failed")]
    # upstream_failed: all_success below a failure
    return [task(f"pre_{index}", fail_tries=[1]), task(name, f"pre_{index}")]


MIXES = {
    "S+S": (S, S),
    "S+F": (S, F),
    "S+K": (S, K),
    "F+F": (F, F),
    "K+K": (K, K),
    "S+UF": (S, UF),
}
RUNS = "success"  # the target ran (and succeeded)
EXPECTED = {
    #                              S+S   S+F   S+K   F+F   K+K   S+UF
    "all_success":                 (RUNS, UF,   K,    UF,   K,    UF),
    "all_failed":                  (K,    K,    K,    RUNS, K,    K),
    "all_done":                    (RUNS, RUNS, RUNS, RUNS, RUNS, RUNS),
    "one_success":                 (RUNS, RUNS, RUNS, UF,   K,    RUNS),
    "one_failed":                  (K,    RUNS, K,    RUNS, K,    RUNS),
    "none_failed":                 (RUNS, UF,   RUNS, UF,   RUNS, UF),
    "none_skipped":                (RUNS, RUNS, K,    RUNS, K,    RUNS),
    "none_failed_or_skipped":      (RUNS, UF,   RUNS, UF,   K,    UF),
    "none_failed_min_one_success": (RUNS, UF,   RUNS, UF,   K,    UF),
    "dummy":                       (RUNS, RUNS, RUNS, RUNS, RUNS, RUNS),
    "always":                      (RUNS, RUNS, RUNS, RUNS, RUNS, RUNS),
    "all_skipped":                 (K,    K,    K,    K,    RUNS, K),
    "one_done":                    (RUNS, RUNS, RUNS, RUNS, K,    RUNS),
}  # fmt: skip
# What an all_success task below the target becomes.
BELOW = {RUNS: S, UF: UF, K: K}
CASES = [
    (rule, mix, outcome)
    for rule, outcomes in EXPECTED.items()
    for mix, outcome in zip(MIXES, outcomes, strict=True)
]


class TestRulesInRuns:
    @pytest.mark.parametrize(("rule", "mix", "outcome"), CASES)
    def test_outcome_and_propagation(
        self, world: Callable[..., World], rule: str, mix: str, outcome: str
    ) -> None:
        first, second = MIXES[mix]
        w = world(
            dag(
                "rules",
                *sources(0, first),
                *sources(1, second),
                task("target", "src_0", "src_1", trigger_rule=rule),
                task("after", "target"),
            )
        )
        run = w.trigger("rules")
        w.advance(600)
        states = w.states(run)
        assert (states["src_0"], states["src_1"]) == (first, second)
        assert states["target"] == outcome
        assert states["after"] == BELOW[outcome]
        # The run follows its only leaf, `after`.
        assert run.state == ("failed" if BELOW[outcome] == UF else "success")
        if outcome == RUNS:
            assert w.history("target") == ["scheduled", "queued", "running", "success"]
        else:
            # Marked straight from no state, with no try.
            assert w.history("target") == [outcome]
            assert w.ti(run, "target").try_number == 0


class TestTiming:
    def test_one_success_does_not_wait_for_the_rest(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("fast"),
                task("slow", duration=1000),
                task("target", "fast", "slow", trigger_rule="one_success"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"fast": S, "slow": "running", "target": S}
        assert w.entered("target", "scheduled") == w.entered("fast", "success")

    def test_one_failed_fires_at_the_first_failure(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("bad", fail_tries=[1]),
                task("slow", duration=1000),
                task("alert", "bad", "slow", trigger_rule="one_failed"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"bad": F, "slow": "running", "alert": S}

    def test_all_success_fails_without_waiting(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("bad", fail_tries=[1]),
                task("slow", duration=1000),
                task("join", "bad", "slow"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"bad": F, "slow": "running", "join": UF}
        assert w.entered("join", UF) == w.entered("bad", F)
        assert run.state == "running"  # `slow` is unfinished
        w.advance(1000)
        assert run.state == "failed"

    def test_all_done_waits_for_retries(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("flaky", retries=1, retry_delay=100, fail_tries=[1]),
                task("cleanup", "flaky", trigger_rule="all_done"),
            )
        )
        run = w.trigger("d")
        w.advance(50)
        assert w.states(run) == {"flaky": "up_for_retry", "cleanup": None}
        w.advance(200)
        assert w.states(run) == {"flaky": S, "cleanup": S}
        assert w.entered("cleanup", "scheduled") == w.entered("flaky", S)

    def test_dummy_runs_at_once(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("slow", duration=1000),
                task("always", "slow", trigger_rule="dummy"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"slow": "running", "always": S}
        assert w.entered("always", "scheduled") == [0.0]
        assert w.dag("d").tasks["always"].trigger_rule == "always"  # BaseOperator renames it

    def test_one_done_fires_at_the_first_failure(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("bad", fail_tries=[1]),
                task("slow", duration=1000),
                task("report", "bad", "slow", trigger_rule="one_done"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"bad": F, "slow": "running", "report": S}


class TestPropagation:
    def test_upstream_failed_runs_down_the_chain(self, world: Callable[..., World]) -> None:
        w = world(
            dag(
                "d",
                task("a", fail_tries=[1]),
                task("b", "a"),
                task("c", "b"),
                task("d", "c"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"a": F, "b": UF, "c": UF, "d": UF}
        # All at the instant `a` failed.
        assert w.entered("b", UF) == w.entered("c", UF) == w.entered("d", UF) == w.entered("a", F)
        assert run.state == "failed"

    def test_skips_run_down_the_chain_and_the_run_succeeds(
        self, world: Callable[..., World]
    ) -> None:
        w = world(
            dag(
                "d",
                task("ok"),
                task("on_failure", "ok", trigger_rule="one_failed"),
                task("b", "on_failure"),
                task("c", "b"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"ok": S, "on_failure": K, "b": K, "c": K}
        assert run.state == "success"  # skipped leaves count as success

    def test_an_all_done_leaf_decides_the_run(self, world: Callable[..., World]) -> None:
        # Airflow judges a run by its leaves only: a failure that ends in an
        # all_done leaf leaves the run successful.
        w = world(
            dag(
                "d",
                task("a", fail_tries=[1]),
                task("b", "a"),
                task("cleanup", "b", trigger_rule="all_done"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"a": F, "b": UF, "cleanup": S}
        assert run.state == "success"

    def test_a_failed_leaf_fails_the_run_even_if_another_succeeds(
        self, world: Callable[..., World]
    ) -> None:
        w = world(dag("d", task("good"), task("bad", fail_tries=[1])))
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"good": S, "bad": F}
        assert run.state == "failed"

    def test_a_rule_that_can_no_longer_be_met_deadlocks_the_run(
        self, world: Callable[..., World]
    ) -> None:
        """all_skipped below an upstream_failed task waits, with no state, for
        what can never come: Airflow's scheduler fails the run as deadlocked."""
        w = world(
            dag(
                "d",
                task("bad", fail_tries=[1]),
                task("mid", "bad"),  # upstream_failed
                task("cleanup", "mid", trigger_rule="all_skipped"),
            )
        )
        run = w.trigger("d")
        w.advance(100)
        assert w.states(run) == {"bad": F, "mid": UF, "cleanup": None}
        assert run.state == "failed"
        assert run.end_date == T0 + timedelta(seconds=w.entered("mid", UF)[0])

    def test_depends_on_past_is_left_waiting(self, world: Callable[..., World]) -> None:
        """A task with depends_on_past is no deadlock (should_schedule is false)."""
        w = world(dag("d", task("a", depends_on_past=True, fail_tries=[1]), task("b", "a")))
        first = w.trigger("d", "first")
        w.advance(100)
        second = w.trigger("d", "second")
        w.advance(100)
        assert (first.state, second.state) == ("failed", "running")
        assert w.states(second) == {"a": None, "b": None}
