"""HTTP faults as a client sees them: a status through the official client,
a reset, an empty answer, a truncated, malformed or dribbled body read off
a raw socket, latency (lower bounds only), matching, the phase after
("committed but response lost"), the journal's marks, the X-Sim-Fault
header, and the same firing pattern for the same seed."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.server.app import create_app
from simulator.server.faults import DETAILS, GARBAGE
from simulator.simulator import Simulator
from simulator.testing.live import LiveServer, live_server
from tests.conftest import ADMIN, TEST_SETTINGS, problem

POOLS = "/api/v1/pools"
AUTH = ("admin", "admin")
UNAVAILABLE = DETAILS[503]
# Settings with the built-in DAGs and the X-Sim-Fault header honoured.
HEADER_ON = dataclasses.replace(TEST_SETTINGS, allow_fault_header=True)


@pytest.fixture
def settings() -> Settings:
    return TEST_SETTINGS


@pytest.fixture(scope="module")
def _server() -> Iterator[LiveServer]:
    with live_server(HEADER_ON) as server:
        yield server


@pytest.fixture
def server(_server: LiveServer) -> Iterator[LiveServer]:
    """A live server (DAGs, header allowed), fresh for each test."""
    _server.sim.reset()
    yield _server
    _server.sim.faults.clear()


@pytest.fixture
def quiet(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No error is logged (aiohttp's tracebacks included) while the test runs."""
    caplog.set_level(logging.DEBUG)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == []


def http_fault(
    match: dict[str, Any], action: dict[str, Any] | None = None, **rest: Any
) -> dict[str, Any]:
    return {"kind": "http", "match": match, **({"action": action} if action else {}), **rest}


def raw_request(port: int, target: str = POOLS, method: str = "GET", body: bytes = b"",
                headers: dict[str, str] | None = None) -> bytes:  # fmt: skip
    """The request's bytes: HTTP/1.1, keep-alive, as admin."""
    token = base64.b64encode(b"admin:admin").decode()
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             f"Authorization: Basic {token}"]  # fmt: skip
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def exchange(port: int, request: bytes, timeout: float = 10.0) -> tuple[bytes, str]:
    """Send `request` on a new connection; read until the server closes it.
    Returns the bytes and how it ended: "EOF" (a FIN) or "RST"."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            return received, "RST"
        return received, "EOF"


def one_answer(port: int, request: bytes) -> tuple[bytes, bytes]:
    """Head and body of the answer to `request`, read by its Content-Length
    (the connection stays open)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        length = content_length(head)
        while len(body) < length:
            body += sock.recv(65536)
        return head, body


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise AssertionError(f"no Content-Length in {head!r}")


def real_pools(port: int) -> bytes:
    head, body = one_answer(port, raw_request(port))
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    return body


def healthy(server: LiveServer) -> None:
    """The next connection is answered as usual."""
    response = requests.get(server.url + "/pools", auth=AUTH, timeout=10)
    assert response.status_code == 200
    assert response.json()["total_entries"] == 1


def journal(root: str) -> list[dict[str, Any]]:
    response = requests.get(root + "/_sim/requests", timeout=10)
    assert response.status_code == 200  # also checked against control.yaml
    return list(response.json()["requests"])


# -- status -------------------------------------------------------------------


@pytest.fixture
def no_retries(live: LiveServer) -> Iterator[Any]:
    """The official client, as admin, with urllib3's retries off (by default
    it retries a 413, 429 or 503 that has a Retry-After, three times)."""
    import airflow_client.client as airflow_client

    configuration = airflow_client.Configuration(host=live.url, username="admin", password="admin")
    configuration.retries = False
    with airflow_client.ApiClient(configuration) as api:
        yield api
    live.sim.faults.clear()


def test_status_through_the_official_client(live: LiveServer, no_retries: Any) -> None:
    from airflow_client.client.api.pool_api import PoolApi
    from airflow_client.client.exceptions import ApiException

    fault = live.sim.faults.add(
        http_fault(
            {"operation_id": "get_pools"}, {"type": "status", "status": 503, "retry_after": 5}
        )
    )
    with pytest.raises(ApiException) as caught:
        PoolApi(no_retries).get_pools()
    assert PoolApi(no_retries).get_pool("default_pool").slots == 128  # not matched
    assert caught.value.status == 503
    assert caught.value.reason == "Service Unavailable"
    assert caught.value.headers["Retry-After"] == "5"
    assert caught.value.headers["Content-Type"] == "application/problem+json"
    assert json.loads(caught.value.body) == problem(503, "Service Unavailable", UNAVAILABLE)
    assert (fault.matched, fault.fired) == (1, 1)


