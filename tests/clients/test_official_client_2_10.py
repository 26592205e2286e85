"""The official apache-airflow-client 2.10 over every operation of the
Airflow 2.10.5 API (official_2_10.py), run in a process of its own: the test
extra's 2.5.1 client holds `airflow_client` in this one. `make test` installs
the 2.10 client into .venv/client-2.10 (pinned by pyproject.toml's
`client-2-10` extra), and that folder goes first on the child's PYTHONPATH."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import simulator

ROOT = Path(__file__).resolve().parents[2]
MODULE = Path(__file__).with_name("official_2_10.py")
CLIENT_DIR = Path(sys.prefix) / "client-2.10"
SPEC = Path(simulator.__file__).parent / "spec" / "v1-2.10.5.yaml"
METHODS = {"get", "put", "post", "patch", "delete"}
TIMEOUT = 600  # seconds for the whole child run


def spec_operations() -> set[str]:
    document = yaml.safe_load(SPEC.read_text())
    return {
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    }


def test_the_2_10_5_spec_has_89_operations() -> None:
    assert len(spec_operations()) == 89


def test_the_module_calls_every_operation() -> None:
    """Read from the source: each operationId is called as a client method."""
    tree = ast.parse(MODULE.read_text())
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert spec_operations() - called == set()


def test_every_operation_through_the_2_10_client(tmp_path: Path) -> None:
    if not (CLIENT_DIR / "airflow_client").is_dir():
        pytest.skip(f"apache-airflow-client 2.10 is not in {CLIENT_DIR}: `make test` installs it")
    report = tmp_path / "called.json"
    path = [str(CLIENT_DIR), str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "CLIENT_2_10_REPORT": str(report),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(MODULE)]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{done.stdout[-20000:]}\n{done.stderr[-5000:]}"
    # The simulator's journal: every operation of the spec was called.
    called = set(json.loads(report.read_text()))
    assert spec_operations() - called == set()
