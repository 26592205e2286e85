"""--state-file: a server saves its world on SIGTERM and SIGINT, the next one
starts from it; a damaged file stops the start with one line; a save is
atomic."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from simulator import state_file
from simulator.cli import main

READY_TIMEOUT = 30.0  # seconds: a guard against a hung start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = None if body is None else json.dumps(body)
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


@contextmanager
def serving(state: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_SIM_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--scenario", "ci", "--port", str(port),
         "--state-file", str(state)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                if call(port, "GET", "/_sim/health")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout
            time.sleep(0.02)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_saved_on_shutdown_and_restored_at_start(tmp_path: Path, signum: int) -> None:
    state = tmp_path / "world.json"
    with serving(state) as (proc, port):
        call(port, "POST", "/api/v1/pools", None)  # refused: changes nothing
        assert call(port, "POST", "/_sim/clock/advance", {"seconds": 7200})[0] == 200
        before = call(port, "GET", "/_sim/snapshot")[1]
        proc.send_signal(signum)
        assert proc.wait(30) == 0
        assert proc.stdout is not None
        assert f"Saved the world to {state}" in proc.stdout.read()
    assert json.loads(state.read_bytes()) == before
    with serving(state) as (proc, port):
        assert call(port, "GET", "/_sim/snapshot")[1] == before
        assert call(port, "GET", "/_sim/clock")[1]["now"] == "2023-04-01T02:00:00+00:00"


def test_a_damaged_state_file_stops_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "world.json"
    state.write_text('{"format": "airflow-sim-snapshot", "version": 1')
    assert main(["serve", "--scenario", "ci", "--port", "0", "--state-file", str(state)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"airflow-sim: error: --state-file {state}: not a JSON document")
    assert state.read_text() == '{"format": "airflow-sim-snapshot", "version": 1'  # kept


def test_a_state_file_of_another_version_stops_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "world.json"
    state.write_text('{"format": "airflow-sim-snapshot", "version": 99}')
    assert main(["serve", "--scenario", "ci", "--port", "0", "--state-file", str(state)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"airflow-sim: error: --state-file {state}: snapshot: version")


def test_a_state_file_that_is_a_pipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Reading it would block the start for ever."""
    path = tmp_path / "world.json"
    os.mkfifo(path)
    assert main(["serve", "--state-file", str(path)]) == 2
    assert "not a regular file" in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_state_file_in_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nowhere" / "world.json"
    assert main(["serve", "--state-file", str(path)]) == 2
    assert "no such directory" in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    state_file.write(path, b'{"old": true}')
    state_file.write(path, b'{"new": true}')
    assert path.read_bytes() == b'{"new": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["world.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "world.json"
    state_file.write(path, b'{"old": true}')

    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(state_file.StateFileError, match="No space left on device"):
        state_file.write(path, b'{"new": true}')
    assert path.read_bytes() == b'{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["world.json"]  # the temporary is gone
