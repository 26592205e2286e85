"""Handlers, one module per spec tag, each function named as its operationId.

A handler is `op(sim, *, <spec params>, body=None)`: it looks things up in the
store, asks the engine to act, and returns a JSON-ready dict (200), None (204)
or a `Text`/`Json` result. No aiohttp here.
"""
