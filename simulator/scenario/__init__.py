"""Scenario model: DAG definitions (and, later, whole scenario files) read into the world."""
