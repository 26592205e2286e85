"""A high-fidelity simulator of the Apache Airflow 2.5 stable REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Settings", "Simulator", "__version__", "create_app"]

if TYPE_CHECKING:
    from simulator.config import Settings
    from simulator.server.app import create_app
    from simulator.simulator import Simulator


def __getattr__(name: str) -> Any:
    # Lazy: `python -m simulator --help` should not pay for aiohttp and the spec.
    if name == "create_app":
        from simulator.server.app import create_app

        return create_app
    if name == "Simulator":
        from simulator.simulator import Simulator

        return Simulator
    if name == "Settings":
        from simulator.config import Settings

        return Settings
    raise AttributeError(name)
