"""--state-file: the world saved as a snapshot document and restored from it.

A save writes a temporary file in the same directory, flushes it to disk and
renames it over the old one (then syncs the directory), so a crash at any
moment leaves either the previous file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from simulator.simulator import Simulator

# A snapshot document larger than this is refused (`large`'s is 75 MB; its
# parsed form takes about 30 times its size, so the bound is on memory too).
MAX_BYTES = 256 * 2**20


class StateFileError(Exception):
    """A state file that cannot be read, parsed or written (one line)."""


def encode(document: Any) -> bytes:
    """A snapshot document as bytes (compact JSON; orjson for speed)."""
    return orjson.dumps(document)


def decode(raw: bytes | bytearray | str) -> Any:
    """JSON text to data; ValueError when it is not JSON. The cyclic
    collector is paused meanwhile: a large document is millions of new
    objects, none in a cycle, and its passes over them would cost 5x."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not a JSON document: {exc}") from None
    finally:
        if collecting:
            gc.enable()


def read(path: Path) -> Any | None:
    """The document saved at `path`, or None when there is no file yet."""
    try:
        if not path.exists():
            return None
        if not path.is_file():  # a device or a pipe would never end
            raise StateFileError(f"{path}: not a regular file")
        with path.open("rb") as source:
            raw = source.read(MAX_BYTES + 1)
    except OSError as exc:
        raise StateFileError(f"{path}: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise StateFileError(f"{path}: more than {MAX_BYTES} bytes, larger than a snapshot may be")
    try:
        return decode(raw)
    except ValueError as exc:
        raise StateFileError(f"{path}: {exc}") from None


def save(sim: Simulator, path: Path) -> int:
    """The simulator's world written to `path` (atomically); its size in bytes."""
    data = encode(sim.snapshot())  # snapshot() catches the world up first
    write(path, data)
    return len(data)


def write(path: Path, data: bytes) -> None:
    """`data` at `path`, atomically."""
    directory = path.parent
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise StateFileError(f"{path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise StateFileError(f"{path}: {exc.strerror}") from None
    _sync_directory(directory)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(path: Path) -> None:
    """A one-line StateFileError when `path` could not be saved to."""
    directory = path.parent
    if not directory.is_dir():
        raise StateFileError(f"{path}: no such directory {str(directory)!r}")
    if path.exists() and not path.is_file():
        raise StateFileError(f"{path}: not a regular file")
    if not os.access(directory, os.W_OK):
        raise StateFileError(f"{path}: directory {str(directory)!r} is not writable")
