"""The baseline of the throughput benchmark: a bare aiohttp app.

It answers the benchmarked paths with the simulator's bodies and nothing
else: no routing table from the spec, no validation, no authentication, no
middleware, no access log. Each body is rebuilt per request from stored
rows, as the simulator's serializers build theirs, then encoded the way the
simulator encodes JSON: json.dumps(obj, indent=2, sort_keys=True) + "\\n".

    python bench/bare_app.py --port 8081 [--data bodies.json]

`--data` names a JSON file {path: body} (bench/run.py writes one from the
simulator's own answers); without it, bodies of the same shape are made up.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

HEALTH = "/api/v1/health"
POOLS = "/api/v1/pools"
VARIABLES = "/api/v1/variables"


def default_bodies(variables: int = 100) -> dict[str, Any]:
    """Bodies of the simulator's shape, for when it cannot answer them itself."""
    return {
        HEALTH: {
            "metadatabase": {"status": "healthy"},
            "scheduler": {
                "latest_scheduler_heartbeat": "2023-04-01T00:00:00+00:00",
                "status": "healthy",
            },
        },
        POOLS: {
            "pools": [
                {
                    "description": "Default pool",
                    "name": "default_pool",
                    "occupied_slots": 0,
                    "open_slots": 128,
                    "queued_slots": 0,
                    "slots": 128,
                    "used_slots": 0,
                }
            ],
            "total_entries": 1,
        },
        VARIABLES: {
            "total_entries": variables,
            "variables": [
                {"description": None, "key": f"bench_var_{i:03d}", "value": f"value-{i:03d}"}
                for i in range(variables)
            ],
        },
    }


def dump_json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def rebuild(template: Any) -> Any:
    """A fresh dict tree equal to `template`: what a serializer makes per request."""
    if isinstance(template, dict):
        return {key: rebuild(value) for key, value in template.items()}
    if isinstance(template, list):
        return [rebuild(item) for item in template]
    return template


def endpoint(template: Any) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=dump_json(rebuild(template)), content_type="application/json")

    return handler


def make_app(bodies: dict[str, Any]) -> web.Application:
    app = web.Application()
    for path, body in bodies.items():
        app.router.add_get(path, endpoint(body))
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--data", help="JSON file of {path: body}")
    args = parser.parse_args()
    bodies = default_bodies()
    if args.data:
        with open(args.data, encoding="utf-8") as fh:
            bodies.update(json.load(fh))
    web.run_app(make_app(bodies), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
