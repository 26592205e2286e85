"""How values are written in a snapshot: instants, and the columns of the
big tables.

An instant is an integer, microseconds since 1970-01-01T00:00:00Z, when it
is in UTC (the engine's instants are); any other one is its ISO 8601 text
(a scenario's instant with another offset, or a user's naive FAB time).

A column holds one value per row: a JSON array, or, when it has at most
256 distinct values, `{"values": [...], "codes": "<base64>"}` with one byte
per row indexing `values`. Integer columns said to be delta-coded hold
each value's difference from the previous non-null value of the column.
A time column holds UTC instants in microseconds relative to a base: the
previous instant of the column (an anchor column), or the row's instant in
another column, used when that one is a UTC instant too (else the value is
absolute); other instants are ISO texts and null is null.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import attrgetter
from typing import Any

from simulator.snapshot.reading import (
    HIGHEST,
    LOWEST,
    SnapshotError,
    array,
    fail,
    join,
    mapping,
    plain,
    shown,
    text,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
CODES = 256  # at most this many distinct values: coded, one byte per row
SCALARS = (str, int, float, bool, type(None))
FLAT = frozenset({str, int, bool, type(None)})  # JSON values without a float or a container

Micros = list[int | None]  # a time column's UTC instants in microseconds (None: not one)


def dump_instant(moment: datetime | None) -> int | str | None:
    if moment is None:
        return None
    if moment.tzinfo is UTC:
        return (moment - EPOCH) // MICROSECOND
    return moment.isoformat()


class _Made(dict[int, datetime]):
    """UTC instants by microseconds, each made when first asked for."""

    def __missing__(self, micros: int) -> datetime:
        made = self[micros] = EPOCH + timedelta(0, 0, micros)  # OverflowError out of range
        return made


class Instants:
    """Reads instants; equal ones share one datetime (a large world holds
    millions of instants, most of them shared between rows)."""

    def __init__(self) -> None:
        self.made = _Made()

    def at(self, micros: int) -> datetime:
        """The UTC instant; OverflowError when out of datetime's range."""
        return self.made[micros]

    def read(self, node: object, path: str, *, naive: bool = False) -> datetime:
        """An instant (an integer or an ISO text); `naive`: a text without offset."""
        if type(node) is int and not naive:
            try:
                return self.at(node)
            except OverflowError:
                raise SnapshotError(path, "an instant out of range") from None
        value = text(node, path)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise SnapshotError(path, f"expected an ISO 8601 instant, found {value!r}") from None
        if (moment.tzinfo is None) != naive:
            raise SnapshotError(
                path, "expected an instant " + ("without" if naive else "with") + " an offset"
            )
        return moment

    def optional(self, node: object, path: str, *, naive: bool = False) -> datetime | None:
        return None if node is None else self.read(node, path, naive=naive)


# -- columns ----------------------------------------------------------------


def pack(values: list[Any]) -> list[Any] | dict[str, Any]:
    """A column of scalars, coded when that is shorter."""
    if len(values) > 4 * CODES and len(set(values[: 16 * CODES])) > CODES:
        return values
    distinct = dict.fromkeys(values)
    if len(distinct) > CODES or len(values) < 2 * len(distinct) + 8:
        return values
    index = {value: code for code, value in enumerate(distinct)}
    codes = bytes(map(index.__getitem__, values))
    return {"values": list(distinct), "codes": base64.b64encode(codes).decode("ascii")}


def unpack(node: object, path: str, size: int) -> list[Any]:
    """The column's values (scalars when coded), `size` of them."""
    if type(node) is list:
        return array(node, path, size)
    if type(node) is not dict:
        raise fail(path, "an array or {values, codes}", node)
    spec = mapping(node, path, ("values", "codes"))
    table = array(spec["values"], join(path, "values"))
    for index, value in enumerate(table):
        if type(value) not in SCALARS:
            where = join(join(path, "values"), index)
            raise fail(where, "a string, number, boolean or null", value)
    where = join(path, "codes")
    try:
        codes = base64.b64decode(text(spec["codes"], where), validate=True)
    except (binascii.Error, ValueError):
        raise SnapshotError(where, "expected base64 text") from None
    if len(codes) != size:
        raise SnapshotError(where, f"expected {size} codes, found {len(codes)}")
    if codes and max(codes) >= len(table):
        raise SnapshotError(where, f"expected codes below {len(table)}, found {max(codes)}")
    return list(map(table.__getitem__, codes))


