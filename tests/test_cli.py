"""`airflow-sim serve`: flags, AIRFLOW_SIM_* variables, and clean failures."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from simulator.cli import _loopback, build_parser, main, settings_from


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestSettingsFromFlags:
    def test_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in list(os.environ):
            if name.startswith("AIRFLOW_SIM_"):
                monkeypatch.delenv(name)
        settings = settings_from(build_parser().parse_args(["serve"]))
        assert (settings.host, settings.port, settings.scenario) == ("127.0.0.1", 8080, "default")
        assert (settings.admin_user, settings.admin_password) == ("admin", "admin")
        assert settings.validate_responses is False
        # Unset: the scenario decides.
        assert (settings.auth, settings.seed, settings.clock, settings.start) == (None,) * 4
        assert settings.expose_config is None

    def test_flags(self) -> None:
        args = build_parser().parse_args(
            ["serve", "--port", "9999", "--auth", "none", "--seed", "7",
             "--validate-responses", "--expose-config", "--admin-user", "root"]
        )  # fmt: skip
        settings = settings_from(args)
        assert (settings.port, settings.auth, settings.seed) == (9999, "none", 7)
        assert settings.validate_responses and settings.expose_config
        assert settings.admin_user == "root"

    def test_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AIRFLOW_SIM_PORT", "8181")
        monkeypatch.setenv("AIRFLOW_SIM_VALIDATE_RESPONSES", "true")
        monkeypatch.setenv("AIRFLOW_SIM_ADMIN_PASSWORD", "s3cret")
        settings = settings_from(build_parser().parse_args(["serve"]))
        assert settings.port == 8181
        assert settings.validate_responses is True
        assert settings.admin_password == "s3cret"

    def test_clock_flags(self) -> None:
        args = ["serve", "--clock", "frozen", "--speed", "60", "--start", "2024-01-01T06:00:00Z",
                "--max-events", "5000", "--journal-size", "0"]  # fmt: skip
        settings = settings_from(build_parser().parse_args(args))
        assert (settings.max_events, settings.journal_size) == (5000, 0)
        assert (settings.clock, settings.speed) == ("frozen", 60.0)
        assert settings.start.isoformat() == "2024-01-01T06:00:00+00:00"

    def test_scenario_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AIRFLOW_SIM_SCENARIO", "ci")
        assert settings_from(build_parser().parse_args(["serve"])).scenario == "ci"
        args = ["serve", "--scenario", "./my.yaml"]
        assert settings_from(build_parser().parse_args(args)).scenario == "./my.yaml"

    def test_control_token(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AIRFLOW_SIM_CONTROL_TOKEN", "from-env")
        settings = settings_from(build_parser().parse_args(["serve"]))
        assert settings.control_token == "from-env"
        assert "from-env" not in repr(settings)
        args = ["serve", "--control-token", "flag"]
        assert settings_from(build_parser().parse_args(args)).control_token == "flag"

    @pytest.mark.parametrize(
        ("host", "loopback"),
        [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
         ("192.168.1.5", False), ("example.com", False)],
    )  # fmt: skip
    def test_loopback_hosts(self, host: str, loopback: bool) -> None:
        assert _loopback(host) is loopback

    def test_airflow_version(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert settings_from(build_parser().parse_args(["serve"])).airflow_version is None
        monkeypatch.setenv("AIRFLOW_SIM_AIRFLOW_VERSION", "2.10.5")
        assert settings_from(build_parser().parse_args(["serve"])).airflow_version == "2.10.5"
        args = ["serve", "--airflow-version", "2.5.3"]
        assert settings_from(build_parser().parse_args(args)).airflow_version == "2.5.3"

    def test_flag_beats_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AIRFLOW_SIM_PORT", "8181")
        assert settings_from(build_parser().parse_args(["serve", "--port", "1234"])).port == 1234


class TestBadInput:
    @pytest.mark.parametrize(
        "argv",
        [["serve", "--port", "abc"], ["serve", "--auth", "ldap"], ["serve", "--bogus"],
         ["serve", "--port", "70000"], ["serve", "--clock", "paused"],
         ["serve", "--speed", "0"], ["serve", "--start", "2023-01-01T00:00:00"], [],
         ["serve", "--max-events", "0"], ["serve", "--scenario", "ci", "--clock", "later"],
         ["serve", "--journal-size", "-1"], ["serve", "--journal-size", "1000001"],
         ["serve", "--password-hash-iterations", "0"],
         ["serve", "--password-hash-iterations", "10000001"]],
    )  # fmt: skip
    def test_exit_code_2(self, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err and err[-1].startswith("airflow-sim")

    @pytest.mark.parametrize(
        ("flag", "value", "message"),
        [
            ("--retention-days", "0", "expected 1 to 36600 days, got 0"),
            ("--retention-days", "36601", "expected 1 to 36600 days, got 36601"),
            ("--password-hash-iterations", "0", "expected 1 to 10000000, got 0"),
            ("--journal-size", "-1", "expected 0 to 1000000, got -1"),
            ("--airflow-version", "2.7.0", "expected 2.5.3 or 2.10.5, got '2.7.0'"),
        ],
    )
    def test_integer_bounds(
        self, flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["serve", flag, value]) == 2
        error = f"airflow-sim serve: error: argument {flag}: {message}"
        assert capsys.readouterr().err.strip().splitlines()[-1] == error

    @pytest.mark.parametrize("speed", ["nan", "inf", "-inf", "1e300", "1000001", "-1", "0"])
    def test_speed_out_of_bounds(self, speed: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["serve", f"--speed={speed}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1] == (
            "airflow-sim serve: error: argument --speed: expected a speed above 0 and at most "
            f"1,000,000, got {speed}"
        )
        assert "Traceback" not in "\n".join(err)

    @pytest.mark.parametrize(
        ("start", "reason"),
        [
            ("9999-12-31T23:00:00Z", " (instants from 9000-01-01 on are not supported)"),
            ("9000-01-01T00:00:00+00:00", " (instants from 9000-01-01 on are not supported)"),
            ("0001-01-01T00:00:00Z", " (instants before 1970-01-01 are not supported)"),
            ("1969-12-31T23:59:59Z", " (instants before 1970-01-01 are not supported)"),
        ],
    )
    def test_start_out_of_bounds(
        self, start: str, reason: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["serve", "--start", start]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1] == (
            "airflow-sim serve: error: argument --start: expected an ISO 8601 instant with an "
            f"offset from 1970-01-01 to before 9000-01-01, got {start!r}{reason}"
        )

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("SPEED", "nan", "expected a speed above 0 and at most 1,000,000, got nan"),
            ("SPEED", "1e400", "expected a speed above 0 and at most 1,000,000, got 1e400"),
            (
                "START",
                "0001-01-01T00:00:00Z",
                "expected an ISO 8601 instant with an offset from 1970-01-01 to before "
                "9000-01-01, got '0001-01-01T00:00:00Z' "
                "(instants before 1970-01-01 are not supported)",
            ),
            (
                "START",
                "9999-12-31T23:00:00Z",
                "expected an ISO 8601 instant with an offset from 1970-01-01 to before "
                "9000-01-01, got '9999-12-31T23:00:00Z' "
                "(instants from 9000-01-01 on are not supported)",
            ),
        ],
    )
    def test_bounds_of_the_environment(
        self,
        name: str,
        value: str,
        message: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        monkeypatch.setenv("AIRFLOW_SIM_" + name, value)
        assert main(["serve"]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"airflow-sim: error: AIRFLOW_SIM_{name}: {message}"
        ]

    def test_the_bounds_themselves(self) -> None:
        args = ["serve", "--speed", "1000000", "--start", "1970-01-01T00:00:00Z"]
        settings = settings_from(build_parser().parse_args(args))
        assert (settings.speed, settings.start.isoformat()) == (1e6, "1970-01-01T00:00:00+00:00")
        args = ["serve", "--speed", "1e-9", "--start", "8999-12-31T23:59:59.999999+00:00"]
        settings = settings_from(build_parser().parse_args(args))
        assert settings.start.isoformat() == "8999-12-31T23:59:59.999999+00:00"

    def test_invalid_scenario(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text("name: bad\nclock: {mode: paused}\ndags: [{dag_id: d, tasks: [{}]}]\n")
        assert main(["serve", "--scenario", str(path), "--port", "0"]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"{path}: clock.mode: expected one of 'frozen', 'realtime', found 'paused'",
            f"{path}: dags[0].tasks[0]: missing required key 'task_id'",
            "airflow-sim: error: the scenario is not valid",
        ]

    def test_unknown_scenario(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["serve", "--scenario", "nowhere"]) == 2
        assert capsys.readouterr().err.splitlines() == [
            "scenario: expected a bundled scenario (chaos, ci, default, demo, large) or a file "
            "path, found 'nowhere'",
            "airflow-sim: error: the scenario is not valid",
        ]

    def test_bad_environment_value(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("AIRFLOW_SIM_PORT", "eighty")
        assert main(["serve"]) == 2
        assert capsys.readouterr().err.strip() == (
            "airflow-sim: error: AIRFLOW_SIM_PORT: invalid literal for int() with base 10: 'eighty'"
        )


class TestScenarioCommands:
    def test_validate(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        good = tmp_path / "good.yaml"
        good.write_text("name: good\ninclude: [ci]\n")
        bad = tmp_path / "bad.yaml"
        bad.write_text("name: bad\nseed: -1\nhistory: {weeks: 2}\n")
        assert main(["validate", str(good), "ci"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"{good}: ok (scenario good)",
            "ci: ok (scenario ci)",
        ]
        assert main(["validate", str(good), str(bad)]) == 1
        assert capsys.readouterr().out.splitlines() == [
            f"{good}: ok (scenario good)",
            f"{bad}: 2 error(s)",
            f"  {bad}: history.weeks: unknown key 'weeks'",
            f"  {bad}: seed: expected a number >= 0, found -1",
        ]

    def test_validate_refuses_a_history_too_big(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        huge = tmp_path / "huge.yaml"
        huge.write_text(
            "name: huge\nhistory: {days: 300}\nclock: {start: '2024-06-01T00:00:00Z'}\n"
            "generate: {dags: {count: 100, schedules: ['* * * * *'], paused: 0}}\n"
        )
        assert main(["validate", str(huge)]) == 1
        out = capsys.readouterr().out.splitlines()
        assert out[0] == f"{huge}: 1 error(s)"
        assert out[1].startswith("  scenario: history: about ") and "at most 2,000,000" in out[1]

    def test_scenarios_lists_the_bundled_worlds(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["scenarios"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == ["chaos", "ci", "default", "demo", "large"]
        assert all(len(line.split(None, 1)) == 2 for line in lines)  # each with a description

    def test_schema(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["schema"]) == 0
        schema = json.loads(capsys.readouterr().out)
        assert schema["required"] == ["name"] and "dags" in schema["properties"]


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port),
         "--admin-password", "hunter2-pass", "--scenario", "ci"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    yield proc, port
    if proc.poll() is None:
        proc.terminate()
        proc.communicate(timeout=10)


class TestServe:
    def test_serves_on_loopback_and_keeps_passwords_out_of_logs(
        self, server: tuple[subprocess.Popen[str], int]
    ) -> None:
        proc, port = server
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/pools")
        request.add_header("Authorization", "Basic YWRtaW46aHVudGVyMi1wYXNz")  # admin:hunter2-pass
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
        assert "http://127.0.0.1:" in output
        assert "hunter2-pass" not in output
        assert "YWRtaW46aHVudGVyMi1wYXNz" not in output

    def test_port_in_use(self, server: tuple[subprocess.Popen[str], int]) -> None:
        _, port = server
        result = subprocess.run(
            [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--scenario", "ci"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert result.returncode == 2
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"airflow-sim: error: cannot listen on 127.0.0.1:{port}")


@contextmanager
def _serving(*flags: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """`airflow-sim serve --scenario ci` with `flags` on a free port, until the block ends."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--scenario", "ci",
         *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class TestPasswordHashIterations:
    def test_flag_and_variable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("AIRFLOW_SIM_PASSWORD_HASH_ITERATIONS", raising=False)
        assert settings_from(build_parser().parse_args(["serve"])).password_hash_iterations == (
            260_000
        )
        monkeypatch.setenv("AIRFLOW_SIM_PASSWORD_HASH_ITERATIONS", "2000")
        assert settings_from(build_parser().parse_args(["serve"])).password_hash_iterations == 2000
        args = ["serve", "--password-hash-iterations", "1500"]
        assert settings_from(build_parser().parse_args(args)).password_hash_iterations == 1500

    @pytest.mark.parametrize(
        ("flags", "env"),
        [(("--password-hash-iterations", "1000"), {}),
         ((), {"AIRFLOW_SIM_PASSWORD_HASH_ITERATIONS": "1000"})],
    )  # fmt: skip
    def test_served_passwords_are_hashed_with_that_many_rounds(
        self, flags: tuple[str, ...], env: dict[str, str]
    ) -> None:
        with _serving(*flags, env=env) as port:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/pools")
            request.add_header("Authorization", "Basic YWRtaW46YWRtaW4=")  # admin:admin
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200
            url = f"http://127.0.0.1:{port}/_sim/snapshot"
            with urllib.request.urlopen(url, timeout=10) as response:
                snapshot = response.read().decode()
        assert "pbkdf2:sha256:1000$" in snapshot
        assert "pbkdf2:sha256:260000$" not in snapshot


