"""Raw-socket fuzzing of a live server: bad request lines and methods, huge
and invalid headers, bad percent-encodings and non-UTF-8 bytes in paths and
queries, invalid Content-Length, chunked bodies (valid, malformed,
truncated), bad Content-Type and charset, clients that leave mid-request,
pipelined requests. Seeded and bounded: the same few hundred cases every run.

Whatever comes in, the answer is no 5xx (a 4xx, a 2xx, or a closed
connection), an Airflow answer in problem form is a well-formed problem, the
server logs no error or traceback, and it answers GET /health afterwards.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import random
import socket
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from simulator.testing.live import LiveServer, live_server
from tests.conftest import TEST_SETTINGS

SEED = 20_240_105
TIMEOUT = 5.0  # seconds a case may wait for its answer; none comes near it
AUTH = b"Authorization: Basic " + base64.b64encode(b"admin:admin") + b"\r\n"
JSON = b"Content-Type: application/json\r\n"
BODY = b'{"key": "fuzz", "value": "v"}'
PATHS = (
    b"/api/v1/dags", b"/api/v1/dags/etl_orders", b"/api/v1/dags/etl_orders/dagRuns",
    b"/api/v1/dags/~/dagRuns/list", b"/api/v1/variables", b"/api/v1/variables/fuzz",
    b"/api/v1/pools", b"/api/v1/connections", b"/api/v1/health", b"/api/v1/eventLogs/1",
    b"/api/v1/dags/etl_orders/dagRuns/r/taskInstances/t/logs/1", b"/api/v1/users/admin",
    b"/api/v1/config", b"/api/v1/ui/", b"/api/v1/openapi.yaml", b"/", b"/_sim/health",
    b"/_sim/clock", b"/_sim/faults", b"/_sim/requests", b"/_sim/world", b"/_sim/ui/",
)  # fmt: skip
# Paths that take a JSON body, and the method.
WRITES = (
    (b"POST", b"/api/v1/variables"), (b"PATCH", b"/api/v1/variables/fuzz"),
    (b"POST", b"/api/v1/dags/etl_orders/dagRuns"), (b"POST", b"/api/v1/pools"),
    (b"POST", b"/api/v1/dags/~/dagRuns/list"), (b"POST", b"/_sim/faults"),
    (b"POST", b"/_sim/clock/advance"), (b"PATCH", b"/_sim/clock"),
)  # fmt: skip
METHODS = (b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS")
ODD_METHODS = (
    b"FOO", b"get", b"PROPFIND", b"BREW", b"TRACE", b"CONNECT", b"GET,POST", b"G\x00T",
    b"G\xffT", b"X" * 100, b"X" * 9000, b"",
)  # fmt: skip
# Bytes that break percent-decoding, UTF-8, or both.
JUNK = (
    b"%", b"%z", b"%zz", b"%ff%fe", b"\xff\xfe", b"%00", b"%C0%AF", b"..%2f..%2f", b"%2e%2e",
    b"%F0%9F%92%A9", b"\xc3\x28", b"%ed%a0%80", b"%u1234", b"\x7f", b"a%20b", b"%%", b"~",
    b"%0d%0a", b"\x01", b"%E2%80%AE", b";", b"//", b"#frag",
)  # fmt: skip
QUERY_NAMES = (
    b"limit", b"offset", b"order_by", b"tags", b"dag_id_pattern", b"execution_date_gte",
    b"state", b"path", b"since", b"only_active", b"update_mask", b"full_content",
)  # fmt: skip
CONTENT_TYPES = (
    b"application/json; charset=utf-16", b"application/json; charset=bogus", b"text/plain",
    b"application/json;;;", b"application/*", b"multipart/form-data; boundary=", b"\xff",
    b"application/x-www-form-urlencoded", b"application/json; charset=\xff", b"",
    b"application/merge-patch+json", b"application/yaml", b"application/problem+json",
)  # fmt: skip
ACCEPTS = (b";;;", b"text/plain;q=abc", b"*/*;q=\xff", b"x/y;q=2", b"\xff")
FAULT_HEADERS = (
    b"{", b"[]", b"null", b"NaN", b"[" * 3000, b"\xff",
    b'{"kind": "http", "action": {"type": "status", "status": 1e400}}',
    b'{"kind": "http", "match": {"path": "[\\\\"}}',
)  # fmt: skip
CREDENTIALS = (
    b"Basic \xff\xfe", b"Basic " + b"A" * 8000, b"Basic ====", b"Basic", b"\xc3\xa9",
    b"Basic " + base64.b64encode(b"\xff:\xfe"), b"Digest username=admin",
)  # fmt: skip
BODIES = (
    b"\xff\xfe{}", b"\xef\xbb\xbf{}", b'{"key": "\xff", "value": "v"}', b'"\\ud800"',
    b'{"key": "k", "value": "\\ud800"}', b"NaN", b'{"key": "k", "value": "v", "x": NaN}',
    b"1" * 5000, b"[" * 60, b"{}" * 3, b'{"key": {"a": 1}, "value": 1e400}', b"null", b"",
    b'{"key": "' + b"k" * 300 + b'", "value": "v"}', b'{"seconds": -1e308}', b'{"mode": 1}',
    b'{"name": "p", "slots": 1e400}', b'{"dag_ids": ["\\u0000"], "page_limit": -1}',
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    pieces: tuple[bytes, ...]  # sent one after another
    # read: read the answer(s); shut: half-close after sending (a body cut
    # short), then read; leave: close without reading (a client gone).
    ending: str = "read"
    target: bytes = b""


def request(
    method: bytes, target: bytes, headers: bytes = AUTH, body: bytes = b"", length: bool = True
) -> bytes:
    head = method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if body and length:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + headers + b"\r\n" + body


def chunks(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def request_lines(rng: random.Random) -> Iterator[Case]:
    path = rng.choice(PATHS)
    close = b"Host: x\r\nConnection: close\r\n\r\n"
    fixed = [
        b"GET " + path + b"\r\n\r\n",  # HTTP/0.9
        b"GET " + path + b" HTTP/1.0\r\n\r\n",
        b"GET " + path + b" HTTP/9.9\r\n" + close,
        b"GET " + path + b" HTTP/1.1 x\r\n" + close,
        b"GET  " + path + b" HTTP/1.1\r\n" + close,
        b"GET HTTP/1.1\r\n" + close,
        b"GET http://x" + path + b" HTTP/1.1\r\n" + close,
        b"OPTIONS * HTTP/1.1\r\n" + close,
        b"GET " + path + b" HTTP/1.1\nHost: x\nConnection: close\n\n",
        b"\r\n\r\nGET " + path + b" HTTP/1.1\r\n" + close,
        b"GET " + path[:5] + b"\x00" + path[5:] + b" HTTP/1.1\r\n" + close,
        b"GET " + path + b"?" + b"a" * rng.choice((8200, 20_000)) + b" HTTP/1.1\r\n" + close,
        b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + close,
    ]
    for raw in fixed:
        yield Case("request line", (raw,), target=path)
    for _ in range(15):
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        yield Case("garbage", (garbage + rng.choice((b"\r\n\r\n", b"\n", b"")),), "shut")


def methods(rng: random.Random) -> Iterator[Case]:
    for method in ODD_METHODS:
        target = rng.choice(PATHS)
        yield Case(f"method {method[:10]!r}", (request(method, target),), target=target)
    for _ in range(10):
        method = bytes(
            rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_!~") for _ in range(rng.randrange(1, 12))
        )
        target = rng.choice(PATHS)
        yield Case(f"method {method!r}", (request(method, target),), target=target)


def headers(rng: random.Random) -> Iterator[Case]:
    mutations: list[Callable[[], bytes]] = [
        lambda: AUTH + b"X-Big: " + b"a" * rng.choice((8100, 9000, 70_000)) + b"\r\n",
        lambda: AUTH + b"".join(b"X-H%d: v\r\n" % i for i in range(rng.choice((100, 129, 400)))),
        lambda: AUTH + b"NoColonHere\r\n",
        lambda: AUTH + b"Bad Name: v\r\n",
        lambda: AUTH + b"Accept : */*\r\n",
        lambda: AUTH + b"X-A: one\r\n two\r\n",
        lambda: AUTH + b"Accept: \xff\xfe\r\nUser-Agent: \xc3\x28\r\n",
        lambda: AUTH + b"Accept: a\x00b\r\n",
        lambda: AUTH + b"Accept: " + rng.choice(ACCEPTS) + b"\r\n",
        lambda: b"Origin: \xff\r\nAccess-Control-Request-Method: \xff\r\n",
        lambda: AUTH + b"X-Sim-Fault: " + rng.choice(FAULT_HEADERS) + b"\r\n",
        lambda: b"Authorization: " + rng.choice(CREDENTIALS) + b"\r\n",
        lambda: AUTH + b"Cookie: " + b"a=b; " * 1500 + b"\r\n",
        lambda: (
            AUTH + b"If-None-Match: \xff\r\nIf-Modified-Since: yesterday\r\nRange: bytes=-1-2\r\n"
        ),
        lambda: AUTH + b"Content-Encoding: gzip\r\n",
        lambda: AUTH + b"Expect: 100-continue\r\n",
        lambda: AUTH + b"Connection: upgrade\r\nUpgrade: websocket\r\n",
        lambda: AUTH + b"Host: \xff\r\n",
    ]
    for _ in range(60):
        target = rng.choice(PATHS)
        mutate = rng.choice(mutations)
        yield Case("headers", (request(rng.choice(METHODS[:2]), target, mutate()),), target=target)


def targets(rng: random.Random) -> Iterator[Case]:
    for _ in range(80):
        path, junk = rng.choice(PATHS), rng.choice(JUNK)
        shape = rng.randrange(4)
        if shape == 0:
            target = path + b"/" + junk
        elif shape == 1:
            target = path + b"?" + rng.choice(QUERY_NAMES) + b"=" + junk
        elif shape == 2:
            target = path.replace(b"etl_orders", junk) if b"etl_orders" in path else junk + path
        else:
            target = path + b"?" + junk + b"&" + rng.choice(QUERY_NAMES) + b"=" + junk + junk
        method = rng.choice(METHODS)
        yield Case(f"target {method!r} {target!r}", (request(method, target),), target=target)


def lengths(rng: random.Random) -> Iterator[Case]:
    for value in (b"-1", b"abc", b"1e3", b" 10", b"9" * 30, b"0x10", b"+5", b"", b"5, 5", b"1\x00"):
        method, target = rng.choice(WRITES)
        head = AUTH + JSON + b"Content-Length: " + value + b"\r\n"
        yield Case(f"length {value!r}", (request(method, target, head, BODY, False),), "shut")
    method, target = rng.choice(WRITES)
    both = AUTH + JSON + b"Content-Length: 3\r\nContent-Length: 30\r\n"
    yield Case("two lengths", (request(method, target, both, BODY, False),), "shut")
    too_long = AUTH + JSON + b"Content-Length: 500\r\n"
    yield Case(
        "short body", (request(b"POST", b"/api/v1/variables", too_long, BODY, False),), "shut"
    )
    mixed = AUTH + JSON + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"
    yield Case(
        "length and chunked", (request(b"POST", target, mixed, chunks(BODY), False),), "shut"
    )


def chunked(rng: random.Random) -> Iterator[Case]:
    head = AUTH + JSON + b"Transfer-Encoding: chunked\r\n"
    for _ in range(4):
        method, target = rng.choice(WRITES)
        cut = rng.randrange(1, len(BODY))
        start = request(method, target, head, b"", False)
        yield Case("chunked", (start + chunks(BODY[:cut], BODY[cut:]),), target=target)
        yield Case("chunked late", (start, chunks(BODY)[:cut], chunks(BODY)[cut:]), target=target)
        yield Case("chunk extension", (start + b"%x;a=b\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY),))
        yield Case("chunk trailer", (start + chunks(BODY)[:-2] + b"X-T: 1\r\n\r\n",), target=target)
    broken = (
        b"zz\r\n" + BODY + b"\r\n0\r\n\r\n", b"-5\r\nabcde\r\n0\r\n\r\n",
        b"%x\r\n" % len(BODY) + BODY + b"0\r\n\r\n", b"f" * 30 + b"\r\n" + BODY,
        b"%x\r\n" % (len(BODY) + 10) + BODY, b"%x\r\n" % len(BODY), b"5\r\nab",
    )  # fmt: skip
    for body in broken:
        method, target = rng.choice(WRITES[:5])
        start = request(method, target, head, b"", False)
        yield Case("chunk broken", (start + body,), "shut")
        yield Case("chunk broken late", (start, body), "shut")
    for coding in (b"gzip, chunked", b"chunked, identity", b"xchunked", b"identity", b"CHUNKED"):
        method, target = rng.choice(WRITES[:5])
        te = AUTH + JSON + b"Transfer-Encoding: " + coding + b"\r\n"
        yield Case(
            f"coding {coding!r}", (request(method, target, te, chunks(BODY), False),), "shut"
        )


def content_types(rng: random.Random) -> Iterator[Case]:
    for content_type in CONTENT_TYPES:
        for _ in range(2):
            method, target = rng.choice(WRITES)
            head = AUTH + b"Content-Type: " + content_type + b"\r\n"
            yield Case(
                f"type {content_type!r}", (request(method, target, head, BODY),), target=target
            )
    for body in BODIES:
        for _ in range(2):
            method, target = rng.choice(WRITES)
            yield Case(
                f"body {body[:20]!r}", (request(method, target, AUTH + JSON, body),), target=target
            )


def leavers(rng: random.Random) -> Iterator[Case]:
    full = request(b"POST", b"/api/v1/variables", AUTH + JSON, BODY)
    for cut in sorted(rng.sample(range(1, len(full)), 20)):
        yield Case(f"leaves at {cut}", (full[:cut],), "leave")
    yield Case("dribbles, then leaves", tuple(bytes([c]) for c in full[:30]), "leave")


def pipelines(rng: random.Random) -> Iterator[Case]:
    for _ in range(8):
        first = request(b"GET", rng.choice(PATHS)).replace(b"Connection: close\r\n", b"")
        second = rng.choice((b"\xff\xfe garbage\r\n\r\n", request(b"FOO", b"/api/v1/pools")))
        yield Case("pipelined", (first + second,))


FAMILIES = (
    request_lines,
    methods,
    headers,
    targets,
    lengths,
    chunked,
    content_types,
    leavers,
    pipelines,
)


def cases() -> list[Case]:
    rng = random.Random(SEED)
    return [case for family in FAMILIES for case in family(rng)]


def play(port: int, case: Case) -> bytes | None:
    """Send the case; what came back before the server closed (None: left)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        for piece in case.pieces:
            sock.sendall(piece)
        if case.ending == "leave":
            return None
        if case.ending == "shut":
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # the server may reset a connection it will not read further
        return received


