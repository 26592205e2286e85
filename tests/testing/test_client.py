"""SimulatorClient against a live server: every method, the journal's
filters and paging, SimulatorError for answers that are not 2xx, and the
bearer token of --control-token."""

from __future__ import annotations

import dataclasses
import socket
import urllib.error
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from simulator.testing import SimulatorClient, SimulatorError
from simulator.testing import client as client_module
from simulator.testing.live import LiveServer, live_server
from tests.conftest import TEST_SETTINGS, problem

START = "2023-04-01T00:00:00+00:00"
ADMIN = ("admin", "admin")


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(TEST_SETTINGS) as live:
        yield live


@pytest.fixture
def sim(server: LiveServer) -> SimulatorClient:
    client = SimulatorClient(server.root)
    client.load_scenario("ci")  # whatever the test before served
    return client


def trigger(sim: SimulatorClient, dag_id: str, run_id: str) -> None:
    url = f"{sim.api_url}/dags/{dag_id}/dagRuns"
    response = requests.post(url, json={"dag_run_id": run_id}, auth=ADMIN, timeout=10)
    assert response.status_code == 200, response.text


class TestClockAndWorld:
    def test_health_clock_and_scenario(self, sim: SimulatorClient) -> None:
        assert sim.health() == {"status": "ok", "scenario": "ci", "now": START}
        assert sim.clock() == {"now": START, "mode": "frozen", "speed": 1.0}
        assert (sim.scenario()["name"], sim.scenario()["counts"]["dags"]) == ("ci", 9)
        assert sim.api_url == sim.url + "/api/v1"

    def test_set_clock(self, sim: SimulatorClient) -> None:
        assert sim.set_clock(mode="realtime", speed=60)["mode"] == "realtime"
        assert sim.set_clock(mode="frozen")["speed"] == 60.0
        assert sim.clock()["mode"] == "frozen"

    def test_advance_by_every_target(self, sim: SimulatorClient) -> None:
        assert sim.advance(60)["now"] == "2023-04-01T00:01:00+00:00"
        assert sim.advance(until="2023-04-01T00:02:00Z")["now"] == "2023-04-01T00:02:00+00:00"
        moment = datetime(2023, 4, 1, 0, 3, tzinfo=UTC)
        assert sim.advance(until=moment)["now"] == "2023-04-01T00:03:00+00:00"
        trigger(sim, "manual_backfill_tool", "r1")
        ref = {"dag_id": "manual_backfill_tool", "dag_run_id": "r1"}
        assert sim.advance(until_dag_run=ref, max_events=1)["complete"] is False
        assert sim.advance(until_dag_run=ref)["complete"] is True
        idle = sim.advance(until_idle=True)
        assert idle["complete"] is True and idle["events"] > 0

    @pytest.mark.parametrize(
        "kwargs",
        [{}, {"seconds": 1, "until_idle": True}, {"until": "2023-04-02T00:00:00Z", "seconds": 0}],
    )
    def test_advance_takes_exactly_one_target(self, sim: SimulatorClient, kwargs: dict) -> None:
        with pytest.raises(ValueError, match="exactly one of seconds, until"):
            sim.advance(**kwargs)

    def test_a_naive_datetime_is_refused(self, sim: SimulatorClient) -> None:
        with pytest.raises(ValueError, match="expected an aware datetime"):
            sim.advance(until=datetime(2023, 4, 2))
        with pytest.raises(ValueError, match="expected an aware datetime"):
            sim.requests(since=datetime(2023, 4, 2))

    def test_reset_with_a_seed(self, sim: SimulatorClient) -> None:
        sim.advance(3600)
        summary = sim.reset(seed=4)
        assert (summary["seed"], sim.clock()["now"]) == (4, START)
        assert sim.reset()["seed"] == 4  # kept, as the server keeps it

    def test_load_scenario_three_ways(self, sim: SimulatorClient, tmp_path: Path) -> None:
        assert sim.load_scenario("demo")["name"] == "demo"
        path = tmp_path / "world.yaml"
        path.write_text("name: from_file\ninclude: [ci]\n")
        assert sim.load_scenario(path=path)["source"] == str(path)
        document = {"name": "inline", "pools": [{"name": "p", "slots": 2}]}
        assert sim.load_scenario(document=document)["counts"]["pools"] == 2
        with pytest.raises(ValueError, match="exactly one of name, path and document"):
            sim.load_scenario("ci", document=document)


