"""The README's coverage and quirks tables are generated: keep them in step."""

from __future__ import annotations

from pathlib import Path

from simulator import docs
from simulator.config import Settings
from simulator.scenario.loader import load_scenario
from simulator.simulator import Simulator

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(start: str, end: str) -> str:
    text = README.read_text()
    return text[text.index(start) + len(start) : text.index(end)].strip()


def test_coverage_table_is_current() -> None:
    assert _section(docs.COVERAGE_START, docs.COVERAGE_END) == docs.coverage_table(), (
        "run `python -m simulator.docs --write README.md`"
    )


def test_quirks_table_is_current() -> None:
    assert _section(docs.QUIRKS_START, docs.QUIRKS_END) == docs.quirks_table(), (
        "run `python -m simulator.docs --write README.md`"
    )


def test_the_format_example_is_a_valid_world(tmp_path: Path) -> None:
    """A reader copies the README's example: it must load and serve."""
    text = README.read_text()
    example = text[text.index("### The format") :].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "my_world.yaml"
    path.write_text(example)
    scenario = load_scenario(path)
    sim = Simulator(Settings(password_hash_iterations=1000), scenario)
    assert scenario.name == "my_world" and {"my_etl", "churn_model"} <= set(sim.dag_ids())
    assert len(sim.dag_ids()) == 9 + 2 + 200  # ci's, the file's, the generated ones
