"""Contract: every spec operation is routed under /api/v1 by its operationId,
and the list of what the simulator answers is explicit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from aiohttp import web

from simulator.config import Settings
from simulator.server.routing import resolve_handler
from simulator.simulator import Simulator
from simulator.spec import load_spec
from tests.conftest import NO_DAGS, NO_DAGS_2_10

PACKAGE = Path(__file__).resolve().parents[2] / "simulator"


@pytest.fixture(params=["2.5.3", "2.10.5"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return NO_DAGS if request.param == "2.5.3" else NO_DAGS_2_10


@pytest.mark.parametrize(
    ("version", "operations", "paths"), [("2.5.3", 73, 50), ("2.10.5", 89, 62)]
)
def test_each_spec_has_its_operations(version: str, operations: int, paths: int) -> None:
    spec = load_spec(version)
    assert len(spec.operations) == operations
    assert len({op.path for op in spec.operations}) == paths


def test_every_operation_is_routed_by_name(app: web.Application, sim: Simulator) -> None:
    api = {
        route.name
        for route in app.router.routes()
        if route.name and route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
    }  # fmt: skip
    assert api == {op.operation_id for op in load_spec(sim.version.name).operations}


@pytest.mark.parametrize(("version", "operations"), [("2.5.3", 73), ("2.10.5", 89)])
def test_every_operation_has_a_handler(version: str, operations: int) -> None:
    """Every operation is answered: each resolves to its api/<tag> function."""
    handlers = {op.operation_id: resolve_handler(op) for op in load_spec(version).operations}
    assert all(handler.__name__ == name for name, handler in handlers.items())
    assert len(handlers) == operations


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_state_and_engine_know_no_http() -> None:
    for layer in ("state", "engine"):
        for path in (PACKAGE / layer).rglob("*.py"):
            offenders = {m for m in _imports(path) if m.split(".")[0] == "aiohttp"}
            assert not offenders, f"{path} imports {offenders}"


def test_imports_go_one_way() -> None:
    """server -> api -> schemas/state/engine -> errors; never back."""
    forbidden = {
        "api": ("simulator.server",),
        "schemas": ("simulator.server", "simulator.api"),
        "state": ("simulator.server", "simulator.api", "simulator.schemas"),
        "engine": ("simulator.server", "simulator.api", "simulator.schemas"),
    }
    for layer, banned in forbidden.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            bad = {m for m in _imports(path) if m.startswith(banned)}
            assert not bad, f"{path} imports {bad}"