def test_the_official_client_waits_as_retry_after_says(live: LiveServer, api_client: Any) -> None:
    from airflow_client.client.api.pool_api import PoolApi

    fault = live.sim.faults.add(http_fault(
        {"operation_id": "get_pools"},
        {"type": "status", "status": 503, "retry_after": 1}, when={"first": 2},
    ))  # fmt: skip
    try:
        started = time.perf_counter()
        assert PoolApi(api_client).get_pools().total_entries == 1
        assert time.perf_counter() - started >= 2  # two answers said "Retry-After: 1"
    finally:
        live.sim.faults.clear()
    assert (fault.matched, fault.fired) == (3, 2)


def test_a_custom_body_and_headers_through_the_official_client(
    live: LiveServer, no_retries: Any
) -> None:
    from airflow_client.client.api.pool_api import PoolApi
    from airflow_client.client.exceptions import ApiException

    live.sim.faults.add(http_fault(
        {"operation_id": "get_pools"},
        {"type": "status", "status": 429, "body": {"error": "slow down"},
         "headers": {"X-RateLimit-Remaining": "0"}},
    ))  # fmt: skip
    live.sim.faults.add(http_fault(
        {"operation_id": "get_pool"},
        {"type": "status", "status": 502, "body": "<html>Bad gateway</html>"},
    ))  # fmt: skip
    with pytest.raises(ApiException) as limited:
        PoolApi(no_retries).get_pools()
    with pytest.raises(ApiException) as gateway:
        PoolApi(no_retries).get_pool("default_pool")
    assert (limited.value.status, limited.value.reason) == (429, "Too Many Requests")
    assert limited.value.headers["X-RateLimit-Remaining"] == "0"
    assert limited.value.headers["Content-Type"] == "application/json"
    assert json.loads(limited.value.body) == {"error": "slow down"}
    assert gateway.value.status == 502
    assert gateway.value.headers["Content-Type"] == "text/plain"
    assert gateway.value.body == "<html>Bad gateway</html>"  # a ServiceException (5xx)


@pytest.mark.parametrize(
    ("action", "status", "body"),
    [
        ({"type": "status", "status": 500},
         500, problem(500, "Internal Server Error", DETAILS[500], "Unknown")),
        ({"type": "status", "status": 404, "detail": "Gone fishing"},
         404, problem(404, "Not Found", "Gone fishing", "NotFound")),
        ({"type": "status", "status": 504}, 504, problem(504, "Gateway Timeout", DETAILS[504])),
        ({"type": "status", "status": 507}, 507, problem(507, "Insufficient Storage", None)),
    ],
)  # fmt: skip
async def test_status_problem_bodies(
    client: TestClient, sim: Simulator, action: dict[str, Any], status: int, body: dict[str, Any]
) -> None:
    sim.faults.add(http_fault({"operation_id": "get_pools"}, action))
    response = await client.get(POOLS, headers=ADMIN)
    assert (response.status, await response.json()) == (status, body)
    assert response.content_type == "application/problem+json"
    assert "Retry-After" not in response.headers


# -- the connection -----------------------------------------------------------


def test_reset_aborts_the_connection(server: LiveServer, quiet: None) -> None:
    server.sim.faults.add(http_fault({"operation_id": "get_pools"}, {"type": "reset"}))
    assert exchange(server.port, raw_request(server.port)) == (b"", "RST")
    with pytest.raises(requests.ConnectionError, match="Connection reset by peer"):
        requests.get(server.url + "/pools", auth=AUTH, timeout=10)
    server.sim.faults.clear()
    healthy(server)


