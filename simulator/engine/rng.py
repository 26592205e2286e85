"""Seeded random streams, one per entity key.

A stream depends only on the seed and its key, so adding an entity does not
change the story of another.
"""

from __future__ import annotations

import hashlib
import math
import random


def _unit(seed: int, key: str) -> float:
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class RandomStreams:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def stream(self, *key: object) -> random.Random:
        name = "/".join(str(part) for part in key)
        rng = self._streams.get(name)
        if rng is None:
            digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
            rng = self._streams[name] = random.Random(int.from_bytes(digest[:8], "big"))
        return rng

    def uniform(self, *key: object) -> float:
        """One draw in [0, 1) that depends only on the seed and `key`.

        Cheap enough for one per task try; the key names the draw (entity and
        what for), so draws never shift when other entities come and go.
        """
        return _unit(self.seed, "/".join(str(part) for part in key))

    def normal(self, *key: object) -> float:
        """A standard normal draw (Box-Muller over two keyed uniforms)."""
        u1 = max(self.uniform(*key, "u1"), 1e-12)
        u2 = self.uniform(*key, "u2")
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