def delta(values: Sequence[int | None]) -> list[int | None]:
    out: list[int | None] = []
    previous = 0
    for value in values:
        if value is None:
            out.append(None)
        else:
            out.append(value - previous)
            previous = value
    return out


def undelta(values: list[Any], path: str) -> list[int | None]:
    out: list[int | None] = []
    previous = 0
    for index, value in enumerate(values):
        if type(value) is int:
            previous += value
            out.append(previous)
        elif value is None:
            out.append(None)
        else:
            raise fail(join(path, index), "an integer or null", value)
    return out


def dump_times(
    values: Sequence[datetime | None], bases: Sequence[int | None] | None = None
) -> tuple[list[int | str | None], Micros]:
    """A time column (relative to `bases`, else an anchor column) and the
    microseconds of its UTC instants, to serve as another column's bases."""
    out: list[int | str | None] = []
    micros: Micros = []
    emit, keep = out.append, micros.append
    previous = 0
    for moment, base in zip(values, bases if bases is not None else repeat(None), strict=False):
        if moment is None or moment.tzinfo is not UTC:
            emit(None if moment is None else moment.isoformat())
            keep(None)
            continue
        value = (moment - EPOCH) // MICROSECOND
        keep(value)
        if bases is None:
            emit(value - previous)
            previous = value
        else:
            emit(value if base is None else value - base)
    return out, micros


def load_times(
    raw: list[Any], path: str, instants: Instants, bases: Sequence[int | None] | None = None
) -> tuple[list[datetime | None], Micros]:
    """dump_times' column back: the instants and their microseconds."""
    micros: Micros
    if bases is None:
        micros, previous = [], 0
        keep = micros.append
        for item in raw:
            if type(item) is int:
                previous += item
                keep(previous)
            else:
                keep(None)
    else:
        micros = [
            (item if base is None else base + item) if type(item) is int else None
            for item, base in zip(raw, bases, strict=True)
        ]
    made = instants.made
    try:
        moments: list[datetime | None] = [None if m is None else made[m] for m in micros]
    except OverflowError:
        row = next(r for r, m in enumerate(micros) if m is not None and not _in_range(m))
        raise SnapshotError(join(path, row), "an instant out of range") from None
    if len(set(map(type, raw))) > 1 or (raw and type(raw[0]) is not int):  # texts, nulls
        for row, item in enumerate(raw):
            if item is not None and type(item) is not int:
                moments[row] = instants.read(item, join(path, row))
    return moments, micros


def _in_range(micros: int) -> bool:
    try:
        EPOCH + timedelta(0, 0, micros)
    except OverflowError:
        return False
    return True


Relations = Sequence[tuple[str, str | None]]  # (time column, its base column or None: an anchor)


def dump_time_columns(
    rows: Sequence[Any], relations: Relations, known: dict[str, Micros] | None = None
) -> tuple[dict[str, Any], dict[str, Micros]]:
    """The rows' time columns, each relative to its base (a column before it,
    or one of `known`), and every column's microseconds."""
    micros = dict(known or {})
    out: dict[str, Any] = {}
    for name, base in relations:
        values = list(map(attrgetter(name), rows))
        column, micros[name] = dump_times(values, micros[base] if base else None)
        out[name] = pack(column)
    return out, micros


# -- typed columns ------------------------------------------------------------

NONE = type(None)
KINDS: dict[str, tuple[str, frozenset[type]]] = {
    "int": ("an integer", frozenset({int})),
    "int?": ("an integer or null", frozenset({int, NONE})),
    "str": ("a string", frozenset({str})),
    "str?": ("a string or null", frozenset({str, NONE})),
    "bool": ("a boolean", frozenset({bool})),
    "float?": ("a finite number or null", frozenset({float, int, NONE})),
}