class TestJournal:
    def test_filters_newest_first(self, sim: SimulatorClient) -> None:
        requests.get(f"{sim.api_url}/dags", auth=ADMIN, timeout=10)
        sim.advance(60)
        trigger(sim, "manual_backfill_tool", "j1")
        requests.get(f"{sim.api_url}/dags/nope", auth=ADMIN, timeout=10)
        assert [e["operation_id"] for e in sim.requests()] == [
            "get_dag",
            "post_dag_run",
            "get_dags",
        ]
        [run] = sim.requests(operation_id="post_dag_run")
        assert (run["status"], run["user"], run["time"]) == (
            200,
            "admin",
            "2023-04-01T00:01:00+00:00",
        )
        assert run["request_body"] == {"dag_run_id": "j1"}
        assert [e["status"] for e in sim.requests(status=404)] == [404]
        assert len(sim.requests(method="GET", path="/api/v1/dags*")) == 2
        since = datetime(2023, 4, 1, 0, 1, tzinfo=UTC)
        assert [e["operation_id"] for e in sim.requests(since=since)] == ["get_dag", "post_dag_run"]
        assert [e["operation_id"] for e in sim.requests(limit=1, offset=1)] == ["post_dag_run"]
        sim.clear_requests()
        assert sim.requests() == []

    def test_every_entry_page_by_page(
        self, sim: SimulatorClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(client_module, "PAGE", 2)
        with requests.Session() as http:
            for _ in range(5):
                http.get(f"{sim.api_url}/dags", auth=ADMIN, timeout=10)
        entries = sim.requests()
        assert len(entries) == 5 and len({e["id"] for e in entries}) == 5
        assert len(sim.requests(offset=3)) == 2


class TestSnapshot:
    def test_snapshot_and_restore(self, sim: SimulatorClient) -> None:
        sim.advance(3600)
        document = sim.snapshot()
        assert document["format"] == "airflow-sim-snapshot"
        assert isinstance(document["version"], int)
        sim.reset()
        assert sim.restore(document) == sim.scenario()
        assert sim.clock()["now"] == "2023-04-01T01:00:00+00:00"

    def test_a_damaged_snapshot_is_400(self, sim: SimulatorClient) -> None:
        with pytest.raises(SimulatorError) as raised:
            sim.restore({"format": "airflow-sim-snapshot", "version": -1})
        assert raised.value.status == 400

    def test_save_without_a_state_file_is_400(self, sim: SimulatorClient) -> None:
        with pytest.raises(SimulatorError) as raised:
            sim.save_snapshot()
        assert raised.value.status == 400

    def test_save_to_the_state_file(self, tmp_path: Path) -> None:
        path = tmp_path / "state.json"
        with live_server(dataclasses.replace(TEST_SETTINGS, state_file=path)) as live:
            saved = SimulatorClient(live.root).save_snapshot()
        assert saved == {"path": str(path), "bytes": saved["bytes"]}
        assert saved["bytes"] > 0


class TestErrors:
    def test_a_bad_request(self, sim: SimulatorClient) -> None:
        with pytest.raises(SimulatorError) as raised:
            sim.advance(until="2023-03-01T00:00:00Z")
        error = raised.value
        assert (error.status, error.detail) == (400, "the clock never moves backwards")
        assert error.body == problem(400, "Bad Request", error.detail, "BadRequest")
        assert str(error) == (
            f"POST {sim.url}/_sim/clock/advance answered 400: the clock never moves backwards"
        )

    def test_an_unknown_run_is_404(self, sim: SimulatorClient) -> None:
        with pytest.raises(SimulatorError) as raised:
            sim.advance(until_dag_run={"dag_id": "etl_orders", "dag_run_id": "nope"})
        assert raised.value.status == 404
        assert (
            raised.value.detail
            == "DAGRun with DAG ID: 'etl_orders' and DagRun ID: 'nope' not found"
        )

    def test_the_message_is_one_line(self, sim: SimulatorClient) -> None:
        document = {"name": "bad", "seed": -1, "dags": [{"dag_id": "d", "x": 1}]}
        with pytest.raises(SimulatorError) as raised:
            sim.load_scenario(document=document)
        assert raised.value.detail.count("\n") == 1  # the server lists both errors
        assert "\n" not in str(raised.value)
        assert str(raised.value).endswith(
            "answered 400: (inline scenario): dags[0].x: unknown key 'x' / "
            "(inline scenario): seed: expected a number >= 0, found -1"
        )

    def test_a_closed_port_raises_urllib_s_error(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        sim = SimulatorClient(f"http://127.0.0.1:{port}/", timeout=2)
        assert sim.url == f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.URLError):
            sim.health()
        with pytest.raises(urllib.error.URLError):
            sim.wait_ready(timeout=0.2, interval=0.05)

    def test_wait_ready(self, sim: SimulatorClient) -> None:
        assert sim.wait_ready()["status"] == "ok"


TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def token_server() -> Iterator[LiveServer]:
    with live_server(dataclasses.replace(TEST_SETTINGS, control_token=TOKEN)) as live:
        yield live


class TestControlToken:
    def test_without_the_token_401(self, token_server: LiveServer) -> None:
        sim = SimulatorClient(token_server.root)
        assert sim.health()["status"] == "ok"  # health needs no token
        with pytest.raises(SimulatorError) as raised:
            sim.advance(60)
        assert (raised.value.status, raised.value.detail) == (
            401,
            "A valid control token is required",
        )
        with pytest.raises(SimulatorError):
            SimulatorClient(token_server.root, token="wrong").clock()

    def test_with_the_token(self, token_server: LiveServer) -> None:
        sim = SimulatorClient(token_server.root, token=TOKEN)
        assert sim.advance(60)["now"] == "2023-04-01T00:01:00+00:00"
        assert sim.reset()["name"] == "ci"
        assert sim.requests() == []
        assert TOKEN not in repr(sim)
