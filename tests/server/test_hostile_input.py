"""Hostile input gets Airflow's 4xx, never a 500, and changes nothing:
Authorization headers that name no credentials, wrong-password floods
(remembered verdicts, hashing off the event loop), JSON nested past the
bound, and bodies past the size bound."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.config import Settings
from simulator.server import auth
from simulator.server.app import MAX_REQUEST_BODY
from simulator.server.auth import Verdicts, basic_pair
from simulator.server.keys import AUTH
from simulator.simulator import Simulator
from simulator.state import strict_json
from simulator.state.strict_json import MAX_DEPTH, TooDeep
from simulator.testing.live import LiveServer
from tests.conftest import ADMIN, TEST_SETTINGS, basic, problem

POOLS = "/api/v1/pools"
VARIABLES = "/api/v1/variables"
USERS = "/api/v1/users"
RUNS = "/api/v1/dags/etl_orders/dagRuns"
JSON = {"Content-Type": "application/json"}
UNAUTHORIZED = problem(401, "Unauthorized", None, "Unauthenticated")
TOO_DEEP = problem(
    400,
    "Bad Request",
    f"Request body is nested too deeply (at most {MAX_DEPTH} levels)",
    "BadRequest",
)
NOT_JSON = problem(400, "Bad Request", "Request body is not valid JSON", "BadRequest")
TOO_LARGE = problem(
    413, "Request Entity Too Large", "The data value transmitted exceeds the capacity limit."
)


@pytest.fixture
def settings() -> Settings:
    return dataclasses.replace(TEST_SETTINGS, allow_fault_header=True)


def b64(raw: bytes) -> bytes:
    return base64.b64encode(raw)


def arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def ask(port: int, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """One GET with `head`'s header lines as given (raw bytes, not encoded
    by any client): the status, headers and body of the answer."""
    request = b"GET " + POOLS.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request + head + b"\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    top, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


class TestAuthorizationHeader:
    @pytest.mark.parametrize(
        "value",
        [
            b"\xff\xfe",  # latin-1 bytes, no scheme
            b"Basic \xff\xfe",  # not ASCII: was a 500
            b"Basic \xc3\xa9",  # UTF-8, still not base64: was a 500
            b"Basic " + b64(b"\xff\xfe:\xfd"),  # credentials not UTF-8
            b"Basic " + b64(b"admin:\xff"),
            b"Basic !!!",  # nothing of the alphabet
            b"Basic YWRtaW46YWRtaW4",  # admin:admin without its padding
            b"Basic " + b64(b"admin"),  # no colon
            b"Basic " + b64(b":admin"),  # no username
            b"Basic " + b64(b"admin:"),  # no password
            b"Basic",
            b"Basic ",
            b"Bearer " + b64(b"admin:admin"),
            b"Basic " + b64(b"admin:admin!"),
            b"Basic " + b64(b"x" * 4000 + b":" + b"y" * 2000),  # a long unknown user
        ],
    )
    def test_no_usable_credentials_is_401(self, live_dags: LiveServer, value: bytes) -> None:
        status, headers, body = ask(live_dags.port, b"Authorization: " + value + b"\r\n")
        assert status == 401
        assert headers["www-authenticate"] == "Basic"
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body) == UNAUTHORIZED

    def test_the_server_still_answers(self, live_dags: LiveServer) -> None:
        value = b"Basic " + b64(b"admin:admin")
        assert ask(live_dags.port, b"Authorization: " + value + b"\r\n")[0] == 200

    @pytest.mark.parametrize(
        "header",
        [
            "Basic YWRtaW46YWRtaW4=",
            "basic YWRtaW46YWRtaW4=",
            "Basic\tYWRtaW46YWRtaW4=",  # any whitespace after the scheme
            "Basic   YWRtaW46YWRtaW4=",
            "Basic YWRt aW46*YWRt-aW4=",  # werkzeug's b64decode skips what is not base64
        ],
    )
    def test_werkzeug_reads_these_as_admin(self, header: str) -> None:
        assert basic_pair(header) == ("admin", "admin")

    def test_only_the_first_colon_splits(self) -> None:
        header = "Basic " + b64("ána:p:w:ö".encode()).decode()
        assert basic_pair(header) == ("ána", "p:w:ö")

    async def test_lenient_forms_log_in(self, client: TestClient) -> None:
        response = await client.get(POOLS, headers={"Authorization": "Basic\tYWRt aW46YWRtaW4="})
        assert response.status == 200


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords actually hashed (PBKDF2 runs) from now on."""
    seen: list[str] = []
    check = auth.check_password

    def counting(stored: str, password: str) -> bool:
        seen.append(password)
        return check(stored, password)

    monkeypatch.setattr(auth, "check_password", counting)
    return seen