def typed(values: list[Any], kind: str, path: str) -> list[Any]:
    """`values`, each checked to be of `kind` (KINDS); float? columns as floats."""
    expected, allowed = KINDS[kind]
    found = set(map(type, values))
    if not found <= allowed:
        for row, value in enumerate(values):
            if type(value) not in allowed:
                raise fail(join(path, row), expected, value)
    if int in found:
        sized(values, path, only_ints=len(found) == 1)
    if kind == "float?":
        numbers = [value if type(value) is not int else float(value) for value in values]
        for row, value in enumerate(numbers):
            if value is not None and not math.isfinite(value):
                raise fail(join(path, row), expected, value)
        return numbers
    return values


def sized(values: list[Any], path: str, *, only_ints: bool = False) -> None:
    """The integers among `values` are within what JSON encoders take (64 bits)."""
    ints = values if only_ints else [value for value in values if type(value) is int]
    if ints and (min(ints) < LOWEST or max(ints) > HIGHEST):
        row = next(i for i, v in enumerate(values) if type(v) is int and not LOWEST <= v <= HIGHEST)
        raise fail(join(path, row), "a 64-bit integer", values[row])


def bounded(
    values: list[int | None], path: str, low: int, high: int | None = None, unique: bool = False
) -> list[int]:
    """Integers (none null) from `low` (to `high`), maybe each one once."""
    if values and (
        None in values
        or min(values) < low  # type: ignore[type-var,operator]
        or (high is not None and max(values) > high)  # type: ignore[type-var,operator]
        or (unique and len(set(values)) != len(values))
    ):
        seen: set[int] = set()
        for row, value in enumerate(values):
            if value is None or value < low or (high is not None and value > high):
                bounds = f"from {low}" + (f" to {high}" if high is not None else "")
                raise SnapshotError(join(path, row), f"expected an integer {bounds}")
            if unique and value in seen:
                raise SnapshotError(join(path, row), f"a duplicate {value}")
            seen.add(value)
    return values  # type: ignore[return-value]


def among(values: list[Any], allowed: Collection[Any], path: str) -> None:
    """Each value is one of `allowed`."""
    if not set(values) <= set(allowed):
        for row, value in enumerate(values):
            if value not in allowed:
                raise SnapshotError(join(path, row), f"unknown value {shown(value)}")


class Columns:
    """The columns of one table of `size` rows, read by name (`optional`
    ones may be missing: `has` tells)."""

    def __init__(
        self,
        node: object,
        path: str,
        names: Sequence[str],
        size: int,
        optional: Collection[str] = (),
    ) -> None:
        self.node = mapping(node, path, names, optional)
        self.path = path
        self.size = size

    def has(self, name: str) -> bool:
        return name in self.node

    def where(self, name: str) -> str:
        return join(self.path, name)

    def raw(self, name: str) -> list[Any]:
        return unpack(self.node[name], self.where(name), self.size)

    def typed(self, name: str, kind: str) -> list[Any]:
        return typed(self.raw(name), kind, self.where(name))

    def deltas(self, name: str) -> list[int | None]:
        return undelta(self.raw(name), self.where(name))

    def data(self, name: str) -> list[Any]:
        """A column of JSON values, copied."""
        values = self.raw(name)
        if set(map(type, values)) <= FLAT:  # nothing to copy
            sized(values, self.where(name))
            return values
        where, copied = self.where(name), list(values)
        for row, value in enumerate(values):
            if type(value) not in FLAT:
                copied[row] = plain(value, join(where, row))
        return copied

    def times(
        self, relations: Relations, instants: Instants, known: dict[str, Micros] | None = None
    ) -> tuple[dict[str, list[datetime | None]], dict[str, Micros]]:
        """dump_time_columns' columns back: the instants and microseconds of each."""
        moments: dict[str, list[datetime | None]] = {}
        micros = dict(known or {})
        for name, base in relations:
            raw = self.raw(name)
            bases = micros[base] if base else None
            moments[name], micros[name] = load_times(raw, self.where(name), instants, bases)
        return moments, micros
