"""What serving Airflow 2.10.5's API costs next to 2.5.3's, per request.

    .venv/bin/python bench/versions.py [--rounds 5] [--calls 20]

The `default` world, frozen at its start, served in-process twice (once per
version) through the whole middleware stack with basic auth; for each read,
the best of `--rounds` rounds of `--calls` sequential requests. Prints each
version's time per request and their ratio (2.10.5 over 2.5.3), measured in
one run.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp.test_utils import TestClient, TestServer

from simulator.config import Settings
from simulator.server.app import create_app

AUTH = {"Authorization": "Basic YWRtaW46YWRtaW4="}  # admin:admin
READS = [
    "/api/v1/dags?limit=100",
    "/api/v1/dags/~/dagRuns?limit=100",
    "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100",
    "/api/v1/eventLogs?limit=100",
    "/api/v1/pools",
]
VERSIONS = ("2.5.3", "2.10.5")


async def per_request(version: str, rounds: int, calls: int) -> dict[str, float]:
    """Seconds per request of each read, the best round's."""
    settings = Settings(
        scenario="default", airflow_version=version, clock="frozen", password_hash_iterations=1000
    )
    found: dict[str, float] = {}
    async with TestClient(TestServer(create_app(settings))) as client:
        for url in READS:
            for _ in range(5):  # warm-up, and every answer must be a 200
                response = await client.get(url, headers=AUTH)
                await response.read()
                assert response.status == 200, (version, url, response.status)
            best = float("inf")
            for _ in range(rounds):
                start = time.perf_counter()
                for _ in range(calls):
                    await (await client.get(url, headers=AUTH)).read()
                best = min(best, (time.perf_counter() - start) / calls)
            found[url] = best
    return found


async def main(rounds: int, calls: int) -> None:
    timings = {version: await per_request(version, rounds, calls) for version in VERSIONS}
    print(f"{'read':<52} {'2.5.3 ms':>9} {'2.10.5 ms':>10} {'ratio':>6}")
    for url in READS:
        old, new = timings["2.5.3"][url], timings["2.10.5"][url]
        print(f"{url:<52} {old * 1000:>9.2f} {new * 1000:>10.2f} {new / old:>6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.calls))
