"""Plugin operation: the plugins the webserver loaded, in registration order."""

from __future__ import annotations

from typing import Any

from simulator.api.params import paginate
from simulator.schemas.plugin import dump_plugin_collection
from simulator.simulator import Simulator


def get_plugins(
    sim: Simulator, *, limit: int | None = None, offset: int | None = None
) -> dict[str, Any]:
    """GET /plugins: a page of the loaded plugins (none in a stock install)."""
    plugins = list(sim.store.plugins)
    page = paginate(sim.settings, plugins, limit, offset)
    return dump_plugin_collection(page, len(plugins), sim.version)
