"""The HTTP side: the aiohttp app, routing from the spec, validation, auth."""
