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


_blake2b = hashlib.blake2b
_from_bytes = int.from_bytes
_SCALE = 2.0**-64


def unit(name: str) -> float:
    """The uniform draw in [0, 1) named `name` (the full key text, seed first)."""
    return _from_bytes(_blake2b(name.encode(), digest_size=8).digest(), "big") * _SCALE


def normal(name: str) -> float:
    """Box-Muller over two uniforms named after `name`."""
    u1 = max(unit(name + "/u1"), 1e-12)
    u2 = unit(name + "/u2")
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def units(prefix: str, whats: tuple[bytes, ...]) -> list[float]:
    """`unit(prefix + what)` for each of `whats` (encoded), in one call: a
    task try draws several at once, hashing the shared prefix once."""
    head = _blake2b(prefix.encode(), digest_size=8)
    drawn = []
    for what in whats:
        hasher = head.copy()
        hasher.update(what)
        drawn.append(_from_bytes(hasher.digest(), "big") * _SCALE)
    return drawn


def gauss(u1: float, u2: float) -> float:
    """The normal draw from the two uniforms named `name + "/u1"` and
    `name + "/u2"`: equal to normal(name)."""
    return math.sqrt(-2.0 * math.log(max(u1, 1e-12))) * math.cos(2.0 * math.pi * u2)


_unit, _normal = unit, normal


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
        # Characters drawn by salt() per stream: what a stream's state is
        # (a snapshot records it; replay() draws them again).
        self.drawn: dict[str, int] = {}

    def stream(self, *key: object) -> random.Random:
        return self._named("/".join(str(part) for part in key))

    def _named(self, name: str) -> random.Random:
        rng = self._streams.get(name)
        if rng is None:
            digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
            rng = self._streams[name] = random.Random(int.from_bytes(digest[:8], "big"))
        return rng

    def salt(self, *key: object, length: int = 16) -> str:
        """Letters and digits drawn from the key's stream (werkzeug's salt alphabet)."""
        name = "/".join(str(part) for part in key)
        self.drawn[name] = self.drawn.get(name, 0) + length
        rng = self._named(name)
        return "".join(rng.choice(SALT_CHARS) for _ in range(length))

    def replay(self, drawn: dict[str, int]) -> None:
        """Draw again what salt() drew from each stream (`drawn`), leaving the
        streams as they were when it was recorded."""
        for name, count in drawn.items():
            rng = self._named(name)
            for _ in range(count):
                rng.choice(SALT_CHARS)
            self.drawn[name] = self.drawn.get(name, 0) + count

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

    def prefix(self, *key: object) -> str:
        """The text that `unit(prefix + what)` extends: equal to
        `uniform(*key, what)`, with the key's text built once."""
        return f"{self.seed}:" + "".join(f"{part}/" for part in key)
