"""Helpers for tests of the simulator and of projects that use it: the
control API's client (stdlib only) and, as a pytest plugin, the `airflow_sim`
fixture (simulator.testing.plugin)."""

from simulator.testing.client import SimulatorClient, SimulatorError

__all__ = ["SimulatorClient", "SimulatorError"]