ROOT = Path(__file__).resolve().parents[1]


def _docker_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or
    one of its parent folders decides; `!` re-includes; `*` stays within a
    folder, `**` spans any number of them."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        out = out.replace(r"\*", "[^/]*").replace(r"\?", "[^/]").replace(r"\[", "[")
        return re.compile(out.replace(r"\]", "]") + "$")

    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if any(regex(pattern.lstrip("!").rstrip("/")).match(c) for c in candidates):
            ignored = not negated
    return ignored


class TestDockerImage:
    def test_build_context_has_the_package_and_its_worlds_only(self) -> None:
        patterns = [
            line.strip()
            for line in (ROOT / ".dockerignore").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        shipped = {p for p in tracked if not _docker_ignored(p, patterns)}
        needed = {p for p in tracked if p.split("/")[0] in ("simulator", "scenarios", "fixtures")}
        assert needed <= shipped
        assert shipped - needed == {"pyproject.toml", "README.md"}
        assert "simulator/bundled/scenarios" in shipped  # the link, and its target's files
        assert _docker_ignored("simulator/server/__pycache__/app.cpython-311.pyc", patterns)

    def test_dependencies_are_installed_from_pyproject_alone(self, tmp_path: Path) -> None:
        dockerfile = (ROOT / "Dockerfile").read_text()
        lines = dockerfile.splitlines()
        copies = [line for line in lines if line.startswith("COPY")]
        assert copies == ["COPY pyproject.toml ./", "COPY . ."]
        install = dockerfile.index("pip install --no-cache-dir -r /tmp/requirements.txt")
        assert dockerfile.index(copies[0]) < install < dockerfile.index(copies[1])
        command = re.search(r'RUN (python -c "[^"]+") > /tmp/requirements.txt', dockerfile)
        assert command is not None
        (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
        argv = [sys.executable, "-c", command[1].split('"')[1]]
        result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=True)
        with (ROOT / "pyproject.toml").open("rb") as file:
            assert result.stdout.splitlines() == tomllib.load(file)["project"]["dependencies"]

    def test_the_health_check_asks_the_port_served(self) -> None:
        dockerfile = (ROOT / "Dockerfile").read_text()
        check = json.loads(dockerfile.split("HEALTHCHECK", 1)[1].split("CMD ", 1)[1].split("\n")[0])
        assert check[:2] == ["python", "-c"]
        argv = [sys.executable, "-c", check[2]]
        with _serving() as port:
            env = {**os.environ, "AIRFLOW_SIM_PORT": str(port)}
            assert subprocess.run(argv, env=env, timeout=10).returncode == 0
        env = {**os.environ, "AIRFLOW_SIM_PORT": str(_free_port())}  # nothing serves there
        assert subprocess.run(argv, env=env, capture_output=True, timeout=10).returncode != 0