class TestPasswordVerdicts:
    async def test_a_repeated_wrong_password_is_hashed_once(
        self, client: TestClient, hashes: list[str]
    ) -> None:
        for _ in range(5):
            response = await client.get(POOLS, headers=basic("admin", "wrong"))
            assert response.status == 401
            assert await response.json() == UNAUTHORIZED
        assert hashes == ["wrong"]
        assert (await client.get(POOLS, headers=basic("admin", "other"))).status == 401
        assert (await client.get(POOLS, headers=ADMIN)).status == 200
        assert (await client.get(POOLS, headers=ADMIN)).status == 200
        assert hashes == ["wrong", "other", "admin"]

    async def test_concurrent_repeats_share_one_hash(
        self, client: TestClient, hashes: list[str]
    ) -> None:
        async def status() -> int:
            response = await client.get(POOLS, headers=basic("admin", "guess"))
            await response.read()
            return response.status

        assert await asyncio.gather(*(status() for _ in range(10))) == [401] * 10
        assert hashes == ["guess"]

    async def test_a_password_change_forgets_the_verdicts(
        self, client: TestClient, make_user: Callable[..., Any], hashes: list[str]
    ) -> None:
        old = make_user("bob", "Admin", password="old")
        assert (await client.get(USERS, headers=old)).status == 200
        assert (await client.get(USERS, headers=basic("bob", "new"))).status == 401
        body = {"username": "bob", "email": "b@example.com", "first_name": "B", "last_name": "B"}
        url = USERS + "/bob?update_mask=password"
        response = await client.patch(url, json={**body, "password": "new"}, headers=ADMIN)
        assert response.status == 200
        assert (await client.get(USERS, headers=basic("bob", "new"))).status == 200
        assert (await client.get(USERS, headers=old)).status == 401
        assert hashes.count("new") == 2 and hashes.count("old") == 2

    async def test_no_password_is_kept(self, client: TestClient, app: Any) -> None:
        await client.get(POOLS, headers=basic("admin", "hunter2-wrong"))
        await client.get(POOLS, headers=ADMIN)
        authenticator = app[AUTH]
        assert (len(authenticator.verified), len(authenticator.refused)) == (1, 1)
        kept = repr(vars(authenticator.verified)) + repr(vars(authenticator.refused))
        assert "hunter2-wrong" not in kept and "'admin'" not in kept

    def test_verdicts_are_bounded_least_recently_used_first(self) -> None:
        verdicts = Verdicts(size=2)
        verdicts.add(b"one", "hash")
        verdicts.add(b"two", "hash")
        assert verdicts.holds(b"one", "hash")  # now the most recent
        verdicts.add(b"three", "hash")
        assert len(verdicts) == 2
        assert verdicts.holds(b"one", "hash") and verdicts.holds(b"three", "hash")
        assert not verdicts.holds(b"two", "hash")
        assert not verdicts.holds(b"one", "another hash")  # stale: the password changed

    async def test_a_slow_hash_leaves_the_loop_free(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        check = auth.check_password

        def slow(stored: str, password: str) -> bool:
            time.sleep(1.0 if password == "slow" else 0)
            return check(stored, password)

        monkeypatch.setattr(auth, "check_password", slow)
        assert (await client.get(POOLS, headers=ADMIN)).status == 200  # remembered from now on
        pending = asyncio.ensure_future(client.get(POOLS, headers=basic("admin", "slow")))
        await asyncio.sleep(0.05)  # the slow hash is running
        started = time.perf_counter()
        for _ in range(5):
            assert (await client.get(POOLS, headers=ADMIN)).status == 200
        assert time.perf_counter() - started < 0.5
        assert not pending.done()
        assert (await pending).status == 401


@pytest.fixture
def counts(sim: Simulator) -> Iterator[Callable[[], dict[str, int]]]:
    yield sim.counts


class TestDeepJson:
    @pytest.mark.parametrize(
        ("url", "body"),
        [
            (VARIABLES, arrays(100_000)),
            (VARIABLES, objects(100_000)),
            (VARIABLES, '{"key": "k", "value": "v", "x": ' + arrays(MAX_DEPTH) + "}"),
            (RUNS, '{"conf": ' + objects(MAX_DEPTH) + "}"),
            (RUNS, '{"conf": {"a": ' + arrays(900) + "}}"),  # parses, then was walked
            (RUNS, arrays(100_000)),
            ("/api/v1/pools", '{"name": "p", "slots": 1, "x": ' + objects(5000) + "}"),
        ],
    )
    async def test_too_deep_is_400(
        self, client: TestClient, sim: Simulator, url: str, body: str
    ) -> None:
        before = sim.counts()
        response = await client.post(url, data=body, headers={**ADMIN, **JSON})
        assert response.status == 400
        assert response.content_type == "application/problem+json"
        assert await response.json() == TOO_DEEP
        assert sim.counts() == before

    async def test_the_bound_itself_is_served_snapshotted_and_journaled(
        self, client: TestClient, sim: Simulator
    ) -> None:
        conf = json.loads(objects(MAX_DEPTH - 1))  # the body adds one level
        response = await client.post(RUNS, json={"conf": conf}, headers=ADMIN)
        assert response.status == 200
        run_id = (await response.json())["dag_run_id"]
        response = await client.get(f"{RUNS}/{run_id}", headers=ADMIN)
        assert (await response.json())["conf"] == conf
        assert (await client.get("/_sim/snapshot")).status == 200
        response = await client.get("/_sim/requests?method=POST")
        assert response.status == 200
        assert (await response.json())["requests"][0]["request_body"] == {"conf": conf}

    @pytest.mark.parametrize(
        ("url", "body"),
        [
            ("/_sim/faults", arrays(100_000)),
            ("/_sim/faults", '{"kind": "http", "match": ' + objects(MAX_DEPTH) + "}"),
            ("/_sim/clock/advance", objects(100_000)),
            ("/_sim/reset", arrays(MAX_DEPTH + 1)),
        ],
    )
    async def test_control_routes_answer_their_400(
        self, client: TestClient, sim: Simulator, url: str, body: str
    ) -> None:
        before = (sim.counts(), sim.now(), len(sim.faults))
        response = await client.post(url, data=body, headers=JSON)
        assert response.status == 400
        assert await response.json() == NOT_JSON
        assert (sim.counts(), sim.now(), len(sim.faults)) == before

    @pytest.mark.parametrize("header", [arrays(4000), objects(1000), arrays(MAX_DEPTH + 1)])
    async def test_a_deep_fault_header_is_400(
        self, client: TestClient, sim: Simulator, header: str
    ) -> None:
        before = sim.counts()
        response = await client.get(POOLS, headers={**ADMIN, "X-Sim-Fault": header})
        assert response.status == 400
        assert await response.json() == problem(
            400, "Bad Request", "X-Sim-Fault: not a JSON document", "BadRequest"
        )
        assert sim.counts() == before

    def test_strict_json_bound(self) -> None:
        assert strict_json.loads(arrays(MAX_DEPTH)) is not None
        for text in (arrays(MAX_DEPTH + 1), objects(MAX_DEPTH + 1), arrays(100_000)):
            with pytest.raises(TooDeep, match=f"nested deeper than {MAX_DEPTH} levels"):
                strict_json.loads(text)
        # Brackets inside strings are no nesting.
        assert strict_json.loads(json.dumps(["[" * 1000, "{" * 1000])) == ["[" * 1000, "{" * 1000]


class TestBodySize:
    async def test_a_body_over_a_mebibyte_is_taken(self, client: TestClient) -> None:
        conf = {"blob": "x" * (3 * 1024 * 1024)}
        body = io.BytesIO(json.dumps({"conf": conf}).encode())  # aiohttp warns on big bytes
        response = await client.post(RUNS, data=body, headers={**ADMIN, **JSON})
        assert response.status == 200
        assert (await response.json())["conf"] == conf

    @pytest.mark.parametrize("chunked", [False, True])
    async def test_past_the_bound_is_413(
        self, client: TestClient, sim: Simulator, chunked: bool
    ) -> None:
        body = json.dumps({"conf": {"blob": "x" * MAX_REQUEST_BODY}}).encode()

        async def pieces() -> Any:
            for start in range(0, len(body), 1 << 20):
                yield body[start : start + (1 << 20)]

        before = sim.counts()
        response = await client.post(
            RUNS,
            data=pieces() if chunked else io.BytesIO(body),
            headers={**ADMIN, **JSON},
        )
        assert response.status == 413
        assert response.content_type == "application/problem+json"
        assert await response.json() == TOO_LARGE
        assert sim.counts() == before
        assert (await client.get("/api/v1/health")).status == 200