def answers(received: bytes) -> Iterator[tuple[int, dict[str, str], bytes]]:
    """The status, headers and body of each answer in `received`."""
    while received.startswith(b"HTTP/"):
        head, _, rest = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        fields = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)
        }
        status = int(status_line.split()[1])
        size = 0 if status < 200 else int(fields.get("content-length", len(rest)))  # 100 Continue
        yield status, fields, rest[:size]
        received = rest[size:]


def check(case: Case, status: int, fields: dict[str, str], body: bytes) -> None:
    assert status < 500, (case, status, body[:300])
    content_type = fields.get("content-type", "")
    if content_type == "application/problem+json":
        if body:  # none for HEAD
            problem = json.loads(body)
            assert sorted(problem) == ["detail", "status", "title", "type"], (case, problem)
            assert problem["status"] == status, (case, problem)
            assert problem["type"].startswith(("https://airflow.apache.org/", "about:blank"))
    elif case.target.startswith(b"/api/v1/") and 400 <= status < 500 and status != 406:
        # Only the HTTP parser (before any route) answers a 4xx outside the
        # problem form; Airflow's own 406 is plain text too.
        assert status == 400 and content_type.startswith("text/plain"), case


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(dataclasses.replace(TEST_SETTINGS, allow_fault_header=True)) as live:
        yield live


def test_no_input_gets_a_5xx_or_a_logged_error(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    all_cases = cases()
    assert 300 <= len(all_cases) <= 600
    seen: Counter[int] = Counter()
    for case in all_cases:
        received = play(server.port, case)
        if received is None:
            continue
        for status, fields, body in answers(received):
            seen[status // 100] += 1
            check(case, status, fields, body)
    assert seen[4] > 100 and seen[2] > 10  # the cases reach both the parser and the handlers
    assert seen[5] == 0
    received = play(server.port, Case("health", (request(b"GET", b"/api/v1/health"),)))
    assert received is not None and received.startswith(b"HTTP/1.1 200 OK\r\n")
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == [], [r.getMessage() for r in errors]
    assert "Traceback" not in caplog.text


def test_a_client_leaving_a_control_route_mid_body_logs_no_error(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    head = JSON + b"Content-Length: 500\r\n"
    case = Case("cut", (request(b"POST", b"/_sim/faults", head, BODY, False),), "shut")
    assert play(server.port, case) is not None
    play(server.port, Case("health", (request(b"GET", b"/api/v1/health"),)))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
