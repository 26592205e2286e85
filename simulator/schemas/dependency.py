"""TaskInstanceDependencyCollection bodies: the failed dependencies of a task
instance, as Airflow 2.10's TaskDependencySchema dumps them."""

from __future__ import annotations

from typing import Any

from simulator.engine.dependencies import Dependency


def dump_dependencies(found: list[Dependency]) -> dict[str, Any]:
    return {"dependencies": [{"name": dep.name, "reason": dep.reason} for dep in found]}
