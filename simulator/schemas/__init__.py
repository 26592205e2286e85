"""Serializers: entity -> JSON-ready dict, one module per resource, named dump_*."""
