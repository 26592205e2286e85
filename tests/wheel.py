"""The package as a user installs it: the wheel built once per session and
installed into a fresh venv, and `airflow-sim serve` run from there
(tests/scenarios/test_packaging.py, tests/testing/test_installed.py).

The wheel is built (from a clean copy of the repository, so that a stale
`build/` cannot leak into it) and installed without its dependencies; a .pth
file in the fresh venv points at this venv's site-packages for them. That
directory's own .pth files are not processed, so this venv's editable finder
stays inactive and `simulator` must come from the wheel: checked before
anything else. Every subprocess runs in an empty directory, never the
repository, which would shadow the install.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = {"large": 300.0}  # seconds; failure guards, not assertions on speed
DEFAULT_READY_TIMEOUT = 30.0
REQUEST_TIMEOUT = 120.0  # advancing `large` three hours runs many events
# What a source checkout holds that a build must not see.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis",
    "results",
)  # fmt: skip


@dataclass
class Installed:
    """The fresh venv with the wheel in it."""

    wheel: Path
    bin: Path
    site_packages: Path
    workdir: Path  # the cwd of every subprocess: empty, away from the repository
    wheel_files: list[str]
    env: dict[str, str]

    def run(
        self, *args: str, timeout: float = 120.0, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """One of the venv's commands, in `cwd` (by default the empty workdir)."""
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=cwd or self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _env() -> dict[str, str]:
    """This environment without simulator settings or Python path overrides."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIRFLOW_SIM_") and key not in dropped
    } | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _check(cmd: list[str], cwd: Path, timeout: float = 300.0) -> str:
    """Run a set-up step quietly; its whole output is the failure message."""
    done = subprocess.run(
        cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{cmd}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build_wheel(tmp: Path) -> Path:
    source, wheels = tmp / "source", tmp / "wheels"
    # symlinks=True keeps simulator/bundled/* pointing at the copy's scenarios/ and fixtures/.
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    _check(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), "."], source
    )
    (wheel,) = wheels.glob("*.whl")
    return wheel


def _install(wheel: Path, tmp: Path, workdir: Path) -> Installed:
    venv = tmp / "venv"
    _check([sys.executable, "-m", "venv", "--without-pip", str(venv)], workdir)
    python = venv / "bin" / "python"
    # This venv's pip installs into the fresh one (which needs no pip of its own).
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
    _check([*pip, str(wheel)], workdir)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site_packages = Path(_check([str(python), "-c", purelib], workdir).strip())
    # The dependencies: this interpreter's site-packages, as a plain path entry.
    deps = sysconfig.get_path("purelib", vars={"base": sys.prefix})
    (site_packages / "project-dependencies.pth").write_text(deps + "\n")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return Installed(wheel, venv / "bin", site_packages, workdir, names, _env())


INSTALLED = pytest.StashKey["Installed"]()


def installed_package(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed in a fresh venv: built on first use, then shared by
    every module of the session (building it takes a few seconds)."""
    if INSTALLED not in config.stash:
        config.stash[INSTALLED] = _build_and_install(tmp_path_factory)
    return config.stash[INSTALLED]


def _build_and_install(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("packaging")
    workdir = tmp / "work"
    workdir.mkdir()
    result = _install(_build_wheel(tmp), tmp, workdir)
    # The wheel, not the repository through the editable install, must answer.
    where = result.run("python", "-c", "import simulator; print(simulator.__file__)")
    assert where.returncode == 0, where.stderr
    module = Path(where.stdout.strip())
    assert module.is_relative_to(result.site_packages), f"simulator imported from {module}"
    return result


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    returncode: int | None = field(default=None)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Status and parsed JSON body; basic auth as admin."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        headers = {**ADMIN, "Content-Type": "application/json"}
        try:
            conn.request(method, path, None if body is None else json.dumps(body), headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, json.loads(raw) if raw else None

    def total(self, path: str) -> int:
        status, body = self.request("GET", path)
        assert status == 200, body
        return int(body["total_entries"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/api/v1/health")
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _healthy(server.port):
        exited = server.proc.poll()
        assert exited is None, f"the server exited with {exited}:\n{server.output()}"
        assert time.monotonic() < deadline, f"not healthy in {timeout} s:\n{server.output()}"
        time.sleep(0.05)


def _interrupt(proc: subprocess.Popen[bytes]) -> int | None:
    """Ctrl-C, as a user stops it; killed (and None) if it does not exit."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None
    return proc.returncode


@contextlib.contextmanager
def serving(installed: Installed, name: str) -> Iterator[Server]:
    port = _free_port()
    log = installed.workdir / f"serve-{name}.log"
    cmd = ["serve", "--scenario", name, "--port", str(port), "--clock", "frozen"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(installed.bin / "airflow-sim"), *cmd],
            cwd=installed.workdir,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, port, log)
    try:
        _wait_healthy(server, READY_TIMEOUT.get(name, DEFAULT_READY_TIMEOUT))
        yield server
    finally:
        server.returncode = _interrupt(proc)
