"""Seeded random streams, one per entity key.

A stream depends only on the seed and its key, so adding an entity does not
change the story of another.
"""

from __future__ import annotations

import hashlib
import math
import random
import string

SALT_CHARS = string.ascii_letters + string.digits


def _unit(name: str) -> float:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _normal(name: str) -> float:
    """Box-Muller over two uniforms named after `name`."""
    u1 = max(_unit(name + "/u1"), 1e-12)
    u2 = _unit(name + "/u2")
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


class Draws:
    """The draws of one entity key: `uniform(what)` equals
    `RandomStreams.uniform(*key, what)`, with the key's text built once."""

    __slots__ = ("_prefix", "key")

    def __init__(self, seed: int, key: tuple[object, ...]) -> None:
        self.key = key
        self._prefix = f"{seed}:" + "".join(f"{part}/" for part in key)

    def uniform(self, what: str) -> float:
        return _unit(self._prefix + what)

    def normal(self, what: str) -> float:
        return _normal(self._prefix + what)


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

    def salt(self, *key: object, length: int = 16) -> str:
        """Letters and digits drawn from the key's stream (werkzeug's salt alphabet)."""
        rng = self.stream(*key)
        return "".join(rng.choice(SALT_CHARS) for _ in range(length))

    def uniform(self, *key: object) -> float:
        """One draw in [0, 1) that depends only on the seed and `key`.

        Cheap enough for one per task try; the key names the draw (entity and
        what for), so draws never shift when other entities come and go.
        """
        return _unit(f"{self.seed}:" + "/".join(str(part) for part in key))

    def normal(self, *key: object) -> float:
        """A standard normal draw (Box-Muller over two keyed uniforms)."""
        return _normal(f"{self.seed}:" + "/".join(str(part) for part in key))

    def draws(self, *key: object) -> Draws:
        return Draws(self.seed, key)
