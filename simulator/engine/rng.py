"""Seeded random streams, one per entity key.

A stream depends only on the seed and its key, so adding an entity does not
change the story of another.
"""

from __future__ import annotations

import hashlib
import random


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
