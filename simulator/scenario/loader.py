"""Loading a scenario: read the file and its includes, check each against the
JSON Schema, merge them (the including file wins), resolve `use:` shapes and
check what a schema cannot (DAG structure, references between parts).

Every problem found is collected, with the file and path it belongs to, and
raised together as one ScenarioError.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from simulator.scenario import documents
from simulator.scenario.checks import (
    check_config,
    check_faults,
    check_references,
    checked_dag,
    checked_instant,
)
from simulator.scenario.model import BUNDLED, DEFAULT_START, INLINE, NOW, Item, Scenario
from simulator.scenario.problems import Problem, ScenarioError, from_schema, join_path

SCHEMA_PATH = Path(__file__).with_name("schema.json")
MAX_INCLUDE_DEPTH = 16
MAX_HISTORY = timedelta(days=366)

# Keyed collections: an included file's item is replaced by the including
# file's item with the same key, in place; other items keep their order.
KEYS: dict[str, Callable[[Item], Any]] = {
    "dags": lambda d: d["dag_id"],
    "connections": lambda c: c["conn_id"],
    "variables": lambda v: v["key"],
    "pools": lambda p: p["name"],
    "import_errors": lambda e: e["filename"],
    "dag_warnings": lambda w: (w["dag_id"], w.get("warning_type", "non-existent pool")),
    "plugins": lambda p: p["name"],
    "providers": lambda p: p["package_name"],
    "users": lambda u: u["username"].lower(),
    "roles": lambda r: r["name"],
    # A fault without an id is its own key: it is added, never replaced.
    "faults": lambda f: f.get("id") or ("(no id)", id(f)),
}
NESTED = {"users": "auth", "roles": "auth"}  # collections that live under another key


@functools.cache
def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_PATH.read_text()))


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


@dataclass(slots=True)
class Sourced:
    """An item of a keyed collection and where it was written."""

    value: Item
    file: str
    path: str


@dataclass(slots=True)
class _Merged:
    settings: dict[str, Any] = field(default_factory=dict)  # "clock.start", "seed", ...
    origin: dict[str, str] = field(default_factory=dict)  # the file each setting came from
    files: set[str] = field(default_factory=set)  # merged already: a file merges once
    generate: dict[str, Any] = field(default_factory=dict)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[Any, Sourced]] = field(default_factory=lambda: {k: {} for k in KEYS})


@dataclass(frozen=True, slots=True)
class _Ref:
    """A document to read: its text's location, its label in errors, its source."""

    location: Path | Traversable | None
    label: str
    source: str
    base: Path | Traversable | None  # where its relative includes are found


def is_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.endswith((".yaml", ".yml", ".json"))


def _bundled(name: str) -> _Ref:
    location = documents.bundled_dir("scenarios") / f"{name}.yaml"
    return _Ref(location, f"scenarios/{name}.yaml", BUNDLED, documents.bundled_dir("scenarios"))


def _file(path: Path) -> _Ref:
    return _Ref(path, str(path), str(path.resolve()), path.parent)


def _locate(text: str, base: Path | Traversable | None) -> _Ref | None:
    """A bundled name or a path (relative to the including file)."""
    if is_path(text):
        path = Path(text).expanduser()
        if not path.is_absolute() and isinstance(base, Path):
            path = base / path
        elif not path.is_absolute() and base is not None:
            return _Ref(base / text, f"scenarios/{text}", BUNDLED, base)
        return _file(path)
    if text in documents.bundled_names():
        return _bundled(text)
    return None


def unknown_name(text: str) -> str:
    names = ", ".join(documents.bundled_names())
    return f"expected a bundled scenario ({names}) or a file path, found {text!r}"


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """The scenario a bundled name, a path or an inline document describes."""
    problems: list[Problem] = []
    if isinstance(source, Mapping):
        ref = _Ref(None, "(inline scenario)", INLINE, Path.cwd())
        document: Any = dict(source)
    else:
        located = _locate(str(source), None) if isinstance(source, str) else _file(source)
        if located is None:
            raise ScenarioError([f"scenario: {unknown_name(str(source))}"])
        ref, document = located, None
    merged = _Merged()
    top = _gather(ref, document, merged, problems, ())
    if problems or top is None:
        raise ScenarioError(problems)
    scenario = _build(top, ref, merged, problems)
    if problems:
        raise ScenarioError(problems)
    return scenario


UNREADABLE = object()


def _read(ref: _Ref, problems: list[Problem]) -> Any:
    try:
        return documents.read(ref.location, ref.label)  # type: ignore[arg-type]
    except documents.DocumentError as exc:
        problems.append(Problem(ref.label, None, str(exc).removeprefix(ref.label + ": ")))
        return UNREADABLE


