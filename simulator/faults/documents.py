"""Fault documents checked and parsed: first against control.yaml's `Fault`
schema (the same in scenario files, POST bodies and X-Sim-Fault headers),
then for what a schema cannot say (which fields a kind takes, windows that
end before they start). Errors name the field: `when.probability: ...`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from simulator.engine import effects
from simulator.errors import BadRequest
from simulator.faults import model as m
from simulator.scenario.dags import parse_instant
from simulator.spec import control
from simulator.state import strict_json

# Which fields each kind takes, besides the common ones.
COMMON = frozenset({"id", "description", "kind", "enabled", "when"})
FIELDS = {
    m.HTTP: frozenset({"match", "action", "latency", "phase"}),
    m.TASK: frozenset({"match", "effect", "state", "seconds", "factor", "message"}),
    m.OUTAGE: frozenset({"from", "until", "at", "seconds", "repeat"}),
    m.IMPORT_ERROR: frozenset({"from", "until", "at", "seconds", "repeat", "dag_id", "stacktrace"}),
    m.POOL_STARVATION: frozenset({"from", "until", "at", "seconds", "repeat", "pool", "slots"}),
}
MATCH_FIELDS = {
    m.HTTP: ("operation_id", "method", "path", "tag", "user"),
    m.TASK: ("dag_id", "task_id", "operator", "try_number"),
}
# Headers that frame the message or the connection: an action may not set them.
FRAMING = frozenset({
    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
    "trailer", "proxy-connection",
})  # fmt: skip
REPEAT = (60.0, 366 * 86400.0)  # seconds: the shortest and longest repeat of a window
OFFSET = re.compile(r"([+-])((?:[0-9]{1,9}(?:\.[0-9]+)?[smhd])+)")
DURATION_PART = re.compile(r"([0-9]{1,9}(?:\.[0-9]+)?)([smhd])")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_STACKTRACE = (
    "Traceback (most recent call last):\n"
    '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed\n'
    '  File "{fileloc}", line 1, in <module>\n'
    "ModuleNotFoundError: No module named 'missing_dependency'\n"
)


class FaultError(ValueError):
    """A document that is not a fault: `path` names the field."""

    def __init__(self, path: str, message: str) -> None:
        self.path, self.message = path, message
        self.index: int | None = None  # which of several documents
        super().__init__(f"{path}: {message}" if path else message)

    def where(self) -> str:
        """`faults[i].path: message` when it is one of several documents."""
        if self.index is None:
            return str(self)
        path = f"faults[{self.index}]" + (f".{self.path}" if self.path else "")
        return f"{path}: {self.message}"


def check(document: Any, schema: str = "Fault") -> dict[str, Any]:
    """The document if control.yaml's `schema` accepts it, else FaultError."""
    validator = control.write_validator("components", "schemas", schema)
    error = next(iter(validator.iter_errors(document)), None)
    if error is not None:
        raise FaultError(_path(error.absolute_path), str(error.message))
    _check_finite(document, [])
    assert isinstance(document, dict)
    return document


