"""Helpers for tests of the simulator and of projects that use it."""