def test_empty_closes_with_no_bytes(server: LiveServer, quiet: None) -> None:
    server.sim.faults.add(http_fault({"operation_id": "get_pools"}, {"type": "empty"}))
    assert exchange(server.port, raw_request(server.port)) == (b"", "EOF")
    with pytest.raises(requests.ConnectionError, match="without response"):
        requests.get(server.url + "/pools", auth=AUTH, timeout=10)
    server.sim.faults.clear()
    healthy(server)


def test_truncate_sends_a_share_of_the_real_body(server: LiveServer, quiet: None) -> None:
    real = real_pools(server.port)
    server.sim.faults.add(
        http_fault({"operation_id": "get_pools"}, {"type": "truncate", "fraction": 0.25})
    )
    received, ending = exchange(server.port, raw_request(server.port))  # keep-alive asked
    head, _, body = received.partition(b"\r\n\r\n")
    assert ending == "EOF"  # closed all the same
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/json" in head
    assert content_length(head) == len(real)
    assert body == real[: len(real) // 4]
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        requests.get(server.url + "/pools", auth=AUTH, timeout=10)
    server.sim.faults.clear()
    healthy(server)


def test_truncate_to_nothing_sends_the_head_only(server: LiveServer, quiet: None) -> None:
    real = real_pools(server.port)
    server.sim.faults.add(
        http_fault({"operation_id": "get_pools"}, {"type": "truncate", "fraction": 0})
    )
    received, ending = exchange(server.port, raw_request(server.port))
    head, separator, body = received.partition(b"\r\n\r\n")
    assert (separator, body, ending, content_length(head)) == (b"\r\n\r\n", b"", "EOF", len(real))


def test_malformed_is_a_200_that_is_not_json(server: LiveServer, quiet: None) -> None:
    real = real_pools(server.port)
    server.sim.faults.add(http_fault({"operation_id": "get_pools"}, {"type": "malformed"}))
    head, body = one_answer(server.port, raw_request(server.port))
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/json" in head
    assert body == real[: len(real) // 2] + GARBAGE
    assert one_answer(server.port, raw_request(server.port))[1] == body  # deterministic
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    response = requests.get(server.url + "/pools", auth=AUTH, timeout=10)
    assert response.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_dribble_sends_the_real_body_slowly(server: LiveServer, quiet: None) -> None:
    real = real_pools(server.port)
    server.sim.faults.add(http_fault(
        {"operation_id": "get_pools"}, {"type": "dribble", "chunks": 4, "seconds": 0.4}
    ))  # fmt: skip
    started = time.perf_counter()
    head, body = one_answer(server.port, raw_request(server.port))
    elapsed = time.perf_counter() - started
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert content_length(head) == len(real)
    assert body == real
    assert elapsed >= 0.4
    response = requests.get(server.url + "/pools", auth=AUTH, timeout=10)
    assert response.content == real


def test_the_connection_is_cut_after_the_answer_is_read_from_a_kept_connection(
    server: LiveServer, quiet: None
) -> None:
    """A connection that served answers before is cut mid-way like a new one."""
    server.sim.faults.add(http_fault({"operation_id": "get_pool"}, {"type": "reset"}))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw_request(server.port))
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
        sock.sendall(raw_request(server.port, POOLS + "/default_pool"))
        with pytest.raises(ConnectionResetError):
            while sock.recv(65536):
                pass


# -- phases and latency -------------------------------------------------------


def post_run(server: LiveServer, run_id: str) -> requests.Response:
    return requests.post(
        server.url + "/dags/etl_orders/dagRuns", json={"dag_run_id": run_id}, auth=AUTH, timeout=10
    )


def run_exists(server: LiveServer, run_id: str) -> bool:
    url = f"{server.url}/dags/etl_orders/dagRuns/{run_id}"
    return requests.get(url, auth=AUTH, timeout=10).status_code == 200


def test_phase_after_commits_then_loses_the_answer(server: LiveServer, quiet: None) -> None:
    """The run was made; the retry is refused as against a real server
    (Airflow checks the logical date, the same "now", before the run id)."""
    server.sim.faults.add(http_fault(
        {"operation_id": "post_dag_run"}, {"type": "reset"}, phase="after", when={"first": 1}
    ))  # fmt: skip
    with pytest.raises(requests.ConnectionError):
        post_run(server, "lost")
    assert run_exists(server, "lost")
    retried = post_run(server, "lost")
    assert (retried.status_code, retried.json()) == (409, problem(
        409, "Conflict", "DAGRun with DAG ID: 'etl_orders' and DAGRun logical date: "
        "'2023-04-01 00:00:00+00:00' already exists", "AlreadyExists",
    ))  # fmt: skip


def test_phase_before_changes_nothing(server: LiveServer, quiet: None) -> None:
    server.sim.faults.add(
        http_fault({"operation_id": "post_dag_run"}, {"type": "reset"}, when={"first": 1})
    )
    with pytest.raises(requests.ConnectionError):
        post_run(server, "never")
    assert not run_exists(server, "never")
    assert post_run(server, "never").status_code == 200


async def test_a_status_after_keeps_the_change(client: TestClient, sim: Simulator) -> None:
    sim.faults.add(
        http_fault({"operation_id": "post_pool"}, {"type": "status", "status": 502}, phase="after")
    )
    response = await client.post(POOLS, json={"name": "p", "slots": 2}, headers=ADMIN)
    assert response.status == 502
    pool = sim.store.pools.get("p")
    assert pool is not None and pool.slots == 2


async def test_latency_only_delays_the_real_answer(client: TestClient, sim: Simulator) -> None:
    sim.faults.add(http_fault({"operation_id": "get_pools"}, latency={"fixed": 0.2}))
    sim.faults.add(http_fault({"operation_id": "get_pools"}, latency={"fixed": 0.1}, phase="after"))
    started = time.perf_counter()
    response = await client.get(POOLS, headers=ADMIN)
    assert time.perf_counter() - started >= 0.3
    assert response.status == 200
    assert (await response.json())["total_entries"] == 1
    started = time.perf_counter()
    assert (await client.get(POOLS + "/default_pool", headers=ADMIN)).status == 200
    assert time.perf_counter() - started < 10  # not matched: not delayed (a loose bound)


async def test_latency_before_a_status(client: TestClient, sim: Simulator) -> None:
    sim.faults.add(http_fault(
        {"operation_id": "get_pools"}, {"type": "status", "status": 503},
        latency={"uniform": [0.1, 0.2]},
    ))  # fmt: skip
    started = time.perf_counter()
    response = await client.get(POOLS, headers=ADMIN)
    assert time.perf_counter() - started >= 0.1
    assert response.status == 503


async def test_shaping_the_answer_runs_the_handler(client: TestClient, sim: Simulator) -> None:
    """truncate, malformed and dribble need the real answer, whatever the phase."""
    sim.faults.add(http_fault({"operation_id": "post_pool"}, {"type": "malformed"}))
    response = await client.post(POOLS, json={"name": "p", "slots": 2}, headers=ADMIN)
    assert (response.status, response.content_type) == (200, "application/json")
    assert (await response.read()).endswith(GARBAGE)
    assert "p" in sim.store.pools


async def test_no_body_to_cut(client: TestClient, sim: Simulator) -> None:
    """A 204 or a HEAD has no body: truncate and dribble send it as it is."""
    await client.post(POOLS, json={"name": "p", "slots": 2}, headers=ADMIN)
    sim.faults.add(http_fault({"method": "DELETE"}, {"type": "truncate", "fraction": 0.5}))
    sim.faults.add(http_fault({"method": "HEAD"}, {"type": "dribble", "seconds": 0.01}))
    deleted = await client.delete(POOLS + "/p", headers=ADMIN)
    assert (deleted.status, await deleted.read()) == (204, b"")
    head = await client.head(POOLS, headers=ADMIN)
    assert (head.status, await head.read()) == (200, b"")


async def test_a_status_may_set_its_content_type(client: TestClient, sim: Simulator) -> None:
    sim.faults.add(http_fault({"operation_id": "get_pools"}, {
        "type": "status", "status": 503, "body": "<h1>down</h1>",
        "headers": {"content-type": "text/html", "Retry-After": "1"}, "retry_after": 30,
    }))  # fmt: skip
    response = await client.get(POOLS, headers=ADMIN)
    assert response.headers.getall("Content-Type") == ["text/html"]
    assert response.headers.getall("Retry-After") == ["30"]  # retry_after wins
    assert await response.text() == "<h1>down</h1>"


# -- matching -----------------------------------------------------------------

REQUESTS = [
    ("GET", POOLS, ADMIN),
    ("GET", POOLS + "/default_pool", ADMIN),
    ("GET", "/api/v1/variables", ADMIN),
    ("PATCH", "/api/v1/dags/etl_orders", ADMIN),
    ("GET", "/api/v1/dags/etl_orders/dagRuns", ADMIN),
    ("GET", POOLS, {"Authorization": "Basic " + base64.b64encode(b"bob:wrong").decode()}),
    ("GET", "/api/v1/nowhere", ADMIN),
]


@pytest.mark.parametrize(
    ("match", "faulted"),
    [
        ({"operation_id": ["get_pools", "get_variables"]}, [0, 2, 5]),
        ({"operation_id": "get_pool"}, [1]),
        ({"method": "patch"}, [3]),
        ({"path": "/api/v1/dags/*"}, [3, 4]),  # `*` also matches `/`
        ({"path": "/api/v1/nowhere"}, [6]),  # no route: still matched by path
        ({"tag": "Pool"}, [0, 1, 5]),
        ({"tag": ["DAG", "DAGRun"]}, [3, 4]),
        ({"user": "bob"}, [5]),  # the name a Basic header gives, password unchecked
        ({"user": "admin", "tag": "Pool"}, [0, 1]),
        ({}, [0, 1, 2, 3, 4, 5, 6]),
    ],
)
async def test_match(
    client: TestClient, sim: Simulator, match: dict[str, Any], faulted: list[int]
) -> None:
    sim.faults.add(http_fault(match, {"type": "status", "status": 418}))
    statuses = []
    for method, path, headers in REQUESTS:
        body = {"is_paused": True} if method == "PATCH" else None
        response = await client.request(method, path, headers=headers, json=body)
        statuses.append(response.status)
    assert [i for i, status in enumerate(statuses) if status == 418] == faulted


async def test_control_routes_are_never_faulted(client: TestClient, sim: Simulator) -> None:
    sim.faults.add(http_fault({}, {"type": "reset"}))
    sim.faults.add(http_fault({"path": "/_sim/*"}, {"type": "status", "status": 503}))
    assert (await client.get("/_sim/clock")).status == 200
    assert (await client.post("/_sim/clock/advance", json={"seconds": 1})).status == 200
    assert (await client.get("/_sim/requests")).status == 200


# -- the journal --------------------------------------------------------------


def test_the_journal_marks_faulted_entries(server: LiveServer, quiet: None) -> None:
    answered = server.sim.faults.add(http_fault(
        {"operation_id": "get_pools"}, {"type": "status", "status": 503}, when={"first": 1}
    ))  # fmt: skip
    delayed = server.sim.faults.add(
        http_fault({"operation_id": "get_pool"}, latency={"fixed": 0.01})
    )
    cut = server.sim.faults.add(http_fault({"operation_id": "get_variables"}, {"type": "reset"}))
    truncated = server.sim.faults.add(
        http_fault({"operation_id": "get_connections"}, {"type": "truncate"})
    )
    requests.get(server.url + "/pools", auth=AUTH, timeout=10)
    requests.get(server.url + "/pools", auth=AUTH, timeout=10)
    requests.get(server.url + "/pools/default_pool", auth=AUTH, timeout=10)
    for path in ("/variables", "/connections"):
        with pytest.raises(requests.RequestException):
            requests.get(server.url + path, auth=AUTH, timeout=10)
    entries = journal(server.root)[::-1]
    assert [(e["operation_id"], e["status"], e["fault"]) for e in entries] == [
        ("get_pools", 503, answered.id),
        ("get_pools", 200, None),
        ("get_pool", 200, delayed.id),
        ("get_variables", None, cut.id),
        ("get_connections", 200, truncated.id),
    ]
    assert entries[3]["user"] is None  # cut before authentication


def test_a_cut_request_keeps_its_body_in_the_journal(server: LiveServer, quiet: None) -> None:
    server.sim.faults.add(http_fault({"operation_id": "post_pool"}, {"type": "empty"}))
    body = json.dumps({"name": "p", "slots": 1}).encode()
    received = exchange(server.port, raw_request(server.port, POOLS, "POST", body))
    assert received == (b"", "EOF")
    (entry,) = journal(server.root)
    assert (entry["status"], entry["request_body"]) == (None, {"name": "p", "slots": 1})
    assert "p" not in server.sim.store.pools


# -- the X-Sim-Fault header ---------------------------------------------------

RESET_HEADER = {"X-Sim-Fault": json.dumps({"action": {"type": "reset"}})}


async def test_the_header_is_ignored_without_the_flag(client: TestClient, sim: Simulator) -> None:
    header = {"X-Sim-Fault": json.dumps({"action": {"type": "status", "status": 503}})}
    assert (await client.get(POOLS, headers={**ADMIN, **header})).status == 200
    assert (await client.get(POOLS, headers={**ADMIN, "X-Sim-Fault": "{nonsense"})).status == 200
    (entry, _) = (await (await client.get("/_sim/requests")).json())["requests"]
    assert entry["fault"] is None


def test_the_header_applies_to_its_request_only(server: LiveServer, quiet: None) -> None:
    header = {"X-Sim-Fault": json.dumps({
        "match": {"operation_id": "get_pools"},
        "action": {"type": "status", "status": 503, "retry_after": 7},
    })}  # fmt: skip
    response = requests.get(server.url + "/pools", auth=AUTH, headers=header, timeout=10)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "7")
    assert response.json() == problem(503, "Service Unavailable", UNAVAILABLE)
    healthy(server)  # the next request, without the header
    # Its match still applies: another operation is not faulted.
    assert requests.get(server.url + "/variables", auth=AUTH, headers=header, timeout=10).ok
    assert exchange(server.port, raw_request(server.port, headers=RESET_HEADER)) == (b"", "RST")
    assert len(server.sim.faults) == 0  # not kept
    assert [e["fault"] is not None for e in journal(server.root)] == [True, False, False, True]


