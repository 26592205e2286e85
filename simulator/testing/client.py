"""SimulatorClient: a small synchronous client of the control API (`/_sim`).

Standard library only (urllib.request), so that any test suite or CI script
can steer a simulator, in-process (the pytest plugin) or served elsewhere
(`airflow-sim serve`, the Docker image):

    sim = SimulatorClient("http://127.0.0.1:8080")
    sim.reset()
    sim.advance(until_dag_run={"dag_id": "etl_orders", "dag_run_id": run_id})
    [trigger] = sim.requests(operation_id="post_dag_run")

Answers are the decoded JSON bodies (typed below); an answer that is not 2xx
raises SimulatorError. Connection failures raise urllib's URLError as they are.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypedDict, Unpack, cast

DEFAULT_TIMEOUT = 60.0  # seconds; a long advance of a big world takes a while
PAGE = 1000  # journal entries per request when reading them all


class Health(TypedDict):
    status: str
    scenario: str
    now: str


class Clock(TypedDict):
    now: str
    mode: Literal["frozen", "realtime"]
    speed: float


class Advance(TypedDict):
    now: str
    events: int
    complete: bool  # false when max_events stopped the call before its target


class ScenarioSummary(TypedDict):
    name: str
    description: str
    seed: int
    airflow_version: str  # the Airflow release whose API is served
    source: str  # "bundled", "inline" or the file's path
    counts: dict[str, int]


class DagRunRef(TypedDict):
    dag_id: str
    dag_run_id: str


class RequestEntry(TypedDict):
    """One request the simulator answered (its journal; /_sim calls are not in it)."""

    id: int
    time: str  # virtual time, ISO 8601
    wall_time: str
    method: str
    path: str
    query: dict[str, Any]
    operation_id: str | None  # None for a path the spec does not have
    status: int | None  # None when a fault closed the connection before any status
    user: str | None
    request_body: Any  # secrets (passwords, connection secrets) redacted
    duration_ms: float
    fault: str | None  # the id of the fault that answered or delayed it


class RequestFilters(TypedDict, total=False):
    operation_id: str
    method: str
    path: str  # a glob: "/api/v1/dags/*/dagRuns"
    status: int
    since: str | datetime  # virtual time, an aware instant
    limit: int
    offset: int


class FaultView(TypedDict, total=False):
    """A fault as stored (see the README's fault kinds) and its counts."""

    id: str
    kind: str  # http | task | scheduler_outage | import_error | pool_starvation
    enabled: bool
    matched: int  # requests, tries or window occurrences that matched
    fired: int


class SavedSnapshot(TypedDict):
    path: str
    bytes: int


class SimulatorError(Exception):
    """The control API answered something else than 2xx.

    `status` is the HTTP status, `detail` the problem's detail (its title when
    there is none), `body` the decoded problem body (or the raw text)."""

    def __init__(self, method: str, url: str, status: int, detail: str, body: Any) -> None:
        self.method, self.url = method, url
        self.status, self.detail, self.body = status, detail, body
        one_line = " / ".join(line.strip() for line in detail.splitlines() if line.strip())
        super().__init__(f"{method} {url} answered {status}: {one_line}")


class SimulatorClient:
    """The control API of the simulator served at `url` (its root, e.g.
    `http://127.0.0.1:8080`). `token` is the server's --control-token, sent as
    `Authorization: Bearer <token>`; `timeout` is in seconds per request."""

    def __init__(
        self, url: str, token: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.faults = Faults(self)

    def __repr__(self) -> str:
        return f"SimulatorClient({self.url!r})"  # never the token

    @property
    def api_url(self) -> str:
        """The Airflow API's base URL, for Airflow clients."""
        return self.url + "/api/v1"

    # -- health and clock ------------------------------------------------------

    def health(self) -> Health:
        """`{"status": "ok", "scenario", "now"}`; needs no token."""
        return cast(Health, self._call("GET", "/health"))

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.1) -> Health:
        """Poll health until the server answers (a server just started, a
        container); the last connection error is raised after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except OSError:  # refused, reset or timed out (URLError is one too)
                if time.monotonic() >= deadline:
                    raise
            time.sleep(interval)

    def clock(self) -> Clock:
        return cast(Clock, self._call("GET", "/clock"))

    def set_clock(self, *, mode: str | None = None, speed: float | None = None) -> Clock:
        """Freeze (`mode="frozen"`) or run (`"realtime"`) the clock, or change
        its speed, from now on; answers the new clock."""
        given = {"mode": mode, "speed": speed}
        body = {key: value for key, value in given.items() if value is not None}
        return cast(Clock, self._call("PATCH", "/clock", body))

    def advance(
        self,
        seconds: float | None = None,
        *,
        until: str | datetime | None = None,
        until_idle: bool = False,
        until_dag_run: DagRunRef | Mapping[str, str] | None = None,
        max_events: int | None = None,
    ) -> Advance:
        """Move the virtual clock and run what becomes due. Exactly one target:
        `seconds`, `until` (an ISO instant or an aware datetime), `until_idle`
        (nothing left running or queued) or `until_dag_run` (`{"dag_id",
        "dag_run_id"}`: until that run is success or failed)."""
        targets = {
            "seconds": seconds,
            "until": _instant(until),
            "until_idle": True if until_idle else None,
            "until_dag_run": dict(until_dag_run) if until_dag_run is not None else None,
        }
        body: dict[str, Any] = {key: value for key, value in targets.items() if value is not None}
        if len(body) != 1:
            given = ", ".join(sorted(body)) or "none"
            raise ValueError(
                "advance() takes exactly one of seconds, until, until_idle and until_dag_run; "
                f"got {given}"
            )
        if max_events is not None:
            body["max_events"] = max_events
        return cast(Advance, self._call("POST", "/clock/advance", body))

    # -- the world -------------------------------------------------------------

    def reset(self, seed: int | None = None) -> ScenarioSummary:
        """Back to the scenario's world at its start; `seed` serves another
        seed's world (kept by later resets)."""
        body = None if seed is None else {"seed": seed}
        return cast(ScenarioSummary, self._call("POST", "/reset", body))

    def scenario(self) -> ScenarioSummary:
        return cast(ScenarioSummary, self._call("GET", "/scenario"))

    def load_scenario(
        self,
        name: str | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        document: Mapping[str, Any] | None = None,
    ) -> ScenarioSummary:
        """Serve another scenario from its start: a bundled `name`, a file
        `path` on the server's disk, or a scenario `document` (a dict)."""
        if sum(value is not None for value in (name, path, document)) != 1:
            raise ValueError("load_scenario() takes exactly one of name, path and document")
        if name is not None:
            body: dict[str, Any] = {"name": name}
        elif path is not None:
            body = {"path": os.fspath(path)}
        else:
            body = {"scenario": dict(document or {})}
        return cast(ScenarioSummary, self._call("PUT", "/scenario", body))

    def snapshot(self) -> dict[str, Any]:
        """The whole world as one JSON document, for `restore`."""
        return cast(dict[str, Any], self._call("GET", "/snapshot"))

    def restore(self, document: Mapping[str, Any]) -> ScenarioSummary:
        """Serve the world of a `snapshot` document again."""
        return cast(ScenarioSummary, self._call("POST", "/snapshot", document))

    def save_snapshot(self) -> SavedSnapshot:
        """Write the world to the server's --state-file (400 without one)."""
        return cast(SavedSnapshot, self._call("POST", "/snapshot/save"))

    # -- the request journal ---------------------------------------------------

    def requests(self, **filters: Unpack[RequestFilters]) -> list[RequestEntry]:
        """The requests the simulator answered, newest first, filtered by
        `operation_id`, `method`, `path` (a glob), `status` and `since` (a
        virtual instant). Without `limit`, every matching entry (page by page)."""
        query: dict[str, Any] = dict(filters)
        if "since" in query:
            query["since"] = _instant(query["since"])
        if "limit" in query:
            return cast(list[RequestEntry], self._call("GET", "/requests", query=query)["requests"])
        entries: list[RequestEntry] = []
        offset = query.pop("offset", 0)
        while True:
            page_query = {**query, "offset": offset + len(entries), "limit": PAGE}
            page = self._call("GET", "/requests", query=page_query)
            entries += page["requests"]
            if not page["requests"] or offset + len(entries) >= page["total_entries"]:
                return entries

    def clear_requests(self) -> None:
        """Forget every journal entry."""
        self._call("DELETE", "/requests")

    # -- transport -------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        url = f"{self.url}/_sim{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            try:
                raw = exc.read()
            finally:
                exc.close()  # the error holds the open response
            raise _error(method, url, exc.code, raw) from None
        return json.loads(raw) if raw else None


class Faults:
    """The simulator's fault rules (`client.faults`): documents as in a
    scenario file's `faults:` list, given as a mapping or as keywords:

        sim.faults.add(match={"operation_id": "post_dag_run"},
                       action={"type": "status", "status": 503, "retry_after": 5})
    """

    def __init__(self, client: SimulatorClient) -> None:
        self._client = client

    def add(self, document: Mapping[str, Any] | None = None, **fields: Any) -> FaultView:
        """Add one fault; its stored form (with its id) is answered."""
        body = {**(document or {}), **fields}
        return cast(FaultView, self._client._call("POST", "/faults", body))

    def add_all(self, documents: list[Mapping[str, Any]]) -> list[FaultView]:
        """Add several faults at once (all or none)."""
        answer = self._client._call("POST", "/faults", {"faults": list(documents)})
        return cast(list[FaultView], answer["faults"])

    def list(self) -> list[FaultView]:
        return cast(list[FaultView], self._client._call("GET", "/faults")["faults"])

    def get(self, fault_id: str) -> FaultView:
        return cast(FaultView, self._client._call("GET", f"/faults/{_segment(fault_id)}"))

    def update(self, fault_id: str, **changes: Any) -> FaultView:
        """Change some fields (`enabled=False` turns it off; None removes a field)."""
        path = f"/faults/{_segment(fault_id)}"
        return cast(FaultView, self._client._call("PATCH", path, changes))

    def delete(self, fault_id: str) -> None:
        self._client._call("DELETE", f"/faults/{_segment(fault_id)}")

    def clear(self) -> None:
        """Remove every fault (windows in force end now)."""
        self._client._call("DELETE", "/faults")


def _segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _error(method: str, url: str, status: int, raw: bytes) -> SimulatorError:
    text = raw.decode(errors="replace")
    try:
        body: Any = json.loads(text)
    except ValueError:
        return SimulatorError(method, url, status, text or f"HTTP {status}", text)
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title") or text
        return SimulatorError(method, url, status, str(detail), body)
    return SimulatorError(method, url, status, text, body)


def _instant(value: str | datetime | None) -> str | None:
    """An ISO 8601 instant; a naive datetime is refused (which zone would it be?)."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError(f"expected an aware datetime, found {value!r}")
        return value.isoformat()
    return value
