"""The vendored Airflow 2.5.3 OpenAPI spec and the operation records built from it."""

from simulator.spec.loader import Operation, Parameter, Spec, load_spec

__all__ = ["Operation", "Parameter", "Spec", "load_spec"]
