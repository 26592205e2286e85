"""The in-memory world: entities, tables keyed by natural keys, and queries.

Nothing here knows HTTP.
"""
