"""Contract: every spec operation is routed under /api/v1 by its operationId,
and the list of what the simulator answers is explicit."""

from __future__ import annotations

import ast
from pathlib import Path

from aiohttp import web

from simulator.server.routing import resolve_handler
from simulator.spec import load_spec

PACKAGE = Path(__file__).resolve().parents[2] / "simulator"


def test_spec_has_73_operations_on_50_paths() -> None:
    spec = load_spec()
    assert len(spec.operations) == 73
    assert len({op.path for op in spec.operations}) == 50


def test_every_operation_is_routed_by_name(app: web.Application) -> None:
    api = {
        route.name
        for route in app.router.routes()
        if route.name and route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
    }  # fmt: skip
    assert api == {op.operation_id for op in load_spec().operations}


def test_every_operation_has_a_handler() -> None:
    """All 73 operations are answered: each resolves to its api/<tag> function."""
    handlers = {op.operation_id: resolve_handler(op) for op in load_spec().operations}
    assert all(handler.__name__ == name for name, handler in handlers.items())
    assert len(handlers) == 73


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
