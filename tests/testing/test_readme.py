"""The README's "In your project's tests" examples: the plugin example is
tests/downstream/test_example.py verbatim, and the SimulatorClient example
runs as shown against a served simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing.live import LiveServer, live_server
from tests.conftest import TEST_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLE = ROOT / "tests" / "downstream" / "test_example.py"
START, END = "<!-- downstream-example:start -->", "<!-- downstream-example:end -->"


def _section() -> str:
    text = README.read_text()
    start = text.index("## In your project's tests")
    return text[start : text.index("\n## ", start + 1)]


def test_the_plugin_example_is_the_downstream_test() -> None:
    section = _section()
    block = section[section.index(START) + len(START) : section.index(END)]
    assert block == f"\n```python\n{EXAMPLE.read_text()}```\n", (
        "copy tests/downstream/test_example.py into the README's block"
    )


@pytest.fixture
def served() -> Iterator[LiveServer]:
    with live_server(TEST_SETTINGS) as live:
        yield live


def test_the_client_example_runs(served: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_SIM_CONTROL_TOKEN", raising=False)
    section = _section()
    after = section[section.index("### SimulatorClient") :]
    code = after.split("```python\n", 1)[1].split("```", 1)[0]
    assert "http://127.0.0.1:8081" in code
    exec(compile(code.replace("127.0.0.1:8081", f"127.0.0.1:{served.port}"), "README", "exec"), {})