def _path(parts: Iterable[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def _check_finite(value: Any, where: list[str | int]) -> None:
    """No NaN or infinity anywhere (a YAML `.nan` passes every bound)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise FaultError(_path(where), f"expected a finite number, found {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, [*where, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, [*where, index])


def parse(document: Any, base: datetime, fault_id: str) -> m.Fault:
    """A checked Fault from `document`; relative instants ("+2h") count from
    `base`, and `fault_id` is its id when the document gives none."""
    given = check(document)
    kind = given.get("kind", m.HTTP)
    doc = {"id": given.get("id", fault_id), "kind": kind, **given}
    for name in sorted(set(doc) - COMMON - FIELDS[kind]):
        raise FaultError(name, f"not a field of {_a(kind)} fault")
    fault = m.Fault(id=doc["id"], kind=kind, enabled=doc.pop("enabled", True), document=doc)
    if "when" in doc:
        doc["when"], fault.when = _when(doc["when"], base)
    if kind == m.HTTP:
        _http(doc, fault)
    elif kind == m.TASK:
        _task(doc, fault)
    else:
        _windowed(doc, fault, base)
    return fault


EFFECT_FIELDS = ("state", "seconds", "factor", "message")


def changed(stored: dict[str, Any], enabled: bool, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The document a PATCH makes of a stored one: the given fields replace
    (None removes one). Fields the stored form derived from the replaced
    ones go with them: a new kind keeps only the common fields, a new effect
    its own, and a new `at` or `seconds` replaces the stored from/until
    (keeping the other end: the start, or the length)."""
    document = {**stored, "enabled": enabled}
    if "kind" in changes and changes["kind"] != stored.get("kind"):
        document = {k: v for k, v in document.items() if k in COMMON or k == "enabled"}
    if "effect" in changes and changes["effect"] != stored.get("effect"):
        for name in EFFECT_FIELDS:
            document.pop(name, None)
    if {"at", "seconds"} & set(changes) and "from" in document:
        start, end = document.pop("from"), document.pop("until", None)
        document["at"] = start
        if end is not None and not {"seconds", "until"} & set(changes):
            span = parse_instant(end) - parse_instant(start)
            document["seconds"] = span.total_seconds()
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


def _match(doc: dict[str, Any], kind: str) -> dict[str, tuple[str, ...]]:
    given = doc.get("match", {})
    for name in given:
        if name not in MATCH_FIELDS[kind]:
            raise FaultError(f"match.{name}", f"not a field of {_a(kind)} fault's match")
    found = {}
    for name, value in given.items():
        values = tuple(value) if isinstance(value, list) else (str(value),)
        found[name] = tuple(v.upper() for v in values) if name == "method" else values
    return found


def _http(doc: dict[str, Any], fault: m.Fault) -> None:
    if "action" not in doc and "latency" not in doc:
        raise FaultError("", "an http fault needs an action, a latency or both")
    fault.match = _match(doc, m.HTTP)
    fault.phase = doc.setdefault("phase", m.BEFORE)
    action = doc.get("action")
    if action is not None:
        fault.action = _action(action)
    latency = doc.get("latency")
    if latency is not None:
        fault.latency = m.Latency(
            fixed=latency.get("fixed"),
            uniform=tuple(latency["uniform"]) if "uniform" in latency else None,
            lognormal=(
                (latency["lognormal"]["median"], latency["lognormal"]["sigma"])
                if "lognormal" in latency else None
            ),
        )  # fmt: skip
        if (
            fault.latency.uniform is not None
            and fault.latency.uniform[0] > fault.latency.uniform[1]
        ):
            raise FaultError("latency.uniform", "expected [low, high] with low <= high")


ACTION_FIELDS = {
    m.STATUS: {"status", "retry_after", "detail", "body", "headers"},
    m.RESET: set(),
    m.EMPTY: set(),
    m.TRUNCATE: {"fraction"},
    m.MALFORMED: set(),
    m.DRIBBLE: {"chunks", "seconds"},
}


def _action(action: Mapping[str, Any]) -> m.HttpAction:
    kind = action["type"]
    for name in sorted(set(action) - ACTION_FIELDS[kind] - {"type"}):
        raise FaultError(f"action.{name}", f"not a field of a {kind} action")
    headers = action.get("headers", {})
    for name in headers:
        if not name or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name):
            raise FaultError("action.headers", f"{name!r} is not a header name")
        if name.lower() in FRAMING:
            raise FaultError(f"action.headers.{name}", "the server frames the answer itself")
        if re.search(r"[\r\n\x00]", headers[name]):
            raise FaultError(f"action.headers.{name}", "a header value is one line")
    fields = {k: v for k, v in action.items() if k != "headers"}
    return m.HttpAction(**fields, headers=tuple(headers.items()))


def _task(doc: dict[str, Any], fault: m.Fault) -> None:
    fault.match = _match(doc, m.TASK)
    effect = doc.get("effect")
    if effect is None:
        raise FaultError("effect", "a task fault needs an effect (fail, stuck or slow)")
    allowed = {m.FAIL: {"message"}, m.STUCK: {"state", "seconds"}, m.SLOW: {"factor"}}[effect]
    for name in sorted({"state", "seconds", "factor", "message"} & set(doc) - allowed):
        raise FaultError(name, f"not a field of a task fault with effect {effect}")
    fault.effect = effect
    if effect == m.STUCK:
        fault.state = doc.setdefault("state", "running")
        fault.seconds = float(doc.setdefault("seconds", effects.STUCK_SECONDS[fault.state]))
    elif effect == m.SLOW:
        if "factor" not in doc:
            raise FaultError("factor", "a slow task fault needs a factor")
        fault.factor = float(doc["factor"])
    else:
        fault.message = doc.get("message")


def _windowed(doc: dict[str, Any], fault: m.Fault, base: datetime) -> None:
    if "from" in doc and "at" in doc:
        raise FaultError("at", "give from or at, not both")
    if "until" in doc and "seconds" in doc:
        raise FaultError("seconds", "give until or seconds, not both")
    if "seconds" in doc and "at" not in doc:
        raise FaultError("seconds", "seconds is the length of a window given by at")
    start_key = "at" if "at" in doc else "from"
    start = instant(doc[start_key], base, start_key) if start_key in doc else base
    doc.pop("at", None)
    doc["from"] = iso(start)
    end = None
    if "until" in doc:
        end = instant(doc["until"], base, "until")
    elif "seconds" in doc:
        end = start + timedelta(seconds=doc.pop("seconds"))
    if end is not None:
        if end <= start:
            raise FaultError("until", "expected an instant after from")
        doc["until"] = iso(end)
    repeat = None
    if "repeat" in doc:
        repeat = duration(doc["repeat"], "repeat")
        if not REPEAT[0] <= repeat <= REPEAT[1]:
            raise FaultError("repeat", "expected a duration from 1 minute to 366 days")
        if end is None or repeat <= (end - start).total_seconds():
            raise FaultError("repeat", "a repeated window needs an end before the next start")
    fault.window = m.Window(start=start, end=end, repeat=repeat)
    if fault.kind == m.IMPORT_ERROR:
        if "dag_id" not in doc:
            raise FaultError("dag_id", "an import_error fault names the DAG whose file breaks")
        fault.dag_id, fault.stacktrace = doc["dag_id"], doc.get("stacktrace")
    elif fault.kind == m.POOL_STARVATION:
        for name in ("pool", "slots"):
            if name not in doc:
                raise FaultError(name, f"a pool_starvation fault needs {name}")
        fault.pool, fault.slots = doc["pool"], doc["slots"]


def _when(given: dict[str, Any], base: datetime) -> tuple[dict[str, Any], m.When]:
    shown = dict(given)
    start = end = None
    if "from" in given:
        start = instant(given["from"], base, "when.from")
        shown["from"] = iso(start)
    if "until" in given:
        end = instant(given["until"], base, "when.until")
        shown["until"] = iso(end)
        if start is not None and end <= start:
            raise FaultError("when.until", "expected an instant after when.from")
    when = m.When(
        probability=given.get("probability"), first=given.get("first"),
        every=given.get("every"), after=given.get("after"), start=start, end=end,
        limit=given.get("limit"),
    )  # fmt: skip
    return shown, when


def instant(text: str, base: datetime, where: str) -> datetime:
    """An ISO 8601 instant, or an offset from `base` ("+2h", "-1d12h")."""
    relative = OFFSET.fullmatch(text)
    try:
        if relative is None:
            return parse_instant(text)
        seconds = duration(relative.group(2), where)
        moment = base + timedelta(seconds=seconds if relative.group(1) == "+" else -seconds)
        return parse_instant(moment)
    except FaultError:
        raise
    except (ValueError, OverflowError) as exc:
        # parse_instant's own reasons (no timezone, too late) say more than ours
        ours = relative is None and "isoformat" not in str(exc)
        raise FaultError(
            where,
            str(exc)
            if ours
            else (f"expected an ISO 8601 instant with an offset or +/-duration, found {text!r}"),
        ) from None


def duration(value: float | str, where: str) -> float:
    """Seconds, or a text like "1d", "12h", "1h30m"."""
    if not isinstance(value, str):
        return float(value)
    parts = DURATION_PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise FaultError(where, f"expected a duration like 90s, 15m, 2h or 1d, found {value!r}")
    return sum(float(n) * UNITS[u] for n, u in parts)


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiouh" else "a ") + kind


def iso(moment: datetime) -> str:
    return moment.isoformat()


def stacktrace(fault: m.Fault, fileloc: str) -> str:
    """The import error's stack trace: the fault's, or a missing module's."""
    return fault.stacktrace or DEFAULT_STACKTRACE.format(fileloc=fileloc)


HEADER = "X-Sim-Fault"


def parse_header(text: str, now: datetime) -> m.Fault:
    """The one http fault an X-Sim-Fault header carries (id "header" unless
    it names one); a 400 naming the header when it is not one."""
    try:
        document = strict_json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest(detail=f"{HEADER}: not a JSON document") from None
    try:
        fault = parse(document, now, "header")
    except FaultError as exc:
        raise BadRequest(detail=f"{HEADER}: {exc}") from None
    if fault.kind != m.HTTP:
        raise BadRequest(detail=f"{HEADER}: kind: only http faults apply to one request")
    return fault
