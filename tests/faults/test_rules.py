"""Fault rules as the registry keeps and fires them: `match` fields, every
`when` condition, seeded probability, ids and counters, and documents that
are refused with the field named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.config import Settings
from simulator.errors import AlreadyExists, BadRequest
from simulator.faults.documents import FaultError, parse, parse_header
from simulator.faults.model import RequestFacts
from simulator.simulator import Simulator
from tests.conftest import TEST_SETTINGS

START = datetime(2023, 4, 1, tzinfo=UTC)
POOLS = RequestFacts("GET", "/api/v1/pools", "get_pools", "Pool", "admin")
TRIGGER = RequestFacts(
    "POST", "/api/v1/dags/etl_orders/dagRuns", "post_dag_run", "DAGRun", "ci-bot"
)
STATUS_503 = {"type": "status", "status": 503}


@pytest.fixture
def sim() -> Simulator:
    return Simulator(TEST_SETTINGS)


def fired(sim: Simulator, facts: RequestFacts, times: int) -> list[int]:
    """The request numbers (1-based) on which some fault fired."""
    return [n for n in range(1, times + 1) if sim.faults.http(facts, sim.now())]


class TestMatch:
    @pytest.mark.parametrize(
        ("match", "pools", "trigger"),
        [
            ({}, True, True),
            ({"operation_id": "get_pools"}, True, False),
            ({"operation_id": ["get_pools", "post_dag_run"]}, True, True),
            ({"method": "post"}, False, True),
            ({"method": ["GET", "DELETE"]}, True, False),
            ({"path": "/api/v1/dags/*/dagRuns"}, False, True),
            ({"path": "/api/v1/pool?"}, True, False),
            ({"tag": "DAGRun"}, False, True),
            ({"tag": ["Pool", "Variable"]}, True, False),
            ({"user": "ci-bot"}, False, True),
            ({"operation_id": "post_dag_run", "user": "admin"}, False, False),
        ],
    )
    def test_every_given_field_must_match(
        self, sim: Simulator, match: dict[str, Any], pools: bool, trigger: bool
    ) -> None:
        sim.faults.add({"match": match, "action": STATUS_503})
        assert bool(sim.faults.http(POOLS, sim.now())) is pools
        assert bool(sim.faults.http(TRIGGER, sim.now())) is trigger

    def test_disabled_faults_neither_match_nor_fire(self, sim: Simulator) -> None:
        fault = sim.faults.add({"enabled": False, "action": STATUS_503})
        assert fired(sim, POOLS, 3) == []
        assert (fault.matched, fault.fired) == (0, 0)
        sim.faults.patch(fault.id, {"enabled": True})
        assert fired(sim, POOLS, 2) == [1, 2]


class TestWhen:
    @pytest.mark.parametrize(
        ("when", "expected"),
        [
            ({"first": 2}, [1, 2]),
            ({"every": 3}, [3, 6, 9]),
            ({"after": 7}, [8, 9, 10]),
            ({"limit": 2}, [1, 2]),
            ({"after": 2, "every": 2, "limit": 3}, [4, 6, 8]),
            ({"first": 5, "every": 2}, [2, 4]),
        ],
    )
    def test_counted_conditions(
        self, sim: Simulator, when: dict[str, Any], expected: list[int]
    ) -> None:
        fault = sim.faults.add({"action": STATUS_503, "when": when})
        assert fired(sim, POOLS, 10) == expected
        assert (fault.matched, fault.fired) == (10, len(expected))

    def test_a_virtual_time_window(self, sim: Simulator) -> None:
        sim.faults.add({"action": STATUS_503, "when": {"from": "+1h", "until": "+2h"}})
        assert fired(sim, POOLS, 1) == []
        sim.advance_to(START + timedelta(hours=1))
        assert fired(sim, POOLS, 1) == [1]
        sim.advance_to(START + timedelta(hours=2))
        assert fired(sim, POOLS, 1) == []
        view = sim.faults.get("f1").view()
        assert view["when"] == {"from": "2023-04-01T01:00:00+00:00",
                                "until": "2023-04-01T02:00:00+00:00"}  # fmt: skip

    def test_probability_is_a_seeded_draw(self) -> None:
        def pattern(seed: int) -> list[int]:
            sim = Simulator(Settings(scenario="ci", seed=seed))
            sim.faults.add({"action": STATUS_503, "when": {"probability": 0.3}})
            return fired(sim, POOLS, 200)

        first = pattern(1)
        assert first == pattern(1)  # the same seed fires the same way
        assert first != pattern(2)
        assert 30 < len(first) < 90  # about 60 of 200 (a fixed draw: never flaky)

    def test_one_faults_draws_do_not_depend_on_another(self, sim: Simulator) -> None:
        sim.faults.add({"id": "a", "action": STATUS_503, "when": {"probability": 0.5}})
        alone = [bool(sim.faults.http(POOLS, sim.now())) for _ in range(50)]
        other = Simulator(TEST_SETTINGS)
        other.faults.add({"id": "z", "match": {"method": "POST"}, "latency": {"fixed": 0.1}})
        other.faults.add({"id": "a", "action": STATUS_503, "when": {"probability": 0.5}})
        assert [bool(other.faults.http(POOLS, other.now())) for _ in range(50)] == alone


class TestFirings:
    def test_every_firing_fault_in_rule_order_with_its_latency(self, sim: Simulator) -> None:
        sim.faults.add({"id": "slow", "latency": {"uniform": [0.1, 0.3]}})
        sim.faults.add({"id": "late", "phase": "after", "action": {"type": "empty"}})
        slow, late = sim.faults.http(POOLS, sim.now())
        assert (slow.fault_id, slow.action, slow.phase) == ("slow", None, "before")
        assert 0.1 <= slow.latency <= 0.3
        assert (late.fault_id, late.phase, late.action.type, late.latency) == (
            "late", "after", "empty", 0.0
        )  # fmt: skip

    def test_lognormal_latency_has_the_median_asked(self, sim: Simulator) -> None:
        sim.faults.add({"latency": {"lognormal": {"median": 0.2, "sigma": 0.6}}})
        delays = sorted(sim.faults.http(POOLS, sim.now())[0].latency for _ in range(401))
        assert 0.15 < delays[200] < 0.27
        assert delays[-1] > 0.4 and delays[0] < 0.1

    def test_a_header_fault_fires_for_its_request_only(self, sim: Simulator) -> None:
        fault = parse_header('{"action": {"type": "status", "status": 502}}', sim.now())
        [firing] = sim.faults.fire_header(fault, POOLS, sim.now())
        assert (firing.fault_id, firing.action.status) == ("header", 502)
        assert len(sim.faults) == 0


class TestIds:
    def test_assigned_ids_skip_the_ones_taken(self, sim: Simulator) -> None:
        sim.faults.add({"id": "f2", "action": STATUS_503})
        made = [sim.faults.add({"action": STATUS_503}).id for _ in range(2)]
        assert made == ["f1", "f3"]

    def test_a_duplicate_id_is_refused_and_nothing_is_added(self, sim: Simulator) -> None:
        sim.faults.add({"id": "x", "action": STATUS_503})
        with pytest.raises(AlreadyExists):
            sim.faults.add_all(
                [{"id": "y", "action": STATUS_503}, {"id": "x", "action": STATUS_503}]
            )
        assert [f.id for f in sim.faults] == ["x"]


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ("nope", "'nope' is not of type 'object'"),
        ({"kind": "disk"}, "kind: 'disk' is not one of"),
        ({}, "an http fault needs an action, a latency or both"),
        (
            {"action": {"type": "reset", "fraction": 0.2}},
            "action.fraction: not a field of a reset action",
        ),
        (
            {"action": {"type": "truncate", "fraction": 1}},
            "action.fraction: 1 is greater than or equal to the maximum of 1",
        ),
        (
            {"action": {"type": "status", "status": 99}},
            "action.status: 99 is less than the minimum of 200",
        ),
        (
            {"action": {"type": "status", "headers": {"X-A": "b\r\nc"}}},
            "action.headers.X-A: a header value is one line",
        ),
        ({"latency": {"fixed": 1, "uniform": [1, 2]}}, "latency: "),
        (
            {"latency": {"uniform": [2, 1]}},
            "latency.uniform: expected [low, high] with low <= high",
        ),
        ({"latency": {"fixed": 301}}, "latency.fixed: 301 is greater than the maximum of 300"),
        (
            {"match": {"dag_id": "x"}, "latency": {"fixed": 1}},
            "match.dag_id: not a field of an http fault's match",
        ),
        (
            {"when": {"probability": 1.5}, "latency": {"fixed": 1}},
            "when.probability: 1.5 is greater than the maximum of 1",
        ),
        (
            {"when": {"from": "tomorrow"}, "latency": {"fixed": 1}},
            "when.from: expected an ISO 8601 instant",
        ),
        (
            {"when": {"from": "2023-04-01T00:00:00"}, "latency": {"fixed": 1}},
            "when.from: a timezone is required",
        ),
        (
            {"when": {"from": "+2h", "until": "+1h"}, "latency": {"fixed": 1}},
            "when.until: expected an instant after when.from",
        ),
        ({"kind": "task"}, "effect: a task fault needs an effect"),
        ({"kind": "task", "effect": "slow"}, "factor: a slow task fault needs a factor"),
        (
            {"kind": "task", "effect": "fail", "seconds": 3},
            "seconds: not a field of a task fault with effect fail",
        ),
        (
            {"kind": "task", "effect": "fail", "action": {"type": "reset"}},
            "action: not a field of a task fault",
        ),
        ({"kind": "scheduler_outage", "from": "+1h", "at": "+1h"}, "at: give from or at, not both"),
        (
            {"kind": "scheduler_outage", "seconds": 60},
            "seconds: seconds is the length of a window given by at",
        ),
        (
            {"kind": "scheduler_outage", "from": "+2h", "until": "+1h"},
            "until: expected an instant after from",
        ),
        (
            {"kind": "scheduler_outage", "at": "+1h", "seconds": 7200, "repeat": "1h"},
            "repeat: a repeated window needs an end before the next start",
        ),
        ({"kind": "scheduler_outage", "at": "+1h", "seconds": 60, "repeat": "1x"}, "repeat: "),
        ({"kind": "import_error"}, "dag_id: an import_error fault names the DAG"),
        ({"kind": "pool_starvation", "pool": "p"}, "slots: a pool_starvation fault needs slots"),
        (
            {"kind": "scheduler_outage", "from": "9999-01-01T00:00:00Z"},
            "from: instants from 9000-01-01 on are not supported",
        ),
    ],
)
def test_documents_that_are_not_faults_name_the_field(document: Any, error: str) -> None:
    with pytest.raises(FaultError) as raised:
        parse(document, START, "f1")
    assert str(raised.value).startswith(error)


def test_windows_are_stored_with_absolute_instants() -> None:
    fault = parse({"kind": "scheduler_outage", "at": "-1d12h", "seconds": 900, "repeat": "1d"},
                  START, "f1")  # fmt: skip
    assert fault.document == {
        "id": "f1",
        "kind": "scheduler_outage",
        "from": "2023-03-30T12:00:00+00:00",
        "until": "2023-03-30T12:15:00+00:00",
        "repeat": "1d",
    }
    assert parse(fault.document, START + timedelta(days=9), "f9").window == fault.window


def test_references_are_checked_when_added(sim: Simulator) -> None:
    with pytest.raises(FaultError, match="dag_id: no DAG has the id 'nope'"):
        sim.faults.add({"kind": "import_error", "dag_id": "nope"})
    with pytest.raises(FaultError, match="pool: no pool is named 'nope'"):
        sim.faults.add({"kind": "pool_starvation", "pool": "nope", "slots": 1})
    assert len(sim.faults) == 0


class TestHostileDocuments:
    @pytest.mark.parametrize(
        "document",
        [
            {"action": {"type": "truncate", "fraction": float("nan")}},
            {"action": {"type": "dribble", "chunks": 2, "seconds": float("nan")}},
            {"latency": {"lognormal": {"median": 0.1, "sigma": float("nan")}}},
        ],
    )
    def test_no_nan_or_infinity(self, document: dict[str, Any]) -> None:
        with pytest.raises(FaultError, match="expected a finite number"):
            parse(document, START, "f1")

    def test_nan_in_a_header_is_a_400(self) -> None:
        with pytest.raises(BadRequest) as raised:
            parse_header('{"action": {"type": "truncate", "fraction": NaN}}', START)
        assert raised.value.detail == "X-Sim-Fault: not a JSON document"

    @pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Connection"])
    def test_an_action_cannot_frame_the_answer(self, name: str) -> None:
        document = {"action": {"type": "status", "headers": {name: "3"}}}
        with pytest.raises(FaultError, match=f"action.headers.{name}: the server frames"):
            parse(document, START, "f1")

    @pytest.mark.parametrize("repeat", [59, "30s", "367d", "999999d999999d"])
    def test_a_repeat_is_one_minute_to_a_year(self, repeat: Any) -> None:
        document = {"kind": "scheduler_outage", "at": "+1h", "seconds": 30, "repeat": repeat}
        with pytest.raises(FaultError, match="repeat: "):
            parse(document, START, "f1")

    def test_a_scenario_history_bounds_its_windows(self) -> None:
        from simulator.scenario.loader import load_scenario
        from simulator.scenario.problems import ScenarioError

        fault = {"kind": "scheduler_outage", "at": "-30d", "seconds": 30, "repeat": "1m"}
        with pytest.raises(ScenarioError) as raised:
            load_scenario({"name": "x", "history": {"days": 30}, "faults": [fault]})
        assert str(raised.value) == (
            "(inline scenario): faults[0].repeat: expected at most 10,000 windows in the "
            "history (43,200 with this repeat)"
        )


class TestChanges:
    def test_a_failed_batch_assigns_no_id(self, sim: Simulator) -> None:
        with pytest.raises(FaultError):
            sim.faults.add_all([{"action": STATUS_503}, {"bogus": 1}])
        assert sim.faults.add({"action": STATUS_503}).id == "f1"

    def test_ids_given_in_a_batch_are_not_assigned_to_others(self, sim: Simulator) -> None:
        added = sim.faults.add_all([{"action": STATUS_503}, {"id": "f1", "action": STATUS_503}])
        assert [f.id for f in added] == ["f2", "f1"]

    def test_a_window_moves_by_at_or_seconds(self, sim: Simulator) -> None:
        sim.faults.add({"id": "o", "kind": "scheduler_outage", "at": "+1h", "seconds": 600})
        moved = sim.faults.patch("o", {"at": "+2h"}).document
        assert (moved["from"], moved["until"]) == (
            "2023-04-01T02:00:00+00:00", "2023-04-01T02:10:00+00:00"
        )  # fmt: skip
        longer = sim.faults.patch("o", {"seconds": 3600}).document
        assert (longer["from"], longer["until"]) == (
            "2023-04-01T02:00:00+00:00", "2023-04-01T03:00:00+00:00"
        )  # fmt: skip

    def test_another_effect_drops_the_old_ones_fields(self, sim: Simulator) -> None:
        sim.faults.add({"id": "t", "kind": "task", "effect": "stuck", "state": "queued"})
        fault = sim.faults.patch("t", {"effect": "slow", "factor": 2})
        assert fault.document == {"id": "t", "kind": "task", "effect": "slow", "factor": 2}

    def test_a_header_faults_draws_differ_per_request(self, sim: Simulator) -> None:
        header = '{"action": {"type": "status"}, "when": {"probability": 0.5}}'
        fired = [
            bool(sim.faults.fire_header(parse_header(header, sim.now()), POOLS, sim.now()))
            for _ in range(40)
        ]
        assert 5 < sum(fired) < 35
        again = Simulator(TEST_SETTINGS)
        assert fired == [
            bool(again.faults.fire_header(parse_header(header, again.now()), POOLS, again.now()))
            for _ in range(40)
        ]
