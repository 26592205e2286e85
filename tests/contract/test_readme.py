"""The README's coverage and quirks tables are generated: keep them in step."""

from __future__ import annotations

from pathlib import Path

from simulator import docs

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
