"""The scenario a snapshot's world came from.

A bundled scenario is recorded by name; any other one (a file, an inline
document) is embedded in the file format, includes merged and shapes
applied, so that the snapshot restores without the file. Either way a
digest of the scenario detects a mismatch (another version of a bundled
world). Users' passwords are left out of the embedded copy and of the
digest: a snapshot holds no plaintext password. A scenario the simulator
already serves (same name, source and digest) is kept as it is, passwords
included, so a server restoring its own state file resets as before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from simulator.scenario.documents import bundled_names
from simulator.scenario.loader import load_scenario
from simulator.scenario.model import BUNDLED, Scenario
from simulator.scenario.problems import ScenarioError
from simulator.scenario.shapes import copy_data
from simulator.snapshot.reading import SnapshotError, join, mapping, text
from simulator.versions import DEFAULT_VERSION

SECTIONS = (
    "dags",
    "generate",
    "connections",
    "variables",
    "pools",
    "import_errors",
    "dag_warnings",
    "config",
    "plugins",
    "providers",
    "faults",
)


def document(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a scenario file (without users' passwords)."""
    start = scenario.start if isinstance(scenario.start, str) else scenario.start.isoformat()
    doc: dict[str, Any] = {
        "name": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "clock": {"start": start, "mode": scenario.mode, "speed": scenario.speed},
    }
    if scenario.airflow_version != DEFAULT_VERSION:  # older snapshots keep their digest
        doc["airflow_version"] = scenario.airflow_version
    if scenario.history:
        doc["history"] = {"hours": scenario.history.total_seconds() / 3600}
    auth: dict[str, Any] = {"mode": scenario.auth}
    if scenario.users:
        auth["users"] = [{k: v for k, v in u.items() if k != "password"} for u in scenario.users]
    if scenario.roles:
        auth["roles"] = scenario.roles
    doc["auth"] = auth
    doc.update((name, getattr(scenario, name)) for name in SECTIONS if getattr(scenario, name))
    return dict(copy_data(doc))


def digest(scenario: Scenario) -> str:
    text = json.dumps(document(scenario), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def record(scenario: Scenario) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": scenario.name,
        "source": scenario.source,
        "digest": digest(scenario),
    }
    if scenario.source != BUNDLED:
        entry["content"] = document(scenario)
    return entry


def load(node: object, path: str, current: Scenario) -> Scenario:
    """The recorded scenario: the one served already, a bundled one, or the
    embedded content (never a file named by the document)."""
    source = text(
        mapping(node, path, ("source",), ("name", "digest", "content"))["source"],
        join(path, "source"),
    )
    keys = ("name", "source", "digest") + (() if source == BUNDLED else ("content",))
    spec = mapping(node, path, keys)
    name, expected = (
        text(spec["name"], join(path, "name")),
        text(spec["digest"], join(path, "digest")),
    )
    if (current.name, current.source) == (name, source) and digest(current) == expected:
        return current
    if source == BUNDLED:
        if name not in bundled_names():
            names = ", ".join(bundled_names())
            raise SnapshotError(
                join(path, "name"), f"expected a bundled scenario ({names}), found {name!r}"
            )
        scenario = load_scenario(name)
    else:
        scenario = _embedded(spec["content"], join(path, "content"), source)
    if scenario.name != name:
        raise SnapshotError(join(path, "name"), f"expected {scenario.name!r} (the content's name)")
    if digest(scenario) != expected:
        raise SnapshotError(
            join(path, "digest"),
            f"the scenario {name!r} differs from the one the snapshot was taken from",
        )
    return scenario


def _embedded(node: object, path: str, source: str) -> Scenario:
    content = mapping(
        node,
        path,
        (),
        optional=(
            *SECTIONS,
            "name",
            "description",
            "seed",
            "airflow_version",
            "clock",
            "history",
            "auth",
        ),
    )
    try:
        scenario = load_scenario(content)
    except ScenarioError as exc:
        first = str(exc.problems[0]) if exc.problems else str(exc)
        raise SnapshotError(path, f"not a valid scenario ({first})") from None
    return dataclasses.replace(scenario, source=source)