@pytest.mark.parametrize(
    "value",
    [
        "{nonsense",
        "[]",
        json.dumps({"action": {"type": "explode"}}),
        json.dumps({"kind": "task", "effect": "fail"}),
        json.dumps({"action": {"type": "reset"}, "colour": "red"}),
    ],
)
def test_a_bad_header_is_a_400_that_changes_nothing(
    server: LiveServer, value: str, quiet: None
) -> None:
    response = requests.post(
        server.url + "/pools", json={"name": "p", "slots": 1}, auth=AUTH,
        headers={"X-Sim-Fault": value}, timeout=10,
    )  # fmt: skip
    body = response.json()
    assert response.status_code == 400
    assert body | {"detail": None} == problem(400, "Bad Request", None, "BadRequest")
    assert "X-Sim-Fault" in body["detail"]
    assert "p" not in server.sim.store.pools


# -- determinism --------------------------------------------------------------


async def firing_pattern(aiohttp_client: Callable[..., Any], seed: int) -> list[int]:
    app = create_app(dataclasses.replace(TEST_SETTINGS, seed=seed))
    from simulator.server.keys import SIM

    app[SIM].faults.add(http_fault(
        {"tag": "Pool"}, {"type": "status", "status": 503}, when={"probability": 0.5}
    ))  # fmt: skip
    client = await aiohttp_client(app)
    return [(await client.get(POOLS, headers=ADMIN)).status for _ in range(40)]


async def test_the_same_seed_fires_the_same_way(aiohttp_client: Callable[..., Any]) -> None:
    first = await firing_pattern(aiohttp_client, 7)
    assert first == await firing_pattern(aiohttp_client, 7)
    assert set(first) == {200, 503}
    assert first != await firing_pattern(aiohttp_client, 8)


# -- the flag -----------------------------------------------------------------


def test_the_flag_and_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.cli import build_parser, settings_from

    monkeypatch.delenv("AIRFLOW_SIM_ALLOW_FAULT_HEADER", raising=False)
    assert settings_from(build_parser().parse_args(["serve"])).allow_fault_header is False
    flagged = build_parser().parse_args(["serve", "--allow-fault-header"])
    assert settings_from(flagged).allow_fault_header is True
    monkeypatch.setenv("AIRFLOW_SIM_ALLOW_FAULT_HEADER", "true")
    assert settings_from(build_parser().parse_args(["serve"])).allow_fault_header is True