def _gather(
    ref: _Ref, document: Any, merged: _Merged, problems: list[Problem], stack: tuple[str, ...]
) -> dict[str, Any] | None:
    """Merge `ref`'s includes, then `ref` itself, into `merged`; answer its document."""
    if ref.location is not None:
        document = _read(ref, problems)
        if document is UNREADABLE:
            return None
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors:
        problems.extend(from_schema(ref.label, error))
    if errors:
        return None
    for index, text in enumerate(document.get("include", [])):
        where = join_path("include", index)
        included = _locate(text, ref.base)
        if included is None:
            problems.append(Problem(ref.label, where, unknown_name(text)))
        elif included.label in (*stack, ref.label):
            cycle = " -> ".join((*stack, ref.label, included.label))
            problems.append(Problem(ref.label, where, f"include cycle: {cycle}"))
        elif len(stack) >= MAX_INCLUDE_DEPTH:
            problems.append(Problem(ref.label, where, "includes nested too deeply"))
        elif included.label not in merged.files:  # included twice: the first time counts
            _gather(included, None, merged, problems, (*stack, ref.label))
    _merge(document, ref.label, merged, problems)
    merged.files.add(ref.label)
    return dict(document)


def _merge(document: dict[str, Any], label: str, merged: _Merged, problems: list[Problem]) -> None:
    found: dict[str, Any] = {
        k: document[k] for k in ("name", "description", "seed", "airflow_version") if k in document
    }
    for section in ("clock", "history", "retention", "auth"):
        for key, value in document.get(section, {}).items():
            if key not in NESTED:
                found[f"{section}.{key}"] = value
    merged.settings.update(found)
    sections = [key for key in ("generate", "config") if key in document]
    merged.origin.update(dict.fromkeys([*found, *sections], label))
    _deep_merge(merged.generate, document.get("generate", {}))
    for section, options in document.get("config", {}).items():
        merged.config.setdefault(section, {}).update(options)
    for name, key_of in KEYS.items():
        container = document.get(NESTED[name], {}) if name in NESTED else document
        seen: dict[Any, str] = {}
        for index, item in enumerate(container.get(name, [])):
            path = join_path(NESTED.get(name, ""), name, index)
            key = key_of(item)
            if key in seen:
                problems.append(
                    Problem(label, path, f"duplicate {_key_text(key)} (also {seen[key]})")
                )
                continue
            seen[key] = path
            merged.items[name][key] = Sourced(item, label, path)


def _key_text(key: Any) -> str:
    return repr(key) if not isinstance(key, tuple) else repr(list(key))


def _deep_merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _build(top: dict[str, Any], ref: _Ref, merged: _Merged, problems: list[Problem]) -> Scenario:
    s, origin = merged.settings, merged.origin
    start = s.get("clock.start", DEFAULT_START)
    if isinstance(start, str) and start != NOW:
        start = checked_instant(start, origin["clock.start"], "clock.start", problems)
    history = timedelta(days=s.get("history.days", 0), hours=s.get("history.hours", 0))
    if history > MAX_HISTORY:
        where = origin.get("history.days") or origin["history.hours"]
        problems.append(Problem(where, "history", "expected at most 366 days in all"))
    dags = [checked_dag(item, problems) for item in merged.items["dags"].values()]
    check_references(merged.items, merged.generate, origin.get("generate", ""), problems)
    check_config(merged.config, origin.get("config", ""), problems)
    check_faults(merged.items["faults"].values(), history, problems)
    values: dict[str, Any] = {
        name: [item.value for item in items.values()] for name, items in merged.items.items()
    }
    defaults = Scenario(name=top["name"])
    return dataclasses.replace(
        defaults,
        name=top["name"],
        description=s.get("description", ""),
        seed=s.get("seed", 0),
        airflow_version=s.get("airflow_version", defaults.airflow_version),
        source=ref.source,
        start=start,
        mode=s.get("clock.mode", defaults.mode),
        speed=s.get("clock.speed", defaults.speed),
        history=history,
        retention_days=_days(s.get("retention.days")),
        auth=s.get("auth.mode", defaults.auth),
        generate=merged.generate,
        config=merged.config,
        **{**values, "dags": [d for d in dags if d is not None]},
    )


def _days(value: float | None) -> int | None:
    """A whole number of days (the schema let 30.0 pass as an integer)."""
    return None if value is None else int(value)


def expand(scenario: Scenario, seed: int) -> Scenario:
    """The scenario with what `generate` makes for `seed` added; an item the
    file defines itself replaces a generated one with the same key."""
    if not scenario.generate:
        return scenario
    from simulator.scenario.checks import shapes
    from simulator.scenario.generate import generate

    made = generate(scenario.generate, seed, shapes())
    fields: dict[str, Any] = {}
    for name in ("dags", "connections", "variables", "users"):
        key_of = KEYS[name]
        combined = {key_of(item): item for item in getattr(made, name)}
        combined.update((key_of(item), item) for item in getattr(scenario, name))
        fields[name] = list(combined.values())
    return dataclasses.replace(scenario, generate={}, **fields)
